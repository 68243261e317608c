"""What a notice letter is built from (SPEC §6): the values the templates receive, computed
from a case row, its events up to the one the letter answers, the deadlines the clock gives at
that moment and the agency's config. Pure: no database, no templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from foi_workflow.adapters.tables import Case, Event
from foi_workflow.config import Agency
from foi_workflow.domain import fees
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockEvent, ClockSettings, Deadlines, compute_deadlines
from foi_workflow.domain.periods import FEE_DAYS
from foi_workflow.domain.vocabulary import (
    ApplicantType,
    Channel,
    ConsultationKind,
    Deadline,
    FeeBasis,
    NoticeKind,
    Outcome,
)
from foi_workflow.errors import InvalidInput, RuleViolation, TemplateError

REGULATION = "《中华人民共和国政府信息公开条例》"
FEE_RULES = "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）"
REVIEW_FIRST_FROM = date(2024, 1, 1)  # 《行政复议法》(2023) in force: Art. 23 review first for refusals

# The event a letter of each kind answers (and so the letter `--notice` issues with an event).
KIND_EVENTS: dict[NoticeKind, frozenset[str]] = {
    NoticeKind.ACKNOWLEDGEMENT: frozenset({"receive"}),
    NoticeKind.CORRECTION: frozenset({"request_correction"}),
    NoticeKind.CONSULTATION: frozenset({"consult"}),
    NoticeKind.EXTENSION: frozenset({"extend"}),
    NoticeKind.FEE: frozenset({"fee_notice"}),
    NoticeKind.DECISION: frozenset({"decide", "withdraw", "lapse_correction", "lapse_fee"}),
}
EVENT_NOTICE: dict[str, NoticeKind] = {ev: kind for kind, evs in KIND_EVENTS.items() for ev in evs}
KIND_SHORT: dict[NoticeKind, str] = {
    NoticeKind.ACKNOWLEDGEMENT: "登记",
    NoticeKind.CORRECTION: "补正",
    NoticeKind.CONSULTATION: "征询",
    NoticeKind.EXTENSION: "延期",
    NoticeKind.FEE: "收费",
    NoticeKind.DECISION: "答复",
}


@dataclass(frozen=True)
class LetterHead:
    kind: str
    title: str
    number: str
    dated: date


@dataclass(frozen=True)
class AgencyInfo:
    code: str
    name: str
    short_name: str
    address: str
    phone: str
    postcode: str


@dataclass(frozen=True)
class CaseInfo:
    id: str
    applicant: str
    applicant_type: str
    applicant_type_label: str
    channel: str
    channel_label: str
    contact: str
    request: str
    received_on: date


@dataclass(frozen=True)
class AcknowledgementInfo:
    reply_due: date
    provisional: bool


@dataclass(frozen=True)
class CorrectionInfo:
    requested_on: date
    items: str
    period: int
    due: date
    provisional: bool


@dataclass(frozen=True)
class ConsultationInfo:
    consulted_on: date
    party: str
    kind: str
    due: date
    provisional: bool


@dataclass(frozen=True)
class ExtensionInfo:
    extended_on: date
    days: int
    total_days: int
    approved_by: str
    reason: str
    new_due: date
    provisional: bool


@dataclass(frozen=True)
class FeePart:
    label: str
    quantity: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class FeeInfo:
    noticed_on: date
    basis: str
    basis_label: str
    unit: str
    quantity: int
    already_this_month: int
    amount: int | float
    standard: tuple[str, ...]
    breakdown: tuple[FeePart, ...]
    consistent: bool  # the recorded amount is what the fee rules give
    pay_days: int
    pay_due: date
    provisional: bool
    pauses_clock: bool


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
    is_refusal: bool
    review_first: bool
    consulted: bool


def citation(outcome: Outcome) -> str:
    """The legal basis as the letter cites it (SPEC §2 table)."""
    basis = outcome.info.legal_basis
    if not basis:
        return ""
    if basis.startswith("《"):
        return FEE_RULES if outcome is Outcome.OTHER_FEE_UNPAID else basis
    return f"{REGULATION}{basis}"


def review_first(outcome: Outcome, decided_on: date) -> bool:
    """A refusal decided on or after 2024-01-01 must go to administrative review before court."""
    return outcome.is_refusal and decided_on >= REVIEW_FIRST_FROM


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def int_field(data: dict[str, Any], key: str, default: int) -> int:
    value = data.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"事件数据 {key} 应为整数：{value!r}") from None


def _deadlines_at(events: Sequence[Event], upto: Event, cal: WorkCalendar, settings: ClockSettings) -> Deadlines:
    """The deadlines in force right after `upto` took effect."""
    prefix: list[ClockEvent] = []
    for ev in events:
        prefix.append(ClockEvent(ev.event, ev.on, dict(ev.data or {})))
        if ev is upto:
            break
    return compute_deadlines(prefix, cal, settings, explain=False)


def latest_event(events: Sequence[Event], names: frozenset[str], upto: Event | None = None) -> Event | None:
    found: Event | None = None
    for ev in events:
        if ev.event in names:
            found = ev
        if ev is upto:
            break
    return found


@dataclass(frozen=True)
class Sources:
    """What a letter is built from."""

    case: Case
    events: Sequence[Event]
    agency: Agency
    calendar: WorkCalendar
    settings: ClockSettings
    contact_person: str = ""
    already_this_month: int = 0  # the applicant's earlier fee quantity this month (same basis)

    def at(self, ev: Event) -> tuple[dict[str, Any], Deadlines]:
        """An event's data, and the deadlines in force right after it took effect."""
        return dict(ev.data or {}), _deadlines_at(self.events, ev, self.calendar, self.settings)


