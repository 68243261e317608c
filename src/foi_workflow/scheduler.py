"""The one long-running process (`foi scheduler run`): an APScheduler 3 `AsyncIOScheduler` in
Asia/Shanghai time with two in-memory jobs, the sweep (every `scheduler.sweep_minutes`, then
mail delivery) and the daily digest (at `scheduler.digest_time`). Deadlines live in the
database, never in jobs, so nothing is lost while the process is down: the next sweep catches up.

Only one scheduler runs per database, `--once` included (`adapters.locks`); a second one
refuses to start with `SchedulerError`. The lock is checked before every job and every
`LOCK_CHECK_SECONDS`: lost with the database connection, it is taken again, or the process
stops if another scheduler has it by now. SIGINT/SIGTERM let a running job finish, then the
process exits 0. Every failure is one log line, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from foi_workflow.adapters.locks import LockState, SchedulerLock, scheduler_lock_for
from foi_workflow.config import SHANGHAI
from foi_workflow.errors import DatabaseError, SchedulerError, one_line
from foi_workflow.services.delivery import DeliveryResult, deliver_outbox, deliver_outbox_async
from foi_workflow.services.sweep import SweepResult, describe_failure, digest_time, queue_digests, sweep

if TYPE_CHECKING:
    from foi_workflow.services.app import App

log = logging.getLogger(__name__)

LOCK_CHECK_SECONDS = 5.0
STOP_GRACE_SECONDS = 45.0  # a job still running at SIGTERM may finish (systemd waits 60 s)
LOST_LOCK = "与数据库的连接中断期间，另一个调度进程已取得调度锁：本进程退出，由该进程继续调度"


@dataclass(frozen=True)
class CycleResult:
    sweep: SweepResult
    delivery: DeliveryResult

    def summary(self) -> str:
        return f"{self.sweep.summary()}；邮件：{self.delivery.summary()}"


_LEVELS = {
    logging.DEBUG: "调试", logging.INFO: "信息", logging.WARNING: "警告",
    logging.ERROR: "错误", logging.CRITICAL: "严重",
}  # fmt: skip


class BeijingFormatter(logging.Formatter):
    """One log line: Beijing time, the level in Chinese, the message on one line. The process
    may run on a server set to UTC; the caseworkers read Beijing time."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        level = _LEVELS.get(record.levelno, record.levelname)
        return f"{stamp} {level} {one_line(record.getMessage())}"


def log_line(text: str, at: datetime | None = None) -> str:
    """What the scheduler prints of its own (started, a cycle's summary): the same one-line
    shape as its log, in Beijing time."""
    stamp = (at or datetime.now(SHANGHAI)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp} 信息 {one_line(text)}"


def configure_logging() -> None:
    """Warnings and errors of the sweep, mailer and scheduler to stderr, one line each."""
    handler = logging.StreamHandler()
    handler.setFormatter(BeijingFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


@contextlib.contextmanager
def scheduler_lock(app: App) -> Iterator[SchedulerLock]:
    """Hold the one-scheduler-per-database lock, or raise `SchedulerError`."""
    lock = scheduler_lock_for(app.engine)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def run_once(app: App, now: datetime) -> CycleResult:
    """One sweep and one delivery at `now` (`--once`)."""
    try:
        swept = sweep(app, now)
        delivered = deliver_outbox(app, now)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"本次检查中止，下次运行时继续：{describe_failure(exc)}") from None
    return CycleResult(swept, delivered)


def run_forever(
    app: App, lock: SchedulerLock, now: datetime | None = None, *, echo: Callable[[str], None] = print
) -> None:
    """Run until SIGINT/SIGTERM. With `now`, the clock starts at that moment and runs on.
    Raises `SchedulerError` (after a clean stop) if another scheduler took the lock over."""
    runner = _Runner(app, lock, now, lambda text: echo(log_line(text)))
    asyncio.run(runner.main())
    if runner.lost:
        raise SchedulerError(LOST_LOCK)


