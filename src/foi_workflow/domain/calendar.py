"""The statutory working-day calendar (SPEC §4).

Official years come from the `chinese-calendar` package (2004–2026), extended or replaced
year by year by `config/calendar/YYYY.toml` files as each State Council notice appears. A
year with no official data is *provisional*: Monday–Friday minus the fixed-date holidays
(1 Jan; 1–2 May; 1–3 Oct). Every answer that rests on a provisional day can say so.

All of 2004–2099 is precomputed at load time into a prefix count of working days and the
list of working-day offsets, so counting and adding working days are O(1) (no day-by-day
walk): the reply clock calls these thousands of times per import.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate, compress
from pathlib import Path
from typing import Any

from foi_workflow.errors import CalendarError, ConfigError

MIN_YEAR = 2004
MAX_YEAR = 2099
CHINESE_CALENDAR_SOURCE = "chinese-calendar"
PROVISIONAL_SOURCE = "provisional"
GENERIC_HOLIDAY = "法定节假日"
WEEKEND = "周末"

# chinese-calendar names its holidays in English; the notices use these words.
_CHINESE_NAMES: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

# The fixed-date holidays that a provisional year keeps (month, day, name).
PROVISIONAL_HOLIDAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "元旦"),
    (5, 1, "劳动节"),
    (5, 2, "劳动节"),
    (10, 1, "国庆节"),
    (10, 2, "国庆节"),
    (10, 3, "国庆节"),
)

_FILE_NAME = re.compile(r"^(\d{4})\.toml$")
_FILE_KEYS = frozenset({"year", "source", "holidays", "workdays"})
_BASE = date(MIN_YEAR, 1, 1).toordinal()
_LAST = date(MAX_YEAR, 12, 31).toordinal()
_SIZE = _LAST - _BASE + 1


@dataclass(frozen=True)
class YearStatus:
    """Whether a year's working days are official, and where they come from."""

    year: int
    official: bool
    source: str  # "chinese-calendar", the notice URL (or file path) of a TOML file, or "provisional"
    file: Path | None = None  # the config/calendar/YYYY.toml file, when one defines the year


@dataclass
class _Year:
    holidays: dict[date, str]  # date -> Chinese name ("" when the source names none)
    workdays: set[date]
    status: YearStatus


def provisional_note(year: int) -> str:
    """The words shown after an answer that rests on a provisional year."""
    return f"暂定：{year}年尚无官方节假日安排"


