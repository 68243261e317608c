"""The statutory working-day calendar: hand-checked examples from the State Council notices
of 2023–2026 (listed in docs/deadlines.md), provisional years, TOML overrides, and properties."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.errors import CalendarError, ConfigError

CAL = WorkCalendar.load(None)


def d(s: str) -> date:
    return date.fromisoformat(s)


# (start, n, expected): worked out by hand from the notices' tables, one group per holiday period.
HAND_CHECKED = [
    # 2023
    ("2022-12-30", 1, "2023-01-03"),  # 元旦 1/1–1/2
    ("2023-01-20", 1, "2023-01-28"),  # 春节 1/21–1/27, Saturday 1/28 is a make-up day
    ("2023-01-20", 2, "2023-01-29"),  # … and Sunday 1/29 too
    ("2023-01-20", 3, "2023-01-30"),
    ("2023-04-04", 1, "2023-04-06"),  # 清明 4/5
    ("2023-04-22", 1, "2023-04-23"),  # make-up Sunday 4/23 for 劳动节
    ("2023-04-28", 1, "2023-05-04"),  # 劳动节 4/29–5/3
    ("2023-05-05", 1, "2023-05-06"),  # make-up Saturday 5/6
    ("2023-06-21", 1, "2023-06-25"),  # 端午 6/22–6/24, make-up Sunday 6/25
    ("2023-09-28", 1, "2023-10-07"),  # 中秋国庆 9/29–10/6, make-up 10/7
    ("2023-09-28", 2, "2023-10-08"),  # … and 10/8
    ("2023-09-28", 3, "2023-10-09"),
    # 2024
    ("2023-12-29", 1, "2024-01-02"),  # 元旦 1/1
    ("2024-02-03", 1, "2024-02-04"),  # make-up Sunday 2/4
    ("2024-02-08", 1, "2024-02-09"),  # 除夕 2/9 is an ordinary Friday in the notice
    ("2024-02-09", 1, "2024-02-18"),  # 春节 2/10–2/17, make-up Sunday 2/18
    ("2024-02-09", 2, "2024-02-19"),
    ("2024-04-03", 1, "2024-04-07"),  # 清明 4/4–4/6, make-up Sunday 4/7
    ("2024-04-26", 1, "2024-04-28"),  # make-up Sunday 4/28
    ("2024-04-30", 1, "2024-05-06"),  # 劳动节 5/1–5/5
    ("2024-05-10", 1, "2024-05-11"),  # make-up Saturday 5/11
    ("2024-06-07", 1, "2024-06-11"),  # 端午 6/10
    ("2024-09-13", 1, "2024-09-14"),  # make-up Saturday 9/14
    ("2024-09-13", 2, "2024-09-18"),  # 中秋 9/15–9/17
    ("2024-09-27", 1, "2024-09-29"),  # make-up Sunday 9/29
    ("2024-09-27", 3, "2024-10-08"),  # 国庆 10/1–10/7
    ("2024-10-11", 1, "2024-10-12"),  # make-up Saturday 10/12
    ("2024-09-27", 20, "2024-10-30"),  # a whole reply period across 国庆, counted by hand
    # 2025
    ("2024-12-31", 1, "2025-01-02"),  # 元旦 1/1
    ("2025-01-24", 1, "2025-01-26"),  # make-up Sunday 1/26
    ("2025-01-27", 1, "2025-02-05"),  # 春节 1/28–2/4
    ("2025-02-07", 1, "2025-02-08"),  # make-up Saturday 2/8
    ("2025-04-03", 1, "2025-04-07"),  # 清明 4/4–4/6
    ("2025-04-25", 1, "2025-04-27"),  # make-up Sunday 4/27
    ("2025-04-30", 1, "2025-05-06"),  # 劳动节 5/1–5/5
    ("2025-05-30", 1, "2025-06-03"),  # 端午 5/31–6/2
    ("2025-09-26", 1, "2025-09-28"),  # make-up Sunday 9/28
    ("2025-09-30", 1, "2025-10-09"),  # 国庆中秋 10/1–10/8
    ("2025-10-10", 1, "2025-10-11"),  # make-up Saturday 10/11
    # 2026
    ("2025-12-31", 1, "2026-01-04"),  # 元旦 1/1–1/3, make-up Sunday 1/4
    ("2026-02-13", 1, "2026-02-14"),  # make-up Saturday 2/14
    ("2026-02-13", 2, "2026-02-24"),  # 春节 2/15–2/23
    ("2026-02-27", 1, "2026-02-28"),  # make-up Saturday 2/28
    ("2026-04-03", 1, "2026-04-07"),  # 清明 4/4–4/6
    ("2026-04-30", 1, "2026-05-06"),  # 劳动节 5/1–5/5
    ("2026-05-08", 1, "2026-05-09"),  # make-up Saturday 5/9
    ("2026-06-18", 1, "2026-06-22"),  # 端午 6/19–6/21
    ("2026-09-18", 1, "2026-09-20"),  # make-up Sunday 9/20
    ("2026-09-24", 1, "2026-09-28"),  # 中秋 9/25–9/27
    ("2026-09-30", 1, "2026-10-08"),  # 国庆 10/1–10/7
    ("2026-10-09", 1, "2026-10-10"),  # make-up Saturday 10/10
    # into 2027, provisional: 1/1 off, then four full weeks
    ("2026-12-31", 20, "2027-01-29"),
]


@pytest.mark.parametrize(("start", "n", "expected"), HAND_CHECKED)
def test_adding_working_days_matches_the_state_council_notices(start: str, n: int, expected: str) -> None:
    assert CAL.add_working_days(d(start), n) == d(expected)
    assert CAL.working_days_between(d(start), d(expected)) == n


MAKE_UP_DAYS = {
    2023: ["2023-01-28", "2023-01-29", "2023-04-23", "2023-05-06", "2023-06-25", "2023-10-07", "2023-10-08"],
    2024: ["2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14",
           "2024-09-29", "2024-10-12"],
    2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    2026: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
}


@pytest.mark.parametrize("year", sorted(MAKE_UP_DAYS))
def test_make_up_weekend_days_are_working_days(year: int) -> None:
    expected = [d(s) for s in MAKE_UP_DAYS[year]]
    assert CAL.make_up_days(date(year - 1, 12, 31), date(year, 12, 31)) == expected
    for day in expected:
        assert day.weekday() >= 5
        assert CAL.is_working_day(day)


DAYS_OFF = {
    2023: [("2023-01-01", "2023-01-02"), ("2023-01-21", "2023-01-27"), ("2023-04-05", "2023-04-05"),
           ("2023-04-29", "2023-05-03"), ("2023-06-22", "2023-06-24"), ("2023-09-29", "2023-10-06")],
    2024: [("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
           ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
           ("2024-10-01", "2024-10-07")],
    2025: [("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
           ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")],
    2026: [("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
           ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
           ("2026-10-01", "2026-10-07")],
}


@pytest.mark.parametrize("year", sorted(DAYS_OFF))
def test_every_day_of_every_holiday_period_is_not_a_working_day(year: int) -> None:
    for first, last in DAYS_OFF[year]:
        day = d(first)
        while day <= d(last):
            assert not CAL.is_working_day(day), day
            assert CAL.holiday_name(day), day
            day += timedelta(days=1)


def test_non_working_days_name_the_holiday_and_the_weekend() -> None:
    skipped = CAL.non_working_days(d("2024-02-08"), d("2024-02-25"))
    assert skipped[0] == (d("2024-02-10"), "法定节假日（春节）")
    assert (d("2024-02-17"), "法定节假日（春节）") in skipped
    assert (d("2024-02-24"), "周末") in skipped
    assert d("2024-02-18") not in [day for day, _ in skipped]  # make-up day is worked
    assert CAL.non_working_days(d("2023-09-28"), d("2023-09-29")) == [(d("2023-09-29"), "法定节假日（中秋节）")]


def test_the_start_day_is_not_counted_and_zero_days_is_the_day_itself() -> None:
    assert CAL.add_working_days(d("2024-03-04"), 1) == d("2024-03-05")
    assert CAL.add_working_days(d("2024-03-02"), 0) == d("2024-03-02")
    assert CAL.add_working_days(d("2024-03-02"), 1) == d("2024-03-04")  # from a Saturday
    assert CAL.working_days_between(d("2024-03-05"), d("2024-03-04")) == 0


def test_a_negative_count_or_a_date_out_of_range_is_refused() -> None:
    with pytest.raises(CalendarError, match="负数"):
        CAL.add_working_days(d("2024-03-04"), -1)
    with pytest.raises(CalendarError, match="范围"):
        CAL.add_working_days(d("2003-12-31"), 1)
    with pytest.raises(CalendarError, match="范围"):
        CAL.add_working_days(d("2099-12-30"), 5)
    with pytest.raises(CalendarError):
        CAL.status(2100)


def test_a_year_without_official_data_is_provisional_with_fixed_holidays_only() -> None:
    assert CAL.status(2026).official and CAL.status(2026).source == "chinese-calendar"
    status = CAL.status(2027)
    assert not status.official and status.source == "provisional"
    assert CAL.is_provisional(d("2027-06-01")) and not CAL.is_provisional(d("2026-12-31"))
    for off in ("2027-01-01", "2027-05-03", "2027-10-01", "2027-10-02", "2027-10-03"):
        day = d(off)
        assert CAL.is_working_day(day) == (off == "2027-05-03"), off  # 5/3 is an ordinary Monday
    assert CAL.is_working_day(d("2027-02-08"))  # no Spring Festival without a notice
    assert CAL.crosses_provisional(d("2026-12-31"), d("2027-01-04"))
    assert not CAL.crosses_provisional(d("2026-12-01"), d("2026-12-31"))
    assert not CAL.crosses_provisional(d("2027-01-05"), d("2027-01-04"))


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_toml_file_makes_a_provisional_year_official(tmp_path: Path) -> None:
    url = "https://www.gov.cn/zhengce/content/2027-notice.htm"
    write(
        tmp_path,
        "2027.toml",
        f'source = "{url}"\nworkdays = [2027-02-20]\n'
        '[holidays]\n"元旦" = [2027-01-01]\n"春节" = [2027-02-06, 2027-02-08, "2027-02-09"]\n',
    )
    cal = WorkCalendar.load(tmp_path)
    status = cal.status(2027)
    assert status.official and status.source == url and status.file == tmp_path / "2027.toml"
    assert not cal.is_provisional(d("2027-03-01"))
    assert not cal.crosses_provisional(d("2026-12-31"), d("2027-12-31"))
    assert cal.add_working_days(d("2027-02-05"), 1) == d("2027-02-10")  # 2/8, 2/9 off
    assert cal.is_working_day(d("2027-02-20"))  # a Saturday worked
    assert cal.non_working_days(d("2027-02-07"), d("2027-02-08")) == [(d("2027-02-08"), "法定节假日（春节）")]
    assert cal.is_provisional(d("2028-01-03"))


def test_a_toml_file_replaces_a_year_chinese_calendar_knows(tmp_path: Path) -> None:
    write(tmp_path, "2026.toml", 'source = "corrected"\nholidays = [2026-03-02]\nworkdays = []\n')
    cal = WorkCalendar.load(tmp_path)
    assert cal.status(2026).source == "corrected"
    assert not cal.is_working_day(d("2026-03-02"))
    assert cal.is_working_day(d("2026-02-16"))  # no longer the Spring Festival
    assert not cal.is_working_day(d("2026-02-14"))  # nor a make-up Saturday
    assert cal.non_working_days(d("2026-03-01"), d("2026-03-02")) == [(d("2026-03-02"), "法定节假日")]
    assert CAL.is_working_day(d("2026-02-14"))  # the default calendar is untouched


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("2027.toml", "holidays = [2027-13-01]\n", "无法读取"),
        ("2027.toml", 'holidays = ["2027-02-30"]\n', "日期格式错误"),
        ("2027.toml", "holidays = [2028-01-01]\n", "不属于2027年"),
        ("2027.toml", "holidays = [2027-01-01]\nworkdays = [2027-01-01]\n", "既是节假日又是上班日"),
        ("2027.toml", "holiday = [2027-01-01]\n", "未知的项"),
        ("2027.toml", "year = 2028\n", "与文件名不符"),
        ("2027.toml", "holidays = 5\n", "应为日期列表"),
        ("2027.toml", "source = 3\n", "source"),
        ("draft.toml", "holidays = []\n", "YYYY.toml"),
        ("2100.toml", "holidays = []\n", "超出支持范围"),
    ],
)
def test_a_bad_calendar_file_is_a_config_error(tmp_path: Path, name: str, text: str, message: str) -> None:
    write(tmp_path, name, text)
    with pytest.raises(ConfigError, match=message):
        WorkCalendar.load(tmp_path)


def test_files_that_are_not_toml_are_ignored_and_a_missing_folder_is_fine(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "notes")
    assert WorkCalendar.load(tmp_path).status(2027).source == "provisional"
    assert WorkCalendar.load(tmp_path / "missing").status(2026).official


def test_from_data_builds_a_small_calendar_for_tests() -> None:
    cal = WorkCalendar.from_data({d("2030-01-02"): "测试假日"}, [d("2030-01-05")], {2030: "test"})
    assert not cal.is_working_day(d("2030-01-02")) and cal.is_working_day(d("2030-01-05"))
    assert cal.is_working_day(d("2030-01-01"))  # official year: only what was given
    assert not cal.is_working_day(d("2031-01-01"))  # provisional year: fixed holidays
    assert cal.non_working_days(d("2030-01-01"), d("2030-01-02")) == [(d("2030-01-02"), "法定节假日（测试假日）")]
    with pytest.raises(CalendarError):
        WorkCalendar.from_data([d("2031-01-02")], [], {2030: "test"})


def test_the_shipped_config_folder_has_no_year_file_so_2027_stays_provisional() -> None:
    from foi_workflow.resources import CONFIG_DIR

    assert not list((CONFIG_DIR / "calendar").glob("*.toml"))
    assert not WorkCalendar.load(CONFIG_DIR / "calendar").status(2027).official


def naive_add(cal: WorkCalendar, start: date, n: int) -> date:
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            left -= 1
    return day


days = st.dates(min_value=date(2004, 1, 1), max_value=date(2098, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=days, n=st.integers(min_value=1, max_value=60))
def test_adding_working_days_agrees_with_walking_day_by_day(start: date, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert due == naive_add(CAL, start, n)
    assert CAL.is_working_day(due)
    assert CAL.working_days_between(start, due) == n
    assert CAL.working_days_between(start, due - timedelta(days=1)) == n - 1


@settings(max_examples=200, deadline=None)
@given(start=days, span=st.integers(min_value=0, max_value=120))
def test_counting_and_listing_agree(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    skipped = CAL.non_working_days(start, end)
    assert CAL.working_days_between(start, end) + len(skipped) == span
    assert CAL.count_non_working(start, end) == len(skipped)
    crossed = any(CAL.is_provisional(start + timedelta(days=k)) for k in range(1, span + 1))
    assert CAL.crosses_provisional(start, end) == crossed
    for day in CAL.make_up_days(start, end):
        assert start < day <= end and day.weekday() >= 5 and CAL.is_working_day(day)
