"""Mail delivery from the outbox (SPEC §7): claim the due mail, send it over one SMTP session,
record what became of each mail, and never lose one.

- Delivery claims rows first (`status = 'sending'`, committed) and sends afterwards, so two
  deliveries never send the same mail: the claim uses `SELECT … FOR UPDATE SKIP LOCKED` on
  PostgreSQL; on SQLite writers are serialised and the claim re-checks the status. A claim
  left behind by a crashed process is taken over after `STALE_CLAIM`.
- Each mail is built and sent in its own try: a mail that cannot be built (a broken address)
  is failed alone with its reason and the others go out.
- A server that cannot be reached is not an attempt on any mail: nothing is claimed, and
  every due mail waits together with a backoff that grows to `MAX_OUTAGE_BACKOFF`, for as
  long as the outage lasts. A temporary refusal (4xx) of one mail counts as an attempt on it;
  after `max_attempts` it is failed.
- A permanent refusal (5xx) fails that mail, unless `REFUSAL_BURST` mails in a row, to at
  least two addresses, are refused with nothing accepted between: then the server is
  refusing everything (an account blocked, a quota, a broken relay), not that many
  addresses. Those mails wait with the outage backoff, without an attempt counted; the rest
  goes back untried and is tried first next time, so a few bad addresses never hold up good
  mail. (One address refused again and again is that address: its mails fail.)
- Failed mail is listed by `foi outbox --failed`, reported in the next daily digest and
  re-queued by `foi outbox --retry`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from foi_workflow.adapters.tables import OUTBOX
from foi_workflow.domain.vocabulary import tally
from foi_workflow.services.outbox import count_waiting, utc

if TYPE_CHECKING:
    from foi_workflow.adapters.mailer import SendReport, SmtpSession
    from foi_workflow.config import SmtpSettings
    from foi_workflow.services.app import App

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)
# The longest wait between two tries of an unreachable server: once it is back, the mail
# held by an outage of any length goes out within this time (plus one sweep interval).
MAX_OUTAGE_BACKOFF = timedelta(minutes=15)
CLAIM_BATCH = 50
REFUSAL_BURST = 5


@dataclass
class DeliveryResult:
    configured: bool
    sent: int = 0
    retrying: int = 0  # temporary failure of a mail, queued again with backoff
    failed: int = 0  # permanent failure, too many attempts, or a mail that cannot be built
    held: int = 0  # refused in a burst: kept queued, the server is the problem
    waiting: int = 0  # still queued afterwards (not due yet, or no SMTP settings)
    unreachable: str = ""  # why the server could not be reached; then no mail was tried
    retry_at: datetime | None = None  # when mail held by the server is tried again

    def summary(self) -> str:
        if not self.configured:
            return f"未配置 SMTP（host 与 mail_from），{self.waiting} 封邮件留在发件箱中，配置后将自动发送"
        when = f"，{_local(self.retry_at)} 后重试" if self.retry_at else ""
        if self.unreachable:
            return (
                f"无法连接 SMTP 服务器（{self.unreachable}），{self.waiting} 封邮件留在发件箱中{when}（不计入尝试次数）"
            )
        return tally(
            f"已发送 {self.sent} 封",
            (self.retrying, f"{self.retrying} 封暂时失败、稍后重试"),
            (self.held, f"{self.held} 封连续被拒收、按服务器故障处理{when}"),
            (self.failed, f"{self.failed} 封发送失败（见 foi outbox --failed）"),
            (self.waiting, f"{self.waiting} 封待发"),
        )


def _local(at: datetime) -> str:
    from foi_workflow.config import SHANGHAI

    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _due(now: datetime) -> Any:
    return and_(OUTBOX.c.status == "queued", OUTBOX.c.next_attempt_at <= now)


def _claimable(now: datetime) -> Any:
    return or_(_due(now), and_(OUTBOX.c.status == "sending", OUTBOX.c.claimed_at < now - STALE_CLAIM))


def claim(app: App, now: datetime, worker: str, limit: int = CLAIM_BATCH) -> list[Any]:
    """Mark up to `limit` due rows as ours and commit; returns them (id, key, to_addr, subject,
    body, attempts, deferrals) in the order to send them."""
    stamp = utc(now)
    ids = (
        select(OUTBOX.c.id)
        .where(_claimable(stamp))
        # Mail held back by a refusal burst last: a few bad addresses never hold up the rest.
        .order_by(OUTBOX.c.deferrals, OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with app.engine.begin() as conn:
        target: Any = OUTBOX.c.id.in_(ids)  # SQLite: one statement, atomic under its write lock
        if conn.dialect.name == "postgresql":
            # The ids first, in a statement of their own: inside `UPDATE … WHERE id IN (subquery)`
            # PostgreSQL may plan a nested-loop semi join that re-runs the LIMITed subquery per
            # row and claims every due row at once (seen on a freshly filled outbox).
            picked = list(conn.execute(ids).scalars())
            if not picked:
                return []
            target = OUTBOX.c.id.in_(picked)
        stmt = (
            update(OUTBOX)
            .where(target, _claimable(stamp))
            .values(status="sending", claimed_by=worker, claimed_at=stamp)
            .returning(
                OUTBOX.c.id, OUTBOX.c.key, OUTBOX.c.to_addr, OUTBOX.c.subject, OUTBOX.c.body, OUTBOX.c.attempts,
                OUTBOX.c.deferrals,
            )
        )  # fmt: skip
        return sorted(conn.execute(stmt).all(), key=lambda r: (r.deferrals, r.id))


def _record(conn: Connection, row_id: int, worker: str, values: dict[str, Any]) -> None:
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == row_id, OUTBOX.c.status == "sending", OUTBOX.c.claimed_by == worker)
        .values(claimed_by=None, claimed_at=None, **values)
    )


def backoff(base_seconds: float, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: base, 2×base, 4×base, … capped at MAX_BACKOFF."""
    seconds = base_seconds * (2 ** min(max(0, attempts - 1), 40))  # bounded: no overflow
    return min(timedelta(seconds=min(seconds, MAX_BACKOFF.total_seconds())), MAX_BACKOFF)


