"""The law a decision letter rests on (条例 2019, 行政复议法 2023, 行政诉讼法, the fee rules):
which article each outcome's letter cites given what the case's history holds, which remedies
it offers, and what a new decision must carry before it may be recorded (the reasons a review
body would ask for). One source for the letters, the `decide` refusals and the outcome ×
letter table of docs/letters.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from foi_workflow.domain.vocabulary import ConsultationKind, Opinion, Outcome
from foi_workflow.errors import RuleViolation

REGULATION = "《中华人民共和国政府信息公开条例》"
FEE_RULES = "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）"
# 办法第六条: the fee notice, 20 working days from the day after receiving it, else abandoned.
FEE_RULES_ARTICLE = "第六条"
REVIEW_FIRST_FROM = date(2024, 1, 1)  # 《行政复议法》(2023) in force: Art. 23 review first for refusals
SUE_AFTER_REVIEW_DAYS = 15  # 行政诉讼法 Art. 45: from receiving the review decision

# Outcomes whose letter must say why, in the caseworker's words (`decide --note`).
REASON_REQUIRED: frozenset[Outcome] = frozenset(
    {o for o in Outcome if o.value.startswith("withheld.")} | {Outcome.PARTIALLY_GRANTED, Outcome.OTHER_OTHER}
)
_ARTICLE = re.compile(r"第[一二三四五六七八九十百零〇\d]+条")
_LAW = re.compile(r"《[^》]+》")


# --------------------------------------------------------------------------- consultations


_THIRD_PARTY = ConsultationKind.THIRD_PARTY.value  # read once: an enum member's `.value` is a descriptor call


@dataclass(frozen=True)
class Consultation:
    """One consultation of the case (Art. 32 third party, Art. 34 co-producing agency) and
    what came of it: `opinion` None while it is open."""

    party: str
    kind: str
    on: date
    opinion: str | None = None
    answered_on: date | None = None

    @property
    def third_party(self) -> bool:
        return self.kind == _THIRD_PARTY


def record_consultation(
    held: tuple[Consultation, ...], event: str, on: date, data: Mapping[str, Any]
) -> tuple[Consultation, ...]:
    """The consultations after `event`: `consult` opens one, `consultation_reply` answers the
    named party's (or, naming none, the one open)."""
    if event == "consult":
        kind = str(data.get("kind") or _THIRD_PARTY)
        return (*held, Consultation(str(data.get("party", "")).strip(), kind, on))
    if event != "consultation_reply":
        return held
    party = str(data.get("party") or "").strip()
    open_ = [i for i, c in enumerate(held) if c.opinion is None and (not party or c.party == party)]
    if not open_:
        return held
    index = open_[0]
    asked = held[index]
    # Built directly: dataclasses.replace costs several times more, once per imported reply.
    answered = Consultation(asked.party, asked.kind, asked.on, str(data.get("opinion", "")), on)
    return (*held[:index], answered, *held[index + 1:])


def consultations_of(events: Iterable[tuple[str, date, Mapping[str, Any]]]) -> tuple[Consultation, ...]:
    held: tuple[Consultation, ...] = ()
    for event, on, data in events:
        held = record_consultation(held, event, on, data)
    return held


def objecting(held: Iterable[Consultation]) -> list[Consultation]:
    """The third parties that objected to disclosure (Art. 32)."""
    return [c for c in held if c.third_party and c.opinion == Opinion.OBJECT.value]


# --------------------------------------------------------------------------- citations


@dataclass(frozen=True)
class Facts:
    """What of a case's history changes the article a decision letter cites."""

    referred: bool = False  # not_held: another agency's to disclose (--refer-to), Art. 36(5)
    published: bool = False  # granted: already published (--published-at), Art. 36(1)
    third_party_consulted: bool = False  # a third party was consulted (Art. 32)


def articles(outcome: Outcome, facts: Facts = Facts()) -> str:
    """The articles of the Regulation (or the fee rules) the letter cites, without the law's name."""
    if outcome is Outcome.GRANTED:
        return "第三十六条第（一）项" if facts.published else "第三十六条第（二）项"
    if outcome is Outcome.UNAVAILABLE_NOT_HELD:
        return "第三十六条第（五）项" if facts.referred else "第三十六条第（四）项"
    if outcome is Outcome.WITHHELD_THIRD_PARTY_RIGHTS:
        return "第十五条、第三十二条" if facts.third_party_consulted else "第十五条"
    return outcome.info.legal_basis


