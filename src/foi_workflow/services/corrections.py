"""Putting a mistake right (SPEC §11): `void` and `correct` of an earlier event of a case or an
appeal, in one transaction each.

The amending event is appended to the log (dated the day it is recorded), the whole log is
replayed through its effective history (`domain.corrections`) with today's rules, and only a
history that still passes every rule is kept: the projection is rewritten from it, and queued
reminders for deadlines that no longer exist are dropped (a moved deadline gets a new key,
which the next sweep queues). An event dated in a closed year, before or after the
correction, needs `--amend-closed-year`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from foi_workflow.adapters.models import Appeal, Event
from foi_workflow.domain.access import DECISION_EVENTS
from foi_workflow.domain.corrections import Counted, amended_dates, check_amendment, read_history
from foi_workflow.domain.definition import MachineDef, Workflow, normalize_data
from foi_workflow.domain.replay import replay_appeal, replay_case
from foi_workflow.domain.workflow import AppealSnapshot, ApplyContext, CaseSnapshot
from foi_workflow.errors import NotFound
from foi_workflow.services.access import require_approver
from foi_workflow.services.app import App, apply_context
from foi_workflow.services.appeals import appeal_events, write_appeal
from foi_workflow.services.case_store import (
    CaseRow,
    EventRow,
    case_events,
    check_open_year,
    commit_own,
    get_case,
    session_scope,
    write_projection,
)
from foi_workflow.services.cases import reminder_keys
from foi_workflow.services.letters import void_letters_undone
from foi_workflow.services.outbox import drop_stale_mail


@dataclass
class Amended:
    """What a recorded void or correction left."""

    subject_id: str
    event: Event  # the void / correct row
    target: Counted  # the target as it counted before
    snapshot: CaseSnapshot | AppealSnapshot
    dropped_reminders: int = 0
    voided_letters: list[str] = field(default_factory=list)  # numbers of the letters made 作废


def amendment_data(kind: str, target: int, reason: str, changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The data of a void / correct event as SPEC §11 names it."""
    data: dict[str, Any] = {"target": target, "reason": reason}
    if kind == "correct":
        data["set"] = dict(changes or {})
    return data


@dataclass(frozen=True)
class Request:
    """A void or correction as asked for."""

    kind: str  # void | correct
    target: int
    reason: str
    by: str
    changes: Mapping[str, Any] | None
    amend_reason: str | None


def _new_event(
    s: Session, mdef: MachineDef, subject: str, agency: str, events: Sequence[Event | EventRow], req: Request, on: date
) -> tuple[Counted, Event]:
    """Check the amendment itself and the closed years it touches; the event row to append
    (its subject id set by the caller) and the target as it counts now."""
    current = check_amendment(mdef, subject, events, req.kind, req.target, req.changes)
    for day in amended_dates(current, req.changes):
        check_open_year(s, agency, day, req.amend_reason, f"{subject} 的第 {req.target} 个事件（{day.isoformat()}）")
    data = normalize_data(mdef.events[req.kind], amendment_data(req.kind, req.target, req.reason, req.changes))
    return current, Event(event=req.kind, on=on, by=req.by, data=data, amend_reason=req.amend_reason)


def amend_case(
    app: App,
    case_id: str,
    req: Request,
    *,
    today: date | None = None,
    session: Session | None = None,
) -> Amended:
    """Record `void` or `correct` of event `target` of a case, or refuse with nothing written."""
    ctx = apply_context(app, today)
    with session_scope(app, session) as s:
        row = get_case(s, case_id, lock=True)
        events = case_events(s, case_id)
        current, ev = _new_event(s, app.workflow.disclosure, f"案件 {case_id}", row.agency, events, req, ctx.today)
        if current.event in DECISION_EVENTS:  # SPEC §13: a decision is undone only by an approver
            require_approver(app.actor, row.agency, "作废或更正办理决定")
        ev.case_id = case_id
        # The whole history again, by today's rules: a refusal names the first event that breaks.
        history = read_history(app.workflow.disclosure, [*events, ev])
        snap = replay_case(app.workflow, case_id, history, ctx)
        row = write_projection(s, row, snap)
        s.add(ev)
        s.flush()
        dropped = _drop_stale_mail(s, app, row, history.counted)
        letters = void_letters_undone(s, case_id, req.kind, req.target)
        commit_own(s, session)
        return Amended(case_id, ev, current, snap, dropped, letters)


