"""A case or an appeal as its stored events leave it: the fold of `receive_case` and
`apply_case_event` (or `file_appeal` and `apply_appeal_event`) over the event log, with the
deadlines computed once at the end.

A log with void or correct events (SPEC §11) is folded over its effective history
(`domain.corrections`): a voided event does not count, a corrected one counts with its
corrected values, and the first event that no longer passes the rules is named.

Pure: the events are any objects with `event`, `on`, `data` and `by` (an ORM row, a Core row,
a plain row read without SQLAlchemy), so a read-only view can replay a case without importing
the database layer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from foi_workflow.domain.corrections import Counted, History, LogEvent, amending_events, read_history
from foi_workflow.domain.definition import Workflow
from foi_workflow.domain.workflow import (
    AppealSnapshot,
    ApplyContext,
    CaseSnapshot,
    apply_appeal_event,
    apply_case_event,
    file_appeal,
    finish_snapshot,
    receive_case,
)
from foi_workflow.errors import CorrectionRefused, FoiError, InvalidInput, NotFound

REPLAY_TODAY = date.max  # replaying stored events: none of them is "in the future"


# What a replay reads of one line of the event log: `event`, `on`, `data`, `by`.
StoredEvent = LogEvent


def replay_case(wf: Workflow, case_id: str, events: Iterable[StoredEvent] | History, ctx: ApplyContext) -> CaseSnapshot:
    """The case as its events (in `seq` order) leave it. A log that does not start with
    `receive` is refused (E-INPUT); a case without events is not found (E-NOT-FOUND); an
    amended log whose effective history breaks a rule is refused (E-CORRECTION).

    `events` may be the log's `History` already read (`read_history`), for a caller that needs
    it too: the log is then read once."""
    if isinstance(events, History):
        history = events
        if history.amendments:
            return _replay_amended_case(wf, case_id, history, ctx)
        rows: list[StoredEvent] = list(history.counted)
    else:
        rows = events if isinstance(events, list) else list(events)
        amending = amending_events(wf.disclosure)
        if any(ev.event in amending for ev in rows):
            return _replay_amended_case(wf, case_id, read_history(wf.disclosure, rows), ctx)
    snap: CaseSnapshot | None = None
    for ev in rows:
        if snap is None:
            if ev.event != "receive":
                raise InvalidInput(f"案件 {case_id} 的事件日志不以 receive 开头")
            snap, _ = receive_case(wf, case_id, ev.on, ev.data, ctx, by=ev.by, deadlines=False)
        else:
            snap, _, _ = apply_case_event(wf, snap, ev.event, ev.on, ev.data, ctx, deadlines=False)
    if snap is None:
        raise NotFound(f"案件 {case_id} 没有事件记录")
    return finish_snapshot(snap, ctx)


def _broken(subject: str, ev: Counted, exc: FoiError) -> CorrectionRefused:
    return CorrectionRefused(
        f"{subject} 的第 {ev.no} 个事件（{ev.event}，{ev.on.isoformat()}）将不再成立：{exc.message}"
        f"（{exc.code}）；请从后往前作废，或先更正该事件"
    )


def _replay_amended_case(wf: Workflow, case_id: str, history: History, ctx: ApplyContext) -> CaseSnapshot:
    subject = f"案件 {case_id}"
    first = history.events.get(1)
    if first is None or first.event != "receive":
        raise InvalidInput(f"案件 {case_id} 的事件日志不以 receive 开头")
    try:
        snap, _ = receive_case(wf, case_id, first.on, first.data, ctx, by=first.by, deadlines=False)
    except FoiError as exc:
        raise _broken(subject, first, exc) from None
    if history.creation_voided:
        # A registration made in error: the case keeps its particulars for `foi show`, and
        # nothing else of it counts (no state reached, no deadline, no report row).
        snap.voided = True
        snap.clock = None
        snap.deadlines = None
        return snap
    for ev in history.counted[1:]:
        try:
            snap, _, _ = apply_case_event(wf, snap, ev.event, ev.on, ev.data, ctx, deadlines=False)
        except FoiError as exc:
            raise _broken(subject, ev, exc) from None
    return finish_snapshot(snap, ctx)


def replay_appeal(wf: Workflow, appeal_id: str, events: Iterable[StoredEvent], ctx: ApplyContext) -> AppealSnapshot:
    """The appeal as its events leave it, read through its void and correct events."""
    rows = events if isinstance(events, list) else list(events)
    if not rows:
        raise NotFound(f"复议诉讼 {appeal_id} 没有事件记录")
    history = read_history(wf.appeal, rows)
    subject = f"复议诉讼 {appeal_id}"
    first = history.events.get(1)
    if first is None or first.event != "file":
        raise InvalidInput(f"复议诉讼 {appeal_id} 的事件日志不以 file 开头")
    try:
        snap, _ = file_appeal(wf, appeal_id, first.on, first.data, ctx)
    except FoiError as exc:
        raise _broken(subject, first, exc) from None
    if history.creation_voided:
        snap.voided = True
        return snap
    for ev in history.counted[1:]:
        try:
            snap, _ = apply_appeal_event(wf, snap, ev.event, ev.on, ev.data, ctx)
        except FoiError as exc:
            raise _broken(subject, ev, exc) from None
    return snap
