"""`foi verify` and its daily run by the scheduler (SPEC §13): every case the login may see,
replayed from its log and compared with its row; what differs is a projection changed behind
the program's back (an UPDATE by the owner, a restored file), and the office is told by mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from foi_workflow.adapters.tables import PERSON
from foi_workflow.domain.access import Role
from foi_workflow.services.app import App
from foi_workflow.services.case_store import Db
from foi_workflow.services.cases import rebuild
from foi_workflow.services.outbox import QueuedMail, existing_keys, queue_mails

RULE = "verify"
MAIL_LINES = 50  # a mail lists this many differences; `foi verify` prints them all


def verify(app: App) -> list[str]:
    """Each difference between a case row and its log (`case id: column stored ≠ expected`)."""
    return rebuild(app, check_only=True)


def office_addresses(db: Db) -> list[str]:
    """Where the office is mailed: every active office person with an address (PostgreSQL)."""
    person = PERSON.c
    query = select(person.email).where(person.role == Role.OFFICE.value, person.active, person.email != "")
    return sorted(set(db.execute(query).scalars()))


def queue_verify_report(app: App, now: datetime) -> int:
    """Verify, and when anything differs queue one mail to each office address (else to the
    default agency's mailbox), once a day (key `verify:DATE:ADDRESS`). Returns the differences."""
    from foi_workflow.services.sweep import local_now, recipient

    differences = verify(app)
    if not differences:
        return 0
    today = local_now(now).date().isoformat()
    agency = app.config.default_agency
    with app.engine.connect() as s:
        addresses = office_addresses(s) or [recipient(app.config, agency, "", "agency")[0]]
        shown = differences[:MAIL_LINES]
        left = len(differences) - MAIL_LINES
        more = [f"……另有 {left} 处，请运行 foi verify 查看"] if left > 0 else []
        subject = f"【依申请公开数据核对】{today}：{len(differences)} 处案件表与事件日志不一致"
        body = "\n".join([
            f"{today} 的每日核对发现案件表与事件日志不一致（案件表可能被绕过程序修改）：", "",
            *shown, *more, "",
            "请核实修改来源；确认事件日志无误后，可由数据库所有者运行 foi rebuild 按日志改写案件表。",
        ])  # fmt: skip
        keys = {a: f"{RULE}:{today}:{a}" for a in addresses}
        done = existing_keys(s, keys.values())
        mails = [QueuedMail(keys[a], agency, None, RULE, a, subject, body) for a in addresses if keys[a] not in done]
        queue_mails(s, mails, now)
        s.commit()
    return len(differences)
