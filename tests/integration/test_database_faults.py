"""A database that cannot do what a command asks — stamped by a newer foi, read-only, corrupt,
full, its server stopped mid-command — gives one `错误[E-DB]` line and exit status 1, never a
traceback, and never the statement's parameters (applicants' phone and identity numbers)."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from foi_workflow.adapters.db import open_engine
from foi_workflow.adapters.failures import refusal_for
from tests.conftest import BACKEND, Foi
from tests.pg_helpers import have_postgresql, pg_server, private_pg_server
from tests.refusals import ONE_LINE, refusal_code, snapshot

FOI = str(Path(sys.executable).with_name("foi"))
IDENTITY = "110101199003071234"
PHONE = "13912345678"


def receive(case: str, on: date) -> dict[str, Any]:
    return {"case": case, "event": "receive", "on": on.isoformat(), "applicant": "某人", "phone": PHONE,
            "id_number": IDENTITY, "applicant_type": "natural_person", "channel": "online",
            "request": "某文件"}  # fmt: skip


def events_file(path: Path, cases: int, *, lapsing: bool = True, prefix: str = "DB") -> Path:
    """`cases` cases received in early 2024, each asked for a correction that lapses by June."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(cases):
            on = date(2024, 1, 8) + timedelta(days=n % 20)
            out.write(json.dumps(receive(f"{prefix}-{n:05d}", on), ensure_ascii=False) + "\n")
            if lapsing:
                step = {"case": f"{prefix}-{n:05d}", "event": "request_correction",
                        "on": (on + timedelta(days=1)).isoformat(), "items": "请补正", "period": 5}  # fmt: skip
                out.write(json.dumps(step, ensure_ascii=False) + "\n")
    return path


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # linux/prctl.h, linux/capability.h


