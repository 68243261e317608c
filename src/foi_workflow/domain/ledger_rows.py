"""The rows of an application ledger (登记台账, SPEC §14) read into cases, and each case into
the events the workflow replays: receive; request_correction / receive_correction where
those dates are given; extend where days are given; fee_notice / fee_paid where a fee was
charged; and decide, withdraw, lapse_correction or lapse_fee for the 处理结果 on 答复日期.

Pure: a table of cell values in, `LedgerCase`s (or every problem found, each with its row,
column and value) out. Reading the file and replaying the events are the services' part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from foi_workflow.domain import ledger_values as values
from foi_workflow.domain.ledger_columns import BY_KEY, HeaderMatch, column_letter
from foi_workflow.domain.ledger_values import BadValue, PhraseMatcher, is_blank, unguard_formula
from foi_workflow.domain.vocabulary import Outcome

NOT_STATED = "（台账未载明）"  # a text the workflow requires that the ledger does not give
LEDGER_APPROVER = "（台账未载明）"  # an extension's approver, which ledgers do not record
# A row whose first filled cell starts so is a note under the table, not an application.
FOOTER_WORDS = ("合计", "总计", "小计", "共计", "填表", "制表", "审核", "负责人", "备注", "说明", "注:", "注：")


@dataclass(frozen=True)
class Vocabularies:
    """The matchers of one import: the built-in wordings and the mapping file's additions."""

    outcomes: PhraseMatcher = values.OUTCOMES
    applicant_types: PhraseMatcher = values.APPLICANT_TYPES
    channels: PhraseMatcher = values.CHANNELS
    fee_bases: PhraseMatcher = values.FEE_BASES
    default_channel: str = "online"


@dataclass(frozen=True)
class Problem:
    """One cell that cannot be read: where, what it says, why."""

    row: int  # the spreadsheet's own row number (1-based, title rows included)
    column: str  # the ledger's header text
    letter: str  # the spreadsheet column (A, B, …)
    value: str
    reason: str


Step = tuple[str, date, dict[str, Any], str]  # (event, on, data, the key of the column it comes from)


@dataclass
class LedgerCase:
    """One row of the ledger, read: everything the events need."""

    row: int
    case_id: str | None
    received_on: date
    applicant_type: str
    applicant: str = NOT_STATED
    channel: str = "online"
    request: str = NOT_STATED
    caseworker: str | None = None
    contact: str | None = None
    phone: str | None = None
    correction_requested_on: date | None = None
    correction_received_on: date | None = None
    correction_period: int | None = None
    correction_items: str = NOT_STATED
    extended_days: int = 0
    fee_notice_on: date | None = None
    fee_amount: float | int | None = None
    fee_basis: str | None = None
    fee_quantity: int | None = None
    fee_paid_on: date | None = None
    decided_on: date | None = None
    outcome: str | None = None
    outcome_text: str = ""
    withdrawn: bool = False
    columns: Mapping[str, str] = field(default_factory=dict)  # key -> "处理结果（L列）", for refusals

    def events(self) -> list[Step]:
        """The case's events in the order they took effect: (event, on, data, the column whose
        date it is). An extension is dated when the reply clock (re)started: the ledger gives
        its days, not its date, and an extension is allowed any day up to the reply due date.

        The ledger does not say whether the correction or the fee notice came first: the pause
        that began first goes first (on one day, the one that ended first). Within each the
        workflow's order stands, so a date out of order is refused as such."""
        receive: dict[str, Any] = {"applicant": self.applicant, "applicant_type": self.applicant_type,
                                   "channel": self.channel, "request": self.request}
        for key in ("caseworker", "contact", "phone"):
            if getattr(self, key):
                receive[key] = getattr(self, key)
        out: list[Step] = [("receive", self.received_on, receive, "received_on")]
        extend: list[Step] = []
        if self.extended_days:
            restart = self.correction_received_on or self.received_on
            days = {"days": self.extended_days, "approved_by": LEDGER_APPROVER}
            extend = [("extend", restart, days, "extended_days")]
        if self.correction_received_on is None:
            out += extend
        pauses: list[tuple[tuple[date, date], list[Step]]] = []
        if self.correction_requested_on is not None:
            data: dict[str, Any] = {"items": self.correction_items}
            if self.correction_period is not None:
                data["period"] = self.correction_period
            steps: list[Step] = [("request_correction", self.correction_requested_on, data, "correction_requested_on")]
            if self.correction_received_on is not None:
                steps += [("receive_correction", self.correction_received_on, {}, "correction_received_on"), *extend]
            pauses.append(((self.correction_requested_on, self.correction_received_on or date.max), steps))
        if self.fee_notice_on is not None:
            fee = {"amount": self.fee_amount, "basis": self.fee_basis, "quantity": self.fee_quantity}
            steps = [("fee_notice", self.fee_notice_on, fee, "fee_notice_on")]
            if self.fee_paid_on is not None:
                steps.append(("fee_paid", self.fee_paid_on, {}, "fee_paid_on"))
            pauses.append(((self.fee_notice_on, self.fee_paid_on or date.max), steps))
        for _, steps in sorted(pauses, key=lambda pause: pause[0]):
            out += steps
        if self.decided_on is not None and self.outcome is not None:
            event, final = self._final()
            out.append((event, self.decided_on, final, "decided_on"))
        return out

    def _final(self) -> tuple[str, dict[str, Any]]:
        assert self.outcome is not None
        if self.outcome == Outcome.OTHER_CORRECTION_LAPSED.value:
            return "lapse_correction", {}
        if self.outcome == Outcome.OTHER_FEE_UNPAID.value:
            return "lapse_fee", {}
        # `withdraw` ends a case in any open state; `decide` only a case whose clock runs.
        if self.withdrawn or (self.outcome == Outcome.OTHER_OTHER.value and self._awaiting_applicant()):
            return "withdraw", {"reason": self.outcome_text or NOT_STATED}
        data: dict[str, Any] = {"outcome": self.outcome}
        if self.outcome_text and values.normalize_text(self.outcome_text) != values.normalize_text(
            values.ledger_outcome_text(Outcome(self.outcome))
        ):
            data["note"] = self.outcome_text  # the ledger's own words, kept with the decision
        return "decide", data

    def _awaiting_applicant(self) -> bool:
        corrected = self.correction_requested_on is None or self.correction_received_on is not None
        paid = self.fee_notice_on is None or self.fee_paid_on is not None
        return not (corrected and paid)


