"""The mail outbox: queue mail inside the transaction that caused it, deliver it after the
commit, retry temporary failures with exponential backoff, and list what is pending or failed.

Delivery claims rows first (`status = 'sending'`, committed) and sends afterwards, so several
schedulers on one PostgreSQL database never send the same mail twice: the claim uses
`SELECT … FOR UPDATE SKIP LOCKED`; on SQLite writers are serialised and the claim re-checks
the status. A claim left behind by a crashed process is taken over after `STALE_CLAIM`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from foi_workflow.adapters.tables import Outbox
from foi_workflow.errors import ConfigError

if TYPE_CHECKING:
    from foi_workflow.adapters.mailer import SmtpSession
    from foi_workflow.config import SmtpSettings
    from foi_workflow.services.app import App

log = logging.getLogger(__name__)

OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
STALE_CLAIM = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)
CLAIM_BATCH = 50
TLS_MODES = ("starttls", "ssl", "none")
NO_ADDRESS = "没有收件地址：请在配置中为经办人填写 email，或为机关填写 mailbox（或设置 FOI_MAIL_TO）"


@dataclass(frozen=True)
class QueuedMail:
    """One mail to queue. `to_addr` empty means nobody to send it to: it is stored as failed."""

    key: str
    agency: str
    case_id: str | None
    rule: str
    to_addr: str
    subject: str
    body: str


def utc(now: datetime) -> datetime:
    """`now` in UTC (a naive value is taken as UTC); what every outbox timestamp is stored in."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def existing_keys(connection: Connection, keys: Iterable[str]) -> set[str]:
    """Which of `keys` are already in the outbox (chunked lookups on the unique key index)."""
    wanted = list(keys)
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        found.update(connection.execute(select(OUTBOX.c.key).where(OUTBOX.c.key.in_(chunk))).scalars())
    return found


COLUMNS = (
    "key", "agency", "case_id", "rule", "to_addr", "subject", "body", "status", "attempts",
    "next_attempt_at", "claimed_by", "claimed_at", "last_error", "created_at", "sent_at",
)  # fmt: skip
SQLITE_INSERT = (
    f"INSERT INTO outbox ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) ON CONFLICT (key) DO NOTHING"
)


def queue_mails(connection: Connection, mails: Sequence[QueuedMail], now: datetime, *, checked: bool = False) -> int:
    """Insert the mails whose key is new; a key already queued (or sent) is left alone.

    Returns how many were new (with `checked`, the caller already left out known keys and
    duplicates are only ignored). Runs in the caller's transaction."""
    if not mails:
        return 0
    stamp: datetime | str = utc(now)
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Thousands of reminders in one executemany without per-row SQLAlchemy processing (the
        # sweep's hot path), the timestamp as SQLAlchemy stores it on SQLite (naive UTC).
        stamp = utc(now).strftime("%Y-%m-%d %H:%M:%S.%f")
    already = set() if checked else existing_keys(connection, (m.key for m in mails))
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for m in mails:
        if m.key in already or m.key in seen:
            continue
        seen.add(m.key)
        status, error = ("queued", "") if m.to_addr else ("failed", NO_ADDRESS)
        rows.append(
            (m.key, m.agency, m.case_id, m.rule, m.to_addr, m.subject, m.body, status, 0,
             stamp, None, None, error, stamp, None)
        )  # fmt: skip
    if not rows:
        return 0
    if sqlite:
        connection.exec_driver_sql(SQLITE_INSERT, rows)
    else:
        connection.execute(_insert_ignoring_duplicates(connection), [dict(zip(COLUMNS, r, strict=True)) for r in rows])
    return len(rows)


def _insert_ignoring_duplicates(connection: Connection) -> Any:
    # Another writer may queue the same key between our check and our insert.
    name = connection.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"])
    return insert(OUTBOX)


@dataclass
class DeliveryResult:
    configured: bool
    sent: int = 0
    retrying: int = 0  # temporary failure, queued again with backoff
    failed: int = 0  # permanent failure or too many attempts
    waiting: int = 0  # still queued afterwards (not due yet, or no SMTP settings)

    def summary(self) -> str:
        if not self.configured:
            return f"未配置 SMTP（host 与 mail_from），{self.waiting} 封邮件留在发件箱中，配置后将自动发送"
        text = f"已发送 {self.sent} 封"
        if self.retrying:
            text += f"，{self.retrying} 封暂时失败、稍后重试"
        if self.failed:
            text += f"，{self.failed} 封发送失败（见 foi outbox --failed）"
        if self.waiting:
            text += f"，{self.waiting} 封待发"
        return text


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OUTBOX.c.status == "queued", OUTBOX.c.next_attempt_at <= now),
        and_(OUTBOX.c.status == "sending", OUTBOX.c.claimed_at < now - STALE_CLAIM),
    )


