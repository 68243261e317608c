"""Extensions need the head of the disclosure office (Art. 33; SPEC §13): `foi extend` by an
approver (or on SQLite with `--approved-by`) records the extension; by a caseworker it files a
request that does nothing to the clock and mails the agency's approvers; `foi approve` records
the requested extension, `foi reject` ends the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from foi_workflow.domain.access import Actor
from foi_workflow.domain.workflow import ExtensionRequest
from foi_workflow.errors import InvalidInput, RuleViolation
from foi_workflow.services.access import approvers, recorder, require_approver
from foi_workflow.services.app import App
from foi_workflow.services.case_store import Db, case_events, commit_own, connection_of, connection_scope, get_case
from foi_workflow.services.cases import Change, advance, replay
from foi_workflow.services.outbox import QueuedMail, queue_mails

EXTENSION = "延长答复期限"
RULE = "extension_request"  # the outbox rule of the mail to an approver


@dataclass(frozen=True)
class ExtensionAsked:
    """What `foi extend` did: recorded the extension, or (`requested`) filed a request."""

    change: Change
    requested: bool


def extend(app: App, case_id: str, *, on: date, by: str, days: int, reason: str | None,
           approved_by: str | None, amend_reason: str | None = None,
           session: Db | None = None) -> ExtensionAsked:  # fmt: skip
    """Record an extension, or file a request for one (a caseworker on a shared database)."""
    actor = app.actor
    data = {"days": days, "reason": reason}
    with connection_scope(app, session) as s:
        agency = get_case(s, case_id).agency
        if not actor.shared:
            if not (approved_by and approved_by.strip()):
                raise InvalidInput("选项 --approved-by：延长答复期限须写明批准的负责人（条例第三十三条）")
            change = advance(app, case_id, "extend", on=on, by=by, data={**data, "approved_by": approved_by},
                             amend_reason=amend_reason, session=s)  # fmt: skip
            requested = False
        elif actor.may_approve(agency):
            who = approved_by if actor.owner and approved_by else by  # `by`: the login, but for the owner
            change = advance(app, case_id, "extend", on=on, by=by, data={**data, "approved_by": who},
                             amend_reason=amend_reason, session=s)  # fmt: skip
            requested = False
        else:
            change = advance(app, case_id, "request_extension", on=on, by=by, data=data,
                             amend_reason=amend_reason, session=s)  # fmt: skip
            _mail_approvers(s, actor, change)
            requested = True
        commit_own(s, session)
        return ExtensionAsked(change, requested)


def _mail_approvers(db: Db, actor: Actor, change: Change) -> None:
    """One mail to each approver of the case's agency, in the request's transaction."""
    case, event = change.case, change.event
    days, reason = event.data["days"], event.data.get("reason") or "（未写明）"
    subject = f"延期审批：案件 {case.id} 申请延长答复期限 {days} 个工作日"
    body = (
        f"{actor.login} 于 {event.on.isoformat()} 为案件 {case.id}（申请人：{case.applicant}）申请延长答复期限 "
        f"{days} 个工作日，理由：{reason}。\n\n"
        f"批准：foi approve {case.id}\n不批准：foi reject {case.id} --reason 理由\n"
    )
    mails = [
        QueuedMail(f"{RULE}:{case.id}:{event.seq}:{p.login}", case.agency, case.id, RULE, p.email, subject, body)
        for p in approvers(db, case.agency)
    ]
    queue_mails(connection_of(db), mails, datetime.now().astimezone())


def _pending(app: App, session: Db, case_id: str, actor: Actor, what: str) -> ExtensionRequest:
    """The case's pending request, once this login is known to be its agency's approver."""
    row = get_case(session, case_id, lock=True)
    require_approver(actor, row.agency, what)
    pending = replay(app, case_id, case_events(session, case_id)).extension_request
    if pending is None:
        raise RuleViolation(f"案件 {case_id} 没有待审批的延期申请")
    return pending


def approve(app: App, case_id: str, *, today: date | None = None) -> Change:
    """Record the requested extension, approved by this login, dated on the request's date."""
    actor = app.actor
    with connection_scope(app, None) as s:
        request = _pending(app, s, case_id, actor, EXTENSION)
        who = recorder(app, None)
        data = {"days": request.days, "reason": request.reason or None, "approved_by": who}
        change = advance(app, case_id, "extend", on=request.on, by=who, data=data, today=today, session=s)
        s.commit()
        return change


def reject(app: App, case_id: str, *, on: date, reason: str) -> Change:
    """End the pending request without an extension."""
    actor = app.actor
    with connection_scope(app, None) as s:
        _pending(app, s, case_id, actor, "驳回延期申请")
        change = advance(app, case_id, "reject_extension", on=on, by=recorder(app, None), data={"reason": reason},
                         session=s)  # fmt: skip
        s.commit()
        return change
