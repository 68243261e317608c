"""The columns of the application ledger (登记台账, SPEC §14): the ones `foi ledger export`
writes, in SPEC order, and how `foi ledger import` recognises a column under the many
wordings real ledgers use (收到日期 / 申请日期 / 受理日期 / 收文日期 …) by keywords rather than
exact strings. Pure: header texts in, column keys out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class LedgerColumn:
    """One column: its key (the event-file name where there is one), the wording the export
    writes, and the keywords that recognise it in a ledger's header.

    A header matches when it contains one word of every group in `all_of` and none of
    `none_of`; columns are tried in `COLUMNS` order, so the narrower ones come first."""

    key: str
    header: str
    all_of: tuple[tuple[str, ...], ...]
    none_of: tuple[str, ...] = ()
    exported: bool = True  # one of SPEC §14's columns (the others are read on import only)
    derived: bool = False  # computed by the program: written on export, ignored on import

    def matches(self, text: str) -> bool:
        return all(any(word in text for word in group) for group in self.all_of) and not any(
            word in text for word in self.none_of
        )


_DATE = ("日期", "时间", "日")
_CORRECTION = ("补正", "补充材料", "更正")

# The order of SPEC §14 for the exported columns; the fee and correction-period columns after
# them are written only when a case of the year has such a value (see `services.ledger_export`).
COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("case", "登记编号", (("编号", "登记号", "受理号", "申请号", "案号"),), ("文号", "序号", "证件")),
    # The correction dates before the receipt date: 补正收到日期 also says 收到 … 日期.
    LedgerColumn("correction_requested_on", "补正告知日期", (_CORRECTION, ("告知", "通知", "发出", "要求"), _DATE),
                 ("期限",)),
    LedgerColumn("correction_received_on", "补正收到日期",
                 (_CORRECTION, ("收到", "收回", "提交", "完成", "回复"), _DATE),
                 ("期限",)),
    LedgerColumn("fee_notice_on", "收费通知日期", (("收费", "缴费通知", "计费"), _DATE), ("期限",), exported=False),
    LedgerColumn("fee_paid_on", "缴费日期", (("缴费", "缴纳", "交费", "付费"), _DATE), ("期限", "通知"),
                 exported=False),
    LedgerColumn("received_on", "收到日期",
                 (("收到", "收文", "受理", "申请", "登记", "来件", "接收", "来文", "收件"), _DATE),
                 ("答复", "办结", "期限", "截止", "补正", "延"),
                 ),
    LedgerColumn("applicant_type", "申请人类型", (("类型", "类别", "性质", "身份", "主体"),),
                 ("结果", "答复", "方式", "渠道", "证")),
    LedgerColumn("contact", "联系方式", (("联系方式", "联系地址", "通讯地址", "通信地址", "地址", "邮箱", "邮件"),),
                 exported=False),
    LedgerColumn("phone", "联系电话", (("电话", "手机"),), exported=False),
    LedgerColumn("applicant", "申请人", (("申请人", "申请单位", "申请者", "申请主体"),),
                 ("证件", "身份证", "代理")),
    LedgerColumn("channel", "申请方式", (("方式", "渠道", "途径", "形式"),), ("答复", "获取", "提供", "计费", "联系")),
    LedgerColumn("request", "申请内容", (("内容", "事项", "所需信息", "申请公开的", "信息名称", "信息描述"),),
                 ("补正", "结果")),
    LedgerColumn("extended_days", "延期天数", (("延期", "延长"),), ("是否", "日期", "告知")),
    LedgerColumn("reply_due", "答复期限", (("期限", "截止"),), ("补正", "缴费", "延"), derived=True),
    LedgerColumn("decided_on", "答复日期", (("答复", "办结", "回复", "办理完成", "办复", "决定", "处理"), _DATE)),
    LedgerColumn("outcome", "处理结果", (("结果", "答复类型", "答复情况", "答复意见", "办理情况", "处理情况", "结论"),),
                 ("是否",)),
    LedgerColumn("on_time", "是否按期", (("按期", "按时", "超期", "逾期", "及时"),), derived=True),
    LedgerColumn("caseworker", "经办人", (("经办", "承办", "办理人", "责任人", "处理人"),)),
    LedgerColumn("state", "状态", (("状态",),), derived=True),
    LedgerColumn("fee_amount", "收费金额", (("金额", "费用"),), ("日期", "时间"), exported=False),
    LedgerColumn("fee_basis", "计费方式", (("计费", "收费方式", "收费标准"),), ("日期", "时间", "金额"),
                 exported=False),
    LedgerColumn("fee_quantity", "收费数量", (("数量", "件数", "页数"),), exported=False),
    LedgerColumn("correction_period", "补正期限", (_CORRECTION, ("期限",)), exported=False),
    LedgerColumn("correction_items", "补正事项", (_CORRECTION, ("事项", "内容")), exported=False),
)
BY_KEY: Mapping[str, LedgerColumn] = {c.key: c for c in COLUMNS}
# What `foi ledger export` writes, in SPEC §14's order.
EXPORT_KEYS: tuple[str, ...] = (
    "case", "received_on", "applicant", "applicant_type", "channel", "request", "correction_requested_on",
    "correction_received_on", "extended_days", "decided_on", "reply_due", "outcome", "on_time", "caseworker", "state",
)
# Written after them when some case of the year has them (a ledger has no other place for them).
OPTIONAL_EXPORT_KEYS: tuple[str, ...] = (
    "correction_period", "fee_notice_on", "fee_amount", "fee_basis", "fee_quantity", "fee_paid_on",
)
REQUIRED_KEYS: tuple[str, ...] = ("received_on", "applicant_type")
DATE_KEYS = frozenset(
    {"received_on", "correction_requested_on", "correction_received_on", "decided_on", "fee_notice_on", "fee_paid_on"}
)


def normalize_header(text: str) -> str:
    """A header as compared: full-width forms folded (NFKC), spaces, line breaks and the marks
    some ledgers add (*, ：) removed."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "*:：#")