def run_foi(
    db_url: str, *args: str, cwd: Path, limit_bytes: int | None = None, file_modes: bool = False, timeout: int = 120
) -> Any:
    """`foi` as a separate process (its own logging, its own resource limits). `file_modes`:
    without root's power to write any file, so a file of mode 0444 is read-only to it too."""

    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
        if file_modes and os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
                if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    env = {k: v for k, v in os.environ.items() if not k.startswith("FOI_")}
    return subprocess.run([FOI, "--db", db_url, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          preexec_fn=limit, timeout=timeout)  # fmt: skip


def assert_one_db_line(completed: Any, *fragments: str) -> str:
    assert completed.returncode == 1, completed.stderr
    lines = completed.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1 and "Traceback" not in completed.stderr, completed.stderr
    match = ONE_LINE.match(lines[0])
    assert match is not None and match.group(1) == "E-DB", lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    assert IDENTITY not in completed.stderr + completed.stdout and PHONE not in completed.stderr
    return lines[0]


# --------------------------------------------------------------------------- a newer schema


@pytest.mark.parametrize(
    "command",
    [
        "init",
        "list",
        "show NEW-1",
        "intake --applicant 张三 --applicant-type natural_person --channel online --request x --on 2024-03-01",
        "decide NEW-1 --outcome granted --on 2024-03-05",
        "import {file}",
        "export",
        "rebuild",
        "outbox",
        "report 2024",
        "scheduler run --once --now 2024-06-01T09:00",
    ],
)
def test_a_database_migrated_by_a_newer_foi_is_refused_by_every_command(
    foi: Foi, tmp_path: Path, command: str
) -> None:
    foi.ok("intake --applicant 张三 --applicant-type natural_person --channel online --request x --on 2024-03-01 "
           "--id NEW-1")  # fmt: skip
    engine = create_engine(foi.db_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    file = events_file(tmp_path / "e.jsonl", 2, lapsing=False)
    before = snapshot(foi.db_url)
    result = foi(*command.replace("{file}", str(file)).split())
    assert refusal_code(result) == "E-DB"
    assert "9999" in result.stderr and "请升级 foi" in result.stderr
    assert snapshot(foi.db_url) == before


# --------------------------------------------------------------------------- parameters stay hidden


def test_a_failed_statement_never_shows_its_parameters(db_url: str) -> None:
    engine = open_engine(db_url)
    with engine.begin() as conn:  # the schema is not needed: a table of our own
        conn.execute(text("CREATE TABLE probe (n INTEGER NOT NULL, t VARCHAR(4))"))
    # PostgreSQL: a DataError (a value the column type refuses); SQLite: a NOT NULL refusal.
    statement = "INSERT INTO probe (n, t) VALUES (CAST(:p AS INTEGER), :q)" if BACKEND == "postgresql" else (
        "INSERT INTO probe (n, t) VALUES (NULL, :p || :q)")  # fmt: skip
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(statement), {"p": IDENTITY, "q": PHONE})
    engine.dispose()
    # SQLAlchemy never lists them (PostgreSQL itself may quote the refused value: the refusal
    # below shows neither).
    assert "parameters hidden" in str(caught.value) and PHONE not in str(caught.value)
    line = refusal_for(caught.value).line()
    assert line.startswith("错误[E-DB]：") and "\n" not in line
    assert IDENTITY not in line and PHONE not in line


# --------------------------------------------------------------------------- SQLite files


def seeded_sqlite(tmp_path: Path, cases: int) -> tuple[str, Path]:
    path = tmp_path / "foi.db"
    url = f"sqlite:///{path}"
    assert run_foi(url, "init", cwd=tmp_path).returncode == 0
    seeded = run_foi(url, "import", str(events_file(tmp_path / "seed.jsonl", cases)), cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    return url, path


def test_a_sweep_of_a_read_only_database_stops_with_one_line(tmp_path: Path) -> None:
    url, path = seeded_sqlite(tmp_path, 40)  # 40 lapsed corrections: 40 failures before
    sqlite_checkpoint(path)
    path.chmod(0o444)
    before = path.read_bytes()
    swept = run_foi(url, "scheduler", "run", "--once", "--now", "2024-06-03T09:00", cwd=tmp_path, file_modes=True)
    assert_one_db_line(swept, "只读")
    intake = run_foi(url, "intake", "--applicant", "张三", "--applicant-type", "natural_person", "--channel",
                     "online", "--request", "x", "--on", "2024-03-01", cwd=tmp_path, file_modes=True)  # fmt: skip
    assert_one_db_line(intake, "只读")
    assert run_foi(url, "show", "DB-00001", cwd=tmp_path, file_modes=True).returncode == 0  # reading still works
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", [["init"], ["list"], ["show", "X"], ["export"], ["rebuild"]])
def test_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "foi.db"
    garbage = b"this is a letter, not a database\n" * 200
    path.write_bytes(garbage)
    assert_one_db_line(run_foi(f"sqlite:///{path}", *command, cwd=tmp_path), "数据库")
    assert path.read_bytes() == garbage


def test_a_full_disk_refuses_an_import_in_one_line_and_keeps_the_database(tmp_path: Path) -> None:
    url, path = seeded_sqlite(tmp_path, 5)
    checkpoint = sqlite_checkpoint(path)
    before = snapshot(url)
    big = events_file(tmp_path / "big.jsonl", 3000, lapsing=False, prefix="FULL")
    # Room for the database as it is and not much more: the import's pages cannot be written.
    full = run_foi(url, "import", str(big), cwd=tmp_path, limit_bytes=checkpoint + 64 * 1024)
    assert_one_db_line(full)
    assert "磁盘已满" in full.stderr or "读写数据库文件时出错" in full.stderr
    assert snapshot(url) == before


def sqlite_checkpoint(path: Path) -> int:
    """Fold the WAL into the file; return the largest file size of the database."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return max(p.stat().st_size for p in path.parent.glob("foi.db*"))


# --------------------------------------------------------------------------- PostgreSQL stopped


@pytest.mark.skipif(not have_postgresql(), reason="needs the PostgreSQL server binaries (.ci/run installs them)")
def test_a_postgresql_server_stopped_in_the_middle_of_an_import_gives_one_line(tmp_path: Path) -> None:
    with private_pg_server() as (url, folder):
        assert run_foi(url, "init", cwd=tmp_path).returncode == 0
        big = events_file(tmp_path / "big.jsonl", 20_000)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOI_")}
        process = subprocess.Popen([FOI, "--db", url, "import", str(big), "--workers", "1"], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(1.5)  # connected, replaying or writing
        pg_server("stop", folder)
        stdout, stderr = process.communicate(timeout=120)
        completed = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        assert_one_db_line(completed)
        after = run_foi(url, "list", cwd=tmp_path)
        assert_one_db_line(after)
