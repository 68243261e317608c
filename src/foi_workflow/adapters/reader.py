"""A read-only database connection for the views (`foi show`, `foi list`) that does not import
SQLAlchemy.

Importing SQLAlchemy and SQLModel costs a short process about 0.9 s, most of what `foi show`
took; a read of three tables needs none of it. So the usual URLs get a plain DB-API
connection: `sqlite:///path` through the standard `sqlite3` module, `postgresql://` and
`postgresql+psycopg://` through psycopg with the same libpq URI. Any other URL (another
driver, a SQLite URL with a query string or escapes) is read through the SQLAlchemy engine's
raw connection: slower to start, equally correct.

The values come back as the driver gives them; `as_date`, `as_timestamp`, `as_bool` and
`as_json` turn them into what the SQLAlchemy column types would have given (on SQLite dates
and timestamps are ISO text, booleans 0/1 and JSON text), so the views print the same bytes
whichever way they read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from foi_workflow.adapters.schema import check_revision
from foi_workflow.errors import DatabaseError, one_line

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# The words of `adapters.db.require_schema`: the same refusal whichever way the database is read.
NOT_INITIALISED = "数据库尚未初始化，请先运行 foi init"
SCHEMA_TABLE = "foi_case"
STAMP_TABLE = "alembic_version"  # Alembic's: the migration the database is at
STAMP_QUERY = "SELECT version_num FROM alembic_version"
BUSY_TIMEOUT_MS = 10_000  # as the engine's connections (adapters.db._sqlite_pragmas)

_SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
_POSTGRESQL_SCHEMES = ("postgresql", "postgresql+psycopg")


def _placeholders(sql: str, paramstyle: str) -> str:
    """A query written with `?` placeholders in the driver's own paramstyle (PEP 249)."""
    if paramstyle == "qmark":
        return sql
    if paramstyle in ("format", "pyformat"):
        return sql.replace("%", "%%").replace("?", "%s")
    parts = sql.split("?")
    if paramstyle == "numeric":
        return "".join(f"{part}:{i}" if i < len(parts) else part for i, part in enumerate(parts, 1))
    if paramstyle == "named":
        return "".join(f"{part}:p{i}" if i < len(parts) else part for i, part in enumerate(parts, 1))
    raise DatabaseError(f"不支持的数据库驱动参数格式：{paramstyle}")


class Reader:
    """One read-only DB-API connection, with the placeholder style of its driver.

    Queries are written with `?` placeholders and run with `rows(sql, params)`. Dates given as
    parameters are bound as the column stores them (ISO text on SQLite)."""

    def __init__(
        self,
        conn: Any,
        *,
        via: str,
        paramstyle: str,
        text_dates: bool,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._conn = conn
        self.via = via  # "sqlite3", "psycopg" or "sqlalchemy": which way this connection was opened
        self.paramstyle = paramstyle
        self.text_dates = text_dates
        self._on_close = on_close

    def _params(self, params: Sequence[Any]) -> Sequence[Any] | dict[str, Any]:
        values = [p.isoformat() if self.text_dates and isinstance(p, date) else p for p in params]
        if self.paramstyle == "named":
            return {f"p{i}": v for i, v in enumerate(values, 1)}
        return values

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self._conn.cursor()
        try:
            cursor.execute(_placeholders(sql, self.paramstyle), self._params(params))
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            if self._on_close is not None:
                self._on_close()


# --------------------------------------------------------------------------- values


def as_date(value: Any) -> date | None:
    """A DATE column as SQLAlchemy's `Date` gives it (SQLite stores 'YYYY-MM-DD')."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def as_timestamp(value: Any) -> datetime | None:
    """A DATETIME column as SQLAlchemy's `DateTime` gives it: on SQLite the stored text
    ('2024-03-01 08:00:00.123456', UTC without an offset) read back naive, as SQLAlchemy does."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def as_bool(value: Any) -> bool | None:
    """A BOOLEAN column (0/1 on SQLite)."""
    return None if value is None else bool(value)


def as_json(value: Any) -> Any:
    """A JSON column: text on SQLite, already parsed by psycopg. Our JSON columns hold objects,
    so a string is always the undecoded text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


# --------------------------------------------------------------------------- opening


def _sqlite_path(rest: str) -> str | None:
    """The file of `sqlite:///rest`, or None when the URL needs SQLAlchemy's own parsing."""
    if not rest.startswith("/"):
        return None  # sqlite://host/… or sqlite:// (in memory)
    path = rest[1:]
    if path in ("", ":memory:") or any(c in path for c in "?#%"):
        return None  # query string (driver options, uri=true), escapes: leave them to SQLAlchemy
    return path


def _open_sqlite(path: str) -> Reader:
    import sqlite3
    from urllib.parse import quote

    # A missing file is a database nobody initialised: refuse, and leave no empty file behind
    # (the engine would create one, private, for `foi init` to fill; a read must not).
    if not os.path.exists(path):
        raise DatabaseError(NOT_INITIALISED)
    try:
        # mode=rw: never create the file, even if it vanished since the check above.
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # One read transaction: the case row, its events and notices from the same snapshot.
        conn.execute("BEGIN")
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_TABLE,))
        present = found.fetchone() is not None
        stamped = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (STAMP_TABLE,))
        revision = conn.execute(STAMP_QUERY).fetchone() if stamped.fetchone() else None
    except sqlite3.Error as exc:
        conn.close()
        raise DatabaseError(f"无法打开数据库：{one_line(exc)}") from None
    return _checked(Reader(conn, via="sqlite3", paramstyle="qmark", text_dates=True), present, revision)


