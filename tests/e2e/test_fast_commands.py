"""What an event command imports: only the libraries it uses. It writes through SQLAlchemy Core
(`adapters.tables`), so neither SQLModel, pydantic nor the ORM is loaded, and a short `foi
intake`, `foi assign` or `foi decide` costs less than importing SQLModel alone (the timing
itself is measured in `benchmarks/bench_commands.py`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import INTAKE
from tests.conftest import BACKEND, Foi

# Third-party packages an event command may import: SQLAlchemy Core (with what it needs), the
# CLI, the calendar, JSON storage, the workflow machine, the database driver of the backend used.
# Not PyYAML: the workflow files' data comes from the cache once a command has parsed them.
ALLOWED = {"sqlalchemy", "typing_extensions", "click", "chinese_calendar", "orjson", "transitions", "six"} | {
    "foi_workflow"
}

DRIVER = {"sqlite": set(), "postgresql": {"psycopg", "psycopg_binary"}}[BACKEND]
OTHER_DIALECT = {"sqlite": "postgresql", "postgresql": "sqlite"}[BACKEND]

PROBE = """
import json, sys
before = set(sys.modules)
from foi_workflow.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted(set(sys.modules) - before)), file=sys.stderr)
"""


def _imported(foi: Foi, *args: str) -> list[str]:
    """The modules `foi ARGS` imports in a process of its own."""
    run = subprocess.run(
        [sys.executable, "-c", PROBE, "--db", foi.db_url, *args],
        cwd=foi.cwd, capture_output=True, text=True, check=True, env={**os.environ, **foi.env},
    )  # fmt: skip
    modules: list[str] = json.loads(run.stderr.strip().splitlines()[-1])
    return modules


@pytest.mark.parametrize("command", ["intake", "assign", "decide"])
def test_an_event_command_imports_only_what_it_uses(foi: Foi, command: str, tmp_path: Path) -> None:
    foi.env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    # In a process of its own (this one has loaded the workflow already): the first command
    # parses the workflow files and caches their data.
    assert "yaml" in _imported(foi, *f"{INTAKE} --on 2024-03-01 --id FAST-1".split())
    args = {
        "intake": f"{INTAKE} --on 2024-03-01",
        "assign": "assign FAST-1 李四 --on 2024-03-02",
        "decide": "decide FAST-1 --outcome granted --on 2024-03-02",
    }[command].split()
    modules = _imported(foi, *args)
    # Private top-level names (`_sysconfigdata…`, Cython's runtime of compiled SQLAlchemy) are
    # internals of the interpreter and of compiled extensions, not packages.
    tops = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names)
    third_party = {top for top in tops if not top.startswith(("_", "cython_"))}
    assert third_party <= ALLOWED | DRIVER
    # Not the ORM: building the SQLModel classes cost an event command a tenth of a second.
    assert not {"sqlmodel", "pydantic", "pydantic_core"} & third_party
    assert not [m for m in modules if m.startswith(("sqlalchemy.orm", "foi_workflow.adapters.models"))]
    # Nothing of letters, reports, mail or migrations; not the dialect of the other backend
    # (PostgreSQL's brings asyncpg and asyncio).
    for heavy in ("yaml", "jinja2", "rich", "alembic", "docx", "openpyxl", "weasyprint", "aiosmtplib", "apscheduler"):
        assert heavy not in third_party
    assert not [m for m in modules if m.startswith(f"sqlalchemy.dialects.{OTHER_DIALECT}")]