class _Runner:
    def __init__(self, app: App, lock: SchedulerLock, pretend: datetime | None, echo: Callable[[str], None]) -> None:
        self.app = app
        self.lock = lock
        self.echo = echo
        self.offset = (pretend - datetime.now(SHANGHAI)) if pretend is not None else None
        self.lost = False
        self.database_down = False
        self.stop = asyncio.Event()
        self.busy = asyncio.Lock()  # one job at a time; SIGTERM waits for it

    def clock(self) -> datetime:
        real = datetime.now(SHANGHAI)
        return real + self.offset if self.offset is not None else real

    async def still_ours(self) -> bool:
        """Check the lock (see `adapters.locks`); log only the changes, one line each."""
        state = await asyncio.to_thread(self.lock.check)
        if state is LockState.UNAVAILABLE:
            if not self.database_down:
                log.error("数据库不可用，暂停调度，恢复后继续")
            self.database_down = True
            return False
        if state is LockState.LOST:
            log.error(LOST_LOCK)
            self.lost = True
            self.stop.set()
            return False
        if state is LockState.RETAKEN or self.database_down:
            log.warning("数据库连接已恢复，已重新取得调度锁")
        self.database_down = False
        return True

    async def job(self, name: str, work: Callable[[datetime], Awaitable[str]]) -> None:
        async with self.busy:
            if self.stop.is_set() or not await self.still_ours():
                return
            try:
                line = await work(self.clock())
            except Exception as exc:  # the process must outlive a bad job; the next one retries
                log.error("%s失败：%s", name, describe_failure(exc))
                return
            self.echo(line)

    async def cycle(self, now: datetime) -> str:
        swept = await asyncio.to_thread(sweep, self.app, now)
        delivered = await deliver_outbox_async(self.app, now)
        return CycleResult(swept, delivered).summary()

    async def digest(self, now: datetime) -> str:
        from foi_workflow.services.verify import queue_verify_report

        queued = await asyncio.to_thread(queue_digests, self.app, now)
        differences = await asyncio.to_thread(queue_verify_report, self.app, now)  # SPEC §13: daily
        delivered = await deliver_outbox_async(self.app, now)
        return f"每日汇总 {queued} 封；数据核对差异 {differences} 处；邮件：{delivered.summary()}"

    async def watch(self) -> None:
        """Between jobs, notice a lost lock within LOCK_CHECK_SECONDS."""
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), LOCK_CHECK_SECONDS)
            if not self.stop.is_set() and not self.busy.locked():
                async with self.busy:
                    await self.still_ours()

    async def main(self) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        app = self.app
        at = digest_time(app.config)
        scheduler = AsyncIOScheduler(timezone=SHANGHAI)
        common = {"coalesce": True, "max_instances": 1}
        scheduler.add_job(
            self.job, "interval", args=("调度周期", self.cycle), minutes=app.config.scheduler.sweep_minutes,
            id="sweep", next_run_time=datetime.now(SHANGHAI), misfire_grace_time=None, **common,
        )  # fmt: skip
        scheduler.add_job(
            self.job, "cron", args=("每日汇总", self.digest), hour=at.hour, minute=at.minute,
            id="digest", misfire_grace_time=3600, **common,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        scheduler.start()
        if not app.config.smtp.configured:
            self.echo("未配置 SMTP（FOI_SMTP_HOST、FOI_MAIL_FROM），提醒邮件将留在发件箱中")
        self.echo(
            f"调度进程已启动：每 {app.config.scheduler.sweep_minutes} 分钟检查一次期限，"
            f"每日 {at.strftime('%H:%M')} 发送汇总（北京时间）"
        )
        watcher = asyncio.create_task(self.watch())
        try:
            await self.stop.wait()
        finally:
            self.stop.set()  # jobs that start from now on return at once
            # Let a running job finish its mail and records rather than cutting it off: the
            # scheduler's shutdown cancels the jobs still running, so it comes after.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.busy.acquire(), STOP_GRACE_SECONDS)
            scheduler.shutdown(wait=False)
            await watcher
            self.echo("调度进程已停止")
