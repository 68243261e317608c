"""The cell values of the application ledger (登记台账, SPEC §14): dates in every form Excel
produces, day counts, and the texts of 处理结果 / 申请人类型 / 申请方式 matched to the codes of
SPEC §2. Pure.

The outcome texts are matched against the report's own wording (`vocabulary.OUTCOME_INFO`:
each row label, its section with it, its row number), plus the short forms and phrases real
ledgers use (`OUTCOME_PHRASES`), plus whatever an agency's mapping file adds. A text equal to
one of these is matched; otherwise the distinctive phrases it contains must all point to one
code, or it is not matched at all (and the import lists it): a guess would miscount the report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from foi_workflow.domain.fees import BASIS_LABELS
from foi_workflow.domain.vocabulary import (
    OUTCOME_INFO,
    ApplicantType,
    Channel,
    FeeBasis,
    Outcome,
)

Code = TypeVar("Code", bound=StrEnum)

# Cells that mean "nothing here" in real ledgers (an open case's 答复日期, no extension).
BLANKS = frozenset({"", "/", "\\", "-", "--", "—", "——", "无", "暂无", "空", "未", "否", "null", "none", "n/a"})
# A spreadsheet treats a cell beginning with one of these as a formula: the export writes such
# text with a leading apostrophe in CSV (and as a text cell in xlsx); the import takes it off.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@lru_cache(maxsize=65536)  # the same few texts fill a ledger's columns
def normalize_text(value: str) -> str:
    """A value as compared: full-width forms folded (NFKC), spaces, quotes and trailing
    punctuation removed, Latin letters in lower case."""
    folded = unicodedata.normalize("NFKC", value)
    kept = "".join(ch for ch in folded if not ch.isspace() and ch not in "\"'“”‘’「」『』《》")
    return kept.rstrip("。.;；,，").lower()


_LONGEST_BLANK = max(len(b) for b in BLANKS)


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    # Most cells are longer than any blank word: no need to fold them to find out.
    return not text or (len(text) <= _LONGEST_BLANK and normalize_text(text) in BLANKS)


def guard_formula(text: str) -> str:
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe
    (and text that already looks guarded gets one more, so `unguard_formula` gives it back)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def unguard_formula(text: str) -> str:
    """The text `guard_formula` protected, as it was."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS) else text


# --------------------------------------------------------------------------- dates

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 in the 1900 date system (its 1900-02-29 bug included)
_SERIAL_RANGE = (1, 2958465)  # 1900-01-01 .. 9999-12-31
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"  # a time of day after it, as Excel may add
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_TEXT = re.compile(r"^\d{1,7}(?:\.\d+)?$")


class BadValue(ValueError):
    """A cell that cannot be read; the message says why, in Chinese."""


