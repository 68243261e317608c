"""The guards of the disclosure workflow: each a named legal rule of SPEC §3, a condition of the
shared machine (`domain.definition`), named in `workflows/disclosure.yaml` by its function name.

A guard returns True when its rule holds and otherwise raises a refusal that says why, citing
the article and telling the caseworker what is left (a False would only say "not allowed").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from foi_workflow.domain.periods import CORRECTION_PERIOD_RANGE, EXTENSION_CAP
from foi_workflow.domain.vocabulary import Deadline, NoticeKind, Outcome, ServiceMethod, State
from foi_workflow.errors import RuleViolation

if TYPE_CHECKING:
    from foi_workflow.domain.workflow import ApplyContext, CaseSnapshot


class GuardInput(NamedTuple):
    """What a guard sees: the case before the event, the event's date and data, the context.
    (A named tuple: one is built for every event a bulk import replays.)"""

    snap: CaseSnapshot
    on: date
    data: Mapping[str, Any]
    ctx: ApplyContext


Guard = Callable[[GuardInput], bool]


def correction_only_once(g: GuardInput) -> bool:
    if g.snap.corrections_requested:
        raise RuleViolation(f"案件 {g.snap.id} 已经告知过补正，补正只能一次性告知（条例第三十条）")
    return True


def correction_period_positive(g: GuardInput) -> bool:
    period = g.data.get("period", g.ctx.settings.correction_period_days)
    low, high = CORRECTION_PERIOD_RANGE
    if not low <= period <= high:
        raise RuleViolation(f"补正期限应为 {low} 至 {high} 个工作日，而不是 {period}")
    return True


def _period_ended(g: GuardInput, due: date | None, period: Deadline, then: str) -> bool:
    """A lapse takes effect only after its period: on a day later than the period's due date."""
    if due is None or g.on <= due:
        ends = due.isoformat() if due else "（无）"
        raise RuleViolation(f"案件 {g.snap.id} 的{period.label}至 {ends} 届满，届满后才能{then}")
    return True


def correction_period_ended(g: GuardInput) -> bool:
    due = g.snap.clock.correction_due_now if g.snap.clock else None
    return _period_ended(g, due, Deadline.CORRECTION_DUE, "视为放弃申请")


def fee_period_ended(g: GuardInput) -> bool:
    due = g.snap.clock.fee_due_now if g.snap.clock else None
    return _period_ended(g, due, Deadline.FEE_DUE, "按未缴费处理")


def consultation_period_ended_for_silence(g: GuardInput) -> bool:
    """`none` (no opinion) only once the 15 working days have ended; a reply in time is agree/object."""
    clock = g.snap.clock
    if g.data.get("opinion") != "none" or clock is None:
        return True
    party = str(g.data.get("party", "")).strip()
    ends = [end for name, _, end in clock.consultations if name == party]
    due = ends[0] if ends else clock.consultation_due  # that party's period, else the earliest open
    if due is not None and g.on <= due:
        raise RuleViolation(
            f"案件 {g.snap.id} 的征求意见期限至 {due.isoformat()} 届满，届满前不能按未提出意见处理"
            "（条例第三十二条）；期限内收到回复请记为 agree 或 object"
        )
    return True


def extension_within_limits(g: GuardInput) -> bool:
    days = int(g.data["days"])
    already = g.snap.extended_days
    if not 1 <= days <= EXTENSION_CAP:
        raise RuleViolation(f"延长天数应为 1 至 {EXTENSION_CAP} 个工作日，而不是 {days}")
    if already + days > EXTENSION_CAP:
        raise RuleViolation(
            f"延长答复期限合计不得超过 {EXTENSION_CAP} 个工作日（条例第三十三条），"
            f"案件 {g.snap.id} 已延长 {already} 个工作日，最多还可延长 {EXTENSION_CAP - already} 个"
        )
    return True


def extension_before_due(g: GuardInput) -> bool:
    due = g.snap.reply_due
    if due is not None and g.on > due:
        raise RuleViolation(f"答复期限已于 {due.isoformat()} 届满，不能再延长（延期须在期限届满前决定）")
    return True


def no_extension_request_pending(g: GuardInput) -> bool:
    pending = g.snap.extension_request
    if pending is not None:
        raise RuleViolation(
            f"案件 {g.snap.id} 已有一项延期申请（{pending.days} 个工作日，{pending.on.isoformat()}）待审批，"
            "请等待审批人 foi approve 或 foi reject"
        )
    return True


def extension_request_pending(g: GuardInput) -> bool:
    if g.snap.extension_request is None:
        raise RuleViolation(f"案件 {g.snap.id} 没有待审批的延期申请")
    return True


def reasonable_period_later(g: GuardInput) -> bool:
    due = date.fromisoformat(g.data["due"])
    current = g.snap.reply_due
    if due <= g.on or (current is not None and due <= current):
        raise RuleViolation("合理期限应晚于当前答复期限和决定之日（条例第三十五条）")
    return True


def fee_values_valid(g: GuardInput) -> bool:
    if int(g.data["quantity"]) < 1:
        raise RuleViolation("收费数量应至少为 1")
    return True


