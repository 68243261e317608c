"""Appeals (report table 4): filing an administrative review or lawsuit, and its conclusion."""

from __future__ import annotations

from typing import Any, Unpack

from sqlalchemy import select
from sqlmodel import Session, col

from foi_workflow.adapters.models import Appeal, Event
from foi_workflow.adapters.tables import APPEAL_TABLE
from foi_workflow.domain.boundary import clean_id
from foi_workflow.domain.definition import FIELD_LABELS
from foi_workflow.domain.workflow import AppealSnapshot, apply_appeal_event, file_appeal
from foi_workflow.errors import AlreadyExists, NotFound
from foi_workflow.services.app import App
from foi_workflow.services.case_store import check_open_year, ensure_agency, get_case, new_id, transaction
from foi_workflow.services.cases import Entry, EventArgs, resolve_agency

# The columns of an appeal row that its snapshot carries: all but the version (the table's).
COLUMNS = tuple(column.name for column in APPEAL_TABLE.c if column.name != "version")
# What a later event can change: all but the id and the agency (a correction may change what
# was filed, SPEC §11).
CHANGING = tuple(name for name in COLUMNS if name not in ("id", "agency"))


def appeal_values(snap: AppealSnapshot) -> dict[str, Any]:
    """A new appeal row as column values."""
    return {**{name: getattr(snap, name) for name in COLUMNS}, "version": 1}


def appeal_snapshot(app: App, session: Session, appeal_id: str) -> AppealSnapshot:
    row = session.get(Appeal, appeal_id)
    if row is None:
        raise NotFound(f"没有编号为 {appeal_id} 的复议诉讼")
    last = max(d for d in (row.filed_on, row.concluded_on) if d is not None)
    return AppealSnapshot(**{name: getattr(row, name) for name in COLUMNS}, last_event_on=last)


def write_appeal(session: Session, snap: AppealSnapshot) -> Appeal:
    row = session.get(Appeal, snap.id)
    assert row is not None
    for name in CHANGING:
        setattr(row, name, getattr(snap, name))
    session.add(row)
    return row


def file(app: App, *, appeal_id: str | None = None, **args: Unpack[EventArgs]) -> Appeal:
    """Record a new review or lawsuit; linked to a case when `data["case"]` is given."""
    e = Entry.of(app, args)
    if appeal_id is not None:
        appeal_id = clean_id("id", "复议诉讼编号", appeal_id, e.limits.appeal["id"])
    with transaction(app) as s:
        data = dict(e.data)
        if data.get("case"):
            data["case"] = clean_id("case", "案件编号", data["case"], e.limits.case["id"])
            data.setdefault("agency", get_case(s, data["case"]).agency)
        agency = resolve_agency(app, data)
        if appeal_id is not None and s.get(Appeal, appeal_id) is not None:
            raise AlreadyExists(f"编号为 {appeal_id} 的复议诉讼已存在")
        snap, clean = file_appeal(app.workflow, appeal_id or "(new)", e.on, {**data, "agency": agency}, e.ctx)
        e.limits.check_appeal_data(clean, FIELD_LABELS)
        check_open_year(s, agency, e.on, e.amend_reason, "登记复议诉讼")
        ensure_agency(s, app, agency)
        if appeal_id is None:
            year = e.on.year
            snap.id = new_id(s, APPEAL_TABLE, agency, f"appeal:{year}", lambda seq: f"F-{year}-{seq:03d}")
        row = Appeal(**appeal_values(snap))
        s.add(row)
        s.flush()
        e.record(s, "file", clean, appeal_id=snap.id)
        s.commit()
        return row


def conclude(app: App, appeal_id: str, **args: Unpack[EventArgs]) -> Appeal:
    """Record the result of a review or lawsuit."""
    e = Entry.of(app, args)
    appeal_id = clean_id("appeal", "复议诉讼编号", appeal_id, e.limits.appeal["id"])
    with transaction(app) as s:
        current = appeal_snapshot(app, s, appeal_id)
        snap, clean = apply_appeal_event(app.workflow, current, "conclude", e.on, e.data, e.ctx)
        e.limits.check_appeal_data(clean, FIELD_LABELS)
        check_open_year(s, snap.agency, e.on, e.amend_reason, f"复议诉讼 {appeal_id}")
        row = write_appeal(s, snap)
        e.record(s, "conclude", clean, appeal_id=appeal_id)
        s.commit()
        return row


def appeal_events(session: Session, appeal_id: str) -> list[Event]:
    """An appeal's log, in `seq` order."""
    return list(session.scalars(select(Event).where(col(Event.appeal_id) == appeal_id).order_by(col(Event.seq))))
