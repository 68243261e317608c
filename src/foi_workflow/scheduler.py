"""The one long-running process (`foi scheduler run`): an APScheduler 3 `AsyncIOScheduler` in
Asia/Shanghai time with two in-memory jobs, the sweep (every `scheduler.sweep_minutes`, then
mail delivery) and the daily digest (at `scheduler.digest_time`). Deadlines live in the
database, never in jobs, so nothing is lost while the process is down: the next sweep catches up.

Only one scheduler may run per database: on SQLite an OS lock on `<db file>.scheduler.lock`,
on PostgreSQL a session advisory lock; a second one refuses to start with `SchedulerError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy import text

from foi_workflow.errors import SchedulerError
from foi_workflow.services.outbox import DeliveryResult, deliver_outbox, deliver_outbox_async
from foi_workflow.services.sweep import SHANGHAI, SweepResult, digest_time, queue_digests, sweep

if TYPE_CHECKING:
    from foi_workflow.services.app import App

log = logging.getLogger(__name__)

PG_LOCK_KEY = 0x464F49_5343  # "FOI" "SC": the advisory lock id of the scheduler


@dataclass(frozen=True)
class CycleResult:
    sweep: SweepResult
    delivery: DeliveryResult

    def summary(self) -> str:
        return f"{self.sweep.summary()}\n邮件：{self.delivery.summary()}"


@contextlib.contextmanager
def scheduler_lock(app: App) -> Iterator[None]:
    """Hold the one-scheduler-per-database lock, or raise `SchedulerError`."""
    url = app.engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            yield
            return
        with _file_lock(Path(database).resolve().with_name(Path(database).name + ".scheduler.lock")):
            yield
        return
    if backend == "postgresql":
        with app.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar_one()
            conn.commit()
            if not got:
                raise SchedulerError("已有一个调度进程在此数据库上运行，本进程不再启动")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()
        return
    yield


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    try:
        handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the block)
    except OSError as exc:
        raise SchedulerError(f"无法创建调度锁文件 {path}：{exc.strerror}") from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SchedulerError(
                f"已有一个调度进程在此数据库上运行（锁文件 {path} 已被占用），本进程不再启动"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


def run_once(app: App, now: datetime) -> CycleResult:
    """One sweep and one delivery at `now` (`--once`)."""
    swept = sweep(app, now)
    delivered = deliver_outbox(app, now)
    return CycleResult(swept, delivered)


def run_forever(app: App, now: datetime | None = None, *, echo: Callable[[str], None] = print) -> None:
    """Run until SIGINT/SIGTERM. With `now`, the clock starts at that moment and runs on."""
    asyncio.run(_main(app, now, echo))


async def _main(app: App, pretend: datetime | None, echo: Callable[[str], None]) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    offset = (pretend - datetime.now(SHANGHAI)) if pretend is not None else None

    def clock() -> datetime:
        real = datetime.now(SHANGHAI)
        return real + offset if offset is not None else real

    async def cycle() -> None:
        now = clock()
        try:
            swept = await asyncio.to_thread(sweep, app, now)
            delivered = await deliver_outbox_async(app, now)
        except Exception:  # the process must outlive a bad cycle; the next one retries
            log.exception("调度周期失败")
            return
        echo(CycleResult(swept, delivered).summary())

    async def digest() -> None:
        now = clock()
        try:
            queued = await asyncio.to_thread(queue_digests, app, now)
            delivered = await deliver_outbox_async(app, now)
        except Exception:
            log.exception("每日汇总失败")
            return
        echo(f"每日汇总 {queued} 封；邮件：{delivered.summary()}")

    at = digest_time(app.config)
    scheduler = AsyncIOScheduler(timezone=SHANGHAI)
    scheduler.add_job(
        cycle,
        "interval",
        minutes=app.config.scheduler.sweep_minutes,
        id="sweep",
        next_run_time=datetime.now(SHANGHAI),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        digest,
        "cron",
        hour=at.hour,
        minute=at.minute,
        id="digest",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler.start()
    if not app.config.smtp.configured:
        echo("未配置 SMTP（FOI_SMTP_HOST、FOI_MAIL_FROM），提醒邮件将留在发件箱中")
    echo(
        f"调度进程已启动：每 {app.config.scheduler.sweep_minutes} 分钟检查一次期限，"
        f"每日 {at.strftime('%H:%M')} 发送汇总（北京时间）"
    )
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        echo("调度进程已停止")