def match_header(text: str) -> str | None:
    """The key of the column a header text names, or None."""
    norm = normalize_header(text)
    if not norm:
        return None
    for column in COLUMNS:
        if column.matches(norm):
            return column.key
    return None


def resolve_key(name: str) -> str | None:
    """A column named in a mapping file: its key, or its export wording (收到日期)."""
    if name in BY_KEY:
        return name
    norm = normalize_header(name)
    return next((c.key for c in COLUMNS if c.header == norm), None)


@dataclass(frozen=True)
class HeaderMatch:
    """Where the header row is (0-based index into the rows given) and which column index
    holds which key."""

    row: int
    columns: Mapping[int, str]
    labels: Mapping[int, str]  # the header text of each matched column, as the ledger says it

    @cached_property
    def index(self) -> Mapping[str, int]:
        """The column index of each key."""
        return {key: i for i, key in self.columns.items()}

    @cached_property
    def places(self) -> Mapping[str, str]:
        """Each key's column as a refusal names it: 处理结果（L列）."""
        return {key: f"{self.labels[i]}（{column_letter(i)}列）" for i, key in self.columns.items()}


def match_header_row(cells: Sequence[str], explicit: Mapping[str, str], above: Sequence[str] = ()
                     ) -> tuple[dict[int, str], dict[int, str]]:
    """Which key each header cell names: first the mapping file's names (`explicit`: key ->
    the ledger's header text), then the keywords, then for a cell still unmatched the keywords
    of the group heading above it (补正情况 over 告知日期 / 收到日期); a key is taken by its
    first column only."""
    keys: dict[int, str] = {}
    labels: dict[int, str] = {}
    wanted = {normalize_header(text): key for key, text in explicit.items()}
    taken = set(explicit)

    def take(i: int, key: str | None, label: str) -> None:
        if key is not None and key not in taken and i not in keys:
            keys[i], labels[i] = key, label
            taken.add(key)

    for i, text in enumerate(cells):
        key = wanted.get(normalize_header(text))
        if key is not None:
            keys[i], labels[i] = key, text.strip()
    for i, text in enumerate(cells):
        take(i, match_header(text), text.strip())
    for i, text in enumerate(cells):
        group = above[i].strip() if i < len(above) else ""
        if group and group != text.strip():
            take(i, match_header(group + text), f"{group}/{text.strip()}")
    return keys, labels


HEADER_SEARCH_ROWS = 20  # title rows and notes above the header: real ledgers have a few


def _group_row(rows: Sequence[Sequence[str]], index: int) -> Sequence[str]:
    """The row above `index` when it can be a row of group headings: not a title (a title
    merged across the table repeats one text in every cell, or stands alone in one)."""
    if index == 0:
        return ()
    above = rows[index - 1]
    return above if len({c.strip() for c in above if c.strip()}) >= 2 else ()


def find_header(rows: Sequence[Sequence[str]], explicit: Mapping[str, str], header_row: int | None = None
                ) -> HeaderMatch | None:
    """The header row: the given one (0-based), else among the first rows the one naming the
    most columns, at least the two every row needs (receipt date, applicant type)."""
    candidates = [header_row] if header_row is not None else range(min(len(rows), HEADER_SEARCH_ROWS))
    best: HeaderMatch | None = None
    for index in candidates:
        if index >= len(rows):
            continue
        keys, labels = match_header_row(rows[index], explicit, _group_row(rows, index))
        if (best is None or len(keys) > len(best.columns)) and (
            header_row is not None or all(k in keys.values() for k in REQUIRED_KEYS)
        ):
            best = HeaderMatch(index, keys, labels)
    return best


def column_letter(index: int) -> str:
    """Excel's name of the 0-based column `index` (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
