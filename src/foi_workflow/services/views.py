"""What `foi show` and `foi list` print: case rows and their histories as plain dicts
(the JSON contract of SPEC §8), with the deadline explanation from the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Row, select
from sqlmodel import Session, col

from foi_workflow.adapters.db import require_schema
from foi_workflow.adapters.tables import Case, Event, Notice
from foi_workflow.domain.vocabulary import (
    APPLICANT_TYPE_LABELS,
    CHANNEL_LABELS,
    ApplicantType,
    Channel,
    Outcome,
    State,
)
from foi_workflow.errors import NotFound
from foi_workflow.services.app import App
from foi_workflow.services.cases import replay, today_local


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise, not enough to misuse."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(number: str) -> str:
    """110101********1234."""
    n = number.strip()
    if len(n) < 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def case_summary(row: Case | Row[Any], today: date, *, masked: bool = True) -> dict[str, Any]:
    """A case row as `foi list --format json` prints it (SPEC §8, without events)."""
    state = State(row.state)
    overdue = bool(row.reply_due and state is State.RECEIVED and today > row.reply_due)
    return {
        "id": row.id,
        "agency": row.agency,
        "state": row.state,
        "state_label": state.label,
        "outcome": row.outcome,
        "outcome_label": Outcome(row.outcome).info.label if row.outcome else None,
        "applicant": row.applicant,
        "applicant_type": row.applicant_type,
        "applicant_type_label": APPLICANT_TYPE_LABELS[ApplicantType(row.applicant_type)],
        "channel": row.channel,
        "channel_label": CHANNEL_LABELS[Channel(row.channel)],
        "phone": mask_phone(row.phone) if masked else row.phone,
        "id_number": mask_id_number(row.id_number) if masked else row.id_number,
        "caseworker": row.caseworker,
        "received_on": _iso(row.received_on),
        "decided_on": _iso(row.decided_on),
        "reply_due": _iso(row.reply_due),
        "on_time": row.on_time,
        "provisional": bool(row.reply_due_provisional),
        "overdue": overdue,
        "correction_notice_due": _iso(row.correction_notice_due),
        "correction_due": _iso(row.correction_due),
        "consultation_due": _iso(row.consultation_due),
        "fee_due": _iso(row.fee_due),
        "extended_days": row.extended_days,
        "carried_over_to": row.carried_over_to,
        "version": row.version,
    }


@dataclass
class CaseDetail:
    summary: dict[str, Any]
    request: str
    contact: str
    events: list[dict[str, Any]]
    explanation: list[str]
    notices: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.summary,
            "request": self.request,
            "contact": self.contact,
            "events": self.events,
            "explanation": self.explanation,
            "notices": self.notices,
        }


def event_dict(ev: Event | Row[Any]) -> dict[str, Any]:
    return {
        "event": ev.event,
        "on": ev.on.isoformat(),
        "by": ev.by,
        "recorded_at": ev.recorded_at.isoformat() if ev.recorded_at else None,
        **({"amend_reason": ev.amend_reason} if ev.amend_reason else {}),
        "data": ev.data,
    }


def show_case(app: App, case_id: str, today: date | None = None) -> CaseDetail:
    require_schema(app.engine)
    today = today or today_local()
    # Core selects on the tables (rows read like the ORM objects): a read-only view has no use
    # for the ORM's identity map, and skipping it spares a short process the mapper
    # configuration and ORM statement compilation (a visible part of `foi show`).
    case_t, event_t, notice_t = (Case.__table__, Event.__table__, Notice.__table__)  # type: ignore[attr-defined]
    with app.engine.connect() as conn:
        row = conn.execute(select(case_t).where(case_t.c.id == case_id)).first()
        if row is None:
            raise NotFound(f"没有编号为 {case_id} 的案件")
        events = list(conn.execute(select(event_t).where(event_t.c.case_id == case_id).order_by(event_t.c.seq)))
        notices = list(
            conn.execute(select(notice_t).where(notice_t.c.case_id == case_id).order_by(notice_t.c.id))
        )
    snap = replay(app, case_id, cast(list[Event], events), explain=True)
    return CaseDetail(
        summary=case_summary(row, today, masked=False),
        request=row.request,
        contact=row.contact,
        events=[event_dict(e) for e in events],
        explanation=list(snap.deadlines.explanation) if snap.deadlines else [],
        notices=[
            {
                "id": n.id,
                "kind": n.kind,
                "number": n.number,
                "dated": n.dated.isoformat(),
                "template": n.template_name,
                "template_hash": n.template_hash,
            }
            for n in notices
        ],
    )


def list_cases(
    app: App,
    *,
    state: str | None = None,
    overdue: bool = False,
    due_within: int | None = None,
    year: int | None = None,
    agency: str | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Cases of one agency (default: the configured one), filtered, oldest first."""
    require_schema(app.engine)
    today = today or today_local()
    query = select(Case).where(col(Case.agency) == (agency or app.config.default_agency))
    if state:
        query = query.where(col(Case.state) == State(state).value)
    if overdue:
        query = query.where(col(Case.state) == State.RECEIVED.value, col(Case.reply_due) < today)
    if due_within is not None:
        limit = app.calendar.add_working_days(today, due_within)
        query = query.where(col(Case.reply_due).is_not(None), col(Case.reply_due) <= limit)
    if year is not None:
        query = query.where(col(Case.received_on) >= date(year, 1, 1), col(Case.received_on) <= date(year, 12, 31))
    query = query.order_by(col(Case.received_on), col(Case.id))
    with Session(app.engine) as s:
        return [case_summary(row, today) for row in s.scalars(query)]