def citation(outcome: Outcome, facts: Facts = Facts()) -> str:
    """The legal basis as the letter writes it: the law's name and the articles."""
    if outcome is Outcome.OTHER_FEE_UNPAID:
        return f"{REGULATION}第四十二条和{FEE_RULES}{FEE_RULES_ARTICLE}"
    basis = articles(outcome, facts)
    return f"{REGULATION}{basis}" if basis else ""


def review_first(outcome: Outcome, decided_on: date) -> bool:
    """A refusal to disclose decided on or after 2024-01-01 must go to review before court."""
    return outcome.is_refusal and decided_on >= REVIEW_FIRST_FROM


def remedies_label(outcome: Outcome, decided_on: date) -> str:
    """The remedies the letter offers, in a few words (docs/letters.md)."""
    if review_first(outcome, decided_on):
        return f"先复议（60日），复议决定后{SUE_AFTER_REVIEW_DAYS}日内起诉"
    return "复议（60日）或诉讼（6个月）"


# --------------------------------------------------------------------------- a new decision


def check_new_decision(outcome: Outcome, data: Mapping[str, Any], held: Iterable[Consultation], on: date) -> None:
    """What a decision must carry before it is recorded (the letter states it): refused with
    what is missing. Applies to `decide` as recorded now, not to stored history."""
    note = str(data.get("note") or "").strip()
    code = outcome.value
    if outcome in REASON_REQUIRED and not note:
        raise RuleViolation(f"办理结果 {code} 须说明理由（--note），理由写入答复告知书（条例第三十六条第（三）项）")
    if outcome is Outcome.PARTIALLY_GRANTED and not _ARTICLE.search(note):
        raise RuleViolation(
            "部分公开须在 --note 中写明不予公开的每一部分及其依据的条款（如：第3页个人信息，依据条例第十五条）"
            "（条例第三十七条、第三十六条第（三）项）"
        )
    if outcome is Outcome.WITHHELD_PROHIBITED_BY_LAW and not (_LAW.search(note) and _ARTICLE.search(note)):
        raise RuleViolation(
            "“法律行政法规禁止公开”须在 --note 中写明禁止公开的法律或行政法规的名称和条款（如：《××法》第×条）"
        )
    if data.get("refer_to") and outcome is not Outcome.UNAVAILABLE_NOT_HELD:
        raise RuleViolation("--refer-to 只用于 unavailable.not_held（不属于本机关负责公开，条例第三十六条第（五）项）")
    if data.get("published_at") and outcome is not Outcome.GRANTED:
        raise RuleViolation("--published-at 只用于 granted（已主动公开的信息，条例第三十六条第（一）项）")
    held = tuple(held)
    third = [c for c in held if c.third_party and c.opinion is not None]
    all_agreed = bool(third) and all(c.opinion == Opinion.AGREE.value for c in third)
    if outcome is Outcome.WITHHELD_THIRD_PARTY_RIGHTS and all_agreed:
        raise RuleViolation(
            "第三方已同意公开，不能以保护第三方合法权益为由不予公开（条例第十五条）；请改为公开或说明其他不予公开的依据"
        )
    overriding = outcome is Outcome.GRANTED and objecting(held)
    if overriding and not (data.get("override_reason") and data.get("disclose_on")):
        raise RuleViolation(
            "第三方不同意公开而决定公开的，须说明理由（--override-reason，不公开可能对公共利益造成重大影响）"
            "和公开日期（--disclose-on），并书面告知第三方（条例第三十二条）"
        )
    if (data.get("disclose_on") or data.get("override_reason")) and not objecting(held):
        raise RuleViolation(
            "--disclose-on / --override-reason 只用于第三方不同意公开而决定公开的情形（条例第三十二条）"
        )
    disclose_on = data.get("disclose_on")
    if disclose_on and date.fromisoformat(str(disclose_on)) <= on:
        raise RuleViolation("公开日期（--disclose-on）应晚于决定之日，给第三方依法寻求救济的时间（条例第三十二条）")


# --------------------------------------------------------------------------- the table of docs/letters.md