class WorkCalendar:
    """Working days for 2004–2099; build with `load` (the product) or `from_data` (tests)."""

    def __init__(self, years: Mapping[int, _Year]) -> None:
        # years: the official years only; every other year in range is provisional.
        self._years: dict[int, YearStatus] = {y: v.status for y, v in years.items()}
        names: dict[int, str] = {}
        flags = _weekday_flags()
        for year in range(MIN_YEAR, MAX_YEAR + 1):
            spec = years.get(year)
            if spec is None:
                for month, day, name in PROVISIONAL_HOLIDAYS:
                    o = date(year, month, day).toordinal()
                    flags[o - _BASE] = 0
                    names[o] = name
                continue
            for d, name in spec.holidays.items():
                o = d.toordinal()
                flags[o - _BASE] = 0
                names[o] = name
            for d in spec.workdays:
                flags[d.toordinal() - _BASE] = 1
        self._flags = flags
        # _cum[i]: working days among offsets [0, i); _work[k]: offset of the k-th working day.
        self._cum: list[int] = [0, *accumulate(flags)]
        self._work: list[int] = list(compress(range(_SIZE), flags))
        self._names = names
        # Make-up working days (调休上班): weekend days that are working days, as ordinals.
        self._make_up: list[int] = sorted(
            d.toordinal() for spec in years.values() for d in spec.workdays if d.weekday() >= 5
        )

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(cls, calendar_dir: Path | None) -> WorkCalendar:
        """chinese-calendar's years, then every `YYYY.toml` in `calendar_dir` (replacing that year)."""
        years = _chinese_calendar_years()
        if calendar_dir is not None and calendar_dir.is_dir():
            for path in sorted(calendar_dir.glob("*.toml")):
                spec = _read_year_file(path)
                years[spec.status.year] = spec
        return cls(years)

    @classmethod
    def from_data(
        cls,
        holidays: Iterable[date],
        workdays: Iterable[date],
        official_years: Mapping[int, str],
    ) -> WorkCalendar:
        """A calendar from explicit data (tests). `official_years` maps year -> source; the
        holidays and workdays of those years are taken as given (a Mapping date -> name also
        names the holidays); every other year is provisional."""
        years: dict[int, _Year] = {
            y: _Year({}, set(), YearStatus(y, True, src)) for y, src in official_years.items()
        }
        for y in years:
            _check_year(y)
        named = holidays if isinstance(holidays, Mapping) else None
        for d in holidays:
            spec = years.get(d.year)
            if spec is None:
                raise CalendarError(f"节假日 {d.isoformat()} 不在给出的官方年份内")
            spec.holidays[d] = str(named[d]) if named is not None else ""
        for d in workdays:
            spec = years.get(d.year)
            if spec is None:
                raise CalendarError(f"调休上班日 {d.isoformat()} 不在给出的官方年份内")
            spec.workdays.add(d)
        return cls(years)

    # ------------------------------------------------------------------ questions

    def is_working_day(self, d: date) -> bool:
        return bool(self._flags[_offset(d)])

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day strictly after d (the day itself is not counted); d when n == 0."""
        i = d.toordinal() - _BASE
        if not 0 <= i < _SIZE:
            _offset(d)  # raises with the message
        if n <= 0:
            if n == 0:
                return d
            raise CalendarError(f"工作日数不能为负数：{n}")
        try:
            return date.fromordinal(_BASE + self._work[self._cum[i + 1] + n - 1])
        except IndexError:
            raise CalendarError(
                f"{d.isoformat()} 之后第 {n} 个工作日超出日历支持的范围（{MIN_YEAR}–{MAX_YEAR}年）"
            ) from None

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days in (start, end]; 0 when end <= start."""
        i, j = _offset(start), _offset(end)
        if j <= i:
            return 0
        return self._cum[j + 1] - self._cum[i + 1]

    def is_provisional(self, d: date) -> bool:
        """Whether d's year has no official data."""
        _offset(d)
        return d.year not in self._years

    def crosses_provisional(self, start: date, end: date) -> bool:
        """Whether any day in (start, end] lies in a provisional year."""
        _offset(start)
        _offset(end)
        if end <= start:
            return False
        # (start, end] begins in the next year only when start is 31 December.
        first = start.year + 1 if start.month == 12 and start.day == 31 else start.year
        official = self._years
        return any(y not in official for y in range(first, end.year + 1))

    def provisional_years(self, start: date, end: date) -> list[int]:
        """The provisional years that days in (start, end] fall in."""
        _offset(start)
        _offset(end)
        if end <= start:
            return []
        first = (start + timedelta(days=1)).year
        return [y for y in range(first, end.year + 1) if y not in self._years]

    def holiday_name(self, d: date) -> str | None:
        """The Chinese name of the statutory holiday on d ("" if unnamed), None if d is none."""
        o = d.toordinal()
        if o - _BASE < 0 or o > _LAST or self._flags[o - _BASE]:
            return None
        return self._names.get(o)

    def non_working_days(self, start: date, end: date) -> list[tuple[date, str]]:
        """The days in (start, end] that are not working days, each with its reason in Chinese:
        `法定节假日（春节）`, `法定节假日` (unnamed) or `周末`."""
        i, j = _offset(start), _offset(end)
        flags, names = self._flags, self._names
        out: list[tuple[date, str]] = []
        for k in range(i + 1, j + 1):
            if flags[k]:
                continue
            o = _BASE + k
            name = names.get(o)
            reason = WEEKEND if name is None else _holiday_reason(name)
            out.append((date.fromordinal(o), reason))
        return out

    def make_up_days(self, start: date, end: date) -> list[date]:
        """Weekend days in (start, end] that are official working days (调休上班)."""
        a, b = start.toordinal(), end.toordinal()
        if b <= a:
            return []
        lo, hi = bisect_right(self._make_up, a), bisect_right(self._make_up, b)
        return [date.fromordinal(o) for o in self._make_up[lo:hi]]

    def status(self, year: int) -> YearStatus:
        _check_year(year)
        found = self._years.get(year)
        return found if found is not None else YearStatus(year, False, PROVISIONAL_SOURCE)

    @property
    def official_years(self) -> list[int]:
        return sorted(self._years)

    def count_non_working(self, start: date, end: date) -> int:
        """How many days in (start, end] are not working days."""
        i, j = _offset(start), _offset(end)
        if j <= i:
            return 0
        return (j - i) - (self._cum[j + 1] - self._cum[i + 1])


