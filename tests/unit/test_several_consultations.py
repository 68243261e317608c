"""Several consultations at once (SPEC §11, Art. 32 and 34): each `consult` opens one named by
its party; the reply clock stays paused until the last open one is answered or has lapsed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockSettings
from foi_workflow.domain.workflow import ApplyContext, CaseSnapshot, apply_case_event, load_workflows, receive_case
from foi_workflow.errors import RuleViolation

WF = load_workflows()
CAL = WorkCalendar.load(None)
CTX = ApplyContext(calendar=CAL, settings=ClockSettings(), today=date(2030, 1, 1))
RECEIVE = {"applicant": "张三", "applicant_type": "natural_person", "channel": "online", "request": "某文件"}


def run(*steps: tuple[str, str, dict[str, Any]]) -> CaseSnapshot:
    snap, _ = receive_case(WF, "C-1", date(2024, 3, 1), RECEIVE, CTX)
    for event, on, data in steps:
        snap, _, _ = apply_case_event(WF, snap, event, date.fromisoformat(on), data, CTX)
    return snap


A = ("consult", "2024-03-05", {"party": "甲公司"})
B = ("consult", "2024-03-08", {"party": "乙局", "kind": "co_producer"})


def test_a_second_consult_opens_another_consultation_and_the_clock_stays_paused() -> None:
    snap = run(A, B)
    assert snap.state == "consultation" and snap.reply_due is None
    assert [c[0] for c in snap.clock.consultations] == ["甲公司", "乙局"]  # type: ignore[union-attr]
    assert snap.deadlines is not None and snap.deadlines.consultation_due == CAL.add_working_days(date(2024, 3, 5), 15)


def test_the_clock_resumes_only_when_the_last_open_consultation_is_answered() -> None:
    first = run(A, B, ("consultation_reply", "2024-03-12", {"opinion": "agree", "party": "甲公司"}))
    assert first.state == "consultation" and first.reply_due is None
    assert first.deadlines is not None
    assert first.deadlines.consultation_due == CAL.add_working_days(date(2024, 3, 8), 15)
    last = run(A, B, ("consultation_reply", "2024-03-12", {"opinion": "agree", "party": "甲公司"}),
               ("consultation_reply", "2024-03-20", {"opinion": "object", "party": "乙局"}))  # fmt: skip
    # Paused from 5 March (2 working days used) to 20 March: 18 working days left from the 20th.
    assert last.state == "received" and last.reply_due == CAL.add_working_days(date(2024, 3, 20), 18)
    one = run(A, ("consultation_reply", "2024-03-20", {"opinion": "object"}))
    assert one.reply_due == last.reply_due  # one consultation or two: the same pause


def test_a_reply_of_silence_without_a_party_answers_the_consultation_that_ends_first() -> None:
    snap, clean, _ = apply_case_event(WF, run(A, B), "consultation_reply", date(2024, 3, 27), {"opinion": "none"}, CTX)
    assert clean["party"] == "甲公司" and snap.state == "consultation"
    assert [c[0] for c in snap.clock.consultations] == ["乙局"]  # type: ignore[union-attr]


def test_a_reply_must_name_an_open_consultation_and_a_party_is_consulted_once_at_a_time() -> None:
    with pytest.raises(RuleViolation, match="没有在征求丙公司的意见"):
        run(A, B, ("consultation_reply", "2024-03-12", {"opinion": "agree", "party": "丙公司"}))
    with pytest.raises(RuleViolation, match="请用 --party 指明"):
        run(A, B, ("consultation_reply", "2024-03-12", {"opinion": "agree"}))
    with pytest.raises(RuleViolation, match="正在征求甲公司的意见"):
        run(A, ("consult", "2024-03-06", {"party": "甲公司"}))
