"""Opening the database (SQLite by default, PostgreSQL for shared use), migrating it with
Alembic, and the unit of work that every change runs in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from foi_workflow.errors import DatabaseError, one_line


def json_text(value: Any) -> str:
    """How JSON columns are stored on SQLite: compact UTF-8 text (`orjson`, several times faster
    than `json.dumps`, which a bulk import calls once per event). Values orjson refuses (an
    integer beyond 64 bits) are written by `json` in the same compact form."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create_private_sqlite_file(path: str) -> None:
    """Create the SQLite file readable by its owner only (it holds applicants' personal data)."""
    if path in ("", ":memory:") or os.path.exists(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in it
        raise DatabaseError(f"数据库地址格式错误：{type(exc).__name__}") from None
    if parsed.get_backend_name() == "sqlite":
        _create_private_sqlite_file(parsed.database or "")
        engine = create_engine(parsed, connect_args={"timeout": 30}, json_serializer=json_text)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise DatabaseError(f"无法打开或升级数据库：{one_line(exc.orig)}") from None


def require_schema(engine: Engine) -> None:
    """Refuse clearly when `foi init` has not been run on this database."""
    try:
        present = inspect(engine).has_table("foi_case")
    except OperationalError as exc:
        raise DatabaseError(f"无法打开数据库：{one_line(exc.orig)}") from None
    if not present:
        raise DatabaseError("数据库尚未初始化，请先运行 foi init")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction that the use case commits itself (`session.commit()`); whatever it has
    not committed when the block ends, normally or by an exception, is rolled back.

    The safe default of cosmicpython's `AbstractUnitOfWork`: a dry run, a check or a use case
    that returns early keeps nothing unless it says so."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()  # rolls back anything not committed