# ---------------------------------------------------------------------- helpers


def _offset(d: date) -> int:
    i = d.toordinal() - _BASE
    if not 0 <= i < _SIZE:
        raise CalendarError(f"日期 {d.isoformat()} 超出工作日历支持的范围（{MIN_YEAR}–{MAX_YEAR}年）")
    return i


def _holiday_reason(name: str) -> str:
    return f"{GENERIC_HOLIDAY}（{name}）" if name else GENERIC_HOLIDAY


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarError(f"年份 {year} 超出工作日历支持的范围（{MIN_YEAR}–{MAX_YEAR}年）")


def _weekday_flags() -> bytearray:
    """1 for Monday–Friday, 0 for Saturday and Sunday, for every day in range."""
    week = b"\x01\x01\x01\x01\x01\x00\x00"
    first = date(MIN_YEAR, 1, 1).weekday()
    return bytearray((week * (_SIZE // 7 + 2))[first : first + _SIZE])


def _chinese_calendar_years() -> dict[int, _Year]:
    from chinese_calendar import constants

    years: dict[int, _Year] = {}

    def year_of(d: date) -> _Year:
        spec = years.get(d.year)
        if spec is None:
            spec = years[d.year] = _Year({}, set(), YearStatus(d.year, True, CHINESE_CALENDAR_SOURCE))
        return spec

    for d, name in constants.holidays.items():
        if MIN_YEAR <= d.year <= MAX_YEAR:
            year_of(d).holidays[d] = _CHINESE_NAMES.get(str(name), GENERIC_HOLIDAY)
    for d in constants.workdays:
        if MIN_YEAR <= d.year <= MAX_YEAR:
            year_of(d).workdays.add(d)
    return years


def _read_year_file(path: Path) -> _Year:
    """One `YYYY.toml`: `source = "<notice URL>"`, `holidays = [dates]` (or a table
    `[holidays]` of name = [dates]), `workdays = [dates]` (the make-up working days)."""
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise ConfigError(f"日历文件名应为 YYYY.toml：{path}")
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ConfigError(f"日历文件 {path} 的年份超出支持范围（{MIN_YEAR}–{MAX_YEAR}年）")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"无法读取日历文件 {path}：{exc}") from exc
    unknown = set(data) - _FILE_KEYS
    if unknown:
        raise ConfigError(f"日历文件 {path} 有未知的项：{', '.join(sorted(unknown))}")
    if "year" in data and data["year"] != year:
        raise ConfigError(f"日历文件 {path} 的 year = {data['year']!r} 与文件名不符")
    source = data.get("source", str(path))
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"日历文件 {path} 的 source 应为通知的网址")

    holidays: dict[date, str] = {}
    raw_holidays = data.get("holidays", [])
    if isinstance(raw_holidays, Mapping):
        for name, items in raw_holidays.items():
            for d in _dates(path, f"holidays.{name}", items, year):
                holidays[d] = str(name)
    else:
        for d in _dates(path, "holidays", raw_holidays, year):
            holidays[d] = ""
    workdays = set(_dates(path, "workdays", data.get("workdays", []), year))
    both = sorted(set(holidays) & workdays)
    if both:
        raise ConfigError(f"日历文件 {path} 中 {both[0].isoformat()} 既是节假日又是上班日")
    return _Year(holidays, workdays, YearStatus(year, True, source.strip(), path))


def _dates(path: Path, key: str, items: Any, year: int) -> list[date]:
    if not isinstance(items, list):
        raise ConfigError(f"日历文件 {path} 的 {key} 应为日期列表")
    out: list[date] = []
    for item in items:
        if isinstance(item, date) and not isinstance(item, datetime):
            d = item
        elif isinstance(item, str):
            try:
                d = date.fromisoformat(item)
            except ValueError:
                raise ConfigError(f"日历文件 {path} 的 {key} 中日期格式错误：{item!r}") from None
        else:
            raise ConfigError(f"日历文件 {path} 的 {key} 中日期格式错误：{item!r}")
        if d.year != year:
            raise ConfigError(f"日历文件 {path} 的 {key} 中 {d.isoformat()} 不属于{year}年")
        out.append(d)
    return out


__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "PROVISIONAL_HOLIDAYS",
    "WorkCalendar",
    "YearStatus",
    "provisional_note",
]
