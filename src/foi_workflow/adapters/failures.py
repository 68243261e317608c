"""What a database, driver or file failure means to a caseworker: one refusal with a code.

`refusal_for(exc)` turns an exception nobody refused on purpose (SQLAlchemy, sqlite3,
psycopg, Alembic, the operating system) into an `E-DB`, `E-CONFLICT` or `E-FILE` refusal, and
anything else into `E-INTERNAL`, so the CLI prints one line and never a traceback. The driver
modules are looked at only when already imported (`foi show` must not import SQLAlchemy to
report an error). Messages never quote the SQL or its parameters: those hold applicants'
phone and identity numbers.
"""

from __future__ import annotations

import errno
import sys
import traceback
from typing import Any

from foi_workflow.errors import (
    AccessDenied,
    ConcurrentChange,
    DatabaseError,
    DatabaseUnusable,
    FileError,
    FoiError,
    InternalError,
    one_line,
)

# Lower-case fragments of SQLite's messages (stable for decades) and what they mean; all but the
# last two concern the whole database.
_SQLITE_REASONS: tuple[tuple[str, str], ...] = (
    ("readonly database", "数据库文件只读，无法写入（请检查该文件及其所在文件夹的写权限）"),
    ("database or disk is full", "磁盘已满，无法写入数据库，本次操作未保存"),
    ("disk i/o error", "读写数据库文件时出错（磁盘已满或文件系统故障），本次操作未保存"),
    ("file is not a database", "该文件不是数据库，或数据库文件已损坏"),
    ("malformed", "数据库文件已损坏，请从备份恢复"),
    ("unable to open database", "无法打开数据库文件（文件夹不存在或没有权限）"),
    ("no such table", "数据库结构不完整，请先运行 foi init"),
    ("no such column", "数据库结构与本版本 foi 不符，请运行 foi init 升级数据库"),
)
_LOST_CONNECTION = "与数据库服务器的连接中断，本次操作未保存，请稍后重试"


def _module(name: str) -> Any:
    return sys.modules.get(name)


def _sqlite_refusal(reason: str) -> FoiError:
    text = reason.lower()
    if "locked" in text or "busy" in text:
        return ConcurrentChange("数据库正被其他操作占用，本次操作未保存，请重试")
    for index, (fragment, message) in enumerate(_SQLITE_REASONS):
        if fragment in text:
            return DatabaseUnusable(message) if index < len(_SQLITE_REASONS) - 2 else DatabaseError(message)
    return DatabaseError(f"数据库出错：{' '.join(reason.split())[:120]}")


def _psycopg_refusal(exc: Any, psycopg: Any) -> FoiError:
    errors = psycopg.errors
    state = getattr(exc, "sqlstate", None) or ""
    if isinstance(exc, errors.SerializationFailure | errors.DeadlockDetected | errors.LockNotAvailable):
        return ConcurrentChange("数据库正被其他操作占用或案件已被修改，本次操作未保存，请重试")
    if isinstance(exc, errors.DataError):
        return DatabaseError(f"数据库拒绝了一个值（SQLSTATE {state}），本次操作未保存")
    if isinstance(exc, errors.IntegrityError):
        return DatabaseError(f"数据库拒绝写入：违反完整性约束（SQLSTATE {state}），本次操作未保存")
    if isinstance(exc, errors.InsufficientPrivilege):
        # A right this login lacks (SPEC §13: a privilege, row-level security, our triggers):
        # the server's first line names the table or the rule, never a value of the row.
        primary = one_line(getattr(exc.diag, "message_primary", None) or "")
        return AccessDenied(f"数据库拒绝了该登录名的此项操作：{primary or '没有权限'}；本次操作未保存")
    if isinstance(exc, errors.DiskFull):
        return DatabaseUnusable("数据库服务器磁盘已满，本次操作未保存")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) or state.startswith(("08", "57")):
        return DatabaseUnusable(_LOST_CONNECTION)
    return DatabaseError(f"数据库出错（{type(exc).__name__}，SQLSTATE {state or '无'}），本次操作未保存")


def _driver_refusal(orig: BaseException) -> FoiError | None:
    """A refusal for an exception of the sqlite3 or psycopg driver, None for anything else."""
    sqlite3 = _module("sqlite3")
    if sqlite3 is not None and isinstance(orig, sqlite3.Error):
        return _sqlite_refusal(str(orig))
    psycopg = _module("psycopg")
    if psycopg is not None and isinstance(orig, psycopg.Error):
        return _psycopg_refusal(orig, psycopg)
    return None


def _os_refusal(exc: OSError) -> FoiError:
    where = f"：{exc.filename}" if exc.filename else ""
    reasons = {
        errno.ENOSPC: "磁盘已满",
        errno.EFBIG: "文件过大（超出文件大小限制）",
        errno.EDQUOT: "超出磁盘配额",
        errno.EROFS: "文件系统只读",
        errno.EACCES: "没有权限",
        errno.EPERM: "没有权限",
        errno.ENOENT: "文件或文件夹不存在",
        errno.EISDIR: "这是一个文件夹",
        errno.ENOTDIR: "路径中有一部分不是文件夹",
    }
    return FileError(f"无法读写文件{where}（{reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)}）")


def refusal_for(exc: BaseException) -> FoiError:
    """The one-line refusal for an exception that reached the command line unrefused."""
    if isinstance(exc, FoiError):
        return exc
    orm_exc = _module("sqlalchemy.orm.exc")
    if orm_exc is not None and isinstance(exc, orm_exc.StaleDataError):
        return ConcurrentChange("该案件刚被其他人修改，本次操作未保存，请重新查看后再试")
    sa_exc = _module("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        found = _driver_refusal(orig) if isinstance(orig, BaseException) else None
        if found is not None:
            return found
        if isinstance(exc, sa_exc.DisconnectionError | sa_exc.InterfaceError):
            return DatabaseUnusable(_LOST_CONNECTION)
        return DatabaseError(f"数据库出错（{type(exc).__name__}），本次操作未保存")
    found = _driver_refusal(exc)
    if found is not None:
        return found
    alembic_util = _module("alembic.util.exc")
    if alembic_util is not None and isinstance(exc, alembic_util.CommandError):
        return DatabaseUnusable("无法升级数据库结构：数据库的迁移版本与本版本 foi 不符，请升级 foi")
    if isinstance(exc, OSError):
        return _os_refusal(exc)
    if isinstance(exc, RecursionError):
        return InternalError("输入嵌套过深，无法处理")
    if isinstance(exc, MemoryError):
        return InternalError("内存不足，无法完成本次操作")
    return InternalError(f"程序内部错误（{type(exc).__name__}，{_where(exc)}），本次操作未保存；请将此行报告给管理员")


def _where(exc: BaseException) -> str:
    """The innermost frame of ours (file:line): enough to find the bug, no data of the case."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "foi_workflow" in f.filename] or frames
    if not ours:
        return "位置未知"
    last = ours[-1]
    return f"{last.filename.rsplit('foi_workflow', 1)[-1].lstrip('/')}:{last.lineno}"