class _Row:
    """One spreadsheet row with its header, collecting what cannot be read."""

    def __init__(self, number: int, cells: Sequence[Any], header: HeaderMatch, problems: list[Problem]) -> None:
        self.number = number
        self.cells = cells
        self.header = header
        self.problems = problems
        self.index = header.index

    def raw(self, key: str) -> Any:
        i = self.index.get(key)
        if i is None or i >= len(self.cells):
            return None
        value = self.cells[i]
        return unguard_formula(value) if isinstance(value, str) else value

    def fail(self, key: str, reason: str, value: Any = None) -> None:
        i = self.index.get(key)
        label = self.header.labels[i] if i is not None else BY_KEY[key].header
        letter = column_letter(i) if i is not None else ""
        self.problems.append(Problem(self.number, label, letter, _shown(value), reason))

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, float) and value == int(value):
            value = int(value)  # an id typed as a number: 12.0 is "12"
        text = str(value).strip()
        return text or None

    def read(self, key: str, parse: Callable[[Any], Any]) -> Any:
        value = self.raw(key)
        try:
            return parse(value)
        except BadValue as exc:
            self.fail(key, str(exc), value)
            return None

    def code(self, key: str, matcher: PhraseMatcher, what: str) -> str | None:
        text = self.text(key)
        if text is None or is_blank(text):
            return None
        code = matcher.match(text)
        if code is None:
            self.fail(key, f"无法对应到{what}", text)
        return code


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_ledger(rows: Sequence[Sequence[Any]], header: HeaderMatch, vocab: Vocabularies,
                limits: Mapping[str, int]) -> tuple[list[LedgerCase], list[Problem]]:
    """Every application row under the header as a `LedgerCase`, and every problem found in any
    row (an import goes ahead only when there is none). Blank rows and the notes under the
    table (合计, 填表人 …) are passed over. rows[0] is the spreadsheet's row 1; `limits`: the
    longest text the database keeps for a column key."""
    cases: list[LedgerCase] = []
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    for offset in range(header.row + 1, len(rows)):
        cells = rows[offset]
        filled = [c for c in cells if not (c is None or (isinstance(c, str) and not c.strip()))]
        if not filled:
            continue
        row = _Row(offset + 1, cells, header, problems)
        before = len(problems)
        received_on = row.read("received_on", values.parse_date)
        if received_on is None and str(filled[0]).strip().startswith(FOOTER_WORDS):
            del problems[before:]
            continue
        if received_on is None and len(problems) == before:
            row.fail("received_on", "缺少收到日期")
        case = _read_case(row, received_on, vocab, before, limits)
        if case is None:
            continue
        if case.case_id is not None:
            earlier = seen_ids.setdefault(case.case_id, row.number)
            if earlier != row.number:
                row.fail("case", f"登记编号重复（与第 {earlier} 行相同）", case.case_id)
        cases.append(case)
    return cases, problems