def outage_backoff(base_seconds: float, deferrals: int) -> timedelta:
    """The wait after the `deferrals`-th delivery in a row that found the server unreachable."""
    return min(backoff(base_seconds, deferrals), MAX_OUTAGE_BACKOFF)


def _defer_due(
    conn: Connection, stamp: datetime, settings: SmtpSettings, kind: str, error: str, ids: list[int] | None = None
) -> datetime:
    """The server, not a mail, failed: every due mail (or those of `ids`) waits for the next
    try of the server, without an attempt counted. Returns when that is."""
    due = _due(stamp) if ids is None else and_(_due(stamp), OUTBOX.c.id.in_(ids))
    done = conn.execute(select(func.max(OUTBOX.c.deferrals)).where(due)).scalar_one_or_none() or 0
    at = stamp + outage_backoff(settings.backoff_seconds, int(done) + 1)
    conn.execute(
        update(OUTBOX)
        .where(due)
        .values(next_attempt_at=at, deferrals=OUTBOX.c.deferrals + 1, failure=kind, last_error=error[:500])
    )
    return at


def _anything_due(app: App, stamp: datetime) -> bool:
    with app.engine.connect() as conn:
        return bool(conn.execute(select(exists().where(_claimable(stamp)))).scalar_one())


async def deliver_outbox_async(app: App, now: datetime) -> DeliveryResult:
    """Send every due mail; see `deliver_outbox`."""
    from foi_workflow.adapters import mailer

    settings = app.config.smtp
    if not settings.configured:
        return DeliveryResult(configured=False, waiting=count_waiting(app))
    mailer.check_settings(settings)
    stamp = utc(now)
    result = DeliveryResult(configured=True)
    if _anything_due(app, stamp):
        # One SMTP connection for the whole run (reopened after a failure), not one per mail.
        async with mailer.SmtpSession(settings) as smtp:
            down = await smtp.open()
            if down is not None:
                log.warning("无法连接 SMTP 服务器，邮件留在发件箱中稍后重试：%s", down.error)
                with app.engine.begin() as conn:
                    result.retry_at = _defer_due(conn, stamp, settings, "unreachable", down.error)
                result.unreachable = down.error
            else:
                with app.engine.begin() as conn:  # the server is back: its backoff starts over
                    waited = and_(OUTBOX.c.status == "queued", OUTBOX.c.failure == "unreachable")
                    conn.execute(update(OUTBOX).where(waited, OUTBOX.c.deferrals > 0).values(deferrals=0))
                await _Run(app, settings, stamp, worker_id(), smtp, result).deliver()
    result.waiting = count_waiting(app)
    return result


def deliver_outbox(app: App, now: datetime) -> DeliveryResult:
    """Claim the queued mail due at `now`, send it after the claim commits, record each outcome
    (see the module docstring). Without SMTP settings nothing is sent and the result says so."""
    return asyncio.run(deliver_outbox_async(app, now))