def _required(what: str, value: date | None) -> date:
    if value is None:
        raise TemplateError(f"无法推算{what}（案件事件记录不完整）")
    return value


def _correction(src: Sources, ev: Event) -> CorrectionInfo:
    data, d = src.at(ev)
    return CorrectionInfo(
        requested_on=ev.on,
        items=_text(data, "items"),
        period=int_field(data, "period", src.settings.correction_period_days),
        due=_required(Deadline.CORRECTION_DUE.label, d.correction_due),
        provisional=d.provisional,
    )


def _consultation(src: Sources, ev: Event) -> ConsultationInfo:
    data, d = src.at(ev)
    return ConsultationInfo(
        consulted_on=ev.on,
        party=_text(data, "party"),
        kind=_text(data, "kind") or ConsultationKind.THIRD_PARTY.value,
        due=_required(Deadline.CONSULTATION_DUE.label, d.consultation_due),
        provisional=d.provisional,
    )


def _extension(src: Sources, ev: Event) -> ExtensionInfo:
    data, d = src.at(ev)
    return ExtensionInfo(
        extended_on=ev.on,
        days=int_field(data, "days", 0),
        total_days=d.extended_days,
        approved_by=_text(data, "approved_by"),
        reason=_text(data, "reason"),
        new_due=_required("延长后的答复期限", d.reply_due),
        provisional=d.provisional,
    )


def _fee(src: Sources, ev: Event) -> FeeInfo:
    data, d = src.at(ev)
    basis = FeeBasis(_text(data, "basis"))
    quantity = int_field(data, "quantity", 0)
    amount_raw = data.get("amount", 0)
    amount: int | float = amount_raw if isinstance(amount_raw, int | float) else float(str(amount_raw))
    quoted = fees.quote(basis, quantity, src.already_this_month)
    unit = fees.UNIT_LABELS[basis]
    return FeeInfo(
        noticed_on=ev.on,
        basis=basis.value,
        basis_label=fees.BASIS_LABELS[basis],
        unit=unit,
        quantity=quantity,
        already_this_month=src.already_this_month,
        amount=amount,
        standard=tuple(fees.standard_lines(basis)),
        breakdown=tuple(
            FeePart(
                label=("第" + (f"{p.bracket.first}{unit}起" if p.bracket.last is None
                               else f"{p.bracket.first}—{p.bracket.last}{unit}")),
                quantity=p.quantity,
                unit_price=p.bracket.unit_price,
                amount=p.amount,
            )
            for p in quoted.breakdown
        ),
        consistent=quoted.amount == amount,
        pay_days=FEE_DAYS,
        pay_due=_required(Deadline.FEE_DUE.label, d.fee_due),
        provisional=d.provisional,
        pauses_clock=src.settings.pause_clock_during_fee,
    )


