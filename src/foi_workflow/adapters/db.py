"""Opening the database (SQLite by default, PostgreSQL for shared use), migrating it with
Alembic, and the unit of work that every change runs in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from foi_workflow.adapters.schema import check_revision
from foi_workflow.errors import DatabaseError, one_line

if TYPE_CHECKING:
    from sqlmodel import Session


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


# SQLite copies the WAL back into the database file (a checkpoint, with an fsync) in the commit
# that takes the WAL past 1000 pages; a long-lived session does it between commands instead,
# once the WAL holds half that (`checkpoint_when_idle`), so no command of its pays for it.
IDLE_CHECKPOINT_PAGES = 500


# A session's engine -> its WAL file and the size past which it is checkpointed.
_IDLE_CHECKPOINTS: WeakKeyDictionary[Engine, tuple[str, int]] = WeakKeyDictionary()


def checkpoint_between_commands(engine: Engine) -> None:
    """Make `engine` (a SQLite one, before its first connection) one that `checkpoint_when_idle`
    serves: its connections cut the WAL file back to nothing when they restart it after a
    checkpoint, so that the file's size says how many pages await the next one."""
    if engine.dialect.name != "sqlite":
        return

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_size_limit=0")
        files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"]
        page_size = int(cursor.execute("PRAGMA page_size").fetchone()[0])
        cursor.close()
        if files and files[0]:  # an in-memory database has no WAL; a WAL frame: a page and 24 bytes
            _IDLE_CHECKPOINTS[engine] = (f"{files[0]}-wal", IDLE_CHECKPOINT_PAGES * (page_size + 24))

    event.listen(engine, "connect", on_connect)


def checkpoint_when_idle(engine: Engine) -> bool:
    """Checkpoint `engine`'s SQLite database now if its WAL has grown past
    IDLE_CHECKPOINT_PAGES (only for an engine made ready by `checkpoint_between_commands`);
    whether it did. PASSIVE: it neither waits for nor blocks other processes' readers and
    writers (what they still read stays in the WAL for the next time)."""
    wal = _IDLE_CHECKPOINTS.get(engine)
    if wal is None:
        return False
    path, limit = wal
    try:
        if os.path.getsize(path) < limit:
            return False
    except OSError:  # no WAL file: nothing written since the last connection closed
        return False
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    return True


def _create_private_sqlite_file(path: str) -> None:
    """Create the SQLite file readable by its owner only (it holds applicants' personal data).
    Its folder must exist: a mistyped path must not leave a tree of folders behind."""
    if path in ("", ":memory:") or os.path.exists(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise DatabaseError(f"数据库文件所在的文件夹不存在：{parent}（请先创建该文件夹）")
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise DatabaseError(f"无法创建数据库文件 {path}：{exc.strerror}") from None
    os.close(fd)


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def _parse_url(url: str) -> Any:
    try:
        return make_url(url)
    except Exception:  # sqlalchemy raises ArgumentError with the URL (and its password) in it
        pass
    hint = ""
    if "://" not in url and url.strip():
        # A bare file name or path: the user meant a SQLite file.
        path = os.path.abspath(url.strip())
        hint = f"；如指 SQLite 文件，请写 sqlite:///{path}（绝对路径为四个斜杠）"
    raise DatabaseError(f"数据库地址格式错误，应为 sqlite:///文件 或 postgresql://用户@主机/库{hint}") from None


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection.

    `hide_parameters`: an error never carries the statement's parameters (applicants' phone and
    identity numbers) into a message or a log."""
    parsed = _parse_url(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseError(f"不支持的数据库类型：{backend}；foi 支持 SQLite（sqlite:///文件）与 PostgreSQL")
    if backend == "sqlite":
        if "uri" not in parsed.query:  # a `file:` URI names its file in its own way: SQLite opens it
            _create_private_sqlite_file(parsed.database or "")
        engine = create_engine(
            parsed, connect_args={"timeout": 30}, json_serializer=json_text, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    except ImportError:
        raise DatabaseError(f"缺少 {parsed.drivername} 的数据库驱动，请改用 postgresql+psycopg://") from None


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def stored_revision(engine: Engine) -> str | None:
    """The migration the database is stamped with (None: not stamped)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    try:
        check_revision(stored_revision(engine))
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise DatabaseError(f"无法打开或升级数据库：{one_line(exc.orig)}") from None


def require_schema(engine: Engine) -> None:
    """Refuse clearly when `foi init` has not been run on this database, or when a newer foi
    has migrated it to a schema this one does not know."""
    try:
        present = inspect(engine).has_table("foi_case")
        if present:
            check_revision(stored_revision(engine))
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
    from sqlmodel import Session

    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()  # rolls back anything not committed
