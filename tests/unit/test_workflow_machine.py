"""The shared `transitions` machine is the one definition of the workflow: a command fires
through it, a bulk replay through the table read off it, and both answer alike; the scheduler's
automatic events, the diagram and the definition's checks all come from the same YAML."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockSettings
from foi_workflow.domain.diagram import diagram
from foi_workflow.domain.vocabulary import Deadline
from foi_workflow.domain.workflow import (
    ApplyContext,
    CaseSnapshot,
    apply_case_event,
    finish_snapshot,
    load_workflows,
    receive_case,
)
from foi_workflow.errors import ConfigError, FoiError
from foi_workflow.resources import WORKFLOWS_DIR

CTX = ApplyContext(WorkCalendar.load(None), ClockSettings(), date.max)
RECEIVED_ON = date(2024, 3, 1)
APPLICATION = {"applicant": "张三", "applicant_type": "natural_person", "channel": "online", "request": "某信息"}

# Data each event accepts, and data that one of its guards refuses.
GOOD_DATA: dict[str, dict[str, Any]] = {
    "request_correction": {"items": "时间范围"},
    "receive_correction": {},
    "lapse_correction": {},
    "consult": {"party": "某公司"},
    "consultation_reply": {"opinion": "agree"},
    "extend": {"days": 5, "approved_by": "王主任"},
    "set_reasonable_period": {"due": "2024-12-31", "reason": "数量巨大"},
    "fee_notice": {"amount": 10, "basis": "per_item", "quantity": 1},
    "fee_paid": {},
    "lapse_fee": {},
    "decide": {"outcome": "granted"},
    "withdraw": {},
    "assign": {"caseworker": "李四"},
    "carry_over": {"year": 2025},
    "request_extension": {"days": 5, "reason": "需调档"},
    "reject_extension": {"reason": "理由不足"},
    "serve": {"letter": "L-1", "method": "post", "kind": "acknowledgement"},
    "delivered": {"letter": "L-1"},
    "returned": {"letter": "L-1", "reason": "地址不详"},
    "consent": {"e_service": "zs@example.cn"},
}
BAD_DATA: dict[str, dict[str, Any]] = {
    "request_correction": {"items": "时间范围", "period": 0},
    "extend": {"days": 25, "approved_by": "王主任"},
    "request_extension": {"days": 0},
    "set_reasonable_period": {"due": "2024-03-02", "reason": "数量巨大"},
    "fee_notice": {"amount": 10, "basis": "per_item", "quantity": 0},
    "decide": {"outcome": "other.fee_unpaid"},
    "serve": {"letter": "L-1", "method": "electronic", "kind": "acknowledgement"},  # no consent recorded
}
# A short history that leaves a case in each state (after `receive`).
TO_STATE: dict[str, list[tuple[str, int]]] = {
    "received": [],
    "correction_requested": [("request_correction", 2)],
    "received_after_correction": [("request_correction", 2), ("receive_correction", 5)],
    "consultation": [("consult", 3)],
    "fee_notice": [("fee_notice", 3)],
    "decided": [("decide", 4)],
}


def _case(history: list[tuple[str, int]]) -> CaseSnapshot:
    wf = load_workflows()
    snap, _ = receive_case(wf, "2024-0001", RECEIVED_ON, APPLICATION, CTX)
    for event, days in history:
        snap, _, _ = apply_case_event(wf, snap, event, RECEIVED_ON + timedelta(days=days), GOOD_DATA[event], CTX)
    return snap


def _outcome(fire: Callable[[], tuple[CaseSnapshot, Any, Any]]) -> tuple[str, str]:
    try:
        snap, _, _ = fire()
    except FoiError as exc:
        return type(exc).__name__, exc.line()
    return "moved", snap.state


@pytest.mark.parametrize("where", list(TO_STATE))
def test_a_command_and_a_replay_answer_alike_for_every_event_in_every_state(where: str) -> None:
    wf = load_workflows()
    case = _case(TO_STATE[where])
    answers: set[tuple[str, str]] = set()
    for event in wf.disclosure.events:
        if wf.disclosure.events[event].creates or event in wf.disclosure.amending:
            continue  # void / correct act through the replay of the whole log (test_corrections_*)
        for data in (GOOD_DATA[event], BAD_DATA.get(event, GOOD_DATA[event])):
            for later in (1, 60):  # before and after the periods a guard waits for
                on = case.last_event_on + timedelta(days=later)
                command = _outcome(lambda: apply_case_event(wf, case, event, on, data, CTX))  # noqa: B023
                replay = _outcome(lambda: apply_case_event(wf, case, event, on, data, CTX, deadlines=False))  # noqa: B023
                assert command == replay, (where, event, data, on)
                answers.add(command)
    # Both paths were tried on moves, guard refusals and events the state does not allow.
    kinds = {kind for kind, _ in answers}
    assert {"moved", "TransitionNotAllowed"} <= kinds


def test_a_command_moves_the_case_through_the_machine_and_leaves_the_old_snapshot_alone() -> None:
    wf = load_workflows()
    case = _case([])
    new, _, _ = apply_case_event(wf, case, "consult", date(2024, 3, 4), {"party": "某公司"}, CTX)
    assert (case.state, new.state) == ("received", "consultation")
    assert wf.disclosure.machine.models == []  # fired on the snapshot, never added to the machine
    replayed, _, _ = apply_case_event(wf, case, "consult", date(2024, 3, 4), {"party": "某公司"}, CTX, deadlines=False)
    assert finish_snapshot(replayed, CTX) == new


def test_every_automatic_event_waits_for_the_deadline_the_case_has_in_the_state_it_leaves() -> None:
    wf = load_workflows()
    automatic = wf.disclosure.automatic_events()
    assert {event for event, _ in automatic} == {"lapse_correction", "lapse_fee", "consultation_reply"}
    for event, auto in automatic:
        (source,) = wf.disclosure.events[event].sources
        case = _case(TO_STATE[source])
        assert case.deadlines is not None
        due = getattr(case.deadlines, auto.after.value)
        assert isinstance(due, date)
        # The day after the period the sweep fires it, with the declared data, and it is allowed.
        fired, _, _ = apply_case_event(wf, case, event, due + timedelta(days=1), auto.data, CTX)
        assert fired.state == wf.disclosure.events[event].dest
    consultation = dict(automatic)["consultation_reply"]
    assert consultation.after is Deadline.CONSULTATION_DUE and consultation.data == {"opinion": "none"}


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS_DIR, folder)
    path = folder / "disclosure.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("  - {name: received}", "  - {name: received, clock: running}", "unknown key 'clock'"),
        ("  - {name: fee_notice}", "  - {name: fee_notice}\n  - {name: archived}", "not a word of State"),
        ("automatic: {after: fee_due}", "automatic: true", "格式有误"),
        ("automatic: {after: fee_due}", "automatic: {after: payment_due}", "格式有误"),
        ('data: {opinion: "none"}', 'data: {opinion: "silent"}', "data it would refuse"),
        ("    outcome: other.other\n", "", "withdraw ends a case without an outcome"),
        ("  receive:\n    creates: true\n", "  receive:\n", "exactly one event must have creates: true"),
    ],
)
def test_a_definition_that_says_what_nobody_reads_or_could_strand_a_case_is_refused(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_workflows(_edited(tmp_path, old, new))


def test_the_diagram_draws_every_state_with_its_label_and_every_event_with_its_guards() -> None:
    wf = load_workflows()
    drawn = diagram(wf.disclosure)
    assert drawn.splitlines()[3] == "stateDiagram-v2"
    for name, state in wf.disclosure.states.items():
        assert f'state "{name} {state.label}" as {name}' in drawn
    for event, spec in wf.disclosure.events.items():
        if not spec.creates:
            assert event in drawn
        for guard in spec.guards:
            assert guard in drawn
    assert "[*] --> received" in drawn and "s_active" not in drawn.split("\n\n", 1)[1]
