"""The words of SPEC §2 and §3: applicant types, channels, states, outcomes, appeal kinds.

Every other module names these through the enums here, never as bare strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Self


class Labelled(StrEnum):
    """A StrEnum whose members are declared with their Chinese label, `CODE = "code", "标签"`:
    the code and the word the user reads stand on one line, never in a second table."""

    _value_: str
    label: str

    # Called once per member as the class is made. Looking a member up, `State("received")`,
    # does not come here; `label` has a default only so that type checkers accept that call.
    def __new__(cls, value: str, label: str = "") -> Self:
        if not label:
            raise TypeError(f"{cls.__name__} member {value!r} needs its label")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def label_of(cls, value: str) -> str:
        """The label of the member `value`, or `value` itself when it is none (an old row)."""
        try:
            return cls(value).label
        except ValueError:
            return value


class ApplicantType(Labelled):
    """The columns of report table 3, in order."""

    NATURAL_PERSON = "natural_person", "自然人"
    COMMERCIAL = "commercial", "商业企业"
    RESEARCH = "research", "科研机构"
    SOCIAL_ORG = "social_org", "社会公益组织"
    LEGAL_SERVICE = "legal_service", "法律服务机构"
    OTHER = "other", "其他"


class Channel(Labelled):
    """How the application arrived; decides the receipt date (Art. 31)."""

    IN_PERSON = "in_person", "当面提交"
    POST = "post", "邮寄"
    ONLINE = "online", "互联网"
    FAX = "fax", "传真"


class State(Labelled):
    """States of the disclosure workflow (SPEC §3)."""

    RECEIVED = "received", "办理中"
    CORRECTION_REQUESTED = "correction_requested", "补正中"
    CONSULTATION = "consultation", "征求意见中"
    FEE_NOTICE = "fee_notice", "待缴费"
    DECIDED = "decided", "已办结"


class Outcome(StrEnum):
    """The rows of section 三 of report table 3, in order."""

    GRANTED = "granted"
    PARTIALLY_GRANTED = "partially_granted"
    WITHHELD_STATE_SECRET = "withheld.state_secret"
    WITHHELD_PROHIBITED_BY_LAW = "withheld.prohibited_by_law"
    WITHHELD_THREE_SAFETIES_ONE_STABILITY = "withheld.three_safeties_one_stability"
    WITHHELD_THIRD_PARTY_RIGHTS = "withheld.third_party_rights"
    WITHHELD_INTERNAL_AFFAIRS = "withheld.internal_affairs"
    WITHHELD_PROCESS_INFORMATION = "withheld.process_information"
    WITHHELD_ENFORCEMENT_CASE_FILE = "withheld.enforcement_case_file"
    WITHHELD_ADMINISTRATIVE_INQUIRY = "withheld.administrative_inquiry"
    UNAVAILABLE_NOT_HELD = "unavailable.not_held"
    UNAVAILABLE_NEEDS_CREATION = "unavailable.needs_creation"
    UNAVAILABLE_STILL_UNCLEAR = "unavailable.still_unclear"
    NOT_PROCESSED_PETITION_OR_COMPLAINT = "not_processed.petition_or_complaint"
    NOT_PROCESSED_DUPLICATE = "not_processed.duplicate"
    NOT_PROCESSED_PUBLICATION = "not_processed.publication"
    NOT_PROCESSED_EXCESSIVE = "not_processed.excessive"
    NOT_PROCESSED_CONFIRM_OR_REISSUE = "not_processed.confirm_or_reissue"
    OTHER_CORRECTION_LAPSED = "other.correction_lapsed"
    OTHER_FEE_UNPAID = "other.fee_unpaid"
    OTHER_OTHER = "other.other"

    @property
    def info(self) -> OutcomeInfo:
        return OUTCOME_INFO[self]

    @property
    def short_label(self) -> str:
        """A few characters for a list's column (the report's wording is for the report)."""
        return OUTCOME_SHORT[self]

    @property
    def is_refusal(self) -> bool:
        """A refusal to disclose: review must come first from 2024-01-01 (行政复议法 2023 第二十三条).
        The Art. 36(7) referral to a registry's own procedure (行政查询) is counted under 不予公开
        in the report but refuses nothing: the applicant is told where to obtain it."""
        if self is Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY:
            return False
        return self is Outcome.PARTIALLY_GRANTED or self.value.startswith("withheld.")

    @property
    def is_lapse(self) -> bool:
        return self in LAPSE_OUTCOMES


@dataclass(frozen=True)
class OutcomeInfo:
    """Where an outcome sits in report table 3 and which article its notice cites."""

    section: str  # "(一)" … "(六)"
    section_label: str  # 予以公开, 不予公开, …
    item: int | None  # 1-based item inside the section, None for (一) and (二)
    label: str
    legal_basis: str
    needs_explanation: bool = False  # no article names the case expressly (SPEC §2)

    @property
    def row(self) -> str:
        return self.section if self.item is None else f"{self.section}{self.item}"


OUTCOME_INFO: dict[Outcome, OutcomeInfo] = {
    Outcome.GRANTED: OutcomeInfo("(一)", "予以公开", None, "予以公开", "第三十六条第（一）项、第（二）项"),
    Outcome.PARTIALLY_GRANTED: OutcomeInfo(
        "(二)", "部分公开", None, "部分公开（区分处理的，只计这一情形，不计其他情形）",
        "第三十七条、第三十六条第（三）项",
    ),
    Outcome.WITHHELD_STATE_SECRET: OutcomeInfo("(三)", "不予公开", 1, "属于国家秘密", "第十四条"),
    Outcome.WITHHELD_PROHIBITED_BY_LAW: OutcomeInfo(
        "(三)", "不予公开", 2, "其他法律行政法规禁止公开", "第十四条"
    ),
    Outcome.WITHHELD_THREE_SAFETIES_ONE_STABILITY: OutcomeInfo(
        "(三)", "不予公开", 3, "危及“三安全一稳定”", "第十四条"
    ),
    Outcome.WITHHELD_THIRD_PARTY_RIGHTS: OutcomeInfo(
        "(三)", "不予公开", 4, "保护第三方合法权益", "第十五条、第三十二条"
    ),
    Outcome.WITHHELD_INTERNAL_AFFAIRS: OutcomeInfo(
        "(三)", "不予公开", 5, "属于三类内部事务信息", "第十六条第一款"
    ),
    Outcome.WITHHELD_PROCESS_INFORMATION: OutcomeInfo(
        "(三)", "不予公开", 6, "属于四类过程性信息", "第十六条第二款"
    ),
    Outcome.WITHHELD_ENFORCEMENT_CASE_FILE: OutcomeInfo(
        "(三)", "不予公开", 7, "属于行政执法案卷", "第十六条第二款"
    ),
    Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY: OutcomeInfo(
        "(三)", "不予公开", 8, "属于行政查询事项", "第三十六条第（七）项", needs_explanation=True
    ),
    Outcome.UNAVAILABLE_NOT_HELD: OutcomeInfo(
        "(四)", "无法提供", 1, "本机关不掌握相关政府信息", "第三十六条第（四）项、第（五）项"
    ),
    Outcome.UNAVAILABLE_NEEDS_CREATION: OutcomeInfo(
        "(四)", "无法提供", 2, "没有现成信息需要另行制作", "第三十八条"
    ),
    Outcome.UNAVAILABLE_STILL_UNCLEAR: OutcomeInfo(
        "(四)", "无法提供", 3, "补正后申请内容仍不明确", "第二十九条第二款第（二）项、第三十条",
        needs_explanation=True,
    ),
    Outcome.NOT_PROCESSED_PETITION_OR_COMPLAINT: OutcomeInfo(
        "(五)", "不予处理", 1, "信访举报投诉类申请", "第三十九条第一款"
    ),
    Outcome.NOT_PROCESSED_DUPLICATE: OutcomeInfo("(五)", "不予处理", 2, "重复申请", "第三十六条第（六）项"),
    Outcome.NOT_PROCESSED_PUBLICATION: OutcomeInfo(
        "(五)", "不予处理", 3, "要求提供公开出版物", "第三十九条第二款"
    ),
    Outcome.NOT_PROCESSED_EXCESSIVE: OutcomeInfo(
        "(五)", "不予处理", 4, "无正当理由大量反复申请", "第三十五条"
    ),
    Outcome.NOT_PROCESSED_CONFIRM_OR_REISSUE: OutcomeInfo(
        "(五)", "不予处理", 5, "要求行政机关确认或重新出具已获取信息", "第二条、第三十八条",
        needs_explanation=True,
    ),
    Outcome.OTHER_CORRECTION_LAPSED: OutcomeInfo(
        "(六)", "其他处理", 1,
        "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "第三十条",
    ),
    Outcome.OTHER_FEE_UNPAID: OutcomeInfo(
        "(六)", "其他处理", 2,
        "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "第四十二条、《政府信息公开信息处理费管理办法》第六条",
    ),
    Outcome.OTHER_OTHER: OutcomeInfo("(六)", "其他处理", 3, "其他", ""),
}

# The outcome as a caseworker says it in a ledger or a list: section, then the item in brief.
OUTCOME_SHORT: dict[Outcome, str] = {
    Outcome.GRANTED: "予以公开",
    Outcome.PARTIALLY_GRANTED: "部分公开",
    Outcome.WITHHELD_STATE_SECRET: "不予公开·国家秘密",
    Outcome.WITHHELD_PROHIBITED_BY_LAW: "不予公开·法律禁止",
    Outcome.WITHHELD_THREE_SAFETIES_ONE_STABILITY: "不予公开·三安全一稳定",
    Outcome.WITHHELD_THIRD_PARTY_RIGHTS: "不予公开·第三方权益",
    Outcome.WITHHELD_INTERNAL_AFFAIRS: "不予公开·内部事务",
    Outcome.WITHHELD_PROCESS_INFORMATION: "不予公开·过程性信息",
    Outcome.WITHHELD_ENFORCEMENT_CASE_FILE: "不予公开·行政执法案卷",
    Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY: "不予公开·行政查询事项",
    Outcome.UNAVAILABLE_NOT_HELD: "无法提供·本机关不掌握",
    Outcome.UNAVAILABLE_NEEDS_CREATION: "无法提供·需另行制作",
    Outcome.UNAVAILABLE_STILL_UNCLEAR: "无法提供·补正后仍不明确",
    Outcome.NOT_PROCESSED_PETITION_OR_COMPLAINT: "不予处理·信访举报投诉",
    Outcome.NOT_PROCESSED_DUPLICATE: "不予处理·重复申请",
    Outcome.NOT_PROCESSED_PUBLICATION: "不予处理·公开出版物",
    Outcome.NOT_PROCESSED_EXCESSIVE: "不予处理·大量反复申请",
    Outcome.NOT_PROCESSED_CONFIRM_OR_REISSUE: "不予处理·要求确认或重新出具",
    Outcome.OTHER_CORRECTION_LAPSED: "逾期未补正",
    Outcome.OTHER_FEE_UNPAID: "逾期未缴费",
    Outcome.OTHER_OTHER: "其他处理",
}

LAPSE_OUTCOMES: frozenset[Outcome] = frozenset({Outcome.OTHER_CORRECTION_LAPSED, Outcome.OTHER_FEE_UNPAID})


class ConsultationKind(StrEnum):
    THIRD_PARTY = "third_party"  # Art. 32: silence -> the agency decides
    CO_PRODUCER = "co_producer"  # Art. 34: silence -> agreed


class Opinion(StrEnum):
    AGREE = "agree"
    OBJECT = "object"
    NONE = "none"


class FeeBasis(StrEnum):
    PER_ITEM = "per_item"  # 按件计收
    PER_PAGE = "per_page"  # 按量计收


class AppealKind(Labelled):
    """The three blocks of report table 4, in order."""

    REVIEW = "review", "行政复议"
    LITIGATION_DIRECT = "litigation_direct", "未经复议直接起诉"
    LITIGATION_AFTER_REVIEW = "litigation_after_review", "复议后起诉"


class AppealResult(Labelled):
    """The columns of each block of table 4 (before 尚未审结 and 总计)."""

    UPHELD = "upheld", "结果维持"
    CORRECTED = "corrected", "结果纠正"
    OTHER = "other", "其他结果"


class AppealState(Labelled):
    PENDING = "pending", "尚未审结"
    CONCLUDED = "concluded", "已审结"


class Deadline(Labelled):
    """The deadlines of SPEC §4 a case can have in force, each a cached column of the case."""

    REPLY_DUE = "reply_due", "答复期限"
    CORRECTION_NOTICE_DUE = "correction_notice_due", "补正告知期限"
    CORRECTION_DUE = "correction_due", "补正期限"
    CONSULTATION_DUE = "consultation_due", "征求意见期限"
    FEE_DUE = "fee_due", "缴费期限"


# The period that runs in each open state: its end is the date a list shows for the case.
RUNNING_DEADLINE: dict[State, Deadline] = {
    State.RECEIVED: Deadline.REPLY_DUE,
    State.CORRECTION_REQUESTED: Deadline.CORRECTION_DUE,
    State.CONSULTATION: Deadline.CONSULTATION_DUE,
    State.FEE_NOTICE: Deadline.FEE_DUE,
}


class NoticeKind(Labelled):
    """The letters of SPEC §6."""

    ACKNOWLEDGEMENT = "acknowledgement", "登记回执"
    CORRECTION = "correction", "补正告知书"
    CONSULTATION = "consultation", "征求意见书"
    EXTENSION = "extension", "延期答复告知书"
    FEE = "fee", "收费通知书"
    DECISION = "decision", "政府信息公开申请答复告知书"
    # To the applicant: a consultation is under way, its time not counted (Art. 33 ¶2).
    CONSULTATION_NOTICE = "consultation_notice", "征求意见告知书"
    # To an objecting third party: the agency will disclose nonetheless (Art. 32).
    THIRD_PARTY_DISCLOSURE = "third_party_disclosure", "决定公开告知书"
    # Art. 35: asking the applicant why a request is so large, and the reasonable period set.
    REASONS = "reasons", "说明理由告知书"
    REASONABLE_PERIOD = "reasonable_period", "延迟答复告知书"


class ServiceMethod(Labelled):
    """How a letter is served on the applicant (SPEC §15, 送达方式)."""

    IN_PERSON = "in_person", "直接送达"
    DELEGATED = "delegated", "委托送达"
    POST = "post", "邮寄送达"
    ELECTRONIC = "electronic", "电子送达"


class LetterStatus(Labelled):
    """Where a stored letter stands in the 发文登记簿 (SPEC §12)."""

    VALID = "valid", "有效"
    VOID = "void", "已作废"  # the event it answered was voided or corrected (SPEC §11)
    REPLACED = "replaced", "已替换"  # reissued under a new number


# The report's tables, each row and column once: its key (SPEC §5 JSON contract, in order)
# with its wording on the national form.
_TOTAL = {"total": "总计"}
ROW_LABELS: dict[str, str] = {
    "received": "一、本年新收政府信息公开申请数量",
    "carried_in": "二、上年结转政府信息公开申请数量",
    **{o.value: f"三、本年度办理结果 {o.info.row} {o.info.label}" for o in Outcome},
    "handled_total": "三、本年度办理结果 (七) 总计",
    "carried_out": "四、结转下年度继续办理",
}
COLUMN_LABELS: dict[str, str] = {**{t.value: t.label for t in ApplicantType}, **_TOTAL}
TABLE4_KIND_LABELS: dict[str, str] = {k.value: k.label for k in AppealKind}
TABLE4_COLUMN_LABELS: dict[str, str] = {
    **{r.value: r.label for r in AppealResult},
    AppealState.PENDING.value: AppealState.PENDING.label,
    **_TOTAL,
}
TABLE3_ROWS: tuple[str, ...] = tuple(ROW_LABELS)
TABLE3_COLUMNS: tuple[str, ...] = tuple(COLUMN_LABELS)
TABLE4_COLUMNS: tuple[str, ...] = tuple(TABLE4_COLUMN_LABELS)


def chinese_date(d: date) -> str:
    """2024年3月1日 (no zero padding, no spaces): the form of a date in letters, mail and the report."""
    return f"{d.year}年{d.month}月{d.day}日"


def tally(lead: str, *counts: tuple[int, str]) -> str:
    """`lead`, then each (count, clause) whose count is not zero, joined by "，": the one-line
    summary of a sweep or a delivery run, which names no empty category."""
    return "，".join([lead, *(clause for count, clause in counts if count)])
