"""The reply clock (Art. 33) and the other periods of SPEC §4, as a pure fold over a case's events.

`ClockState.initial()` then `.apply(event, calendar, settings)` for each event in the order
they took effect; `.deadlines(calendar, settings)` gives the dates in force and how each was
derived. `compute_deadlines(events, calendar)` does the whole fold. Each `apply` is O(1)
calendar work, so replaying a history is O(events).

The clock keeps the reply due date in force (`due`) and counts on it: a pause on P with the
due date still ahead leaves `working_days_between(P, due)` days, which equals budget − used
of SPEC §4; the resume on Q then gives Q + those days. This model also carries a hand-set
reasonable period (Art. 35) through a pause unchanged.

What each event does to the clock is in `domain.clock_events`; the Chinese explanation in
`domain.clock_text`. The fold does not check that an event is allowed (the workflow does); an
event that makes no sense in the current phase leaves the clock as it is, and never crashes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, NamedTuple

from foi_workflow.domain import clock_text as text
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock_events import (
    CONSULTATION,
    CORRECTION_REQUESTED,
    DECIDED,
    FEE_NOTICE,
    HANDLERS,
    NEW,
    RECEIVED,
)
from foi_workflow.domain.periods import CORRECTION_PERIOD_DAYS, EXTENSION_CAP, REPLY_BUDGET
from foi_workflow.domain.vocabulary import Deadline

# A log entry: a formatter of `domain.clock_text` and its arguments.
Entry = tuple[Callable[..., str], tuple[Any, ...]]

# A clock that runs: nothing paused, no period of the applicant or a consulted party running.
_RUNNING: dict[str, Any] = {
    "phase": RECEIVED, "paused_on": None, "remaining": 0, "paused_overdue": False, "period_start": None,
}  # fmt: skip


@dataclass(frozen=True)
class ClockSettings:
    correction_period_days: int = CORRECTION_PERIOD_DAYS
    pause_clock_during_fee: bool = True


class ClockEvent(NamedTuple):
    """One event of a case as the clock sees it: its SPEC §3 name, the date it took effect, its data.
    (A named tuple: one is built for every event a bulk import replays.)"""

    event: str
    on: date
    data: Mapping[str, Any] = MappingProxyType({})


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
    consultation_due: date | None = None  # the earliest end of the consultations open
    # The consultations open (SPEC §11: several may run at once): (party, start, end), in the
    # order they were opened; the clock stays paused until the last one is answered or lapsed.
    consultations: tuple[tuple[str, date, date], ...] = ()
    fee_due: date | None = None
    period_start: date | None = None  # start of the non-reply period running (correction/consult/fee)
    frozen_due: date | None = None
    decided_on: date | None = None
    on_time: bool | None = None
    decided_running: bool = False  # the clock ran at the decision: its service date decides on_time
    # What happened, as (formatter, arguments) pairs: the Chinese lines are only written out
    # when an explanation is asked for (`foi show`), not on every event of a bulk import.
    log: tuple[Entry, ...] = ()

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

    def consultation_answered(self, party: str | None) -> str | None:
        """The open consultation a reply answers: the party named, else the only one open, else
        the one whose period ends first (the sweep's reply of silence). None: no such one."""
        open_parties = [c[0] for c in sorted(self.consultations, key=lambda c: c[2])]
        if party:
            return party if party in open_parties else None
        return open_parties[0] if open_parties else None

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

    def correction_notice_late(self, on: date) -> date | None:
        """The Art. 30 correction-notice due date when a correction asked for on `on` comes
        after it (allowed, but said), else None."""
        due = self.correction_notice_due
        return due if due is not None and on > due else None

    def used_by(self, cal: WorkCalendar, on: date) -> int:
        """Working days the current clock has used by `on` (completed runs plus the current one)."""
        if self.run_start is None:
            return 0
        if not self.running:
            return self.used
        return self.used + cal.working_days_between(self.run_start, on)

    # ------------------------------------------------------------------ the fold

    def apply(self, ev: ClockEvent, cal: WorkCalendar, settings: ClockSettings) -> ClockState:
        handler = HANDLERS.get(ev.event)
        if handler is None or self.phase == DECIDED:
            return self  # assign, carry_over, a decided case, or anything the clock does not know
        return handler(self, ev, cal, settings)

    def evolve(self, **changes: Any) -> ClockState:
        # dataclasses.replace re-runs __init__ over ~30 fields and dominated replay time.
        values = self.__dict__.copy()
        values.update(changes)
        new = object.__new__(ClockState)
        object.__setattr__(new, "__dict__", values)
        return new

    def note(self, entry: Entry, **changes: Any) -> ClockState:
        values = self.__dict__.copy()
        values.update(changes)
        values["log"] = (*self.log, entry)
        new = object.__new__(ClockState)
        object.__setattr__(new, "__dict__", values)
        return new

    def pause(self, on: date, cal: WorkCalendar, **changes: Any) -> ClockState:
        """Stop counting on `on`: record the run and what is left of the budget."""
        if not self.running or self.run_start is None or self.due is None:
            return self.evolve(**changes)
        ran = cal.working_days_between(self.run_start, on)
        overdue = on > self.due
        remaining = 0 if overdue else cal.working_days_between(on, self.due)
        runs = (*self.runs, (self.run_start, on)) if on > self.run_start else self.runs
        return self.evolve(
            used=self.used + ran,
            runs=runs,
            paused_on=on,
            remaining=remaining,
            paused_overdue=overdue,
            frozen_due=self.due,
            **changes,
        )

    def resume(self, on: date, cal: WorkCalendar, why: str) -> ClockState:
        """Continue counting from `on` with what was left at the pause (`why`: a key of
        `clock_text.RESUME_WORDS`)."""
        if self.paused_on is None or self.due is None:
            return self.note((text.line_resumed_plain, (on, why)), phase=RECEIVED, fee_pauses=False)
        line: Entry
        if self.paused_overdue:
            due = self.due
            line = (text.line_resume_overdue, (on, why, due))
        elif self.remaining > 0:
            due = cal.add_working_days(on, self.remaining)
            line = (text.line_resume, (on, why, self.paused_on, self.remaining, due))
        else:
            # A period ending on a non-working day ends on the next working day.
            due = on if cal.is_working_day(on) else cal.add_working_days(on, 1)
            line = (text.line_resume_none_left, (on, why, due))
        return self.runs_again(line, on, due, fee_pauses=False, consultation_due=None, consultations=(), fee_due=None)

    def runs_again(self, entry: Entry, on: date, due: date, **changes: Any) -> ClockState:
        """The reply clock runs again from `on` (a resume or a restart), due on `due`; the
        period that stopped it is over."""
        values = self.__dict__.copy()
        values.update(_RUNNING, run_start=on, due=due, log=(*self.log, entry))
        values.update(changes)
        new = object.__new__(ClockState)
        object.__setattr__(new, "__dict__", values)
        return new

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
        # A due date set by hand (Art. 35) rests on no calendar: never provisional, nothing to explain.
        if reply_due is not None and self.run_start is not None and not self.manual_due:
            periods.append((Deadline.REPLY_DUE.label, [*self.runs, (self.run_start, reply_due)]))
        others = (
            (Deadline.CORRECTION_DUE.label, correction_due),
            (Deadline.CONSULTATION_DUE.label, consultation_due),
            (Deadline.FEE_DUE.label, fee_due),
        )
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
            lines = (*(fmt(*args) for fmt, args in self.log), *text.status_lines(self, cal))
            for label, group in periods:
                lines += tuple(text.calendar_lines(cal, label, group))
            lines += tuple(text.provisional_lines(cal, spans) if provisional else ())
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
