"""A case as its stored events leave it: the fold of `receive_case` and `apply_case_event`
over the event log, with the deadlines computed once at the end.

Pure: the events are any objects with `event`, `on`, `data` and `by` (an ORM row, a Core row,
a plain row read without SQLAlchemy), so a read-only view can replay a case without importing
the database layer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Protocol

from foi_workflow.domain.definition import Workflow
from foi_workflow.domain.workflow import ApplyContext, CaseSnapshot, apply_case_event, finish_snapshot, receive_case
from foi_workflow.errors import InvalidInput, NotFound

REPLAY_TODAY = date.max  # replaying stored events: none of them is "in the future"


class StoredEvent(Protocol):
    """What a replay reads of one line of the event log."""

    @property
    def event(self) -> str: ...

    @property
    def on(self) -> date: ...

    @property
    def data(self) -> Mapping[str, Any]: ...

    @property
    def by(self) -> str: ...


def replay_case(wf: Workflow, case_id: str, events: Iterable[StoredEvent], ctx: ApplyContext) -> CaseSnapshot:
    """The case as its events (in `seq` order) leave it. A log that does not start with
    `receive` is refused (E-INPUT); a case without events is not found (E-NOT-FOUND)."""
    snap: CaseSnapshot | None = None
    for ev in events:
        if snap is None:
            if ev.event != "receive":
                raise InvalidInput(f"案件 {case_id} 的事件日志不以 receive 开头")
            snap, _ = receive_case(wf, case_id, ev.on, ev.data, ctx, by=ev.by, deadlines=False)
        else:
            snap, _, _ = apply_case_event(wf, snap, ev.event, ev.on, ev.data, ctx, deadlines=False)
    if snap is None:
        raise NotFound(f"案件 {case_id} 没有事件记录")
    return finish_snapshot(snap, ctx)
