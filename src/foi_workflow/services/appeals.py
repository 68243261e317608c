"""Appeals (report table 4): filing an administrative review or lawsuit, and its conclusion."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from foi_workflow.adapters.tables import APPEAL_TABLE, Appeal, Event, column_limits
from foi_workflow.domain.boundary import clean_amend_reason, clean_by, clean_id
from foi_workflow.domain.definition import FIELD_LABELS
from foi_workflow.domain.workflow import AppealSnapshot, apply_appeal_event, file_appeal
from foi_workflow.errors import AlreadyExists, NotFound
from foi_workflow.services.app import App, apply_context
from foi_workflow.services.cases import (
    check_open_year,
    ensure_agency,
    get_case,
    next_sequence,
    transaction,
)

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


def file(
    app: App,
    *,
    on: date,
    by: str,
    data: Mapping[str, Any],
    appeal_id: str | None = None,
    amend_reason: str | None = None,
    today: date | None = None,
) -> Appeal:
    """Record a new review or lawsuit; linked to a case when `data["case"]` is given."""
    ctx = apply_context(app, today)
    limits = column_limits()
    by, amend_reason = clean_by(by, limits), clean_amend_reason(amend_reason, limits)
    if appeal_id is not None:
        appeal_id = clean_id("id", "复议诉讼编号", appeal_id, limits.appeal["id"])
    with transaction(app) as s:
        data = dict(data)
        if data.get("case"):
            data["case"] = clean_id("case", "案件编号", data["case"], limits.case["id"])
            data.setdefault("agency", get_case(s, data["case"]).agency)
        agency = str(data.get("agency") or app.config.default_agency)
        app.config.agency(agency)
        if appeal_id is not None and s.get(Appeal, appeal_id) is not None:
            raise AlreadyExists(f"编号为 {appeal_id} 的复议诉讼已存在")
        snap, clean = file_appeal(app.workflow, appeal_id or "(new)", on, {**data, "agency": agency}, ctx)
        limits.check_appeal_data(clean, FIELD_LABELS)
        check_open_year(s, agency, on, amend_reason, "登记复议诉讼")
        ensure_agency(s, app, agency)
        if appeal_id is None:
            while True:
                candidate = f"F-{on.year}-{next_sequence(s, agency, f'appeal:{on.year}'):03d}"
                if s.get(Appeal, candidate) is None:
                    break
            snap.id = candidate
        row = Appeal(**appeal_values(snap))
        s.add(row)
        s.flush()
        s.add(Event(appeal_id=snap.id, event="file", on=on, by=by, data=clean, amend_reason=amend_reason))
        s.commit()
        return row


def conclude(
    app: App,
    appeal_id: str,
    *,
    on: date,
    by: str,
    data: Mapping[str, Any],
    amend_reason: str | None = None,
    today: date | None = None,
) -> Appeal:
    """Record the result of a review or lawsuit."""
    ctx = apply_context(app, today)
    limits = column_limits()
    by, amend_reason = clean_by(by, limits), clean_amend_reason(amend_reason, limits)
    appeal_id = clean_id("appeal", "复议诉讼编号", appeal_id, limits.appeal["id"])
    with transaction(app) as s:
        snap, clean = apply_appeal_event(app.workflow, appeal_snapshot(app, s, appeal_id), "conclude", on, data, ctx)
        limits.check_appeal_data(clean, FIELD_LABELS)
        check_open_year(s, snap.agency, on, amend_reason, f"复议诉讼 {appeal_id}")
        row = write_appeal(s, snap)
        s.add(Event(appeal_id=appeal_id, event="conclude", on=on, by=by, data=clean, amend_reason=amend_reason))
        s.commit()
        return row
