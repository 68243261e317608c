"""What each event of SPEC §3 does to the reply clock and the other periods: one function
per event, `(state, event, calendar, settings) -> new state`, in the table `HANDLERS` that
`ClockState.apply` dispatches on. Each records a log entry that `domain.clock_text` writes out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from foi_workflow.domain import clock_text as text
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.periods import CONSULTATION_DAYS, CORRECTION_NOTICE_DAYS, FEE_DAYS, REPLY_BUDGET
from foi_workflow.domain.vocabulary import State

if TYPE_CHECKING:
    from foi_workflow.domain.clock import ClockEvent, ClockSettings, ClockState, Entry

# Phases: the workflow states of SPEC §3 (read once: an enum member's `.value` is a descriptor
# call, and the fold compares phases on every event), plus "new" before the receipt.
NEW = "new"
RECEIVED = State.RECEIVED.value
CORRECTION_REQUESTED = State.CORRECTION_REQUESTED.value
CONSULTATION = State.CONSULTATION.value
FEE_NOTICE = State.FEE_NOTICE.value
DECIDED = State.DECIDED.value


def _receive(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    r = ev.on
    due = cal.add_working_days(r, REPLY_BUDGET)
    notice = cal.add_working_days(r, CORRECTION_NOTICE_DAYS)
    return _fresh_clock(s, (text.line_receive, (r, due, notice)), r, due, received_on=r, correction_notice_due=notice)


def _request_correction(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    p = ev.on
    period = _int(ev.data.get("period"), settings.correction_period_days)
    correction_due = cal.add_working_days(p, period)
    late = s.correction_notice_late(p)
    return _period_begins(
        s.pause(p, cal), p, CORRECTION_REQUESTED,
        lambda stopped: (text.line_request_correction, (p, late, stopped.used, period, correction_due)),
        correction_ever=True, correction_due=correction_due,
    )  # fmt: skip


def _receive_correction(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    c = ev.on
    due = cal.add_working_days(c, REPLY_BUDGET)
    entry = (text.line_receive_correction, (c, due, s.extended_days))
    return _fresh_clock(s, entry, c, due, manual_due=False, correction_due=None)


def _consult(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    p = ev.on
    end = cal.add_working_days(p, CONSULTATION_DAYS)
    party = str(ev.data.get("party") or "").strip()
    consultations = (*s.consultations, (party, p, end))
    if s.phase == CONSULTATION:
        # Another party consulted while the clock is already paused (Art. 32: several third
        # parties; Art. 34: several co-producers): only the periods running change.
        return s.note((text.line_consult_more, (p, party, end)), consultations=consultations, **_periods(consultations))
    entry = lambda paused: (text.line_consult, (p, party, left_args(paused), end))  # noqa: E731
    return _period_begins(s.pause(p, cal), p, CONSULTATION, entry, consultations=consultations,
                          consultation_due=end)  # fmt: skip


def _consultation_reply(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    if s.phase != CONSULTATION:
        return s
    opinion = str(ev.data.get("opinion") or "")
    answered = s.consultation_answered(str(ev.data.get("party") or "").strip() or None)
    left = tuple(c for c in s.consultations if c[0] != answered)
    why = "consultation_none" if opinion == "none" else "consultation_reply"
    if left:
        # The clock stays paused until the last open consultation is answered or lapsed.
        return s.note((text.line_consultation_still_open, (ev.on, why, answered or "", left)), consultations=left,
                      **_periods(left))  # fmt: skip
    return s.resume(ev.on, cal, why)


def _periods(consultations: tuple[tuple[str, date, date], ...]) -> dict[str, Any]:
    """The consultation period shown (and swept): the open one that ends first."""
    first = min(consultations, key=lambda c: c[2])
    return {"consultation_due": first[2], "period_start": first[1]}


def _fee_notice(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    p = ev.on
    fee_due = cal.add_working_days(p, FEE_DAYS)
    if settings.pause_clock_during_fee and s.running:
        entry = lambda paused: (text.line_fee_notice_paused, (p, left_args(paused), fee_due))  # noqa: E731
        return _period_begins(s.pause(p, cal, fee_pauses=True), p, FEE_NOTICE, entry, fee_due=fee_due)
    return s.note((text.line_fee_notice_running, (p, fee_due)), phase=FEE_NOTICE, fee_pauses=False, fee_due=fee_due,
                  period_start=p)  # fmt: skip


def _fee_paid(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    if s.phase != FEE_NOTICE:
        return s
    if s.fee_pauses:
        return s.resume(ev.on, cal, "fee_paid")
    return s.note((text.line_resumed_plain, (ev.on, "fee_paid")), phase=RECEIVED, fee_due=None, period_start=None)


def _extend(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    n = _int(ev.data.get("days"), 0)
    if n <= 0 or s.due is None:
        return s
    total = s.extended_days + n
    approved = str(ev.data.get("approved_by") or "").strip()
    changes: dict[str, Any] = {"budget": s.budget + n, "extended_days": total}
    due: date | None = None
    if s.running:
        due = cal.add_working_days(s.due, n)
        changes["due"] = due
    else:
        # Not while paused in a legal history; keep the arithmetic consistent anyway.
        changes["remaining"] = s.remaining + n
    return s.note((text.line_extend, (ev.on, n, approved, due, total)), **changes)


def _set_reasonable_period(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    due = _date(ev.data.get("due"))
    if due is None or s.phase in (NEW, DECIDED):
        return s
    reason = str(ev.data.get("reason") or "").strip()
    line: Entry = (text.line_reasonable_period, (ev.on, due, reason))
    if s.running:
        return s.note(line, due=due, manual_due=True)
    if s.paused_on is not None:
        overdue = s.paused_on > due
        remaining = 0 if overdue else cal.working_days_between(s.paused_on, due)
        return s.note(line, due=due, manual_due=True, remaining=remaining, paused_overdue=overdue, frozen_due=due)
    return s.note(line, due=due, manual_due=True)


def _final(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    d = ev.on
    if s.due is None:
        return s.note((text.line_final_plain, (d, ev.event)), phase=DECIDED, decided_on=d)
    entry: Entry
    if s.running:
        on_time = d <= s.due
        frozen = s.due
        entry = (text.line_final_running, (d, ev.event, frozen))
    else:
        # Paused or stopped: on time unless the pause or stop itself came after the due date.
        on_time = not s.paused_overdue
        frozen = s.frozen_due if s.frozen_due is not None else s.due
        entry = (text.line_final_paused, (d, ev.event, s.paused_on, s.paused_overdue, frozen))
    return s.note(entry, phase=DECIDED, decided_on=d, on_time=on_time, frozen_due=frozen,
                  decided_running=s.running, **_NO_PERIOD)  # fmt: skip


# A decided case has no period of the applicant or a consulted party running.
_NO_PERIOD: dict[str, Any] = {"correction_due": None, "consultation_due": None, "fee_due": None, "period_start": None}


# The clock's side of each event (ClockState.apply); an event not here (assign, carry_over)
# leaves the clock as it is.
HANDLERS: dict[str, Callable[[ClockState, ClockEvent, WorkCalendar, ClockSettings], ClockState]] = {
    "receive": _receive,
    "request_correction": _request_correction,
    "receive_correction": _receive_correction,
    "consult": _consult,
    "consultation_reply": _consultation_reply,
    "fee_notice": _fee_notice,
    "fee_paid": _fee_paid,
    "extend": _extend,
    "set_reasonable_period": _set_reasonable_period,
    "decide": _final,
    "withdraw": _final,
    "lapse_correction": _final,
    "lapse_fee": _final,
}


def _fresh_clock(s: ClockState, entry: Entry, on: date, due: date, **changes: Any) -> ClockState:
    """A new reply clock of the full budget from `on` (the receipt, or the receipt of the
    correction: Art. 30 restarts the count)."""
    return s.runs_again(entry, on, due, clock_start=on, budget=REPLY_BUDGET, used=0, runs=(), **changes)


def _period_begins(
    paused: ClockState, on: date, phase: str, entry: Callable[[ClockState], Entry], **changes: Any
) -> ClockState:
    """A period of the applicant or a consulted party begins on `on`, with the reply clock just
    paused or stopped (`paused`): the log says what was used and what is left at that moment."""
    return paused.note(entry(paused), phase=phase, period_start=on, **changes)


def left_args(s: ClockState) -> tuple[Any, ...]:
    """What `clock_text.left_text` needs, captured at the pause."""
    if s.paused_overdue and s.frozen_due is not None:
        return (s.frozen_due,)
    return (s.used, s.remaining)


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
