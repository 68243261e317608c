"""What a notice letter is built from (SPEC §6): the values the templates receive, computed
from a case row, its events up to the one the letter answers, the deadlines the clock gives at
that moment and the agency's config. Pure: no database, no templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from foi_workflow.config import Agency
from foi_workflow.domain import fees
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockEvent, ClockSettings, Deadlines, compute_deadlines
from foi_workflow.domain.periods import CONSULTATION_DAYS, FEE_DAYS, REASONS_DAYS
from foi_workflow.domain.vocabulary import (
    ApplicantType,
    Channel,
    ConsultationKind,
    Deadline,
    FeeBasis,
    NoticeKind,
)
from foi_workflow.errors import InvalidInput, RuleViolation, TemplateError
from foi_workflow.services.decision_context import decision_info, text_field, third_party_disclosure

# The event a letter of each kind answers (and so the letter `--notice` issues with an event).
KIND_EVENTS: dict[NoticeKind, frozenset[str]] = {
    NoticeKind.ACKNOWLEDGEMENT: frozenset({"receive"}),
    NoticeKind.CORRECTION: frozenset({"request_correction"}),
    NoticeKind.CONSULTATION: frozenset({"consult"}),
    NoticeKind.EXTENSION: frozenset({"extend"}),
    NoticeKind.FEE: frozenset({"fee_notice"}),
    NoticeKind.DECISION: frozenset({"decide", "withdraw", "lapse_correction", "lapse_fee"}),
    NoticeKind.CONSULTATION_NOTICE: frozenset({"consult"}),
    NoticeKind.THIRD_PARTY_DISCLOSURE: frozenset({"decide"}),
    NoticeKind.REASONS: frozenset({"receive"}),
    NoticeKind.REASONABLE_PERIOD: frozenset({"set_reasonable_period"}),
}
# The letter `--notice` issues with an event: the first kind listed for it above (the others
# are issued by `foi notice ID KIND`, or with `--notice` where `extra_kinds` says so).
EVENT_NOTICE: dict[str, NoticeKind] = {}
for _kind, _events in KIND_EVENTS.items():
    for _event in _events:
        EVENT_NOTICE.setdefault(_event, _kind)
KIND_SHORT: dict[NoticeKind, str] = {
    NoticeKind.ACKNOWLEDGEMENT: "登记",
    NoticeKind.CORRECTION: "补正",
    NoticeKind.CONSULTATION: "征询",
    NoticeKind.EXTENSION: "延期",
    NoticeKind.FEE: "收费",
    NoticeKind.DECISION: "答复",
    NoticeKind.CONSULTATION_NOTICE: "征告",
    NoticeKind.THIRD_PARTY_DISCLOSURE: "公告",
    NoticeKind.REASONS: "说明",
    NoticeKind.REASONABLE_PERIOD: "延迟",
}

if TYPE_CHECKING:
    from foi_workflow.services.case_store import AnyCase, AnyEvent


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
    days: int  # from the party's receipt of the letter (Art. 32, 34)
    due: date  # the engine's end of the period (reminders); letters state `days` from receipt
    provisional: bool


@dataclass(frozen=True)
class ReasonsInfo:
    """Art. 35: the applicant is asked to state why; the reply is due within `days` of receipt."""

    days: int


@dataclass(frozen=True)
class ReasonablePeriodInfo:
    """Art. 35: the later reply date set for an excessive request, and why."""

    set_on: date
    due: date
    reason: str


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


def int_field(data: dict[str, Any], key: str, default: int) -> int:
    value = data.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"事件数据 {key} 应为整数：{value!r}") from None


def _deadlines_at(events: Sequence[AnyEvent], upto: AnyEvent, cal: WorkCalendar, settings: ClockSettings) -> Deadlines:
    """The deadlines in force right after `upto` took effect."""
    prefix: list[ClockEvent] = []
    for ev in events:
        prefix.append(ClockEvent(ev.event, ev.on, dict(ev.data or {})))
        if ev is upto:
            break
    return compute_deadlines(prefix, cal, settings, explain=False)


def latest_event(events: Sequence[AnyEvent], names: frozenset[str], upto: AnyEvent | None = None) -> AnyEvent | None:
    found: AnyEvent | None = None
    for ev in events:
        if ev.event in names:
            found = ev
        if ev is upto:
            break
    return found


@dataclass(frozen=True)
class Sources:
    """What a letter is built from."""

    case: AnyCase
    events: Sequence[AnyEvent]
    agency: Agency
    calendar: WorkCalendar
    settings: ClockSettings
    contact_person: str = ""
    already_this_month: int = 0  # the applicant's earlier fee quantity this month (same basis)
    names: Mapping[str, str] = field(default_factory=dict)  # login -> name of the people registered (SPEC §13)

    def at(self, ev: AnyEvent) -> tuple[dict[str, Any], Deadlines]:
        """An event's data, and the deadlines in force right after it took effect."""
        return dict(ev.data or {}), _deadlines_at(self.events, ev, self.calendar, self.settings)


def _due(d: Deadlines, which: Deadline, what: str = "") -> date:
    """The end of the period `which` in `d` (its field of the same name), or a refusal that
    names it (`what`, else the deadline's label) when the events leave it unknown."""
    value: date | None = getattr(d, which.value)
    if value is None:
        raise TemplateError(f"无法推算{what or which.label}（案件事件记录不完整）")
    return value


