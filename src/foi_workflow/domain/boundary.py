"""The one boundary every value crosses on its way in, whether it came as a command-line
option or as a field of an import line: what a text, an identifier, a number and an amount
may be, and how long a value may be.

Pure rules. The length limits are not written here: the caller derives them from the table
declarations (`adapters.tables.text_limits`) and passes them in as `Limits`, so a value that
SQLite would store but PostgreSQL would refuse (a 65-character id) is refused on both.
A refusal is a `BadValue` naming the field; the CLI turns the field into its option name, an
import into its line number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from foi_workflow.errors import InvalidInput

# The largest whole number an event field may hold: PostgreSQL's INTEGER, the type of the
# cached columns such numbers end up in (extended_days, carried_over_to). Anything larger is a
# typo, and beyond 2**53 a JSON reader may silently round it.
MAX_INT = 2**31 - 1
# The largest fee in yuan. Far above any real fee; small enough that the amount, stored as a
# JSON number, keeps its cents exactly.
MAX_AMOUNT = Decimal("1000000000")
FIRST_YEAR, LAST_YEAR = 1990, 2100  # the years a report, a list or a year close may name
MAX_DEPTH = 64  # JSON nesting an import line may have (no event field takes nested values)

# Refused in every text: NUL and the other C0/C1 control characters except tab and line
# breaks, DEL, and lone surrogates (not encodable as UTF-8: the database driver would raise).
_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Refused in a one-line value (a name, a phone number): every control character, the Unicode
# line and paragraph separators, and the bidirectional overrides that make a name display as
# another ("Trojan Source").
_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# An identifier (case or appeal id): as a one-line value, and no whitespace either.
_ID_BAD = re.compile("[\\s\x00-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")

TEXT_KINDS: dict[str, re.Pattern[str]] = {"text": _TEXT_BAD, "line": _LINE_BAD, "id": _ID_BAD}


class BadValue(InvalidInput):
    """A value refused at the boundary. `field` is its name in an event (the CLI option with
    `_` for `-`); `reason` says what is wrong without naming it."""

    def __init__(self, field: str, label: str, reason: str, *, event: str = "") -> None:
        self.field = field
        self.label = label
        self.reason = reason
        named = f"{label}（{field}）" if label != field else field
        super().__init__(f"{event}：{named}{reason}" if event else f"{named}{reason}")


def shown(value: Any) -> str:
    """A value as a refusal may quote it: short, on one line, never a nested structure."""
    if isinstance(value, dict | list | tuple):
        return f"（{'对象' if isinstance(value, dict) else '列表'}）"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _describe(char: str) -> str:
    return "换行" if char in "\r\n\u2028\u2029" else f"控制字符 U+{ord(char):04X}"


def clean_text(name: str, label: str, value: Any, kind: str = "text") -> str:
    """A text value, trimmed: a string, not blank, without the characters `kind` refuses."""
    if not isinstance(value, str):
        raise BadValue(name, label, f"应为文字，而不是 {shown(value)}")
    bad = TEXT_KINDS[kind].search(value)
    if bad is not None:
        char = bad.group()
        what = "空白" if char.isspace() and char not in "\r\n" else _describe(char)
        raise BadValue(name, label, f"不能含有{what}")
    text: str = value.strip()
    if not text:
        raise BadValue(name, label, "不能为空")
    return text


def clean_int(name: str, label: str, value: Any) -> int:
    """A whole number within ±MAX_INT: an int, a float without a fraction, or decimal digits."""
    if isinstance(value, bool):
        raise BadValue(name, label, "应为整数")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():  # also NaN and infinities
            raise BadValue(name, label, f"应为整数，而不是 {shown(value)}")
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,12}\s*", value):
        number = int(value)
    else:
        raise BadValue(name, label, f"应为整数，而不是 {shown(value)}")
    if not -MAX_INT <= number <= MAX_INT:
        raise BadValue(name, label, f"超出范围（绝对值不超过 {MAX_INT}）")
    return number


def clean_year(name: str, label: str, value: Any) -> int:
    """A calendar year the product deals with."""
    year = clean_int(name, label, value)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadValue(name, label, f"超出范围：{year}（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）")
    return year


def clean_amount(name: str, label: str, value: Any) -> int | float:
    """An amount in yuan: at least 0, at most MAX_AMOUNT, at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadValue(name, label, f"应为金额（元），而不是 {shown(value)}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise BadValue(name, label, f"应为金额（元），而不是 {shown(value)}") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT:
        raise BadValue(name, label, f"应为 0 至 {MAX_AMOUNT} 元之间的金额")
    if amount != amount.quantize(Decimal("0.01")):
        raise BadValue(name, label, "最多两位小数")
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# --------------------------------------------------------------------------- lengths


@dataclass(frozen=True)
class Limits:
    """The longest value of each column, by table (from the table declarations). An event's
    fields are checked against the columns of the same name of the row they end up in."""

    case: Mapping[str, int] = field(default_factory=dict)  # foi_case
    event: Mapping[str, int] = field(default_factory=dict)
    appeal: Mapping[str, int] = field(default_factory=dict)

    def check(self, columns: Mapping[str, int], name: str, label: str, value: Any, column: str = "") -> None:
        limit = columns.get(column or name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise BadValue(name, label, f"过长：{len(value)} 个字符，最多 {limit} 个")

    def check_case_data(self, data: Mapping[str, Any], labels: Mapping[str, str]) -> None:
        # Inline: an import checks every field of hundreds of thousands of lines.
        limits = self.case
        for name, value in data.items():
            limit = limits.get(name)
            if limit is not None and value.__class__ is str and len(value) > limit:
                self.check(limits, name, labels.get(name, name), value)

    def check_appeal_data(self, data: Mapping[str, Any], labels: Mapping[str, str]) -> None:
        for name, value in data.items():
            # An appeal's `case` is stored as its case_id.
            self.check(self.appeal, name, labels.get(name, name), value, "case_id" if name == "case" else "")


def clean_id(name: str, label: str, value: Any, limit: int | None) -> str:
    """A case or appeal id: text without whitespace or control characters, within `limit`."""
    text = clean_text(name, label, value, "id")
    if limit is not None and len(text) > limit:
        raise BadValue(name, label, f"过长：{len(text)} 个字符，最多 {limit} 个")
    return text


def clean_by(value: Any, limits: Limits) -> str:
    """Who recorded an event (`--by` / the `by` field)."""
    text = clean_text("by", "记录人", value, "line")
    limits.check(limits.event, "by", "记录人", text)
    return text


def clean_amend_reason(value: Any, limits: Limits) -> str | None:
    """Why an event is recorded in a closed year: None when not given, else non-blank text."""
    if value is None:
        return None
    text = clean_text("amend_reason", "更正理由", value)
    limits.check(limits.event, "amend_reason", "更正理由", text)
    return text


# --------------------------------------------------------------------------- files


def json_depth_ok(line: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the brackets of a JSON text nest at most `limit` deep (a cheap over-estimate:
    brackets inside strings count too, so only lines with many brackets are looked at)."""
    if line.count("[") + line.count("{") <= limit:
        return True
    depth = deepest = 0
    in_string = escaped = False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest <= limit


def utf8_lines(raw_lines: Iterable[bytes]) -> Iterator[str]:
    """Lines of a file read as bytes, decoded as UTF-8. Bytes that are not UTF-8 are kept as
    lone surrogates (`surrogateescape`), for `check_utf8` to refuse with the line's number in
    its turn: the first bad line of a file is the one reported, whatever is wrong with it."""
    for raw in raw_lines:
        yield raw.decode("utf-8", "surrogateescape")


def check_utf8(line: str) -> None:
    """Refuse a line that held bytes that are not UTF-8 (see `utf8_lines`)."""
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"不是有效的 UTF-8 文本（第 {exc.start + 1} 个字符处）") from None


# --------------------------------------------------------------------------- on the way out

# What makes a spreadsheet read a cell as a formula (CSV injection): `=HYPERLINK(...)` in an
# applicant's name must stay text when a caseworker opens the list in Excel or WPS.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_LEADS)


def spreadsheet_text(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs: a text that would start a formula gets a leading
    apostrophe (OWASP's advice); every other value is returned unchanged."""
    return "'" + value if looks_like_formula(value) else value
