"""Service of letters in the workflow (SPEC §15), pure: the reply date that counts, on time by
it, the guards on serving, delivering and returning, and properties over every history of
service a decision letter can have."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockSettings
from foi_workflow.domain.remedies import remedy_windows
from foi_workflow.domain.workflow import ApplyContext, CaseSnapshot, apply_case_event, load_workflows, receive_case
from foi_workflow.errors import FoiError, RuleViolation

CAL = WorkCalendar.load(None)
CTX = ApplyContext(calendar=CAL, settings=ClockSettings(), today=date(2030, 1, 1))
WF = load_workflows()
RECEIVED = date(2024, 3, 1)  # a Friday: the reply is due Friday 29 March 2024
DUE = date(2024, 3, 29)
APPLICANT = {"applicant": "张三", "applicant_type": "natural_person", "channel": "online", "request": "某文件"}


def case(*steps: tuple[str, date, dict[str, Any]], **receive: Any) -> CaseSnapshot:
    snap, _ = receive_case(WF, "S-1", RECEIVED, {**APPLICANT, **receive}, CTX)
    for event, on, data in steps:
        snap, _, _ = apply_case_event(WF, snap, event, on, data, CTX)
    return snap


def decided(on: date = DUE) -> tuple[str, date, dict[str, Any]]:
    return ("decide", on, {"outcome": "granted"})


def serve(on: date, method: str = "post", letter: str = "L-1", **more: Any) -> tuple[str, date, dict[str, Any]]:
    return ("serve", on, {"letter": letter, "method": method, "kind": "decision", **more})


def test_a_decision_dated_on_the_due_date_but_posted_two_working_days_later_is_late() -> None:
    posted = CAL.add_working_days(DUE, 2)
    snap = case(decided(DUE), serve(posted))
    assert snap.reply is not None and snap.reply.replied_on == posted and snap.reply.served
    assert snap.on_time is False
    # Posted on the due date itself it is on time, whenever the post delivers it.
    on_the_day = case(decided(DUE), serve(DUE), ("delivered", DUE + timedelta(days=6), {"letter": "L-1"}))
    assert on_the_day.on_time is True and on_the_day.reply is not None and on_the_day.reply.replied_on == DUE


def test_the_posting_date_counts_not_the_day_the_posting_was_recorded() -> None:
    snap = case(decided(DUE), serve(DUE + timedelta(days=4), sent_on=DUE.isoformat()))
    assert snap.reply is not None and snap.reply.replied_on == DUE and snap.on_time is True


def test_an_in_person_letter_is_judged_by_the_day_the_applicant_signed_for_it() -> None:
    handed = case(decided(DUE - timedelta(days=1)), serve(DUE, "in_person"))
    # Handed over but not signed for yet: no service that counts, the decision date stands.
    assert handed.reply is not None and not handed.reply.served and handed.on_time is True
    signed_late = CAL.add_working_days(DUE, 1)
    signed = ("delivered", signed_late, {"letter": "L-1"})
    snap = case(decided(DUE - timedelta(days=1)), serve(DUE, "in_person"), signed)
    assert snap.reply is not None and snap.reply.replied_on == signed_late and snap.on_time is False
    assert snap.remedies == remedy_windows(signed_late, CAL)


def test_without_a_service_record_the_decision_date_stands_unserved() -> None:
    snap = case(decided(DUE))
    assert snap.reply is not None and (snap.reply.replied_on, snap.reply.served) == (DUE, False)
    assert snap.on_time is True and snap.remedies is None


def test_a_returned_letter_may_be_served_again_and_the_latest_service_counts() -> None:
    first, back, again = DUE - timedelta(days=3), DUE + timedelta(days=5), DUE + timedelta(days=7)
    returned = case(decided(first), serve(first), ("returned", back, {"letter": "L-1", "reason": "地址不详"}))
    assert returned.reply is not None and not returned.reply.served  # a returned letter answered no one
    snap = case(decided(first), serve(first), ("returned", back, {"letter": "L-1", "reason": "地址不详"}),
                serve(again), ("delivered", again + timedelta(days=2), {"letter": "L-1"}))  # fmt: skip
    assert snap.reply is not None and snap.reply.replied_on == again and snap.on_time is False
    assert [a.returned for a in snap.service.letters[0].attempts] == ["地址不详", None]
    assert snap.remedies is not None and snap.remedies.delivered_on == again + timedelta(days=2)


def test_a_letter_out_cannot_be_served_again_nor_a_delivered_one_returned() -> None:
    with pytest.raises(RuleViolation, match="尚未签收或退回"):
        case(decided(), serve(DUE), serve(DUE))
    with pytest.raises(RuleViolation, match="已于 2024-04-01 送达"):
        case(decided(), serve(DUE), ("delivered", date(2024, 4, 1), {"letter": "L-1"}),
             ("returned", date(2024, 4, 2), {"letter": "L-1", "reason": "x"}))  # fmt: skip
    with pytest.raises(RuleViolation, match="尚未送出"):
        case(decided(), ("delivered", DUE, {"letter": "L-9"}))


def test_electronic_service_needs_the_applicants_recorded_consent() -> None:
    with pytest.raises(RuleViolation, match="未同意电子送达"):
        case(decided(), serve(DUE, "electronic"))
    at_intake = case(decided(), serve(DUE, "electronic"), e_service="zs@example.cn")
    later = case(decided(), ("consent", DUE, {"e_service": "zs@example.cn"}), serve(DUE, "electronic"))
    for snap in (at_intake, later):
        assert snap.service.e_service == "zs@example.cn"
        assert snap.reply is not None and not snap.reply.served  # counts once it reached their system


def test_a_decision_letter_is_served_only_once_the_case_is_decided() -> None:
    with pytest.raises(RuleViolation, match="尚未办结"):
        case(serve(RECEIVED + timedelta(days=1)))
    # Other letters are served whenever they are written: the acknowledgement at once.
    snap = case(("serve", RECEIVED, {"letter": "A-1", "method": "in_person", "kind": "acknowledgement"}))
    assert snap.service.letters[0].kind == "acknowledgement"


def test_a_posting_date_belongs_to_post_and_never_follows_the_record() -> None:
    with pytest.raises(RuleViolation, match="只用于邮寄送达"):
        case(decided(), serve(DUE, "in_person", sent_on=DUE.isoformat()))
    with pytest.raises(RuleViolation, match="晚于送达记录"):
        case(decided(), serve(DUE, sent_on=(DUE + timedelta(days=1)).isoformat()))


# ------------------------------------------------------------------ every history

METHODS = ("in_person", "delegated", "post", "electronic")
Step = tuple[str, int, str]  # event, days after the previous step, method (for serve)

steps = st.lists(
    st.tuples(st.sampled_from(("serve", "delivered", "returned")), st.integers(0, 40), st.sampled_from(METHODS)),
    max_size=8,
)


def _history(decided_after: int, plan: list[Step]) -> CaseSnapshot:
    """A case decided `decided_after` days after receipt, then every planned service step the
    rules allow (a refused one is skipped, as a caseworker would be refused it)."""
    snap = case(decided(RECEIVED + timedelta(days=decided_after)), e_service="zs@example.cn")
    on = snap.last_event_on
    for event, wait, method in plan:
        on += timedelta(days=wait)
        data: dict[str, Any] = {"letter": "L-1"}
        if event == "serve":
            data.update(method=method, kind="decision")
        elif event == "returned":
            data["reason"] = "退回"
        try:
            snap, _, _ = apply_case_event(WF, snap, event, on, data, CTX)
        except FoiError:
            continue
    return snap


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 60), steps, st.integers(0, 1200), st.booleans())
def test_every_history_of_service_keeps_the_rules(decided_after: int, plan: list[Step], later: int,
                                                  appealed: bool) -> None:  # fmt: skip
    snap = _history(decided_after, plan)
    reply, decided_on = snap.reply, snap.decided_on
    assert reply is not None and decided_on is not None
    assert reply.replied_on >= decided_on
    letter = snap.service.find("L-1")
    last = letter.latest if letter else None
    # Served exactly when the latest service stands and has reached the point that counts.
    assert reply.served == (last is not None and last.counts_on is not None)
    # On time exactly when the date that counts is on or before the due date.
    assert snap.on_time == (reply.replied_on <= DUE)
    # Remedy windows exactly once the letter that stands was delivered.
    assert (snap.remedies is not None) == (last is not None and last.delivered_on is not None and last.returned is None)
    today = snap.last_event_on + timedelta(days=later)
    if snap.remedies is not None:
        # A case with an appeal filed is never 已生效; without one, once every window ended.
        assert snap.remedies.final(today, appealed=True) is False
        assert snap.remedies.final(today, appealed=False) == (today > snap.remedies.litigation_until)