# What each outcome's letter tells the applicant, in a few words (the wording is notices/_wording.j2).
LETTER_SAYS: dict[Outcome, str] = {
    Outcome.GRANTED: "予以公开，随告知书提供；已主动公开的，告知获取的方式和途径",
    Outcome.PARTIALLY_GRANTED: "可以公开的部分予以提供；不予公开的每一部分及其条款、理由",
    Outcome.WITHHELD_STATE_SECRET: "属于国家秘密，不予公开，理由",
    Outcome.WITHHELD_PROHIBITED_BY_LAW: "法律、行政法规禁止公开（写明法律名称和条款），不予公开",
    Outcome.WITHHELD_THREE_SAFETIES_ONE_STABILITY: "危及“三安全一稳定”，不予公开，理由",
    Outcome.WITHHELD_THIRD_PARTY_RIGHTS: "损害第三方合法权益；征求过第三方的，写明其不同意或逾期未答复",
    Outcome.WITHHELD_INTERNAL_AFFAIRS: "内部事务信息，不予公开，理由",
    Outcome.WITHHELD_PROCESS_INFORMATION: "过程性信息，不予公开，理由",
    Outcome.WITHHELD_ENFORCEMENT_CASE_FILE: "行政执法案卷信息，不予公开，理由",
    Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY: "告知依照有关法律、行政法规的规定办理查询（不是不予公开）",
    Outcome.UNAVAILABLE_NOT_HELD: "经检索该信息不存在；或不属于本机关负责公开，告知负责机关及联系方式",
    Outcome.UNAVAILABLE_NEEDS_CREATION: "需加工、分析另行制作，不予提供",
    Outcome.UNAVAILABLE_STILL_UNCLEAR: "补正后仍未写明名称、文号或特征性描述，无法提供，可重新申请",
    Outcome.NOT_PROCESSED_PETITION_OR_COMPLAINT: "信访、投诉、举报，告知通过相应渠道提出",
    Outcome.NOT_PROCESSED_DUPLICATE: "重复申请，不予重复处理",
    Outcome.NOT_PROCESSED_PUBLICATION: "公开出版物，告知获取的途径",
    Outcome.NOT_PROCESSED_EXCESSIVE: "已要求说明理由而理由不合理，不予处理",
    Outcome.NOT_PROCESSED_CONFIRM_OR_REISSUE: "政府信息的含义（第二条）与加工、分析（第三十八条）说明，不予处理",
    Outcome.OTHER_CORRECTION_LAPSED: "逾期未补正，视为放弃申请",
    Outcome.OTHER_FEE_UNPAID: "逾期未缴费，视为放弃申请",
    Outcome.OTHER_OTHER: "处理情况（撤回的：终止办理告知书，不附救济途径）",
}

_VARIANTS: dict[Outcome, tuple[Facts, str]] = {
    Outcome.GRANTED: (Facts(published=True), "`published_at`"),
    Outcome.UNAVAILABLE_NOT_HELD: (Facts(referred=True), "`refer_to`"),
    Outcome.WITHHELD_THIRD_PARTY_RIGHTS: (Facts(third_party_consulted=True), "a third party consulted"),
}
TABLE_BEGIN = "<!-- outcome-letter-table: generated by foi_workflow.domain.letter_law.outcome_table -->"
TABLE_END = "<!-- end outcome-letter-table -->"


def outcome_table(decided_on: date = REVIEW_FIRST_FROM) -> str:
    """docs/letters.md's outcome × letter table: for each outcome, the articles its letter cites
    (with the variants the history gives), whether a reason is required, the remedies."""
    lines = [
        TABLE_BEGIN,
        "| outcome | row | the letter says | cites | reason required (`--note`) | remedies (decided from 2024) |",
        "|---|---|---|---|---|---|",
    ]
    for outcome in Outcome:
        cites = citation(outcome).replace(REGULATION, "条例") or "—"
        if outcome in _VARIANTS:
            facts, when = _VARIANTS[outcome]
            cites += f"; with {when}: {citation(outcome, facts).replace(REGULATION, '条例')}"
        required = "yes" if outcome in REASON_REQUIRED else "no"
        lines.append(
            f"| `{outcome.value}` | {outcome.info.row} | {LETTER_SAYS[outcome]} | {cites} | {required} "
            f"| {remedies_label(outcome, decided_on)} |"
        )
    lines.append(TABLE_END)
    return "\n".join(lines)
