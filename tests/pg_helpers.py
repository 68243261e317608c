"""A PostgreSQL server of a test's own (`scripts/pg-test-server`), for tests that restart or
stop the server: doing that to the shared one would break the tests running beside them."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
# The throwaway server `.ci/run` starts, in both halves of CI whatever FOI_TEST_BACKEND says.
SHARED_ADMIN = os.environ.get("FOI_TEST_PG_ADMIN", "")
PG_SCRIPT = ROOT / "scripts" / "pg-test-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def have_postgresql() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))


def pg_server(command: str, folder: Path) -> None:
    """`restart` (every connection is cut) or `stop` the private server in `folder`."""
    done = subprocess.run([str(PG_SCRIPT), command, str(folder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@contextlib.contextmanager
def private_pg_server() -> Iterator[tuple[str, Path]]:
    """Start a server; yields (URL of a fresh database on it, server folder); stops it after."""
    folder = Path(tempfile.mkdtemp(prefix="foi-pg-private-"))
    started = subprocess.run(
        [str(PG_SCRIPT), "start", str(folder), str(free_port())], capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
    admin = started.stdout.strip()
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text('CREATE DATABASE "private"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/private", folder
    finally:
        subprocess.run([str(PG_SCRIPT), "stop", str(folder)], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(admin: str, prefix: str = "x") -> Iterator[str]:
    """A fresh database on the server that `admin` (a superuser's URL) reaches; yields its URL;
    dropped after, connections and all. The benchmarks use it too."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
