"""The windows of due dates a reminder rule covers: the rule "N working days before" holds for
every day and every due date."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from foi_workflow.config import DEFAULT_REMINDERS
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.reminders import ReminderRule as R
from foi_workflow.domain.reminders import remaining_working_days, reminder_windows, working_days_back

CALENDAR = WorkCalendar.load(None)
days = st.dates(min_value=date(2019, 1, 1), max_value=date(2026, 12, 1))
offsets = st.integers(min_value=-40, max_value=40)


rule_sets = st.lists(st.integers(min_value=-6, max_value=10), min_size=1, max_size=4, unique=True).map(
    lambda ns: [R(f"r{n}", "reply_due", n) for n in ns]
)


def overdue_by(today: date, due: date) -> int:
    """k such that the case is overdue by k working days (1 on the day after the due date)."""
    return 1 + CALENDAR.working_days_between(due, today)


@settings(max_examples=100, deadline=None)
@given(today=days, offset=offsets, rules=rule_sets)
def test_a_due_date_is_covered_by_at_most_one_rule_and_only_by_one_that_fits(
    today: date, offset: int, rules: list[R]
) -> None:
    due = today + timedelta(days=offset)
    covering = [w for w in reminder_windows(rules, today, CALENDAR) if w.covers(due)]
    assert len(covering) <= 1
    for w in covering:
        if w.days_before >= 0:
            assert due >= today and CALENDAR.working_days_between(today, due) <= w.days_before
        else:
            assert due < today and overdue_by(today, due) >= -w.days_before


@settings(max_examples=100, deadline=None)
@given(today=days, n=st.integers(min_value=0, max_value=10), offset=st.integers(min_value=0, max_value=30))
def test_a_single_rule_covers_every_due_date_with_n_or_fewer_working_days_left(
    today: date, n: int, offset: int
) -> None:
    due = today + timedelta(days=offset)
    [window] = reminder_windows([R("only", "fee_due", n)], today, CALENDAR)
    assert window.covers(due) == (CALENDAR.working_days_between(today, due) <= n)


@settings(max_examples=60, deadline=None)
@given(today=days, n=st.integers(min_value=1, max_value=25))
def test_working_days_back_is_the_latest_day_with_n_working_days_up_to_today(today: date, n: int) -> None:
    d = working_days_back(CALENDAR, today, n)
    assert CALENDAR.working_days_between(d, today) >= n
    assert CALENDAR.working_days_between(d + timedelta(days=1), today) < n


def test_the_default_rules_remind_five_and_one_working_days_before_and_when_overdue() -> None:
    today = date(2024, 3, 22)  # a Friday
    windows = {w.rule: w for w in reminder_windows(DEFAULT_REMINDERS, today, CALENDAR)}
    assert windows["reply_due_5"].covers(date(2024, 3, 29))  # five working days later
    assert not windows["reply_due_5"].covers(date(2024, 4, 1))
    assert windows["reply_due_1"].covers(date(2024, 3, 25))
    assert windows["reply_overdue"].covers(date(2024, 3, 21))
    assert remaining_working_days(CALENDAR, today, date(2024, 3, 21)) == -1
    assert remaining_working_days(CALENDAR, today, date(2024, 3, 29)) == 5