def amend_appeal(
    app: App,
    appeal_id: str,
    req: Request,
    *,
    today: date | None = None,
) -> Amended:
    """Record `void` or `correct` of event `target` of an appeal, or refuse with nothing written."""
    ctx = apply_context(app, today)
    with session_scope(app, None) as s:
        row = s.get(Appeal, appeal_id, with_for_update=True)
        if row is None:
            raise NotFound(f"没有编号为 {appeal_id} 的复议诉讼")
        events = appeal_events(s, appeal_id)
        current, ev = _new_event(s, app.workflow.appeal, f"复议诉讼 {appeal_id}", row.agency, events, req, ctx.today)
        ev.appeal_id = appeal_id
        snap = replay_appeal(app.workflow, appeal_id, [*events, ev], ctx)
        write_appeal(s, snap)
        s.add(ev)
        s.commit()
        return Amended(appeal_id, ev, current, snap)


def replay_amendment(
    wf: Workflow,
    mdef: MachineDef,
    subject_id: str,
    history: Sequence[Any],
    line: Counted,
    ctx: ApplyContext,
    check_year: Callable[[date], None],
) -> tuple[CaseSnapshot | AppealSnapshot, dict[str, Any]]:
    """A `void` / `correct` line of an event file (SPEC §11) after `history` (the stored events
    and the file's earlier lines of the same case or appeal): the snapshot it leaves and its
    canonical data."""
    subject = f"{'复议诉讼' if mdef is wf.appeal else '案件'} {subject_id}"
    clean = normalize_data(mdef.events[line.event], line.data)
    current = check_amendment(mdef, subject, history, line.event, clean["target"], clean.get("set"))
    for day in amended_dates(current, clean.get("set")):
        check_year(day)
    pending = Counted(len(history) + 1, line.event, line.on, clean, line.by)
    replay = replay_appeal if mdef is wf.appeal else replay_case
    return replay(wf, subject_id, [*history, pending], ctx), clean


def effective_events(app: App, events: Sequence[Event | EventRow]) -> Sequence[Event | EventRow]:
    """A case's log as it counts (SPEC §11): without the void / correct rows and what they
    voided, each corrected event with its corrected values (transient rows, never stored,
    keeping the original's `seq`). A log without amendments comes back as it is."""
    mdef = app.workflow.disclosure
    if not any(ev.event in mdef.amending for ev in events):
        return events
    counted = read_history(mdef, events).counted
    originals = [events[c.no - 1] for c in counted]
    return [
        Event(
            seq=o.seq, case_id=o.case_id, event=c.event, on=c.on, by=c.by, data=dict(c.data), recorded_at=o.recorded_at
        )
        for c, o in zip(counted, originals, strict=True)
    ]


def _drop_stale_mail(session: Session, app: App, row: CaseRow, counted: Sequence[Counted]) -> int:
    """Drop the case's queued reminders for deadlines it no longer has, and the queued notice
    of an automatic transition that no longer counts (keyed on its period's end, the day
    before it took effect)."""
    live = reminder_keys(app, row)
    for event, _ in app.workflow.disclosure.automatic_events():
        ends = {ev.on - timedelta(days=1) for ev in counted if ev.event == event}
        live[event] = {f"{row.id}:{event}:{end.isoformat()}" for end in ends}
    return drop_stale_mail(session.connection(), row.id, live)