def claim(app: App, now: datetime, worker: str, limit: int = CLAIM_BATCH) -> list[Any]:
    """Mark up to `limit` due rows as ours and commit; returns them (id, key, to_addr, subject, body, attempts)."""
    stamp = utc(now)
    ids = (
        select(OUTBOX.c.id)
        .where(_claimable(stamp))
        .order_by(OUTBOX.c.id)
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
            .returning(OUTBOX.c.id, OUTBOX.c.key, OUTBOX.c.to_addr, OUTBOX.c.subject, OUTBOX.c.body, OUTBOX.c.attempts)
        )
        return sorted(conn.execute(stmt).all(), key=lambda r: r.id)


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


async def deliver_outbox_async(app: App, now: datetime) -> DeliveryResult:
    """Send every due mail; see `deliver_outbox`."""
    from foi_workflow.adapters import mailer

    settings = app.config.smtp
    stamp = utc(now)
    if not settings.configured:
        return DeliveryResult(configured=False, waiting=count_waiting(app))
    if settings.tls.lower() not in TLS_MODES:
        raise ConfigError(f"FOI_SMTP_TLS / smtp.tls 应为 starttls、ssl 或 none，而不是 {settings.tls!r}")
    result = DeliveryResult(configured=True)
    worker = worker_id()
    # One SMTP connection for the whole run (reopened after a failure), not one per mail.
    async with mailer.SmtpSession(settings) as smtp:
        await _deliver_batches(app, settings, stamp, worker, smtp, result)
    result.waiting = count_waiting(app)
    return result


async def _deliver_batches(
    app: App, settings: SmtpSettings, stamp: datetime, worker: str, smtp: SmtpSession, result: DeliveryResult
) -> None:
    """Claim, send and record batch after batch until none is due or the server is down."""
    from foi_workflow.adapters import mailer

    server_down = False
    while not server_down:
        batch = claim(app, stamp, worker)
        if not batch:
            break
        for index, row in enumerate(batch):
            message = mailer.build_message(
                settings,
                to_addr=row.to_addr,
                subject=row.subject,
                body=row.body,
                key=row.key,
                now=datetime.now(UTC),  # the Date header is the real sending time, even with --now
            )
            report = await smtp.send(message)
            attempts = row.attempts + 1
            with app.engine.begin() as conn:
                if report.status == "sent":
                    result.sent += 1
                    values: dict[str, Any] = {
                        "status": "sent",
                        "attempts": attempts,
                        "sent_at": stamp,
                        "last_error": report.error,
                    }
                elif report.status == "retry" and attempts < settings.max_attempts:
                    result.retrying += 1
                    retry_at = stamp + backoff(settings.backoff_seconds, attempts)
                    values = {
                        "status": "queued",
                        "attempts": attempts,
                        "next_attempt_at": retry_at,
                        "last_error": report.error,
                    }
                else:
                    result.failed += 1
                    values = {"status": "failed", "attempts": attempts, "last_error": report.error}
                _record(conn, row.id, worker, values)
                if report.status == "retry":
                    # The server is unreachable or busy: hand the rest back untried, same wait.
                    log.warning("邮件暂时无法发送（%s），稍后重试", report.error)
                    for rest in batch[index + 1 :]:
                        _record(
                            conn,
                            rest.id,
                            worker,
                            {"status": "queued", "next_attempt_at": stamp + backoff(settings.backoff_seconds, 1)},
                        )
                    server_down = True
            if server_down:
                break


def deliver_outbox(app: App, now: datetime) -> DeliveryResult:
    """Claim the queued mail due at `now`, send it after the claim commits, record each outcome.

    Temporary failures are queued again with exponential backoff from
    `SmtpSettings.backoff_seconds`; after `max_attempts` tries, or on a permanent failure, the
    row is `failed` and shown by `foi outbox --failed`. Without SMTP settings nothing is sent
    and the result says so."""
    return asyncio.run(deliver_outbox_async(app, now))


def count_waiting(app: App) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "queued")).scalar_one()
        )


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    key: str
    status: str
    attempts: int
    to_addr: str
    subject: str
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str


def list_outbox(app: App, failed_only: bool = False, include_sent: bool = False) -> list[OutboxEntry]:
    """The mail not yet sent (queued, sending, failed), oldest first; only failed ones with `failed_only`."""
    stmt = select(OUTBOX).order_by(OUTBOX.c.id)
    if failed_only:
        stmt = stmt.where(OUTBOX.c.status == "failed")
    elif not include_sent:
        stmt = stmt.where(OUTBOX.c.status != "sent")
    with app.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        OutboxEntry(
            id=r.id,
            key=r.key,
            status=r.status,
            attempts=r.attempts,
            to_addr=r.to_addr,
            subject=r.subject,
            next_attempt_at=_aware(r.next_attempt_at),
            sent_at=_aware(r.sent_at),
            last_error=r.last_error,
        )
        for r in rows
    ]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives back the naive UTC value that was stored.
    return None if value is None else utc(value)
