"""When a reminder rule applies: the window of due dates a rule covers on a given day.

A rule with `days_before = N >= 0` covers a deadline when N or fewer working days remain
(the working days in (today, due]) and more than the next smaller threshold of the same
deadline, so a late sweep sends the reminder that fits, not every earlier one at once.
A rule with `days_before = -k` covers a deadline overdue by k working days or more (k = 1:
the day after the due date), up to the next larger k. Each window is a half-open range of
due dates, so the sweep can ask the indexed due-date columns for exactly the cases it needs.
Pure: the calendar is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from foi_workflow.domain.vocabulary import Deadline

# The cached due-date columns of a case, one per deadline (and named as it is).
DEADLINE_COLUMNS: tuple[str, ...] = tuple(d.value for d in Deadline)

# How far back an overdue rule without a larger neighbour still looks, in calendar days:
# a scheduler that was down this long still catches up, and the query stays bounded.
OVERDUE_LOOKBACK_DAYS = 62


class Calendar(Protocol):
    def add_working_days(self, d: date, n: int) -> date: ...

    def is_working_day(self, d: date) -> bool: ...

    def working_days_between(self, start: date, end: date) -> int: ...


@dataclass(frozen=True)
class ReminderRule:
    """One reminder rule: mail when `deadline` is `days_before` working days away (0 = due today,
    negative = overdue by that many)."""

    name: str
    deadline: str  # reply_due | correction_due | consultation_due | fee_due (the correction notice duty: digest only)
    days_before: int
    to: str = "caseworker"  # caseworker | agency


@dataclass(frozen=True)
class Window:
    """Due dates `low <= due < high` that `rule` covers today."""

    rule: str
    deadline: str
    days_before: int
    low: date
    high: date

    def covers(self, due: date) -> bool:
        return self.low <= due < self.high


def working_days_back(calendar: Calendar, today: date, n: int) -> date:
    """The latest date d before `today` with at least `n` working days in (d, today].

    For n = 0 it is the day before today. This is "N working days before" a date.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    d = today
    counted = 0
    while counted < n:
        if calendar.is_working_day(d):
            counted += 1
        d -= timedelta(days=1)
    return d if n > 0 else today - timedelta(days=1)


def reminder_windows(rules: Iterable[ReminderRule], today: date, calendar: Calendar) -> list[Window]:
    """The window of due dates each rule covers on `today` (empty windows left out)."""
    by_column: dict[str, list[ReminderRule]] = {}
    for rule in rules:
        by_column.setdefault(rule.deadline, []).append(rule)
    windows: list[Window] = []
    for column, column_rules in by_column.items():
        ahead = sorted((r for r in column_rules if r.days_before >= 0), key=lambda r: r.days_before)
        low = today
        for rule in ahead:
            high = calendar.add_working_days(today, rule.days_before + 1)
            if low < high:
                windows.append(Window(rule.name, column, rule.days_before, low, high))
            low = max(low, high)
        behind = sorted((r for r in column_rules if r.days_before < 0), key=lambda r: -r.days_before)
        for i, rule in enumerate(behind):
            k = -rule.days_before
            high = working_days_back(calendar, today, k - 1) + timedelta(days=1)
            if i + 1 < len(behind):
                low = working_days_back(calendar, today, -behind[i + 1].days_before - 1) + timedelta(days=1)
            else:
                low = today - timedelta(days=OVERDUE_LOOKBACK_DAYS)
            if low < high:
                windows.append(Window(rule.name, column, rule.days_before, low, high))
    return windows


def remaining_working_days(calendar: Calendar, today: date, due: date) -> int:
    """Working days left in (today, due]; when overdue, minus the working days in (due, today] (at least 1)."""
    if due >= today:
        return calendar.working_days_between(today, due)
    return -max(1, calendar.working_days_between(due, today))