def parse_date(value: object) -> date | None:
    """A ledger date: a real date cell, an Excel serial number (as a number or as text), or
    text as 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日, 20240301 (a time after it is
    ignored). None for a blank cell; `BadValue` for anything else, or a day that does not exist."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise BadValue("不是日期")
    if isinstance(value, int | float):
        return _from_serial(float(value))
    if not isinstance(value, str) or is_blank(value):
        if value is None or isinstance(value, str):
            return None
        raise BadValue("不是日期")
    return _parse_date_text(value)


@lru_cache(maxsize=4096)  # a ledger's dates repeat: a year has 366 of them
def _parse_date_text(value: str) -> date:
    text = unicodedata.normalize("NFKC", value).strip()
    match = _DATE_TEXT.match(text) or _COMPACT.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise BadValue("日期不存在") from None
    if _SERIAL_TEXT.match(text):
        return _from_serial(float(text))
    raise BadValue("不是可识别的日期（可用 2024-03-01、2024/3/1、2024年3月1日、2024.3.1）")


def _from_serial(serial: float) -> date:
    if not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        raise BadValue("不是日期")
    return EXCEL_EPOCH + timedelta(days=int(serial))  # the fraction is the time of day


def to_serial(day: date) -> int:
    """The Excel serial number of a date (for tests and for readers of old ledgers)."""
    return (day - EXCEL_EPOCH).days


_DAYS = re.compile(r"^(\d+)(?:\.0+)?(?:个)?(?:工作日|天|日)?$")


def parse_days(value: object) -> int:
    """A number of working days: 10, 10.0, "10", "10个工作日", "10天"; blank or 否/无 is 0."""
    if isinstance(value, bool):
        raise BadValue("不是天数")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != int(value):
            raise BadValue("天数应为整数")
        return int(value)
    if is_blank(value):
        return 0
    match = _DAYS.match(normalize_text(str(value)))
    if match is None:
        raise BadValue("不是天数（应为整数，如 10 或 10个工作日）")
    return int(match.group(1))


# --------------------------------------------------------------------------- texts to codes

# Common wordings of real ledgers beyond the report's own labels. Short ones that could stand
# inside a longer phrase of another meaning (公开 in 不予公开) are matched only as the whole text.
OUTCOME_PHRASES: Mapping[Outcome, tuple[str, ...]] = {
    Outcome.GRANTED: ("同意公开", "全部公开", "予以提供", "已公开", "已提供", "主动公开", "已予公开"),
    Outcome.PARTIALLY_GRANTED: ("部分公开", "部分予以公开", "部分提供", "部分同意公开"),
    Outcome.WITHHELD_STATE_SECRET: ("国家秘密", "涉密", "涉及国家秘密"),
    Outcome.WITHHELD_PROHIBITED_BY_LAW: ("法律行政法规禁止公开", "法律法规禁止公开", "禁止公开"),
    Outcome.WITHHELD_THREE_SAFETIES_ONE_STABILITY: ("三安全一稳定", "危及国家安全", "危及公共安全", "危及经济安全",
                                                    "危及社会稳定"),
    Outcome.WITHHELD_THIRD_PARTY_RIGHTS: ("第三方合法权益", "商业秘密", "个人隐私", "第三方不同意公开"),
    Outcome.WITHHELD_INTERNAL_AFFAIRS: ("内部事务", "内部管理信息", "人事管理", "后勤管理", "内部工作流程"),
    Outcome.WITHHELD_PROCESS_INFORMATION: ("过程性信息", "讨论记录", "过程稿", "磋商信函", "请示报告"),
    Outcome.WITHHELD_ENFORCEMENT_CASE_FILE: ("行政执法案卷", "执法案卷"),
    Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY: ("行政查询", "查询事项"),
    Outcome.UNAVAILABLE_NOT_HELD: ("信息不存在", "非本机关掌握", "本机关不掌握", "不掌握", "非本机关职责",
                                   "未制作或获取", "政府信息不存在", "非本机关政府信息"),
    Outcome.UNAVAILABLE_NEEDS_CREATION: ("另行制作", "需要加工", "需加工", "加工分析", "没有现成信息", "汇总加工"),
    Outcome.UNAVAILABLE_STILL_UNCLEAR: ("仍不明确", "内容不明确"),
    Outcome.NOT_PROCESSED_PETITION_OR_COMPLAINT: ("信访", "举报", "投诉"),
    Outcome.NOT_PROCESSED_DUPLICATE: ("重复申请",),
    Outcome.NOT_PROCESSED_PUBLICATION: ("公开出版物", "出版物"),
    Outcome.NOT_PROCESSED_EXCESSIVE: ("大量反复申请", "反复申请", "大量申请"),
    Outcome.NOT_PROCESSED_CONFIRM_OR_REISSUE: ("确认或重新出具", "重新出具", "要求确认"),
    Outcome.OTHER_CORRECTION_LAPSED: ("逾期不补正", "逾期未补正", "未补正", "不补正", "视为放弃申请", "视为放弃"),
    Outcome.OTHER_FEE_UNPAID: ("逾期未缴费", "未缴费", "未缴纳费用", "逾期未缴纳", "未按收费通知缴纳", "未交费"),
    Outcome.OTHER_OTHER: ("撤回", "撤销申请", "申请人撤回"),
}
OUTCOME_WHOLE_PHRASES: Mapping[Outcome, tuple[str, ...]] = {
    Outcome.GRANTED: ("公开", "同意", "提供", "已答复公开"),
    Outcome.OTHER_OTHER: ("其他", "其它"),
}
WITHDRAWAL_WORDS = ("撤回", "撤销申请")  # 处理结果 saying so becomes a `withdraw` event

APPLICANT_TYPE_PHRASES: Mapping[ApplicantType, tuple[str, ...]] = {
    ApplicantType.NATURAL_PERSON: ("公民", "个人", "自然人", "群众", "居民", "村民", "市民"),
    ApplicantType.COMMERCIAL: ("企业", "公司", "商业企业", "个体工商户", "个人独资企业", "合伙企业", "厂", "商行"),
    ApplicantType.RESEARCH: ("科研机构", "科研院所", "研究院", "研究所", "研究中心", "高校", "大学", "学院"),
    ApplicantType.SOCIAL_ORG: ("社会公益组织", "公益组织", "社会组织", "基金会", "协会", "民办非企业", "志愿"),
    ApplicantType.LEGAL_SERVICE: ("法律服务机构", "律师事务所", "律所", "律师", "法律服务所", "公证处", "法律援助"),
    ApplicantType.OTHER: ("村委会", "居委会", "村民委员会", "居民委员会", "事业单位", "机关"),
}
# 法人或其他组织 (the national form's heading over five columns) must stay unmatched.
APPLICANT_TYPE_WHOLE_PHRASES: Mapping[ApplicantType, tuple[str, ...]] = {
    ApplicantType.OTHER: ("其他", "其它", "其他组织"),
}

CHANNEL_PHRASES: Mapping[Channel, tuple[str, ...]] = {
    Channel.IN_PERSON: ("当面", "现场", "窗口", "面交", "来访", "当场"),
    Channel.POST: ("邮寄", "信函", "挂号", "ems", "快递", "邮政", "来信"),
    Channel.ONLINE: ("互联网", "网上", "网络", "在线", "网站", "电子邮件", "邮箱", "email", "e-mail", "平台",
                     "政务服务网", "小程序"),
    Channel.FAX: ("传真",),
}


@dataclass(frozen=True)
class PhraseMatcher:
    """Texts to one code of a vocabulary: whole texts first, then the distinctive phrases
    a text contains (all of them must agree on one code)."""

    whole: Mapping[str, str]  # normalized text -> code
    contained: Mapping[str, str]  # normalized phrase -> code
    # A code that wins over the others a text also names: a partially disclosed case counts
    # only as 部分公开 (SPEC §2), whatever reason the text gives for the withheld part.
    dominant: frozenset[str] = frozenset()
    _memo: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, whole: Iterable[tuple[str, str]], contained: Iterable[tuple[str, str]],
              dominant: Iterable[str] = ()) -> PhraseMatcher:
        whole_map: dict[str, str] = {}
        contained_map: dict[str, str] = {}
        for text, code in whole:
            whole_map.setdefault(normalize_text(text), code)
        for text, code in contained:
            norm = normalize_text(text)
            contained_map.setdefault(norm, code)
            whole_map.setdefault(norm, code)
        return cls(whole_map, contained_map, frozenset(dominant))

    def with_extra(self, extra: Mapping[str, str]) -> PhraseMatcher:
        """This matcher with an agency's own wordings (text -> code) taking precedence."""
        whole = {**self.whole, **{normalize_text(k): v for k, v in extra.items()}}
        return PhraseMatcher(whole, self.contained, self.dominant)

    def match(self, text: str) -> str | None:
        # A ledger says the same few things thousands of times: each text is matched once.
        try:
            return self._memo[text]
        except KeyError:
            found = self._memo[text] = self._match(text)
            return found

    def _match(self, text: str) -> str | None:
        norm = normalize_text(text)
        if not norm:
            return None
        code = self.whole.get(norm)
        if code is not None:
            return code
        found = [phrase for phrase in self.contained if phrase in norm]
        # A phrase inside a longer one found too (国家秘密 in 属于国家秘密) says nothing more.
        found = [p for p in found if not any(p != q and p in q for q in found)]
        codes = {self.contained[p] for p in found}
        if len(codes) > 1 and len(codes & self.dominant) == 1:
            codes &= self.dominant
        return codes.pop() if len(codes) == 1 else None


