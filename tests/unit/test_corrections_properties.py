"""Corrections (SPEC §11) as rules over every history: voiding the last event is the same as
never having recorded it; correcting event k to a value is the same as having recorded that
value in the first place, or is refused when that history would not have been allowed."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockSettings
from foi_workflow.domain.replay import replay_case
from foi_workflow.domain.vocabulary import Outcome
from foi_workflow.domain.workflow import ApplyContext, CaseSnapshot, apply_case_event, load_workflows, receive_case
from foi_workflow.errors import CorrectionRefused, FoiError, InvalidInput, RuleViolation

WF = load_workflows()
CTX = ApplyContext(calendar=WorkCalendar.load(None), settings=ClockSettings(), today=date(2030, 1, 1))
START = date(2024, 1, 2)
RECEIVE = {"applicant": "张三", "applicant_type": "natural_person", "channel": "online", "request": "某文件"}
GOOD: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "request_correction": st.fixed_dictionaries({"items": st.just("请补充")}, optional={"period": st.integers(1, 20)}),
    "consult": st.fixed_dictionaries({"party": st.sampled_from(["甲公司", "乙局"])}),
    "consultation_reply": st.fixed_dictionaries({"opinion": st.sampled_from(["agree", "object", "none"])}),
    "extend": st.fixed_dictionaries({"days": st.integers(1, 12), "approved_by": st.just("赵主任")}),
    "fee_notice": st.fixed_dictionaries(
        {"amount": st.just(100), "basis": st.sampled_from(["per_item", "per_page"]), "quantity": st.integers(1, 60)}
    ),
    "decide": st.fixed_dictionaries({"outcome": st.sampled_from([o.value for o in Outcome if not o.is_lapse])}),
    "withdraw": st.fixed_dictionaries({}, optional={"reason": st.just("不再需要")}),
    "assign": st.fixed_dictionaries({"caseworker": st.sampled_from(["王五", "赵六"])}),
}


@dataclass
class Logged:
    """A line of the log, as the replay reads it."""

    event: str
    on: date
    data: dict[str, Any] = field(default_factory=dict)
    by: str = "经办人"


def projection(snap: CaseSnapshot) -> dict[str, Any]:
    """What the case row caches (the clock's own bookkeeping aside)."""
    values = {f.name: getattr(snap, f.name) for f in fields(snap) if f.name not in ("clock", "deadlines")}
    return {**values, "deadlines": snap.deadlines}


@st.composite
def histories(draw: st.DrawFn) -> list[Logged]:
    """A valid history: events the state allows, with good data, on non-decreasing dates; what the
    rules refuse (a guard, a period not yet ended) is simply not recorded."""
    on = START + timedelta(days=draw(st.integers(0, 60)))
    log = [Logged("receive", on, dict(RECEIVE))]
    snap, _ = receive_case(WF, "P-1", on, RECEIVE, CTX, by="经办人")
    for _ in range(draw(st.integers(1, 8))):
        allowed = [e for e in WF.disclosure.allowed_events(snap.state) if e not in ("carry_over", "void", "correct")]
        if not allowed:
            break
        event = draw(st.sampled_from(allowed))
        data = draw(GOOD.get(event, st.just({})))
        on = on + timedelta(days=draw(st.integers(0, 40)))
        try:
            snap, clean, _ = apply_case_event(WF, snap, event, on, data, CTX)
        except FoiError:
            continue
        log.append(Logged(event, on, clean))
    return log


def amendment(kind: str, target: int, changes: dict[str, Any] | None = None) -> Logged:
    data: dict[str, Any] = {"target": target, "reason": "录入错误"}
    if kind == "correct":
        data["set"] = changes or {}
    return Logged(kind, date(2029, 12, 31), data)


@settings(max_examples=150, deadline=None)
@given(histories())
def test_voiding_the_last_event_is_the_same_as_never_recording_it(log: list[Logged]) -> None:
    assume(len(log) >= 2)
    voided = replay_case(WF, "P-1", [*log, amendment("void", len(log))], CTX)
    assert projection(voided) == projection(replay_case(WF, "P-1", log[:-1], CTX))


def changes_for(draw: st.DrawFn, ev: Logged) -> dict[str, Any]:
    """A plausible correction of `ev`: its date, or one of its fields."""
    options: list[dict[str, Any]] = [{"on": (ev.on + timedelta(days=draw(st.integers(-20, 20)))).isoformat()}]
    if ev.event == "receive":
        options.append({"applicant_type": draw(st.sampled_from(["commercial", "research", "natural_person"]))})
    if ev.event in GOOD:
        options.append(draw(GOOD[ev.event]))
    return draw(st.sampled_from(options))


@settings(max_examples=200, deadline=None)
@given(histories(), st.data())
def test_correcting_an_event_is_the_same_as_recording_it_right_or_is_refused(
    log: list[Logged], data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, len(log)))
    target = log[k - 1]
    changes = changes_for(data.draw, target)
    right_on = date.fromisoformat(changes["on"]) if "on" in changes else target.on
    fields_changed = {name: value for name, value in changes.items() if name != "on"}
    right = [*log[: k - 1], Logged(target.event, right_on, {**target.data, **fields_changed}), *log[k:]]
    assume((right_on, right[k - 1].data) != (target.on, target.data))
    corrected_log = [*log, amendment("correct", k, changes)]
    try:
        expected = projection(replay_case(WF, "P-1", right, CTX))
    except FoiError:
        with pytest.raises(CorrectionRefused, match=r"第 \d+ 个事件"):
            replay_case(WF, "P-1", corrected_log, CTX)
        return
    assert projection(replay_case(WF, "P-1", corrected_log, CTX)) == expected