def _checked(reader: Reader, present: bool, revision: Any) -> Reader:
    """The reader, or a refusal (closing it) for a database without our schema or with a newer one."""
    try:
        if not present:
            raise DatabaseError(NOT_INITIALISED)
        check_revision(revision[0] if revision else None)
    except DatabaseError:
        reader.close()
        raise
    return reader


def _open_postgresql(conninfo: str) -> Reader:
    import psycopg

    try:
        conn = psycopg.connect(conninfo)
    except psycopg.Error as exc:
        raise DatabaseError(f"无法打开数据库：{one_line(exc)}") from None
    try:
        # Read only, one snapshot for the case row, its events and notices (a read-only
        # transaction at REPEATABLE READ never fails to serialise).
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEMA_TABLE,)).fetchone()
        stamped = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (STAMP_TABLE,)).fetchone()
        revision = conn.execute(STAMP_QUERY).fetchone() if stamped and stamped[0] else None
    except psycopg.Error as exc:
        conn.close()
        raise DatabaseError(f"无法打开数据库：{one_line(exc)}") from None
    reader = Reader(conn, via="psycopg", paramstyle="format", text_dates=False)
    return _checked(reader, bool(found and found[0]), revision)


def connect_reader(url: str) -> Reader:
    """A read-only connection for `url`, SQLAlchemy imported only for an unusual URL.
    Refuses (E-DB) a database that `foi init` has not set up; creates nothing."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in _SQLITE_SCHEMES:
        path = _sqlite_path(rest)
        if path is not None:
            return _open_sqlite(path)
    elif sep and scheme in _POSTGRESQL_SCHEMES:
        return _open_postgresql("postgresql://" + rest)
    return _fallback_reader(url)


def _fallback_reader(url: str) -> Reader:
    """Any other URL, through SQLAlchemy; the engine lives as long as the connection."""
    from sqlalchemy.engine import make_url

    from foi_workflow.adapters.db import open_engine

    try:
        parsed = make_url(url)
    except Exception:  # open_engine gives the clear refusal
        parsed = None
    if parsed is not None and parsed.get_backend_name() == "sqlite" and "uri" not in parsed.query:
        path = parsed.database or ""
        if path not in ("", ":memory:") and not os.path.exists(path):
            raise DatabaseError(NOT_INITIALISED)  # open_engine would create the file
    engine = open_engine(url)
    try:
        return engine_reader(engine, on_close=engine.dispose)
    except BaseException:
        engine.dispose()
        raise


def engine_reader(engine: Engine, *, on_close: Callable[[], None] | None = None) -> Reader:
    """A read-only connection from an SQLAlchemy engine's pool (the fallback, and for an App
    that already holds an engine). Refuses a database without the schema, as `require_schema`."""
    from foi_workflow.adapters.db import require_schema

    require_schema(engine)
    return Reader(
        engine.raw_connection(),
        via="sqlalchemy",
        paramstyle=engine.dialect.paramstyle,
        text_dates=engine.dialect.name == "sqlite",
        on_close=on_close,
    )


@contextmanager
def open_reader(url: str) -> Iterator[Reader]:
    """`connect_reader(url)`, closed when the block ends."""
    reader = connect_reader(url)
    try:
        yield reader
    finally:
        reader.close()