def _correction(src: Sources, ev: AnyEvent) -> CorrectionInfo:
    data, d = src.at(ev)
    return CorrectionInfo(
        requested_on=ev.on,
        items=text_field(data, "items"),
        period=int_field(data, "period", src.settings.correction_period_days),
        due=_due(d, Deadline.CORRECTION_DUE),
        provisional=d.provisional,
    )


def _consultation(src: Sources, ev: AnyEvent) -> ConsultationInfo:
    data, d = src.at(ev)
    return ConsultationInfo(
        consulted_on=ev.on,
        party=text_field(data, "party"),
        kind=text_field(data, "kind") or ConsultationKind.THIRD_PARTY.value,
        days=CONSULTATION_DAYS,
        due=_due(d, Deadline.CONSULTATION_DUE),
        provisional=d.provisional,
    )


def _extension(src: Sources, ev: AnyEvent) -> ExtensionInfo:
    data, d = src.at(ev)
    return ExtensionInfo(
        extended_on=ev.on,
        days=int_field(data, "days", 0),
        total_days=d.extended_days,
        approved_by=src.names.get(text_field(data, "approved_by"), text_field(data, "approved_by")),
        reason=text_field(data, "reason"),
        new_due=_due(d, Deadline.REPLY_DUE, "延长后的答复期限"),
        provisional=d.provisional,
    )


def _fee(src: Sources, ev: AnyEvent) -> FeeInfo:
    data, d = src.at(ev)
    basis = FeeBasis(text_field(data, "basis"))
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
        pay_due=_due(d, Deadline.FEE_DUE),
        provisional=d.provisional,
        pauses_clock=src.settings.pause_clock_during_fee,
    )


def answered_event(kind: NoticeKind, events: Sequence[AnyEvent], case_id: str) -> AnyEvent:
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
            NoticeKind.CONSULTATION_NOTICE: "征求意见（consult）",
            NoticeKind.THIRD_PARTY_DISCLOSURE: "答复决定（decide）",
            NoticeKind.REASONS: "登记（receive）",
            NoticeKind.REASONABLE_PERIOD: "确定合理期限（set_reasonable_period）",
        }[kind]
        raise RuleViolation(f"案件 {case_id} 没有{needs}记录，不能出具{label}")
    return found


# A withdrawal ends the case without a decision on the request: no 答复, and no remedies.
WITHDRAWAL_TITLE = "政府信息公开申请终止办理告知书"


def _title(kind: NoticeKind, answered: AnyEvent) -> str:
    return WITHDRAWAL_TITLE if kind is NoticeKind.DECISION and answered.event == "withdraw" else kind.label


def build_context(src: Sources, kind: NoticeKind, *, number: str, dated: date) -> dict[str, Any]:
    """Everything the templates may use (see notices/_wording.j2)."""
    case = src.case
    answered = answered_event(kind, src.events, case.id)
    upto = answered
    correction_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.CORRECTION], upto)
    consult_ev = answered if answered.event == "consult" else latest_event(
        src.events, KIND_EVENTS[NoticeKind.CONSULTATION], upto)
    period_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.REASONABLE_PERIOD], upto)
    extend_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.EXTENSION], upto)
    fee_ev = latest_event(src.events, KIND_EVENTS[NoticeKind.FEE], upto)
    receive_ev = answered_event(NoticeKind.ACKNOWLEDGEMENT, src.events, case.id)
    _, ack = src.at(receive_ev)
    consultation = _consultation(src, consult_ev) if consult_ev else None
    agency = src.agency
    decision_kinds = (NoticeKind.DECISION, NoticeKind.THIRD_PARTY_DISCLOSURE)
    third_party = (third_party_disclosure(src.events, answered, case.id)
                   if kind is NoticeKind.THIRD_PARTY_DISCLOSURE else None)  # fmt: skip
    addressee = case.applicant
    if kind is NoticeKind.CONSULTATION and consultation:
        addressee = consultation.party
    elif third_party is not None:
        addressee = third_party.parties
    return {
        "notice": LetterHead(kind.value, _title(kind, answered), number, dated),
        "agency": AgencyInfo(
            agency.code, agency.name, agency.short_name, agency.address, agency.phone, agency.postcode
        ),
        "addressee": addressee,
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
        "acknowledgement": AcknowledgementInfo(_due(ack, Deadline.REPLY_DUE), ack.provisional),
        "correction": _correction(src, correction_ev) if correction_ev else None,
        "consultation": consultation,
        "extension": _extension(src, extend_ev) if extend_ev else None,
        "fee": _fee(src, fee_ev) if fee_ev else None,
        "decision": decision_info(src.events, answered, agency) if kind in decision_kinds else None,
        "third_party": third_party,
        "reasons": ReasonsInfo(REASONS_DAYS),
        "reasonable_period": (
            ReasonablePeriodInfo(period_ev.on, date.fromisoformat(text_field(dict(period_ev.data or {}), "due")),
                                 text_field(dict(period_ev.data or {}), "reason"))
            if period_ev else None
        ),
    }

