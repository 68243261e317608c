"""The case and appeal workflows in motion: the functions that apply an event to a case or an
appeal (the definitions are read and checked by `domain.definition`; the guards that carry the
legal rules of SPEC §3 are in `domain.guards`).

`apply_case_event` is the one place where a case changes: it validates the event's data,
enforces the date rules, fires the shared `transitions` machine (whose conditions are the
guards), advances the reply clock and returns the new snapshot. It is pure: the caller
passes the calendar, the clock settings and today's date, and stores the result.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockEvent, ClockSettings, ClockState, Deadlines
from foi_workflow.domain.definition import MachineDef, Workflow, normalize_data
from foi_workflow.domain.guards import GUARDS, GuardInput
from foi_workflow.domain.letter_law import Consultation, record_consultation
from foi_workflow.domain.periods import CORRECTION_NOTICE_DAYS
from foi_workflow.domain.remedies import RemedyWindows, remedy_windows
from foi_workflow.domain.service import EMPTY as EMPTY_SERVICE
from foi_workflow.domain.service import SERVICE_EVENTS, Reply, ServiceLog
from foi_workflow.domain.vocabulary import State
from foi_workflow.domain.workflow_file import DataReader, load_definition, read_yaml
from foi_workflow.errors import (
    DateOrderError,
    InvalidInput,
    TransitionNotAllowed,
)


def load_workflows(folder: Path | None = None, read: DataReader = read_yaml) -> Workflow:
    """Load and check `disclosure.yaml` and `appeal.yaml` (each file's data from `read`)."""
    from foi_workflow.resources import WORKFLOWS_DIR

    folder = folder or WORKFLOWS_DIR
    files = (folder / "disclosure.yaml", folder / "appeal.yaml")
    try:
        key = (str(folder.resolve()), tuple(f.stat().st_mtime_ns for f in files))
    except OSError:
        key = None
    cached = _LOADED.get(key) if key else None
    if cached is not None:
        return cached
    loaded = Workflow(disclosure=load_definition(files[0], GUARDS, read), appeal=load_definition(files[1], {}, read))
    if key:
        _LOADED[key] = loaded
    return loaded


# Definitions already loaded and checked in this process, by folder and file times: the
# machines are shared and never mutated, so one load serves every App of the process.
_LOADED: dict[tuple[str, tuple[int, ...]], Workflow] = {}


# --------------------------------------------------------------------------- case snapshots


@dataclass(frozen=True)
class ExtensionRequest:
    """A caseworker's request for an extension, waiting for an approver (SPEC §13)."""

    on: date
    days: int
    reason: str


@dataclass
class CaseSnapshot:
    """A case as its events leave it: what `foi_case` caches."""

    id: str
    agency: str
    state: str
    applicant: str
    applicant_type: str
    channel: str
    request: str
    received_on: date
    last_event_on: date
    contact: str = ""
    phone: str = ""
    id_number: str = ""
    caseworker: str = ""
    outcome: str | None = None
    decided_on: date | None = None
    corrections_requested: int = 0
    carried_over_to: int | None = None
    voided: bool = False  # the registration itself was voided (SPEC §11): the case no longer counts
    extension_request: ExtensionRequest | None = None  # filed, neither approved nor rejected yet
    clock: ClockState | None = None
    # Every consultation of the case and what it gave (the decision letter states it; a third
    # party's consent leaves no ground to withhold on its account, Art. 15).
    consultations: tuple[Consultation, ...] = ()
    # The deadlines in force, from `clock`; None while a replay defers them (`deadlines=False`)
    # until `finish_snapshot`. The properties below read the clock, so they hold either way.
    deadlines: Deadlines | None = None
    # Service of the case's letters (SPEC §15) and the consent to electronic service.
    service: ServiceLog = EMPTY_SERVICE
    # The remedy windows the delivered decision letter opened (SPEC §15), computed with the
    # deadlines (they need the calendar).
    remedies: RemedyWindows | None = None

    @property
    def reply_due(self) -> date | None:
        return self.clock.reply_due if self.clock else None

    @property
    def extended_days(self) -> int:
        return self.clock.extended_days if self.clock else 0

    @property
    def reply(self) -> Reply | None:
        """The reply date that counts for the deadline (SPEC §15), once decided."""
        if self.decided_on is None or self.state != _DECIDED:
            return None
        return self.service.reply(self.decided_on)

    @property
    def on_time(self) -> bool | None:
        clock = self.clock
        if clock is None or clock.phase != _DECIDED:
            return None
        if clock.decided_running and clock.frozen_due is not None and self.decided_on is not None:
            # Decided while the clock ran: the letter's service is what answered the applicant.
            return self.service.reply(self.decided_on).replied_on <= clock.frozen_due
        return clock.on_time

    def with_remedies(self, cal: WorkCalendar) -> None:
        """Compute `remedies` (in place) from the decision letter's delivery, if any."""
        if not self.service.letters:  # nothing served, nothing delivered (most imported cases)
            self.remedies = None
            return
        reply = self.reply
        delivered = reply.delivered_on if reply else None
        self.remedies = remedy_windows(delivered, cal) if delivered else None


@dataclass(frozen=True)
class ApplyContext:
    """What applying an event needs from outside the case."""

    calendar: WorkCalendar
    settings: ClockSettings
    today: date
    default_agency: str = "default"
    explain: bool = False  # build the deadline explanation (for `foi show`; costly in bulk)


def check_dates(subject: str, last: date | None, on: date, today: date) -> None:
    """An event may not take effect before the previous one of its case, nor in the future."""
    if on > today:
        raise DateOrderError(f"{subject}：生效日期 {on.isoformat()} 晚于今天 {today.isoformat()}，不能记录将来的事件")
    if last is not None and on < last:
        raise DateOrderError(f"{subject}：生效日期 {on.isoformat()} 早于该案上一事件的日期 {last.isoformat()}")


def fire(mdef: MachineDef, subject: str, obj: Any, event: str, *args: Any) -> None:
    """Fire `event` on `obj` (a snapshot whose `state` the machine moves) through the shared
    machine, its guards as conditions (given `args`)."""
    from transitions import MachineError

    try:
        moved = mdef.machine.events[event].trigger(obj, *args)
    except MachineError:
        raise _not_allowed(mdef, subject, obj.state, event) from None
    if not moved:
        raise TransitionNotAllowed(f"{subject}：{event} 的条件不满足")


def replay_fire(mdef: MachineDef, subject: str, state: str, event: str, *args: Any) -> str:
    """What `fire` does, for a bulk replay of stored events: the transition and conditions read
    off the machine's table (`MachineDef.routes`) without a trigger per event. Returns the new
    state."""
    candidates = mdef.routes.get((state, event))
    if candidates is None:
        raise _not_allowed(mdef, subject, state, event)
    for dest, conditions in candidates:
        # A plain loop, not all() over a generator: one of these runs for every imported event.
        for condition in conditions:
            if not condition(*args):
                break
        else:
            return dest or state
    raise TransitionNotAllowed(f"{subject}：{event} 的条件不满足")


def _not_allowed(mdef: MachineDef, subject: str, state: str, event: str) -> TransitionNotAllowed:
    allowed = "、".join(mdef.commands_allowed(state)) or "（无，已办结）"
    return TransitionNotAllowed(
        f"{subject} 当前状态为“{mdef.state_label(state)}”（{state}），不能执行 {event}；可执行：{allowed}"
    )


def _advance_clock(
    snap: CaseSnapshot, event: str, on: date, data: Mapping[str, Any], ctx: ApplyContext, deadlines: bool
) -> None:
    clock = snap.clock if snap.clock is not None else _NO_CLOCK
    snap.clock = clock.apply(ClockEvent(event, on, data), ctx.calendar, ctx.settings)
    if deadlines:
        snap.deadlines = snap.clock.deadlines(ctx.calendar, ctx.settings, explain=ctx.explain)
        snap.with_remedies(ctx.calendar)
    else:
        snap.deadlines = None


_NO_CLOCK = ClockState()  # before the first event (immutable: one serves every case)


def finish_snapshot(snap: CaseSnapshot, ctx: ApplyContext) -> CaseSnapshot:
    """Compute the deadlines of a snapshot built with `deadlines=False` (in place; returned).

    A replay or an import applies many events and only needs the deadlines at the end: the
    guards read the clock directly."""
    if snap.clock is not None and snap.deadlines is None:
        snap.deadlines = snap.clock.deadlines(ctx.calendar, ctx.settings, explain=ctx.explain)
        snap.with_remedies(ctx.calendar)
    return snap


def _shallow_copy(snap: CaseSnapshot) -> CaseSnapshot:
    """copy.copy without its reduce protocol: a snapshot is copied once per imported event."""
    new = object.__new__(CaseSnapshot)
    new.__dict__.update(snap.__dict__)
    return new


_CONSULTATION_EVENTS = frozenset({"consult", "consultation_reply"})
# An extension (an approval, or an approver's own) and a rejection end a pending request.
_ENDS_REQUEST = frozenset({"extend", "reject_extension"})
_DECIDED = State.DECIDED.value  # read once: an enum member's `.value` is a descriptor call


def _opening_data(
    mdef: MachineDef, subject: str, on: date, data: Mapping[str, Any], ctx: ApplyContext
) -> dict[str, Any]:
    """The checked data of the event that opens a case or an appeal (`creates: true`)."""
    clean = normalize_data(mdef.opening, data)
    check_dates(subject, None, on, ctx.today)
    return clean


def receive_case(
    wf: Workflow,
    case_id: str,
    on: date,
    data: Mapping[str, Any],
    ctx: ApplyContext,
    *,
    by: str = "",
    deadlines: bool = True,
) -> tuple[CaseSnapshot, dict[str, Any]]:
    """A new case from its `receive` event; returns the snapshot and the canonical event data.
    With `deadlines=False` the snapshot's `deadlines` stay None until `finish_snapshot`."""
    clean = _opening_data(wf.disclosure, f"案件 {case_id}", on, data, ctx)
    snap = CaseSnapshot(
        id=case_id,
        agency=clean.get("agency", ctx.default_agency),
        state=wf.disclosure.initial,
        applicant=clean["applicant"],
        applicant_type=clean["applicant_type"],
        channel=clean["channel"],
        request=clean["request"],
        received_on=on,
        last_event_on=on,
        contact=clean.get("contact", ""),
        phone=clean.get("phone", ""),
        id_number=clean.get("id_number", ""),
        caseworker=clean.get("caseworker", by),
    )
    if "e_service" in clean:
        snap.service = ServiceLog(e_service=clean["e_service"])
    _advance_clock(snap, "receive", on, clean, ctx, deadlines)
    return snap, clean


def apply_case_event(
    wf: Workflow,
    snap: CaseSnapshot,
    event: str,
    on: date,
    data: Mapping[str, Any],
    ctx: ApplyContext,
    *,
    deadlines: bool = True,
) -> tuple[CaseSnapshot, dict[str, Any], list[str]]:
    """Apply one event to a case. Returns the new snapshot (the old one is untouched), the
    canonical event data, and warnings (allowed but worth saying, e.g. a late correction notice).

    A command fires the event through the shared machine. With `deadlines=False` (a bulk
    replay: import, show, rebuild) it fires through the machine's table instead, and the new
    snapshot's `deadlines` are left None for `finish_snapshot` to compute once at the end (the
    guards read the clock)."""
    mdef = wf.disclosure
    spec = mdef.events.get(event)
    if spec is None or spec.creates:
        known = "、".join(n for n, s in mdef.events.items() if not s.creates)
        raise InvalidInput(f"未知事件：{event}；可用事件：{known}")
    subject = f"案件 {snap.id}"
    if spec.amends or snap.voided:
        _refuse_amending(mdef, subject, event, snap.voided)
    clean = normalize_data(spec, data)
    # A marker (carry_over: recorded when the year is closed, often weeks later) neither has to
    # follow the case's last event nor holds back the events after it.
    marker = spec.marker
    check_dates(subject, None if marker else snap.last_event_on, on, ctx.today)
    new = _shallow_copy(snap)
    guard_input = GuardInput(snap, on, clean, ctx)
    if deadlines:
        fire(mdef, subject, new, event, guard_input)
    else:
        new.state = replay_fire(mdef, subject, snap.state, event, guard_input)
    warnings: list[str] = []
    if not marker:
        new.last_event_on = on
    if event == "request_correction":
        new.corrections_requested += 1
        late = snap.clock.correction_notice_late(on) if snap.clock else None
        if late is not None:
            warnings.append(
                f"注意：补正告知应在收到申请后 {CORRECTION_NOTICE_DAYS} 个工作日内"
                f"（{late.isoformat()} 前）作出，本次已逾期"
            )
    elif event == "assign":
        new.caseworker = clean["caseworker"]
    elif event == "request_extension":
        new.extension_request = ExtensionRequest(on, int(clean["days"]), str(clean.get("reason") or ""))
    elif event in _ENDS_REQUEST:
        new.extension_request = None
    elif event == "carry_over":
        new.carried_over_to = int(clean["year"])
    elif event in SERVICE_EVENTS:
        new.service = snap.service.apply(event, on, clean)
    elif event == "consultation_reply" and "party" not in clean and snap.clock and len(snap.clock.consultations) > 1:
        # A reply of silence that names no party (the sweep's) while several are open answers
        # the consultation whose period ended first: the log says whose.
        answered = snap.clock.consultation_answered(None)
        if answered:
            clean["party"] = answered
    if event in _CONSULTATION_EVENTS:
        new.consultations = record_consultation(snap.consultations, event, on, clean)
    if new.state == _DECIDED and snap.state != _DECIDED:
        new.outcome = spec.outcome.value if spec.outcome else clean["outcome"]  # canonical (normalize_data)
        new.decided_on = on
    _advance_clock(new, event, on, clean, ctx, deadlines)
    return new, clean, warnings


def _refuse_amending(mdef: MachineDef, subject: str, event: str, voided: bool) -> None:
    """A voided case or appeal takes no more events; void / correct go through the replay
    (`domain.replay`), never through an ordinary transition."""
    if voided:
        raise TransitionNotAllowed(f"{subject} 的登记已作废，不能再记录事件")
    raise InvalidInput(f"{subject}：{event} 须用 foi void / foi correct 记录（指明事件序号和理由）")


# --------------------------------------------------------------------------- appeals


@dataclass
class AppealSnapshot:
    id: str
    agency: str
    kind: str
    case_id: str | None
    state: str
    filed_on: date
    last_event_on: date
    concluded_on: date | None = None
    result: str | None = None
    voided: bool = False


def file_appeal(
    wf: Workflow, appeal_id: str, on: date, data: Mapping[str, Any], ctx: ApplyContext
) -> tuple[AppealSnapshot, dict[str, Any]]:
    clean = _opening_data(wf.appeal, f"复议诉讼 {appeal_id}", on, data, ctx)
    snap = AppealSnapshot(
        id=appeal_id,
        agency=clean.get("agency", ctx.default_agency),
        kind=clean["kind"],
        case_id=clean.get("case"),
        state=wf.appeal.initial,
        filed_on=on,
        last_event_on=on,
    )
    return snap, clean


def apply_appeal_event(
    wf: Workflow, snap: AppealSnapshot, event: str, on: date, data: Mapping[str, Any], ctx: ApplyContext
) -> tuple[AppealSnapshot, dict[str, Any]]:
    spec = wf.appeal.events.get(event)
    if spec is None or spec.creates:
        raise InvalidInput(f"未知的复议诉讼事件：{event}")
    subject = f"复议诉讼 {snap.id}"
    if spec.amends or snap.voided:
        _refuse_amending(wf.appeal, subject, event, snap.voided)
    clean = normalize_data(spec, data)
    check_dates(subject, snap.last_event_on, on, ctx.today)
    new = copy.copy(snap)
    fire(wf.appeal, subject, new, event)
    new.last_event_on = on
    if event == "conclude":
        new.concluded_on = on
        new.result = clean["result"]
    return new, clean
