"""The applicant's remedy windows after a decision letter is delivered (SPEC §15): 60 days for
administrative review (行政复议法 Art. 20), 6 months for a lawsuit (行政诉讼法 Art. 46).

Both laws count these periods as the civil-procedure rule does: calendar days and months,
starting the day after delivery (期间开始的日不计算在期间内); a period in months ends on the
corresponding day of the last month, or that month's last day when it has none (民法典第二百零二
条); and a period whose last day is a rest day or holiday ends on the next working day
(民事诉讼法第八十五条). Pure: the calendar is passed in.
"""

from __future__ import annotations

import calendar as _months
from dataclasses import dataclass
from datetime import date, timedelta

from foi_workflow.domain.calendar import WorkCalendar

REVIEW_DAYS = 60  # 行政复议法第二十条：知道之日起六十日内
LITIGATION_MONTHS = 6  # 行政诉讼法第四十六条：知道之日起六个月内


def add_months(d: date, months: int) -> date:
    """The corresponding day `months` later; the month's last day when it has no such day
    (31 August + 6 months = 28 or 29 February)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = _months.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def period_end(last_day: date, cal: WorkCalendar) -> date:
    """A period's last day, moved to the next working day when it is a rest day or holiday."""
    return last_day if cal.is_working_day(last_day) else cal.add_working_days(last_day, 1)


@dataclass(frozen=True)
class RemedyWindows:
    """The last day of each remedy window opened by a delivery on `delivered_on`."""

    delivered_on: date
    review_until: date
    litigation_until: date

    def final(self, today: date, appealed: bool) -> bool:
        return is_final(self.review_until, self.litigation_until, today, appealed)


def is_final(review_until: date | None, litigation_until: date | None, today: date, appealed: bool) -> bool:
    """已生效: the decision letter was delivered, every window it opened has ended by `today`,
    and no appeal (review or lawsuit) was filed on the case."""
    if appealed or review_until is None or litigation_until is None:
        return False
    return today > max(review_until, litigation_until)


def remedy_windows(delivered_on: date, cal: WorkCalendar) -> RemedyWindows:
    """The windows a decision letter delivered on `delivered_on` opens."""
    review = period_end(delivered_on + timedelta(days=REVIEW_DAYS), cal)
    litigation = period_end(add_months(delivered_on, LITIGATION_MONTHS), cal)
    return RemedyWindows(delivered_on, review, litigation)
