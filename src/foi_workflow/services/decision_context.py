"""What a decision letter (and the letter to a third party whose objection is overridden) is
built from: the outcome, the article the law gives for it in this case's history
(`domain.letter_law`), the reasons recorded with the decision, what the consultations gave,
and the remedies with the agency's review body. Pure: no database, no templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from foi_workflow.config import Agency
from foi_workflow.domain import letter_law
from foi_workflow.domain.letter_law import Consultation, Facts
from foi_workflow.domain.vocabulary import Outcome
from foi_workflow.errors import RuleViolation

# A letter whose agency has no `review_body` in its config still says where review goes, in
# the words of the law; `foi init` and `foi config check` warn, since only a named body
# starts the 60 days (行政复议法 Art. 20 ¶3).
REVIEW_BODY_FALLBACK = "有管辖权的行政复议机关"

if TYPE_CHECKING:
    from foi_workflow.services.case_store import AnyEvent


@dataclass(frozen=True)
class ConsultationOutcome:
    """One third-party consultation as the refusal letter states it (the party is not named
    to the applicant: who the third party is may be the very thing withheld)."""

    consulted_on: date
    opinion: str  # object | none | agree | "" (still open)
    answered_on: date | None


@dataclass(frozen=True)
class DecisionInfo:
    outcome: str
    label: str
    section_label: str
    legal_basis: str
    citation: str
    note: str
    reason: str
    event: str
    decided_on: date
    needs_explanation: bool
    reason_required: bool
    is_refusal: bool
    review_first: bool
    review_body: str
    sue_after_review_days: int
    consulted: bool  # a third party was consulted (Art. 32); a co-producer (Art. 34) is not one
    consultations: tuple[ConsultationOutcome, ...]
    refer_to: str
    published_at: str
    override_reason: str
    disclose_on: date | None


@dataclass(frozen=True)
class ThirdPartyDisclosureInfo:
    """Art. 32: the content to be disclosed over the objection, why, and when."""

    parties: str
    objected_on: date | None
    reason: str
    disclose_on: date
    decided_on: date


def text_field(data: dict[str, Any], key: str) -> str:
    """An event's data field as text ("" when absent)."""
    value = data.get(key)
    return "" if value is None else str(value)


def _date(data: dict[str, Any], key: str) -> date | None:
    value = data.get(key)
    return date.fromisoformat(str(value)) if value else None


def held_before(events: Sequence[AnyEvent], upto: AnyEvent) -> tuple[Consultation, ...]:
    prefix: list[tuple[str, date, dict[str, Any]]] = []
    for ev in events:
        if ev is upto:
            break
        prefix.append((ev.event, ev.on, dict(ev.data or {})))
    return letter_law.consultations_of(prefix)


def outcome_of(ev: AnyEvent) -> Outcome:
    if ev.event == "decide":
        return Outcome(text_field(dict(ev.data or {}), "outcome"))
    if ev.event == "lapse_correction":
        return Outcome.OTHER_CORRECTION_LAPSED
    if ev.event == "lapse_fee":
        return Outcome.OTHER_FEE_UNPAID
    return Outcome.OTHER_OTHER


def decision_info(events: Sequence[AnyEvent], ev: AnyEvent, agency: Agency) -> DecisionInfo:
    data = dict(ev.data or {})
    outcome = outcome_of(ev)
    held = held_before(events, ev)
    third = [c for c in held if c.third_party]
    facts = Facts(
        referred=bool(data.get("refer_to")),
        published=bool(data.get("published_at")),
        third_party_consulted=bool(third),
    )
    info = outcome.info
    return DecisionInfo(
        outcome=outcome.value,
        label=info.label,
        section_label=info.section_label,
        legal_basis=letter_law.articles(outcome, facts),
        citation=letter_law.citation(outcome, facts),
        note=text_field(data, "note"),
        reason=text_field(data, "reason"),
        event=ev.event,
        decided_on=ev.on,
        needs_explanation=info.needs_explanation,
        reason_required=outcome in letter_law.REASON_REQUIRED,
        is_refusal=outcome.is_refusal,
        review_first=letter_law.review_first(outcome, ev.on),
        review_body=agency.review_body or REVIEW_BODY_FALLBACK,
        sue_after_review_days=letter_law.SUE_AFTER_REVIEW_DAYS,
        consulted=bool(third),
        consultations=tuple(ConsultationOutcome(c.on, c.opinion or "", c.answered_on) for c in third),
        refer_to=text_field(data, "refer_to"),
        published_at=text_field(data, "published_at"),
        override_reason=text_field(data, "override_reason"),
        disclose_on=_date(data, "disclose_on"),
    )


def third_party_disclosure(events: Sequence[AnyEvent], ev: AnyEvent, case_id: str) -> ThirdPartyDisclosureInfo:
    """The letter to the third parties that objected, for a decision that discloses anyway;
    refused for any other decision."""
    data = dict(ev.data or {})
    against = letter_law.objecting(held_before(events, ev))
    disclose_on = _date(data, "disclose_on")
    if not against or disclose_on is None:
        raise RuleViolation(
            f"案件 {case_id} 的答复不是在第三方不同意公开后决定公开（decide --override-reason --disclose-on），"
            "不能出具决定公开告知书（条例第三十二条）"
        )
    return ThirdPartyDisclosureInfo(
        parties="、".join(dict.fromkeys(c.party for c in against)),
        objected_on=max((c.answered_on for c in against if c.answered_on), default=None),
        reason=text_field(data, "override_reason"),
        disclose_on=disclose_on,
        decided_on=ev.on,
    )
