"""Shared fixtures: a real database per test (a SQLite file, or a fresh database on the
throwaway PostgreSQL server that `.ci/run` starts when FOI_TEST_BACKEND=postgresql), and the
`foi` command run in-process exactly as the console script runs it."""

from __future__ import annotations

import os
import shlex
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from foi_workflow.cli.main import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # event files and their expected reports
BACKEND = os.environ.get("FOI_TEST_BACKEND", "sqlite")


@pytest.fixture
def make_db_url(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes new, empty databases on the backend under test (dropped after the test)."""
    created: list[str] = []
    engine = None

    def make() -> str:
        nonlocal engine
        if BACKEND == "sqlite":
            created.append(f"foi-{len(created) + 1}.db" if created else "foi.db")
            return f"sqlite:///{tmp_path / created[-1]}"
        admin = os.environ.get("FOI_TEST_PG_ADMIN")
        if not admin:
            pytest.fail("FOI_TEST_BACKEND=postgresql needs FOI_TEST_PG_ADMIN (started by .ci/run)")
        from sqlalchemy import create_engine, text

        name = f"t_{uuid.uuid4().hex[:16]}"
        engine = engine or create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return admin.rsplit("/", 1)[0] + f"/{name}"

    yield make
    if engine is not None:  # PostgreSQL: `created` holds database names
        from sqlalchemy import text

        with engine.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def db_url(make_db_url: Callable[[], str]) -> str:
    """A new, empty database on the backend under test."""
    return make_db_url()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Foi:
    """Runs `foi ARGS` in-process against one database, as the console script would."""

    def __init__(self, db_url: str, cwd: Path, config: Path | None = None) -> None:
        self.db_url = db_url
        self.cwd = cwd
        self.config = config
        self.env: dict[str, str] = {}

    def __call__(self, *args: str | Path, input: str | None = None) -> Result:
        argv = [str(a) for a in args]
        if len(argv) == 1 and " " in argv[0]:
            argv = shlex.split(argv[0])
        head = ["--db", self.db_url]
        if self.config is not None:
            head += ["--config", str(self.config)]
        runner = CliRunner()
        code = 0
        old = Path.cwd()
        os.chdir(self.cwd)
        try:
            with runner.isolation(input=input, env=self.env) as (out, err, _):
                try:
                    main([*head, *argv])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                stdout = out.getvalue().decode("utf-8")
                stderr = err.getvalue().decode("utf-8") if err is not None else ""
        finally:
            os.chdir(old)
        return Result(code, stdout, stderr)

    def ok(self, *args: str | Path) -> str:
        """Run and insist on success; return stdout."""
        result = self(*args)
        assert result.exit_code == 0, f"foi {args} failed ({result.exit_code}): {result.stderr}{result.stdout}"
        return result.stdout


@pytest.fixture
def foi(db_url: str, tmp_path: Path) -> Foi:
    """The CLI on a fresh, initialised database with the project's default config."""
    runner = Foi(db_url, tmp_path)
    runner.ok("init")
    return runner


@pytest.fixture
def events_small() -> Path:
    """60 cases of 2023–2024 as an event file (its reports: `events-small.report-YYYY.json`)."""
    return FIXTURES / "events-small.jsonl"