def _outcome_wordings(outcome: Outcome) -> list[str]:
    """What the report itself calls an outcome: its label, its label under its section, its row."""
    info = OUTCOME_INFO[outcome]
    label = info.label.split("（")[0]  # 部分公开（区分处理的…） is 部分公开
    words = [outcome.value, label, info.row, info.row.replace("(", "").replace(")", "")]
    if info.item is not None:
        words += [f"{info.section_label}（{label}）", f"{info.section_label}-{label}", f"{info.section_label}{label}",
                  f"{info.section_label}：{label}", f"{info.section_label}，{label}"]
    return words


def ledger_outcome_text(outcome: Outcome, withdrawn: bool = False) -> str:
    """How the export writes an outcome in 处理结果: the report's wording, under its section for
    the itemised rows (不予公开（属于国家秘密）), so that it reads and imports back the same."""
    info = OUTCOME_INFO[outcome]
    label = "申请人撤回" if withdrawn else info.label.split("（")[0]
    return label if info.item is None else f"{info.section_label}（{label}）"


def _pairs(phrases: Mapping[Code, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(text, code.value) for code, texts in phrases.items() for text in texts]


OUTCOMES = PhraseMatcher.build(
    [(w, o.value) for o in Outcome for w in _outcome_wordings(o)] + _pairs(OUTCOME_WHOLE_PHRASES),
    [(OUTCOME_INFO[o].label.split("（")[0], o.value) for o in Outcome if o is not Outcome.OTHER_OTHER]
    + _pairs(OUTCOME_PHRASES),
    dominant=[Outcome.PARTIALLY_GRANTED.value],
)
APPLICANT_TYPES = PhraseMatcher.build(
    [(t.value, t.value) for t in ApplicantType] + _pairs(APPLICANT_TYPE_WHOLE_PHRASES),
    [(t.label, t.value) for t in ApplicantType if t is not ApplicantType.OTHER]
    + _pairs(APPLICANT_TYPE_PHRASES),
)
CHANNELS = PhraseMatcher.build(
    [(c.value, c.value) for c in Channel],
    [(c.label, c.value) for c in Channel] + _pairs(CHANNEL_PHRASES),
)


def is_withdrawal(text: str) -> bool:
    norm = normalize_text(text)
    return any(word in norm for word in WITHDRAWAL_WORDS)


FEE_BASES = PhraseMatcher.build(
    [(b.value, b.value) for b in FeeBasis],
    [(text, b.value) for b, text in BASIS_LABELS.items()] + [("按件", "per_item"), ("按量", "per_page"),
                                                             ("按页", "per_page")],
)

_AMOUNT = re.compile(r"^[¥￥]?(\d+(?:\.\d{1,2})?)元?$")


def parse_amount(value: object) -> float | int:
    """A fee in yuan: 100, 100.5, "100元", "¥100"."""
    if isinstance(value, bool):
        raise BadValue("不是金额")
    if isinstance(value, int | float):
        return value
    match = _AMOUNT.match(normalize_text(str(value)))
    if match is None:
        raise BadValue("不是金额（元）")
    number = float(match.group(1))
    return int(number) if number == int(number) else number
