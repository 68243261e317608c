"""`foi ledger export YEAR` (SPEC §14): the year's applications as the ledger (登记台账) an
office keeps in Excel, one row per case, in SPEC §14's columns.

"The cases of the year" are those the year's report counts: received in the year, or
received earlier and still open on 1 January (carried in). So the ledger imported into an
empty database gives the same table 3. Each row is read from the case's event log (the
correction and fee dates are events, not columns of the case row); 答复期限 is the reply due
date in force (for a decided case, the one it was decided against).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from foi_workflow.adapters.db import require_schema
from foi_workflow.adapters.ledger_files import write_csv, write_xlsx
from foi_workflow.adapters.models import Case, Event
from foi_workflow.domain.corrections import read_history
from foi_workflow.domain.fees import BASIS_LABELS
from foi_workflow.domain.ledger_columns import BY_KEY, EXPORT_KEYS, OPTIONAL_EXPORT_KEYS
from foi_workflow.domain.ledger_values import ledger_outcome_text
from foi_workflow.domain.replay import StoredEvent
from foi_workflow.domain.vocabulary import (
    ApplicantType,
    Channel,
    FeeBasis,
    Outcome,
    State,
)
from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.services.app import App
from foi_workflow.services.cases import replay
from foi_workflow.services.report import resolve_scope, year_bounds

_CHUNK = 500  # case ids per IN (...) query


@dataclass(frozen=True)
class Ledger:
    year: int
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def year_cases(session: Session, year: int, agency: str | None) -> list[str]:
    """The ids of the cases the year's report counts, by receipt date and number."""
    start, end = year_bounds(year)
    query = select(col(Case.id)).where(
        col(Case.received_on) <= end,
        or_(col(Case.decided_on).is_(None), col(Case.decided_on) >= start),
        col(Case.voided).is_(False),  # a voided registration (SPEC §11) is in no count, nor in the ledger
    )
    if agency is not None:
        query = query.where(col(Case.agency) == agency)
    return list(session.scalars(query.order_by(col(Case.received_on), col(Case.id))))


def _events(session: Session, case_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
    """The histories of `case_ids`, as plain rows (no ORM objects: a year has thousands)."""
    by_case: dict[str, list[StoredEvent]] = {}
    columns = (col(Event.case_id), col(Event.event), col(Event.on), col(Event.data), col(Event.by))
    for first in range(0, len(case_ids), _CHUNK):
        chunk = case_ids[first : first + _CHUNK]
        query = select(*columns).where(col(Event.case_id).in_(chunk)).order_by(col(Event.seq))
        for ev in session.execute(query):
            by_case.setdefault(str(ev.case_id), []).append(ev)
    return by_case


def _last(events: Sequence[StoredEvent], *names: str) -> tuple[int, StoredEvent | None]:
    """The last event of one of `names`, with its position (-1 and None when there is none)."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].event in names:
            return i, events[i]
    return -1, None


def _reply_due(snap: CaseSnapshot) -> date | None:
    clock = snap.clock
    if clock is None:
        return None
    return clock.frozen_due if snap.state == State.DECIDED.value else clock.reply_due


def ledger_row(snap: CaseSnapshot, events: Sequence[StoredEvent]) -> dict[str, Any]:
    """One case's cells by column key."""
    _, correction = _last(events, "request_correction")
    _, corrected = _last(events, "receive_correction")
    noticed, fee = _last(events, "fee_notice")
    paid_at, paid = _last(events, "fee_paid")
    _, final = _last(events, "decide", "withdraw", "lapse_correction", "lapse_fee")
    outcome = None
    if snap.outcome is not None:
        outcome = ledger_outcome_text(Outcome(snap.outcome), withdrawn=final is not None and final.event == "withdraw")
    on_time = snap.on_time
    return {
        "case": snap.id,
        "received_on": snap.received_on,
        "applicant": snap.applicant,
        "applicant_type": ApplicantType(snap.applicant_type).label,
        "channel": Channel(snap.channel).label,
        "request": snap.request,
        "correction_requested_on": correction.on if correction else None,
        "correction_received_on": corrected.on if corrected else None,
        "correction_period": correction.data.get("period") if correction else None,
        "extended_days": snap.extended_days or None,
        "decided_on": snap.decided_on,
        "reply_due": _reply_due(snap),
        "outcome": outcome,
        "on_time": None if on_time is None else ("是" if on_time else "否"),
        "caseworker": snap.caseworker or None,
        "state": State(snap.state).label,
        "fee_notice_on": fee.on if fee else None,
        "fee_amount": fee.data.get("amount") if fee else None,
        "fee_basis": BASIS_LABELS[FeeBasis(fee.data["basis"])] if fee else None,
        "fee_quantity": fee.data.get("quantity") if fee else None,
        "fee_paid_on": paid.on if paid is not None and paid_at > noticed else None,
    }


def _columns(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """SPEC §14's columns, then those of the optional ones some case of the year fills."""
    extra = tuple(k for k in OPTIONAL_EXPORT_KEYS if any(row[k] is not None for row in rows))
    return (*EXPORT_KEYS, *extra)


def build_ledger(app: App, year: int, agency: str | None = None) -> Ledger:
    require_schema(app.engine)
    scope = resolve_scope(app.config, agency, False)
    with Session(app.engine) as s:
        case_ids = year_cases(s, year, scope)
        events = _events(s, case_ids)
    # Each row from the effective history: voided events left out, corrected ones as corrected.
    disclosure = app.workflow.disclosure
    rows = []
    for case_id in case_ids:
        history = read_history(disclosure, events[case_id])
        rows.append(ledger_row(replay(app, case_id, history), history.counted))
    keys = _columns(rows)
    return Ledger(year, tuple(BY_KEY[k].header for k in keys), tuple(tuple(row[k] for k in keys) for row in rows))


def render_ledger(ledger: Ledger, fmt: str) -> bytes:
    if fmt == "csv":
        return write_csv(ledger.headers, ledger.rows)
    return write_xlsx(ledger.headers, ledger.rows, f"{ledger.year}年登记台账")