def _read_case(row: _Row, received_on: date | None, vocab: Vocabularies, before: int, limits: Mapping[str, int]
               ) -> LedgerCase | None:
    for key, limit in limits.items():
        text = row.text(key)
        if text is not None and len(text) > limit:
            row.fail(key, f"过长（最多 {limit} 个字符）", text[:20] + "…")
    applicant_type = row.code("applicant_type", vocab.applicant_types, "申请人类型（自然人、商业企业、科研机构、"
                                                                       "社会公益组织、法律服务机构、其他）")
    if applicant_type is None and is_blank(row.text("applicant_type")):
        row.fail("applicant_type", "缺少申请人类型", row.text("applicant_type"))
    channel = row.code("channel", vocab.channels, "申请方式（当面提交、邮寄、互联网、传真）")
    outcome_text = row.text("outcome") or ""
    outcome = row.code("outcome", vocab.outcomes, "年度报告的办理结果")
    dates = {key: row.read(key, values.parse_date) for key in
             ("correction_requested_on", "correction_received_on", "decided_on", "fee_notice_on", "fee_paid_on")}
    extended = row.read("extended_days", values.parse_days) or 0
    period = row.read("correction_period", values.parse_days) or None
    fee = _read_fee(row, dates["fee_notice_on"], vocab)
    if outcome is not None and dates["decided_on"] is None and not row.problems[before:]:
        row.fail("decided_on", f"处理结果为“{outcome_text}”，但没有答复日期")
    if dates["decided_on"] is not None and is_blank(outcome_text):
        row.fail("outcome", f"有答复日期 {dates['decided_on'].isoformat()}，但没有处理结果")
    if dates["correction_received_on"] is not None and dates["correction_requested_on"] is None:
        row.fail("correction_requested_on", "有补正收到日期，但没有补正告知日期")
    # A lapse ends a period the ledger must show was started.
    if outcome == Outcome.OTHER_CORRECTION_LAPSED.value and dates["correction_requested_on"] is None:
        row.fail("correction_requested_on", f"处理结果为“{outcome_text}”，须填写补正告知日期")
    if outcome == Outcome.OTHER_FEE_UNPAID.value and dates["fee_notice_on"] is None:
        row.fail("fee_notice_on", f"处理结果为“{outcome_text}”，须填写收费通知日期、收费金额、计费方式和收费数量")
    if len(row.problems) > before:
        return None
    # Without either there is a problem above: no row is ever passed over in silence.
    assert received_on is not None and applicant_type is not None
    return LedgerCase(
        row=row.number,
        case_id=row.text("case"),
        received_on=received_on,
        applicant_type=applicant_type,
        applicant=row.text("applicant") or NOT_STATED,
        channel=channel or vocab.default_channel,
        request=row.text("request") or NOT_STATED,
        caseworker=row.text("caseworker"),
        contact=row.text("contact"),
        phone=row.text("phone"),
        correction_requested_on=dates["correction_requested_on"],
        correction_received_on=dates["correction_received_on"],
        correction_period=period,
        correction_items=row.text("correction_items") or NOT_STATED,
        extended_days=extended,
        fee_notice_on=dates["fee_notice_on"],
        fee_paid_on=dates["fee_paid_on"],
        decided_on=dates["decided_on"],
        outcome=outcome,
        outcome_text=outcome_text,
        withdrawn=values.is_withdrawal(outcome_text) and outcome == Outcome.OTHER_OTHER.value,
        columns=row.header.places,
        **fee,
    )


def _read_fee(row: _Row, notice_on: date | None, vocab: Vocabularies) -> dict[str, Any]:
    """The fee notice's amount, basis and quantity, each required once a notice date is given."""
    if notice_on is None:
        return {}
    amount = row.read("fee_amount", lambda v: None if is_blank(v) else values.parse_amount(v))
    basis = row.code("fee_basis", vocab.fee_bases, "计费方式（按件计收、按量计收）")
    quantity = row.read("fee_quantity", values.parse_days) or None
    for key, value in (("fee_amount", amount), ("fee_basis", basis), ("fee_quantity", quantity)):
        if value is None and is_blank(row.text(key)):
            row.fail(key, f"有收费通知日期，但缺少{BY_KEY[key].header}")
    return {"fee_amount": amount, "fee_basis": basis, "fee_quantity": quantity}


def describe_problems(problems: Sequence[Problem], limit_rows: int = 8) -> str:
    """All problems on one line: the same value in the same column with the same reason is
    said once, with its rows (a ledger that writes one unknown phrase 200 times gets one entry)."""
    grouped: dict[tuple[str, str, str, str], list[int]] = {}
    for p in problems:
        grouped.setdefault((p.column, p.letter, p.value, p.reason), []).append(p.row)
    parts = []
    for (column, letter, value, reason), rows in grouped.items():
        shown = "、".join(str(r) for r in rows[:limit_rows]) + (f" 等 {len(rows)}" if len(rows) > limit_rows else "")
        where = f"{column}（{letter}列）" if letter else column
        said = f"“{value}”" if value else "（空）"
        parts.append(f"第 {shown} 行 {where}{said}：{reason}")
    return "；".join(parts)
