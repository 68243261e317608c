"""The reply clock (Art. 33) and the other periods of SPEC §4, as a pure fold over a case's events.

`ClockState.initial()` then `.apply(event, calendar, settings)` for each event in the order
they took effect; `.deadlines(calendar, settings)` gives the dates in force and how each was
derived. `compute_deadlines(events, calendar)` does the whole fold. Each `apply` is O(1)
calendar work, so replaying a history is O(events).

The clock keeps the reply due date in force (`due`) and counts on it: a pause on P with the
due date still ahead leaves `working_days_between(P, due)` days, which equals budget − used
of SPEC §4; the resume on Q then gives Q + those days. This model also carries a hand-set
reasonable period (Art. 35) through a pause unchanged.

The fold does not check that an event is allowed (the workflow does); an event that makes
no sense in the current phase leaves the clock as it is, and never crashes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from foi_workflow.domain.calendar import WEEKEND, WorkCalendar, provisional_note

REPLY_BUDGET = 20  # Art. 33: 20 working days
EXTENSION_CAP = 20  # Art. 33: extensions total at most 20 working days
CORRECTION_NOTICE_DAYS = 7  # Art. 30: the correction must be asked for within 7 working days
CONSULTATION_DAYS = 15  # Art. 32, 34
FEE_DAYS = 20  # fee rules: 20 working days to pay

# Phases: the workflow states of SPEC §3 plus "new" before the receipt.
NEW = "new"
RECEIVED = "received"
CORRECTION_REQUESTED = "correction_requested"
CONSULTATION = "consultation"
FEE_NOTICE = "fee_notice"
DECIDED = "decided"

FINAL_EVENTS = frozenset({"decide", "withdraw", "lapse_correction", "lapse_fee"})
_FINAL_WORDS = {
    "decide": "作出答复",
    "withdraw": "申请人撤回申请，办结",
    "lapse_correction": "逾期未补正，视为放弃申请，办结",
    "lapse_fee": "逾期未缴费，不再处理，办结",
}


# A log entry: a formatter and its arguments (see the `_line_*` functions below).
_Entry = tuple[Callable[..., str], tuple[Any, ...]]


@dataclass(frozen=True)
class ClockSettings:
    correction_period_days: int = 15
    pause_clock_during_fee: bool = True


@dataclass(frozen=True)
class ClockEvent:
    """One event of a case as the clock sees it: its SPEC §3 name, the date it took effect, its data."""

    event: str
    on: date
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Deadlines:
    reply_due: date | None  # only while the clock runs
    provisional: bool  # a date shown rests on a provisional calendar day
    correction_notice_due: date | None  # receipt + 7 wd, in state received, no correction asked yet
    correction_due: date | None  # in correction_requested
    consultation_due: date | None  # in consultation
    fee_due: date | None  # in fee_notice
    extended_days: int  # total of all extensions of the case
    frozen_due: date | None  # the reply due in force when the clock was last paused, stopped or ended
    on_time: bool | None  # once decided
    explanation: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClockState:
    """The clock after some prefix of a case's events. Immutable; `apply` returns a new one."""

    phase: str = NEW
    received_on: date | None = None
    clock_start: date | None = None  # receipt, or receipt of the correction (the restart)
    run_start: date | None = None  # start of the current run: clock_start or the last resume
    due: date | None = None  # the reply due date in force (kept while paused or stopped)
    budget: int = REPLY_BUDGET  # 20 + extensions since clock_start
    used: int = 0  # working days the clock ran in completed runs since clock_start
    runs: tuple[tuple[date, date], ...] = ()  # completed runs (start, end] since clock_start
    paused_on: date | None = None  # the pause or stop date while paused or stopped
    remaining: int = 0  # working days left at the pause (0 when overdue)
    paused_overdue: bool = False  # the pause or stop came after the due date
    fee_pauses: bool = False  # the open fee notice paused the clock
    manual_due: bool = False  # due set by hand (Art. 35)
    extended_days: int = 0
    correction_ever: bool = False
    correction_notice_due: date | None = None
    correction_due: date | None = None
    consultation_due: date | None = None
    fee_due: date | None = None
    period_start: date | None = None  # start of the non-reply period running (correction/consult/fee)
    frozen_due: date | None = None
    decided_on: date | None = None
    on_time: bool | None = None
    # What happened, as (formatter, arguments) pairs: the Chinese lines are only written out
    # when an explanation is asked for (`foi show`), not on every event of a bulk import.
    log: tuple[_Entry, ...] = ()

    @classmethod
    def initial(
        cls,
        received_on: date | None = None,
        cal: WorkCalendar | None = None,
        settings: ClockSettings | None = None,
    ) -> ClockState:
        """Before any event; with `received_on` (and a calendar) as after the `receive` event."""
        state = cls()
        if received_on is None:
            return state
        if cal is None:
            raise ValueError("initial(received_on) needs the calendar")
        return state.apply(ClockEvent("receive", received_on), cal, settings or ClockSettings())

    # ------------------------------------------------------------------ what guards need

    @property
    def running(self) -> bool:
        return self.phase == RECEIVED or (self.phase == FEE_NOTICE and not self.fee_pauses)

    @property
    def reply_due(self) -> date | None:
        """The reply due date while the clock runs, else None."""
        return self.due if self.running else None

    @property
    def correction_due_now(self) -> date | None:
        """The correction period's end while a correction is awaited, else None (as `Deadlines`)."""
        return self.correction_due if self.phase == CORRECTION_REQUESTED else None

    @property
    def fee_due_now(self) -> date | None:
        """The fee period's end while a fee notice is open, else None (as `Deadlines`)."""
        return self.fee_due if self.phase == FEE_NOTICE else None

    @property
    def extension_left(self) -> int:
        """Working days still available for extensions over the case's life (cap 20)."""
        return max(0, EXTENSION_CAP - self.extended_days)

    def used_by(self, cal: WorkCalendar, on: date) -> int:
        """Working days the current clock has used by `on` (completed runs plus the current one)."""
        if self.run_start is None:
            return 0
        if not self.running:
            return self.used
        return self.used + cal.working_days_between(self.run_start, on)

    # ------------------------------------------------------------------ the fold

    def apply(self, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
        handler = _HANDLERS.get(str(ev.event))
        if handler is None or (self.phase == DECIDED and ev.event != "carry_over"):
            return self  # assign, carry_over, or anything the clock does not know
        return handler(self, ev, cal, settings)

    def _evolve(self, **changes: Any) -> ClockState:
        # dataclasses.replace re-runs __init__ over ~30 fields and dominated replay time.
        values = self.__dict__.copy()
        values.update(changes)
        new = object.__new__(ClockState)
        object.__setattr__(new, "__dict__", values)
        return new

    def _note(self, entry: _Entry, **changes: Any) -> ClockState:
        values = self.__dict__.copy()
        values.update(changes)
        values["log"] = (*self.log, entry)
        new = object.__new__(ClockState)
        object.__setattr__(new, "__dict__", values)
        return new

    def _pause(self, on: date, cal: WorkCalendar, **changes: Any) -> ClockState:
        """Stop counting on `on`: record the run and what is left of the budget."""
        if not self.running or self.run_start is None or self.due is None:
            return self._evolve(**changes)
        ran = cal.working_days_between(self.run_start, on)
        overdue = on > self.due
        remaining = 0 if overdue else cal.working_days_between(on, self.due)
        runs = (*self.runs, (self.run_start, on)) if on > self.run_start else self.runs
        return self._evolve(
            used=self.used + ran,
            runs=runs,
            paused_on=on,
            remaining=remaining,
            paused_overdue=overdue,
            frozen_due=self.due,
            **changes,
        )

    def _resume(self, on: date, cal: WorkCalendar, what: str) -> ClockState:
        """Continue counting from `on` with what was left at the pause."""
        if self.paused_on is None or self.due is None:
            return self._note((_line_plain, (on, what)), phase=RECEIVED, fee_pauses=False)
        line: _Entry
        if self.paused_overdue:
            due = self.due
            line = (_line_resume_overdue, (on, what, due))
        elif self.remaining > 0:
            due = cal.add_working_days(on, self.remaining)
            line = (_line_resume, (on, what, self.paused_on, self.remaining, due))
        else:
            due = _on_or_next_working_day(cal, on)
            line = (_line_resume_none_left, (on, what, due))
        return self._note(
            line,
            phase=RECEIVED,
            run_start=on,
            due=due,
            paused_on=None,
            remaining=0,
            paused_overdue=False,
            fee_pauses=False,
            consultation_due=None,
            fee_due=None,
            period_start=None,
        )

    # ------------------------------------------------------------------ the answer

    def deadlines(self, cal: WorkCalendar, settings: ClockSettings, *, explain: bool = True) -> Deadlines:
        reply_due = self.reply_due
        phase = self.phase
        correction_notice_due = (
            self.correction_notice_due if phase == RECEIVED and not self.correction_ever else None
        )
        correction_due = self.correction_due if phase == CORRECTION_REQUESTED else None
        consultation_due = self.consultation_due if phase == CONSULTATION else None
        fee_due = self.fee_due if phase == FEE_NOTICE else None

        # The calendar stretches each date shown rests on, by the name of its period.
        periods: list[tuple[str, list[tuple[date, date]]]] = []
        if reply_due is not None and self.run_start is not None:
            periods.append(("答复期限", [*self.runs, (self.run_start, reply_due)]))
        others = (("补正期限", correction_due), ("征求意见期限", consultation_due), ("缴费期限", fee_due))
        for label, period_due in others:
            if period_due is not None and self.period_start is not None:
                periods.append((label, [(self.period_start, period_due)]))
        spans = [span for _, group in periods for span in group]
        if correction_notice_due is not None and self.received_on is not None:
            spans.append((self.received_on, correction_notice_due))  # within the first run: not explained apart
        provisional = False
        if spans:
            # One check covers the usual case (every year involved is official).
            lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
            provisional = cal.crosses_provisional(lo, hi) and any(
                cal.crosses_provisional(a, b) for a, b in spans
            )

        lines: tuple[str, ...] = ()
        if explain:
            lines = (*(fmt(*args) for fmt, args in self.log), *self._status_lines(cal))
            for label, group in periods:
                lines += tuple(_calendar_lines(cal, label, group))
            lines += tuple(_provisional_lines(cal, spans) if provisional else ())
        return Deadlines(
            reply_due=reply_due,
            provisional=provisional,
            correction_notice_due=correction_notice_due,
            correction_due=correction_due,
            consultation_due=consultation_due,
            fee_due=fee_due,
            extended_days=self.extended_days,
            frozen_due=self.frozen_due,
            on_time=self.on_time if phase == DECIDED else None,
            explanation=lines,
        )

    def _status_lines(self, cal: WorkCalendar) -> list[str]:
        if self.phase == NEW or self.due is None:
            return []
        if self.phase == DECIDED:
            if self.on_time is None:
                return []
            return [f"结论：{'按时办结' if self.on_time else '逾期办结'}。"]
        if self.running and self.run_start is not None:
            if self.manual_due:
                return [f"当前答复期限：{self.due.isoformat()}（依第三十五条确定的合理期限）。"]
            running = cal.working_days_between(self.run_start, self.due)
            return [
                f"当前答复期限：{self.due.isoformat()}（期限共{self.budget}个工作日，"
                f"此前已用{self.used}个，本段自{self.run_start.isoformat()}次日起计{running}个）。"
            ]
        if self.paused_overdue and self.frozen_due is not None:
            return [f"答复期限暂停或中止时已超过{self.frozen_due.isoformat()}，已逾期。"]
        if self.phase == CORRECTION_REQUESTED:
            return ["答复期限中止，自收到补正之日起重新计算20个工作日。"]
        return [f"答复期限暂停中：剩余{self.remaining}个工作日，恢复计算后顺延。"]


# ---------------------------------------------------------------------- event handlers


def _receive(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    r = ev.on
    due = cal.add_working_days(r, REPLY_BUDGET)
    notice = cal.add_working_days(r, CORRECTION_NOTICE_DAYS)
    return s._note(
        (_line_receive, (r, due, notice)),
        phase=RECEIVED,
        received_on=r,
        clock_start=r,
        run_start=r,
        due=due,
        budget=REPLY_BUDGET,
        used=0,
        runs=(),
        correction_notice_due=notice,
    )


def _request_correction(
    s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings
) -> ClockState:
    p = ev.on
    period = _int(ev.data.get("period"), settings.correction_period_days)
    correction_due = cal.add_working_days(p, period)
    late = s.correction_notice_due if s.correction_notice_due is not None and p > s.correction_notice_due else None
    stopped = s._pause(p, cal)
    return stopped._note(
        (_line_request_correction, (p, late, stopped.used, period, correction_due)),
        phase=CORRECTION_REQUESTED,
        correction_ever=True,
        correction_due=correction_due,
        period_start=p,
    )


def _receive_correction(
    s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings
) -> ClockState:
    c = ev.on
    due = cal.add_working_days(c, REPLY_BUDGET)
    return s._note(
        (_line_receive_correction, (c, due, s.extended_days)),
        phase=RECEIVED,
        clock_start=c,
        run_start=c,
        due=due,
        budget=REPLY_BUDGET,
        used=0,
        runs=(),
        paused_on=None,
        remaining=0,
        paused_overdue=False,
        manual_due=False,
        correction_due=None,
        period_start=None,
    )


def _consult(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    p = ev.on
    consultation_due = cal.add_working_days(p, CONSULTATION_DAYS)
    paused = s._pause(p, cal)
    party = str(ev.data.get("party") or "").strip()
    return paused._note(
        (_line_consult, (p, party, _left_args(paused), consultation_due)),
        phase=CONSULTATION,
        consultation_due=consultation_due,
        period_start=p,
    )


def _consultation_reply(
    s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings
) -> ClockState:
    if s.phase != CONSULTATION:
        return s
    opinion = str(ev.data.get("opinion") or "")
    what = "征求意见期限届满未收到意见" if opinion == "none" else "收到征求意见回复"
    return s._resume(ev.on, cal, what)


def _fee_notice(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    p = ev.on
    fee_due = cal.add_working_days(p, FEE_DAYS)
    if settings.pause_clock_during_fee and s.running:
        paused = s._pause(p, cal, fee_pauses=True)
        return paused._note(
            (_line_fee_notice_paused, (p, _left_args(paused), fee_due)),
            phase=FEE_NOTICE,
            fee_due=fee_due,
            period_start=p,
        )
    return s._note(
        (_line_fee_notice_running, (p, fee_due)),
        phase=FEE_NOTICE,
        fee_pauses=False,
        fee_due=fee_due,
        period_start=p,
    )


def _fee_paid(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    if s.phase != FEE_NOTICE:
        return s
    if s.fee_pauses:
        return s._resume(ev.on, cal, "申请人缴费")
    return s._note((_line_plain, (ev.on, "申请人缴费")), phase=RECEIVED, fee_due=None, period_start=None)


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
    return s._note((_line_extend, (ev.on, n, approved, due, total)), **changes)


def _set_reasonable_period(
    s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings
) -> ClockState:
    due = _date(ev.data.get("due"))
    if due is None or s.phase in (NEW, DECIDED):
        return s
    reason = str(ev.data.get("reason") or "").strip()
    line: _Entry = (_line_reasonable_period, (ev.on, due, reason))
    if s.running:
        return s._note(line, due=due, manual_due=True)
    if s.paused_on is not None:
        overdue = s.paused_on > due
        remaining = 0 if overdue else cal.working_days_between(s.paused_on, due)
        return s._note(
            line, due=due, manual_due=True, remaining=remaining, paused_overdue=overdue, frozen_due=due
        )
    return s._note(line, due=due, manual_due=True)


def _final(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    d = ev.on
    words = _FINAL_WORDS[str(ev.event)]
    if s.due is None:
        return s._note((_line_plain, (d, words)), phase=DECIDED, decided_on=d)
    entry: _Entry
    if s.running:
        on_time = d <= s.due
        frozen = s.due
        entry = (_line_final_running, (d, words, frozen))
    else:
        # Paused or stopped: on time unless the pause or stop itself came after the due date.
        on_time = not s.paused_overdue
        frozen = s.frozen_due if s.frozen_due is not None else s.due
        entry = (_line_final_paused, (d, words, s.paused_on, s.paused_overdue, frozen))
    return s._note(
        entry,
        phase=DECIDED,
        decided_on=d,
        on_time=on_time,
        frozen_due=frozen,
        correction_due=None,
        consultation_due=None,
        fee_due=None,
        period_start=None,
    )


def _no_effect(s: ClockState, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
    return s


_Handler = Callable[[ClockState, ClockEvent, WorkCalendar, ClockSettings], ClockState]
_HANDLERS: dict[str, _Handler] = {
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
    "carry_over": _no_effect,
    "assign": _no_effect,
}


def compute_deadlines(
    events: Sequence[ClockEvent],
    cal: WorkCalendar,
    settings: ClockSettings = ClockSettings(),
    *,
    explain: bool = True,
) -> Deadlines:
    """Fold a whole history (in the order the events took effect) into the deadlines in force."""
    state = ClockState.initial()
    for ev in events:
        state = state.apply(ev, cal, settings)
    return state.deadlines(cal, settings, explain=explain)


# ---------------------------------------------------------------------- helpers


def _left_args(s: ClockState) -> tuple[Any, ...]:
    """What `_left` needs, captured at the pause."""
    if s.paused_overdue and s.frozen_due is not None:
        return (s.frozen_due,)
    return (s.used, s.remaining)


def _left(args: tuple[Any, ...]) -> str:
    if len(args) == 1:
        return f"已超过答复期限{args[0].isoformat()}，已逾期"
    return f"已用{args[0]}个工作日，剩余{args[1]}个"


# ---------------------------------------------------------------------- explanation lines
# One formatter per kind of log entry; called only by `deadlines(explain=True)`.


def _line_plain(on: date, what: str) -> str:
    return f"{on.isoformat()} {what}。"


def _line_receive(r: date, due: date, notice: date) -> str:
    return (
        f"{r.isoformat()} 收到申请，答复期限{REPLY_BUDGET}个工作日，自次日起算，至{due.isoformat()}；"
        f"如需补正，应于{notice.isoformat()}前一次性告知（{CORRECTION_NOTICE_DAYS}个工作日）。"
    )


def _line_request_correction(p: date, late_after: date | None, used: int, period: int, due: date) -> str:
    late = f"（晚于{late_after.isoformat()}的补正告知期限）" if late_after is not None else ""
    return (
        f"{p.isoformat()} 告知补正{late}，答复期限中止（此前已用{used}个工作日）；"
        f"补正期限{period}个工作日，至{due.isoformat()}。"
    )


def _line_receive_correction(c: date, due: date, extended_days: int) -> str:
    carried = f"；此前延期的{extended_days}个工作日不再计入，但计入延期上限" if extended_days else ""
    return (
        f"{c.isoformat()} 收到补正，答复期限自收到补正之日起重新计算{REPLY_BUDGET}个工作日，"
        f"至{due.isoformat()}{carried}。"
    )


def _line_consult(p: date, party: str, left: tuple[Any, ...], due: date) -> str:
    whom = f"向{party}" if party else ""
    return (
        f"{p.isoformat()} {whom}征求意见，答复期限暂停（{_left(left)}）；"
        f"征求意见期限{CONSULTATION_DAYS}个工作日，至{due.isoformat()}（不计入答复期限）。"
    )


def _line_fee_notice_paused(p: date, left: tuple[Any, ...], due: date) -> str:
    return (
        f"{p.isoformat()} 发出收费通知，答复期限暂停（{_left(left)}）；"
        f"缴费期限{FEE_DAYS}个工作日，至{due.isoformat()}。"
    )


def _line_fee_notice_running(p: date, due: date) -> str:
    return f"{p.isoformat()} 发出收费通知，答复期限继续计算；缴费期限{FEE_DAYS}个工作日，至{due.isoformat()}。"


def _line_resume_overdue(on: date, what: str, due: date) -> str:
    return f"{on.isoformat()} {what}，答复期限恢复计算；暂停前已超过答复期限{due.isoformat()}，期限不变，已逾期。"


def _line_resume(on: date, what: str, paused_on: date, remaining: int, due: date) -> str:
    span = f"{paused_on.isoformat()}后至{on.isoformat()}"
    return (
        f"{on.isoformat()} {what}，答复期限恢复计算：暂停期间（{span}）不计入，"
        f"剩余{remaining}个工作日，答复期限顺延至{due.isoformat()}。"
    )


def _line_resume_none_left(on: date, what: str, due: date) -> str:
    return f"{on.isoformat()} {what}，答复期限恢复计算：暂停时已无剩余工作日，应于{due.isoformat()}答复。"


def _line_extend(on: date, n: int, approved: str, due: date | None, total: int) -> str:
    by = f"，经{approved}同意" if approved else ""
    text = f"答复期限延长{n}个工作日{by}" + (f"，至{due.isoformat()}" if due is not None else "")
    return f"{on.isoformat()} {text}（累计延长{total}个工作日）。"


def _line_reasonable_period(on: date, due: date, reason: str) -> str:
    why = f"（理由：{reason}）" if reason else ""
    return f"{on.isoformat()} 依第三十五条确定延迟答复的合理期限，答复期限定为{due.isoformat()}{why}。"


def _line_final_running(d: date, words: str, due: date) -> str:
    return f"{d.isoformat()} {words}，答复期限为{due.isoformat()}。"


def _line_final_paused(d: date, words: str, paused_on: date | None, overdue: bool, frozen: date) -> str:
    return (
        f"{d.isoformat()} {words}，答复期限在{paused_on.isoformat() if paused_on else ''}暂停或中止时"
        f"{'已超过' if overdue else '尚未届满，期限为'}{frozen.isoformat()}。"
    )


def _on_or_next_working_day(cal: WorkCalendar, d: date) -> date:
    # A period ending on a non-working day ends on the next working day.
    return d if cal.is_working_day(d) else cal.add_working_days(d, 1)


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


def _calendar_lines(cal: WorkCalendar, label: str, spans: Sequence[tuple[date, date]]) -> list[str]:
    """Holidays skipped and make-up days counted over one period's stretches."""
    holidays: dict[date, str] = {}
    weekends: set[date] = set()
    make_up: set[date] = set()
    for a, b in spans:
        if b <= a:
            continue
        for d, reason in cal.non_working_days(a, b):
            if reason == WEEKEND:
                weekends.add(d)
            else:
                holidays[d] = reason
        make_up.update(cal.make_up_days(a, b))
    parts: list[str] = []
    if holidays:
        parts.append("跳过" + "；".join(_runs(holidays)))
    if weekends:
        parts.append(f"跳过周末{len(weekends)}天")
    if make_up:
        parts.append("计入调休上班日" + "、".join(d.isoformat() for d in sorted(make_up)))
    return [f"{label}推算：" + "，".join(parts) + "。"] if parts else []


def _provisional_lines(cal: WorkCalendar, spans: Sequence[tuple[date, date]]) -> list[str]:
    years = sorted({y for a, b in spans for y in cal.provisional_years(a, b)})
    return [
        f"{provisional_note(year)}，按暂定日历推算（周一至周五，除1月1日、5月1日至2日、"
        "10月1日至3日），官方安排公布后重新计算。"
        for year in years
    ]


def _runs(days: Mapping[date, str]) -> list[str]:
    """Consecutive days with the same reason as `2024-02-10至2024-02-17 法定节假日（春节）`."""
    out: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while (
            j + 1 < len(ordered)
            and ordered[j + 1].toordinal() == ordered[j].toordinal() + 1
            and days[ordered[j + 1]] == days[ordered[i]]
        ):
            j += 1
        first, last = ordered[i], ordered[j]
        span = first.isoformat() if first == last else f"{first.isoformat()}至{last.isoformat()}"
        out.append(f"{span} {days[first]}")
        i = j + 1
    return out