@dataclass
class _Run:
    """One delivery: batch after batch until nothing is due or the server is in trouble."""

    app: App
    settings: SmtpSettings
    stamp: datetime
    worker: str
    smtp: SmtpSession
    result: DeliveryResult
    refused: list[tuple[Any, SendReport]] = field(default_factory=list)  # in a row, not recorded yet

    async def deliver(self) -> None:
        while batch := claim(self.app, self.stamp, self.worker):
            for index, row in enumerate(batch):
                if not await self._one(row, batch[index + 1 :]):
                    return
        self._fail_refused()

    async def _one(self, row: Any, rest: list[Any]) -> bool:
        """Send `row` and record the outcome; False when the rest of the run must wait."""
        report = await self._send(row)
        if report.status == "sent":
            self._fail_refused()  # the server accepts mail: those refusals were about those mails
            self.result.sent += 1
            sent = {"status": "sent", "attempts": row.attempts + 1, "sent_at": self.stamp}
            self._finish(row, {**sent, "last_error": report.error, "failure": ""})
        elif report.status == "invalid":
            self._fail(row, report, "invalid", attempts=row.attempts)
        elif report.status == "failed":
            self.refused.append((row, report))
            held = [r for r, _ in self.refused]
            if len(held) >= REFUSAL_BURST and len({r.to_addr for r in held}) >= 2:
                self.refused = []
                self.result.held += len(held)
                log.warning("SMTP 服务器连续拒收 %d 封邮件，按服务器故障处理、稍后重试：%s", len(held), report.error)
                self._hand_back(held, "refused_all", report.error, only_these=True)
                self._release(rest, self.stamp)
                return False
        elif report.status == "retry":
            self._fail_refused()
            self._retry(row, report)
            self._release(rest, self.stamp + backoff(self.settings.backoff_seconds, 1))
            return False
        else:  # unreachable on reconnecting: none of these was tried
            log.warning("与 SMTP 服务器的连接中断且无法重连，邮件留在发件箱中稍后重试：%s", report.error)
            self._hand_back([*(r for r, _ in self.refused), row, *rest], "unreachable", report.error)
            self.refused = []
            self.result.unreachable = report.error
            return False
        return True

    async def _send(self, row: Any) -> SendReport:
        from foi_workflow.adapters import mailer

        try:
            message = mailer.build_message(
                self.settings,
                to_addr=row.to_addr,
                subject=row.subject,
                body=row.body,
                key=row.key,
                now=datetime.now(UTC),  # the Date header is the real sending time, even with --now
            )
        except Exception as exc:  # one mail that cannot be built must not stop the others
            return mailer.SendReport("invalid", mailer.describe(exc))
        try:
            return await self.smtp.send(message)
        except Exception as exc:  # nor one that fails in a way nobody foresaw
            await self.smtp.reset()
            return mailer.SendReport("invalid", mailer.describe(exc))

    def _finish(self, row: Any, values: dict[str, Any]) -> None:
        with self.app.engine.begin() as conn:
            _record(conn, row.id, self.worker, values)

    def _fail(self, row: Any, report: SendReport, kind: str, *, attempts: int) -> None:
        self.result.failed += 1
        log.warning("邮件 %d 发送失败（%s）：%s", row.id, kind, report.error)
        self._finish(row, {"status": "failed", "attempts": attempts, "last_error": report.error, "failure": kind})

    def _fail_refused(self) -> None:
        refused, self.refused = self.refused, []
        for row, report in refused:
            self._fail(row, report, "permanent", attempts=row.attempts + 1)

    def _retry(self, row: Any, report: SendReport) -> None:
        attempts = row.attempts + 1
        if attempts >= self.settings.max_attempts:
            self._fail(row, report, "temporary", attempts=attempts)
            return
        self.result.retrying += 1
        log.warning("邮件 %d 暂时无法发送，稍后重试：%s", row.id, report.error)
        retry_at = self.stamp + backoff(self.settings.backoff_seconds, attempts)
        values = {"status": "queued", "attempts": attempts, "next_attempt_at": retry_at}
        self._finish(row, {**values, "last_error": report.error, "failure": "temporary"})

    def _release(self, rows: list[Any], at: datetime) -> None:
        with self.app.engine.begin() as conn:
            for row in rows:
                _record(conn, row.id, self.worker, {"status": "queued", "next_attempt_at": at})

    def _hand_back(self, rows: list[Any], kind: str, error: str, *, only_these: bool = False) -> None:
        """Rows back to the queue, no attempt counted; they wait for the server's next try,
        and so does every other due mail unless `only_these`."""
        with self.app.engine.begin() as conn:
            for row in rows:
                _record(conn, row.id, self.worker, {"status": "queued", "next_attempt_at": self.stamp})
            ids = [row.id for row in rows] if only_these else None
            self.result.retry_at = _defer_due(conn, self.stamp, self.settings, kind, error, ids)