_LAPSE_OUTCOMES = frozenset(o.value for o in Outcome if o.is_lapse)


def outcome_not_lapse(g: GuardInput) -> bool:
    outcome = g.data["outcome"]  # canonical: checked against `Outcome` by normalize_data
    if outcome in _LAPSE_OUTCOMES:
        raise RuleViolation(
            f"办理结果 {outcome} 只能由期限届满自动产生（lapse_correction / lapse_fee），不能手工选择"
        )
    return True


def party_not_consulted_yet(g: GuardInput) -> bool:
    party = str(g.data.get("party", "")).strip()
    open_parties = [c[0] for c in g.snap.clock.consultations] if g.snap.clock else []
    if party in open_parties:
        raise RuleViolation(f"案件 {g.snap.id} 正在征求{party}的意见，尚未答复或届满")
    return True


def consultation_open_for_party(g: GuardInput) -> bool:
    clock = g.snap.clock
    open_parties = [c[0] for c in clock.consultations] if clock else []
    party = str(g.data.get("party", "")).strip()
    if party and party not in open_parties:
        raise RuleViolation(f"案件 {g.snap.id} 没有在征求{party}的意见（正在征求：{'、'.join(open_parties) or '无'}）")
    if not party and len(open_parties) > 1 and g.data.get("opinion") != "none":
        raise RuleViolation(f"案件 {g.snap.id} 正在征求{'、'.join(open_parties)}的意见，请用 --party 指明是谁的答复")
    return True


def letter_may_be_served(g: GuardInput) -> bool:
    """A letter is served once, and again only after it came back (SPEC §15); a decision
    letter only once the case is decided; a posting date belongs to a letter sent by post."""
    letter = str(g.data["letter"])
    entry = g.snap.service.find(letter)
    if entry is not None:
        last = entry.latest
        if last.delivered_on is not None:
            raise RuleViolation(
                f"案件 {g.snap.id} 的文书 {letter} 已于 {last.delivered_on.isoformat()} 送达，不能再次送达"
            )
        if last.returned is None:
            raise RuleViolation(
                f"案件 {g.snap.id} 的文书 {letter} 已于 {last.on.isoformat()} 送出，尚未签收或退回；"
                "退回后才能再次送达（foi returned）"
            )
    decision = g.data.get("kind", NoticeKind.DECISION.value) == NoticeKind.DECISION.value
    if decision and g.snap.state != State.DECIDED.value:
        raise RuleViolation(f"案件 {g.snap.id} 尚未办结，答复告知书不能送达")
    method = g.data["method"]
    sent = g.data.get("sent_on")
    if sent is not None:
        if method != ServiceMethod.POST.value:
            raise RuleViolation("交邮日期（--sent-on）只用于邮寄送达（--method post）")
        if date.fromisoformat(sent) > g.on:
            raise RuleViolation(f"交邮日期 {sent} 晚于送达记录的日期 {g.on.isoformat()}")
    return True


def electronic_service_consented(g: GuardInput) -> bool:
    """Electronic service needs the applicant's recorded consent and address (SPEC §15)."""
    if g.data["method"] == ServiceMethod.ELECTRONIC.value and not g.snap.service.e_service:
        raise RuleViolation(
            f"案件 {g.snap.id} 的申请人未同意电子送达，不能电子送达；"
            "请先记录其同意和地址：foi consent ID --e-service 地址"
        )
    return True


def letter_out_for_delivery(g: GuardInput) -> bool:
    """Delivered or returned: only a letter out (served, neither delivered nor returned yet).
    (Not before it went out: the event-order rule already keeps it after the `serve`.)"""
    letter = str(g.data["letter"])
    entry = g.snap.service.find(letter)
    if entry is None:
        raise RuleViolation(f"案件 {g.snap.id} 的文书 {letter} 尚未送出（请先记录 foi serve）")
    last = entry.latest
    if not last.pending:
        done = f"已于 {last.delivered_on.isoformat()} 送达" if last.delivered_on else "已退回"
        raise RuleViolation(f"案件 {g.snap.id} 的文书 {letter} {done}；再次送达后才能记录签收或退回")
    return True


def other_consultations_open(g: GuardInput) -> bool:
    """Not a refusal but a route (`stay_while`): after this reply another consultation is open."""
    clock = g.snap.clock
    return clock is not None and len(clock.consultations) > 1


# The guards by the name the YAML gives them: the function's own name, so the diagram shows it.
GUARDS: dict[str, Guard] = {
    g.__name__: g
    for g in (
        correction_only_once,
        correction_period_positive,
        correction_period_ended,
        fee_period_ended,
        consultation_period_ended_for_silence,
        extension_within_limits,
        extension_before_due,
        no_extension_request_pending,
        extension_request_pending,
        reasonable_period_later,
        fee_values_valid,
        outcome_not_lapse,
        party_not_consulted_yet,
        consultation_open_for_party,
        other_consultations_open,
        letter_may_be_served,
        electronic_service_consented,
        letter_out_for_delivery,
    )
}
