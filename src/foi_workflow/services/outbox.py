"""The mail outbox: queue mail inside the transaction that caused it, list what is pending or
failed, and put failed mail back in the queue (`foi outbox --retry`). Delivery itself is
`services.delivery`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from foi_workflow.adapters.bulk import insert_rows
from foi_workflow.adapters.tables import OUTBOX
from foi_workflow.errors import NotFound, TransitionNotAllowed

if TYPE_CHECKING:
    from foi_workflow.services.app import App

log = logging.getLogger(__name__)

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


def drop_stale_mail(connection: Connection, case_id: str, live: Mapping[str, Iterable[str]]) -> int:
    """Delete the case's mails of the rules in `live` that are still queued under a key no
    longer live: a reminder for a deadline the case no longer has (it was decided, paused, or
    a correction moved it). Deleted, not marked, so that the key stays free: a deadline that
    moves back re-arms. The key range `case:` … `case;` is a range scan of the unique key index.
    Returns how many were dropped."""
    keep = sorted({key for keys in live.values() for key in keys})
    stale = delete(OUTBOX).where(
        OUTBOX.c.key >= f"{case_id}:",
        OUTBOX.c.key < f"{case_id};",  # ';' follows ':'
        OUTBOX.c.case_id == case_id,
        OUTBOX.c.status == "queued",
        OUTBOX.c.rule.in_(sorted(live)),
    )
    if keep:
        stale = stale.where(OUTBOX.c.key.not_in(keep))
    return int(getattr(connection.execute(stale), "rowcount", 0) or 0)


def queue_mails(connection: Connection, mails: Sequence[QueuedMail], now: datetime, *, checked: bool = False) -> int:
    """Insert the mails whose key is new; a key already queued (or sent) is left alone.

    Returns how many were new (with `checked`, the caller already left out known keys and
    duplicates are only ignored). Runs in the caller's transaction; thousands of reminders go
    in one bulk insert (the sweep's hot path)."""
    if not mails:
        return 0
    stamp = utc(now)
    already = set() if checked else existing_keys(connection, (m.key for m in mails))
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m in mails:
        if m.key in already or m.key in seen:
            continue
        seen.add(m.key)
        status, error, failure = ("queued", "", "") if m.to_addr else ("failed", NO_ADDRESS, "no_address")
        rows.append(
            {"key": m.key, "agency": m.agency, "case_id": m.case_id, "rule": m.rule, "to_addr": m.to_addr,
             "subject": m.subject, "body": m.body, "status": status, "attempts": 0, "next_attempt_at": stamp,
             "claimed_by": None, "claimed_at": None, "last_error": error, "created_at": stamp, "sent_at": None,
             "failure": failure, "deferrals": 0}
        )  # fmt: skip
    if rows:
        # Another writer may queue the same key between our check and our insert.
        insert_rows(connection, OUTBOX, rows, skip_duplicate="key")
    return len(rows)


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
    failure: str = ""


_ENTRY_COLUMNS = tuple(f.name for f in fields(OutboxEntry))


def list_outbox(app: App, failed_only: bool = False, include_sent: bool = False) -> list[OutboxEntry]:
    """The mail not yet sent (queued, sending, failed), oldest first; only failed ones with `failed_only`."""
    stmt = select(*(OUTBOX.c[name] for name in _ENTRY_COLUMNS)).order_by(OUTBOX.c.id)
    if failed_only:
        stmt = stmt.where(OUTBOX.c.status == "failed")
    elif not include_sent:
        stmt = stmt.where(OUTBOX.c.status != "sent")
    with app.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        replace(OutboxEntry(*row), next_attempt_at=_aware(row.next_attempt_at), sent_at=_aware(row.sent_at))
        for row in rows
    ]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives back the naive UTC value that was stored.
    return None if value is None else utc(value)


def retry_failed(app: App, now: datetime, mail_id: int | None = None) -> tuple[int, int]:
    """Put failed mail back in the queue, due at once, as if never tried (`foi outbox --retry`):
    every failed mail, or the one numbered `mail_id`. Returns (re-queued, left failed because
    they have no address to send to). One transaction."""
    failed = (OUTBOX.c.status == "failed") & (OUTBOX.c.to_addr != "")
    requeue = update(OUTBOX).values(
        status="queued", attempts=0, deferrals=0, next_attempt_at=utc(now), failure="", reported_at=None
    )
    with app.engine.begin() as conn:
        if mail_id is not None:
            row = conn.execute(select(OUTBOX.c.status, OUTBOX.c.to_addr).where(OUTBOX.c.id == mail_id)).first()
            if row is None:
                raise NotFound(f"发件箱中没有编号为 {mail_id} 的邮件")
            if row.status != "failed":
                label = STATUS_LABELS.get(row.status, row.status)
                raise TransitionNotAllowed(f"邮件 {mail_id} 不是发送失败的邮件（{label}），无需重发")
            if not row.to_addr:
                raise TransitionNotAllowed(f"邮件 {mail_id} 没有收件地址，无法重发：{NO_ADDRESS}")
            failed = failed & (OUTBOX.c.id == mail_id)
        done = conn.execute(requeue.where(failed)).rowcount
        stuck = 0
        if mail_id is None:
            stuck = int(
                conn.execute(
                    select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "failed", OUTBOX.c.to_addr == "")
                ).scalar_one()
            )
    log.info("重新排队 %d 封失败邮件", done)
    return int(done), stuck


STATUS_LABELS = {"queued": "待发", "sending": "发送中", "sent": "已发送", "failed": "失败"}
