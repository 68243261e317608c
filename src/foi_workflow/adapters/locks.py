"""The one-scheduler-per-database lock (SPEC §7): on SQLite an OS lock on
`<db file>.scheduler.lock`, on PostgreSQL a session advisory lock held on a connection of its
own.

A PostgreSQL session lock lives as long as its connection: a server restart or a cut
connection drops it silently, and another scheduler may then take it. So the holder checks
it (`check`) before every sweep and every few seconds in between: a lost connection means
the lock is taken again on a new one, or, when another scheduler holds it by now, that this
process must stop. Releasing never raises: a lock whose connection is gone is already free.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from foi_workflow.errors import DatabaseError, SchedulerError, one_line

PG_LOCK_KEY = 0x464F49_5343  # "FOI" "SC": the advisory lock id of the scheduler
ALREADY_RUNNING = "已有一个调度进程在此数据库上运行，本进程不再启动"


class LockState(enum.Enum):
    HELD = "held"  # still ours
    RETAKEN = "retaken"  # the connection had been lost; the lock is ours again on a new one
    UNAVAILABLE = "unavailable"  # the database cannot be reached: nobody can sweep now
    LOST = "lost"  # another scheduler holds it now: this one must stop


class SchedulerLock:
    """A lock that needs no checking (SQLite's file lock, or none for an in-memory database)."""

    def acquire(self) -> None:
        """Take the lock or raise `SchedulerError`."""

    def check(self) -> LockState:
        return LockState.HELD

    def release(self) -> None:
        """Give the lock up; never raises."""


class FileLock(SchedulerLock):
    """`flock` on a file next to the database; the OS frees it when the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        import fcntl

        try:
            handle: IO[str] = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        except OSError as exc:
            raise SchedulerError(f"无法创建调度锁文件 {self.path}：{exc.strerror}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise SchedulerError(
                f"已有一个调度进程在此数据库上运行（锁文件 {self.path} 已被占用），本进程不再启动"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing releases the lock


class AdvisoryLock(SchedulerLock):
    """`pg_try_advisory_lock` on a connection held for the life of the scheduler."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._mutex = threading.Lock()  # the watchdog and the sweep check from two threads

    def acquire(self) -> None:
        try:
            got = self._take()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"无法连接数据库：{one_line(getattr(exc, 'orig', None) or exc)[:300]}") from None
        if not got:
            raise SchedulerError(ALREADY_RUNNING)

    def _take(self) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar_one())
            conn.commit()
        except BaseException:
            _discard(conn)
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def check(self) -> LockState:
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    self._conn.commit()
                    return LockState.HELD
                except SQLAlchemyError:
                    # The session, and the lock with it, is gone (server restart, cut connection).
                    conn, self._conn = self._conn, None
                    _discard(conn)
            try:
                got = self._take()
            except SQLAlchemyError:
                return LockState.UNAVAILABLE
            return LockState.RETAKEN if got else LockState.LOST

    def release(self) -> None:
        with self._mutex:
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()
                conn.close()
            except SQLAlchemyError:
                _discard(conn)  # the session is gone, and its lock with it


def _discard(conn: Connection) -> None:
    # Never hand a connection whose session may still hold the lock back to the pool.
    with contextlib.suppress(SQLAlchemyError):
        conn.invalidate()
    with contextlib.suppress(SQLAlchemyError):
        conn.close()


def scheduler_lock_for(engine: Engine) -> SchedulerLock:
    """The lock that fits the database of `engine` (not yet taken)."""
    url = engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            return SchedulerLock()
        return FileLock(Path(database).resolve().with_name(Path(database).name + ".scheduler.lock"))
    if backend == "postgresql":
        return AdvisoryLock(engine)
    return SchedulerLock()