@settings(max_examples=60, deadline=None)
@given(histories(), st.data())
def test_voiding_any_event_leaves_a_history_that_replays_or_names_the_event_that_breaks(
    log: list[Logged], data: st.DataObject
) -> None:
    k = data.draw(st.integers(2, max(2, len(log))))
    assume(k <= len(log))
    remaining = log[: k - 1] + log[k:]
    try:
        expected = projection(replay_case(WF, "P-1", remaining, CTX))
    except FoiError:
        with pytest.raises(CorrectionRefused):
            replay_case(WF, "P-1", [*log, amendment("void", k)], CTX)
        return
    assert projection(replay_case(WF, "P-1", [*log, amendment("void", k)], CTX)) == expected


def test_voiding_the_registration_voids_the_case_and_keeps_its_particulars() -> None:
    log = [Logged("receive", START, dict(RECEIVE)), Logged("decide", START + timedelta(days=3), {"outcome": "granted"})]
    snap = replay_case(WF, "P-1", [*log, amendment("void", 1)], CTX)
    assert snap.voided and snap.applicant == "张三" and snap.received_on == START
    assert snap.outcome is None and snap.deadlines is None and snap.reply_due is None


def test_an_amendment_cannot_target_an_amendment_a_marker_or_a_voided_event() -> None:
    from foi_workflow.domain.corrections import check_amendment

    log = [
        Logged("receive", START, dict(RECEIVE)),
        Logged("carry_over", date(2024, 12, 31), {"year": 2025}),
        Logged("extend", START + timedelta(days=3), {"days": 5, "approved_by": "赵主任"}),
        amendment("void", 3),
    ]
    for target, refusal in ((4, "本身是作废或更正记录"), (2, "年度结转标记"), (3, "已由第 4 个事件作废")):
        with pytest.raises(RuleViolation, match=refusal):
            check_amendment(WF.disclosure, "案件 P-1", log, "void", target)
    with pytest.raises(InvalidInput, match="没有第 9 个事件"):
        check_amendment(WF.disclosure, "案件 P-1", log, "void", 9)
    with pytest.raises(InvalidInput, match="不能更正：补正事项"):
        check_amendment(WF.disclosure, "案件 P-1", log, "correct", 1, {"items": "x"})
    with pytest.raises(InvalidInput, match="无需更正"):
        check_amendment(WF.disclosure, "案件 P-1", log, "correct", 1, {"applicant": "张三"})
