"""The remedy windows of SPEC §15: 60 days for review and 6 months for a lawsuit from the day
after delivery, counted in calendar days and months, a last day on a rest day or holiday moved
to the next working day. Hand-checked dates against the official calendar, and the month
arithmetic over every date."""

from __future__ import annotations

from calendar import monthrange
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.remedies import add_months, is_final, remedy_windows

CAL = WorkCalendar.load(None)


def d(s: str) -> date:
    return date.fromisoformat(s)


@pytest.mark.parametrize(
    ("delivered", "review_until", "litigation_until"),
    [
        # 60 days from a Friday: 30 April 2024, a working day (the May Day holiday starts 1 May).
        ("2024-03-01", "2024-04-30", "2024-09-02"),  # 1 September 2024 is a Sunday: Monday 2 September
        # Six months from 31 August: no 31 February, so the last day of February — 29th in a leap year,
        ("2023-08-31", "2023-10-30", "2024-02-29"),
        # 28th otherwise (31 August 2024 + 60 days = 30 October 2024, a Wednesday).
        ("2024-08-31", "2024-10-30", "2025-02-28"),
        # The 60th day a Saturday (2 March 2024): the window ends on Monday 4 March.
        ("2024-01-02", "2024-03-04", "2024-07-02"),
        # The 60th day and the sixth month's day both 1 October 2024, National Day: the holiday runs
        # to 7 October, so both end on Tuesday 8 October.
        ("2024-08-02", "2024-10-08", "2025-02-05"),
        ("2024-04-01", "2024-05-31", "2024-10-08"),
        # Across a year end: 60 days from 15 December 2023 is 13 February 2024, in the Spring
        # Festival holiday (10–17 February): it ends on Sunday 18 February, a make-up working day.
        ("2023-12-15", "2024-02-18", "2024-06-17"),  # 15 June 2024 a Saturday, 16th a Sunday
    ],
)
def test_remedy_windows_are_counted_in_calendar_days_and_months(
    delivered: str, review_until: str, litigation_until: str
) -> None:
    windows = remedy_windows(d(delivered), CAL)
    assert (windows.review_until, windows.litigation_until) == (d(review_until), d(litigation_until))


def test_the_hand_checked_last_days_really_fall_as_the_cases_say() -> None:
    # What the table above rests on, checked against the calendar itself.
    assert not CAL.is_working_day(d("2024-03-02")) and CAL.is_working_day(d("2024-03-04"))
    assert all(not CAL.is_working_day(d(f"2024-10-0{n}")) for n in range(1, 8)) and CAL.is_working_day(d("2024-10-08"))
    assert not CAL.is_working_day(d("2024-02-13")) and CAL.is_working_day(d("2024-02-18"))
    assert not CAL.is_working_day(d("2024-09-01")) and not CAL.is_working_day(d("2024-06-15"))
    assert CAL.is_working_day(d("2024-02-29")) and CAL.is_working_day(d("2025-02-28"))


def test_six_months_from_the_last_day_of_a_month_is_the_last_day_of_a_shorter_month() -> None:
    assert add_months(d("2023-08-31"), 6) == d("2024-02-29")
    assert add_months(d("2024-08-31"), 6) == d("2025-02-28")
    assert add_months(d("2024-08-30"), 6) == d("2025-02-28")
    assert add_months(d("2024-12-31"), 6) == d("2025-06-30")
    assert add_months(d("2024-07-15"), 6) == d("2025-01-15")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 12, 31)), st.integers(0, 1200))
def test_adding_months_lands_on_the_corresponding_day_or_the_months_last(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == min(day.day, monthrange(later.year, later.month)[1])


@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 6, 30)))
def test_a_window_ends_on_a_working_day_never_before_its_calendar_count(delivered: date) -> None:
    windows = remedy_windows(delivered, CAL)
    for last, counted in ((windows.review_until, delivered.toordinal() + 60),
                          (windows.litigation_until, add_months(delivered, 6).toordinal())):  # fmt: skip
        assert CAL.is_working_day(last)
        assert last.toordinal() >= counted
        # Moved only over rest days and holidays.
        assert all(not CAL.is_working_day(date.fromordinal(n)) for n in range(counted, last.toordinal()))


@given(
    st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 6, 30)),
    st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)),
    st.booleans(),
)
def test_a_decision_is_final_only_once_every_window_ended_and_never_with_an_appeal(
    delivered: date, today: date, appealed: bool
) -> None:
    windows = remedy_windows(delivered, CAL)
    final = windows.final(today, appealed)
    assert final == (not appealed and today > windows.litigation_until > windows.review_until)
    assert not is_final(None, None, today, appealed)