def _decision(src: Sources, ev: Event) -> DecisionInfo:
    data = dict(ev.data or {})
    if ev.event == "decide":
        outcome = Outcome(_text(data, "outcome"))
    elif ev.event == "lapse_correction":
        outcome = Outcome.OTHER_CORRECTION_LAPSED
    elif ev.event == "lapse_fee":
        outcome = Outcome.OTHER_FEE_UNPAID
    else:
        outcome = Outcome.OTHER_OTHER
    info = outcome.info
    return DecisionInfo(
        outcome=outcome.value,
        label=info.label,
        section_label=info.section_label,
        legal_basis=info.legal_basis,
        citation=citation(outcome),
        note=_text(data, "note"),
        reason=_text(data, "reason"),
        event=ev.event,
        decided_on=ev.on,
        needs_explanation=info.needs_explanation,
        is_refusal=outcome.is_refusal,
        review_first=review_first(outcome, ev.on),
        consulted=latest_event(src.events, frozenset({"consult"}), ev) is not None,
    )


def answered_event(kind: NoticeKind, events: Sequence[Event], case_id: str) -> Event:
    """The event a letter of `kind` answers (the latest one), or a refusal saying why there is none."""
    found = latest_event(events, KIND_EVENTS[kind])
    if found is None:
        label = kind.label
        needs = {
            NoticeKind.ACKNOWLEDGEMENT: "登记（receive）",
            NoticeKind.CORRECTION: "告知补正（request_correction）",
            NoticeKind.CONSULTATION: "征求意见（consult）",
            NoticeKind.EXTENSION: "延长答复期限（extend）",
            NoticeKind.FEE: "收费通知（fee_notice）",
            NoticeKind.DECISION: "办结（decide / withdraw / 逾期办结）",
        }[kind]
        raise RuleViolation(f"案件 {case_id} 没有{needs}记录，不能出具{label}")
    return found


# A withdrawal ends the case without a decision on the request: no 答复, and no remedies.
WITHDRAWAL_TITLE = "政府信息公开申请终止办理告知书"


def _title(kind: NoticeKind, answered: Event) -> str:
    return WITHDRAWAL_TITLE if kind is NoticeKind.DECISION and answered.event == "withdraw" else kind.label


def build_context(src: Sources, kind: NoticeKind, *, number: str, dated: date) -> dict[str, Any]:
    """Everything the templates may use (see notices/_wording.j2)."""
    case = src.case
    answered = answered_event(kind, src.events, case.id)
    upto = answered
    correction_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.CORRECTION], upto)
    consult_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.CONSULTATION], upto)
    extend_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.EXTENSION], upto)
    fee_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.FEE], upto)
    receive_ev = answered_event(NoticeKind.ACKNOWLEDGEMENT, src.events, case.id)
    _, ack = src.at(receive_ev)
    consultation = _consultation(src, consult_ev) if consult_ev else None
    agency = src.agency
    return {
        "notice": LetterHead(kind.value, _title(kind, answered), number, dated),
        "agency": AgencyInfo(
            agency.code, agency.name, agency.short_name, agency.address, agency.phone, agency.postcode
        ),
        "addressee": consultation.party if kind is NoticeKind.CONSULTATION and consultation else case.applicant,
        "contact_person": src.contact_person,
        "case": CaseInfo(
            id=case.id,
            applicant=case.applicant,
            applicant_type=case.applicant_type,
            applicant_type_label=ApplicantType.label_of(case.applicant_type),
            channel=case.channel,
            channel_label=Channel.label_of(case.channel),
            contact=case.contact,
            request=case.request,
            received_on=case.received_on,
        ),
        "acknowledgement": AcknowledgementInfo(_required(Deadline.REPLY_DUE.label, ack.reply_due), ack.provisional),
        "correction": _correction(src, correction_ev) if correction_ev else None,
        "consultation": consultation,
        "extension": _extension(src, extend_ev) if extend_ev else None,
        "fee": _fee(src, fee_ev) if fee_ev else None,
        "decision": _decision(src, answered) if kind is NoticeKind.DECISION else None,
    }

