"""The reply clock of SPEC §4: hand-checked examples for each rule, and properties over
random legal histories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import (
    ClockEvent,
    ClockSettings,
    ClockState,
    Deadlines,
    compute_deadlines,
)

CAL = WorkCalendar.load(None)


def d(s: str) -> date:
    return date.fromisoformat(s)


def ev(event: str, on: str | date, **data: Any) -> ClockEvent:
    return ClockEvent(event, d(on) if isinstance(on, str) else on, data)


def run(*events: ClockEvent, cal: WorkCalendar = CAL, **kw: Any) -> Deadlines:
    return compute_deadlines(events, cal, ClockSettings(**kw))


RECEIVE = ev("receive", "2024-03-01")  # a Friday; reply due 2024-03-29 (4 full weeks)


def test_a_receipt_starts_a_20_working_day_clock_and_the_7_day_correction_duty() -> None:
    dl = run(RECEIVE)
    assert dl.reply_due == d("2024-03-29")
    assert dl.correction_notice_due == d("2024-03-12")
    assert not dl.provisional and dl.on_time is None and dl.extended_days == 0
    assert dl.correction_due is dl.consultation_due is dl.fee_due is None


def test_the_reply_period_skips_the_spring_festival_and_counts_make_up_sundays() -> None:
    dl = run(ev("receive", "2024-02-01"))
    # 2/2, 2/4 (Sunday worked), 2/5–2/9, 2/18 (Sunday worked), 2/19–3/1, 3/4, 3/5
    assert dl.reply_due == d("2024-03-05")
    text = "\n".join(dl.explanation)
    assert "2024-02-10至2024-02-17 法定节假日（春节）" in text
    assert "2024-02-04、2024-02-18" in text
    assert "暂定" not in text


def test_a_correction_request_stops_the_clock_and_runs_the_correction_period() -> None:
    dl = run(RECEIVE, ev("request_correction", "2024-03-05"))
    assert dl.reply_due is None and dl.correction_notice_due is None
    assert dl.correction_due == d("2024-03-26")  # 15 working days, the default
    assert dl.frozen_due == d("2024-03-29")
    assert run(RECEIVE, ev("request_correction", "2024-03-05", period=10)).correction_due == d("2024-03-19")
    assert run(RECEIVE, ev("request_correction", "2024-03-05"), correction_period_days=10).correction_due == d(
        "2024-03-19"
    )


def test_correction_restarts_the_reply_clock_from_the_day_it_arrives() -> None:
    dl = run(RECEIVE, ev("request_correction", "2024-03-05"), ev("receive_correction", "2024-03-15"))
    # 3/18–3/29 (10), 4/1–4/3 (13), 清明 4/4–4/6, 4/7 Sunday worked (14), 4/8–4/12 (19), 4/15 (20)
    assert dl.reply_due == d("2024-04-15")
    assert dl.correction_due is None and dl.correction_notice_due is None


def test_extensions_before_a_correction_do_not_carry_over_but_count_toward_the_cap() -> None:
    dl = run(
        RECEIVE,
        ev("extend", "2024-03-04", days=5, approved_by="李主任"),
        ev("request_correction", "2024-03-05"),
        ev("receive_correction", "2024-03-15"),
    )
    assert dl.reply_due == d("2024-04-15")
    assert dl.extended_days == 5
    assert "此前延期的5个工作日不再计入" in "\n".join(dl.explanation)


def test_an_extension_adds_working_days_to_the_due_date() -> None:
    dl = run(RECEIVE, ev("extend", "2024-03-20", days=10, approved_by="李主任"))
    # from 3/29: 4/1–4/3 (3), 4/7 Sunday worked (4), 4/8–4/12 (9), 4/15 (10)
    assert dl.reply_due == d("2024-04-15")
    assert dl.extended_days == 10
    assert "经李主任同意" in "\n".join(dl.explanation)


def test_a_consultation_pauses_the_clock_and_the_reply_resumes_it_with_what_was_left() -> None:
    paused = run(RECEIVE, ev("consult", "2024-03-08", party="某公司", kind="third_party"))
    assert paused.reply_due is None
    assert paused.consultation_due == d("2024-03-29")  # 15 working days
    assert paused.frozen_due == d("2024-03-29")
    assert "已用5个工作日，剩余15个" in "\n".join(paused.explanation)
    resumed = run(RECEIVE, ev("consult", "2024-03-08"), ev("consultation_reply", "2024-03-20", opinion="agree"))
    # 15 left from 3/20: 3/21–3/22 (2), 3/25–3/29 (7), 4/1–4/3 (10), 4/7 (11), 4/8–4/11 (15)
    assert resumed.reply_due == d("2024-04-11")
    assert resumed.consultation_due is None


def test_a_pause_after_the_due_date_leaves_the_case_overdue() -> None:
    events = [RECEIVE, ev("consult", "2024-04-02"), ev("consultation_reply", "2024-04-10", opinion="none")]
    dl = run(*events)
    assert dl.reply_due == d("2024-03-29")
    decided = run(*events, ev("decide", "2024-04-11", outcome="granted"))
    assert decided.on_time is False and decided.reply_due is None
    withdrawn_while_paused = run(*events[:2], ev("withdraw", "2024-04-05"))
    assert withdrawn_while_paused.on_time is False


def test_a_pause_on_the_due_date_itself_leaves_nothing_and_the_reply_is_due_on_resumption() -> None:
    events = [RECEIVE, ev("consult", "2024-03-29")]
    assert run(*events, ev("consultation_reply", "2024-04-08")).reply_due == d("2024-04-08")
    # resumed on a holiday (4/6): due the next working day, the make-up Sunday 4/7
    assert run(*events, ev("consultation_reply", "2024-04-06")).reply_due == d("2024-04-07")


def test_a_fee_notice_pauses_the_clock_by_default_and_sets_the_payment_period() -> None:
    notice = ev("fee_notice", "2024-03-08", amount=300, basis="per_item", quantity=13)
    dl = run(RECEIVE, notice)
    assert dl.reply_due is None and dl.fee_due == d("2024-04-08")
    assert run(RECEIVE, notice, ev("fee_paid", "2024-03-20")).reply_due == d("2024-04-11")


def test_without_the_fee_pause_the_clock_keeps_running_during_the_fee_notice() -> None:
    notice = ev("fee_notice", "2024-03-08", amount=300, basis="per_item", quantity=13)
    dl = run(RECEIVE, notice, pause_clock_during_fee=False)
    assert dl.reply_due == d("2024-03-29") and dl.fee_due == d("2024-04-08")
    paid = run(RECEIVE, notice, ev("fee_paid", "2024-03-20"), pause_clock_during_fee=False)
    assert paid.reply_due == d("2024-03-29") and paid.fee_due is None


def test_a_case_decided_on_or_before_its_due_date_is_on_time() -> None:
    assert run(RECEIVE, ev("decide", "2024-03-29", outcome="granted")).on_time is True
    late = run(RECEIVE, ev("decide", "2024-04-01", outcome="granted"))
    assert late.on_time is False and late.reply_due is None and late.frozen_due == d("2024-03-29")
    assert "逾期办结" in "\n".join(late.explanation)


def test_a_case_ended_while_stopped_or_paused_with_time_left_is_on_time() -> None:
    correction = [RECEIVE, ev("request_correction", "2024-03-05")]
    assert run(*correction, ev("lapse_correction", "2024-03-27")).on_time is True
    assert run(*correction, ev("withdraw", "2024-06-01", reason="不再需要")).on_time is True
    fee = [RECEIVE, ev("fee_notice", "2024-03-08", amount=300, basis="per_item", quantity=13)]
    lapsed = run(*fee, ev("lapse_fee", "2024-04-09"))
    assert lapsed.on_time is True and lapsed.fee_due is None


def test_a_reasonable_period_sets_the_due_date_by_hand() -> None:
    dl = run(RECEIVE, ev("set_reasonable_period", "2024-03-10", due="2024-06-28", reason="申请数量明显超过合理范围"))
    assert dl.reply_due == d("2024-06-28")
    assert "理由：申请数量明显超过合理范围" in "\n".join(dl.explanation)
    # a later pause keeps the working days that were left to the hand-set date
    resumed = run(
        RECEIVE,
        ev("set_reasonable_period", "2024-03-10", due="2024-06-28", reason="数量大"),
        ev("consult", "2024-06-27"),
        ev("consultation_reply", "2024-07-03"),
    )
    assert resumed.reply_due == d("2024-07-04")


def test_assignment_and_carry_over_do_not_touch_the_clock() -> None:
    plain = run(RECEIVE)
    busy = run(RECEIVE, ev("assign", "2024-03-04", caseworker="李四"), ev("carry_over", "2024-03-05", year=2024))
    assert busy.reply_due == plain.reply_due and busy.correction_notice_due == plain.correction_notice_due


def test_events_that_make_no_sense_in_the_phase_leave_the_clock_alone() -> None:
    base = run(RECEIVE)
    odd = run(
        RECEIVE, ev("fee_paid", "2024-03-04"), ev("consultation_reply", "2024-03-05"), ev("no_such", "2024-03-06")
    )
    assert odd.reply_due == base.reply_due
    after_decision = run(RECEIVE, ev("decide", "2024-03-04"), ev("extend", "2024-03-05", days=5))
    assert after_decision.on_time is True and after_decision.extended_days == 0


def test_a_deadline_running_into_2027_is_provisional_and_says_why() -> None:
    dl = run(ev("receive", "2026-12-10"))
    # 12/11–12/31 (15 working days), 2027-01-01 off (provisional 元旦), 1/4–1/8 (20)
    assert dl.reply_due == d("2027-01-08") and dl.provisional
    text = "\n".join(dl.explanation)
    assert "暂定：2027年尚无官方节假日安排" in text
    assert "2027-01-01 法定节假日（元旦）" in text
    assert not run(ev("receive", "2026-11-02")).provisional


def test_an_official_2027_file_removes_the_provisional_mark(tmp_path: Path) -> None:
    (tmp_path / "2027.toml").write_text(
        'source = "https://www.gov.cn/"\nholidays = [2027-01-01, 2027-01-04]\n', encoding="utf-8"
    )
    cal = WorkCalendar.load(tmp_path)
    dl = run(ev("receive", "2026-12-10"), cal=cal)
    assert dl.reply_due == d("2027-01-11") and not dl.provisional


def test_a_reasonable_period_set_by_hand_is_never_provisional() -> None:
    computed = run(ev("receive", "2026-12-01"), ev("extend", "2026-12-10", days=20, approved_by="主任"))
    assert computed.reply_due is not None and computed.reply_due.year == 2027 and computed.provisional
    by_hand = run(
        ev("receive", "2026-12-01"),
        ev("extend", "2026-12-10", days=20, approved_by="主任"),
        ev("set_reasonable_period", "2026-12-14", due="2027-03-19", reason="申请数量明显超过合理范围"),
    )
    assert by_hand.reply_due == d("2027-03-19") and not by_hand.provisional
    assert "暂定" not in "\n".join(by_hand.explanation)


def test_the_other_periods_are_provisional_when_they_cross_2027() -> None:
    dl = run(ev("receive", "2026-12-01"), ev("request_correction", "2026-12-20"))
    assert dl.correction_due is not None and dl.correction_due.year == 2027 and dl.provisional


def test_the_initial_state_can_start_from_a_receipt() -> None:
    state = ClockState.initial(d("2024-03-01"), CAL, ClockSettings())
    assert state.reply_due == d("2024-03-29") and state.budget == 20 and state.extension_left == 20
    assert state.used_by(CAL, d("2024-03-08")) == 5
    assert ClockState.initial().deadlines(CAL, ClockSettings()).reply_due is None


# ---------------------------------------------------------------------- properties

OPTIONS = {
    "received": ["request_correction", "consult", "fee_notice", "extend", "decide", "withdraw", "carry_over"],
    "correction_requested": ["receive_correction", "withdraw", "lapse_correction"],
    "consultation": ["consultation_reply", "withdraw"],
    "fee_notice": ["fee_paid", "withdraw", "lapse_fee"],
}
NEXT = {
    "request_correction": "correction_requested",
    "receive_correction": "received",
    "consult": "consultation",
    "consultation_reply": "received",
    "fee_notice": "fee_notice",
    "fee_paid": "received",
    "extend": "received",
    "carry_over": None,
}


@st.composite
def histories(draw: st.DrawFn) -> list[ClockEvent]:
    on = draw(st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 9, 30)))
    events = [ClockEvent("receive", on)]
    phase, corrected, extended = "received", False, 0
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        options = [
            o
            for o in OPTIONS[phase]
            if not (o == "request_correction" and corrected) and not (o == "extend" and extended >= 20)
        ]
        name = draw(st.sampled_from(options))
        on = on + timedelta(days=draw(st.integers(min_value=0, max_value=30)))
        data: dict[str, Any] = {}
        if name == "extend":
            data["days"] = draw(st.integers(min_value=1, max_value=20 - extended))
            extended += data["days"]
        if name == "request_correction":
            corrected = True
            data["period"] = draw(st.integers(min_value=1, max_value=30))
        events.append(ClockEvent(name, on, data))
        if name in ("decide", "withdraw", "lapse_correction", "lapse_fee"):
            break
        phase = NEXT[name] or phase
    return events


def prefixes(events: Sequence[ClockEvent]) -> list[ClockState]:
    states, state = [], ClockState.initial()
    for e in events:
        state = state.apply(e, CAL, ClockSettings())
        states.append(state)
    return states


@settings(max_examples=150, deadline=None)
@given(histories())
def test_a_due_date_is_always_a_working_day(events: list[ClockEvent]) -> None:
    for state in prefixes(events):
        dl = state.deadlines(CAL, ClockSettings())
        for due in (dl.reply_due, dl.correction_notice_due, dl.correction_due, dl.consultation_due, dl.fee_due):
            assert due is None or CAL.is_working_day(due)
    assert (dl.on_time is not None) == (events[-1].event in ("decide", "withdraw", "lapse_correction", "lapse_fee"))


@settings(max_examples=150, deadline=None)
@given(histories())
def test_a_pause_never_makes_a_due_date_earlier(events: list[ClockEvent]) -> None:
    states = prefixes(events)
    for i, e in enumerate(events):
        if e.event in ("consultation_reply", "fee_paid"):
            before_pause = states[i - 2].reply_due if events[i - 1].event in ("consult", "fee_notice") else None
            after = states[i].reply_due
            assert after is not None and before_pause is not None
            assert after >= before_pause
            assert after >= e.on or after == before_pause  # due on or after resumption, unless overdue


@settings(max_examples=150, deadline=None)
@given(histories())
def test_an_extension_moves_the_due_date_by_exactly_its_working_days(events: list[ClockEvent]) -> None:
    states = prefixes(events)
    for i, e in enumerate(events):
        if e.event == "extend":
            before, after = states[i - 1].reply_due, states[i].reply_due
            assert before is not None and after is not None
            assert after == CAL.add_working_days(before, e.data["days"])
            assert CAL.working_days_between(before, after) == e.data["days"]
            assert states[i].extended_days == states[i - 1].extended_days + e.data["days"]


@settings(max_examples=150, deadline=None)
@given(histories())
def test_a_correction_restart_gives_receipt_of_correction_plus_20(events: list[ClockEvent]) -> None:
    states = prefixes(events)
    for i, e in enumerate(events):
        if e.event == "receive_correction":
            assert states[i].reply_due == CAL.add_working_days(e.on, 20)


@st.composite
def paused_histories(draw: st.DrawFn) -> tuple[list[ClockEvent], list[tuple[date, date]]]:
    """receive, then pauses and resumptions; also the stretches the clock ran, worked out here."""
    r = draw(st.dates(min_value=date(2026, 6, 1), max_value=date(2027, 3, 31)))
    events, on, start = [ClockEvent("receive", r)], r, r
    runs: list[tuple[date, date]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        p = on + timedelta(days=draw(st.integers(min_value=0, max_value=12)))
        q = p + timedelta(days=draw(st.integers(min_value=0, max_value=40)))
        if p > CAL.add_working_days(start, 20 - sum(CAL.working_days_between(a, b) for a, b in runs)):
            break  # keep the clock within its budget: the simple reading of "crossed"
        events += [ClockEvent("consult", p), ClockEvent("consultation_reply", q, {"opinion": "none"})]
        runs.append((start, p))
        start, on = q, q
    return events, runs


@settings(max_examples=150, deadline=None)
@given(paused_histories())
def test_provisional_iff_a_provisional_day_was_crossed(case: tuple[list[ClockEvent], list[tuple[date, date]]]) -> None:
    events, runs = case
    dl = compute_deadlines(events, CAL)
    assert dl.reply_due is not None
    last_start = events[-1].on
    stretches = [*runs, (last_start, dl.reply_due)]
    if dl.correction_notice_due is not None:
        stretches.append((events[0].on, dl.correction_notice_due))
    crossed = any(
        CAL.is_provisional(a + timedelta(days=k)) for a, b in stretches for k in range(1, (b - a).days + 1)
    )
    assert dl.provisional == crossed
    assert dl.provisional == any("暂定" in line for line in dl.explanation)


def test_every_deadline_is_a_date_field_of_the_deadlines_by_its_own_name() -> None:
    import dataclasses

    from foi_workflow.domain.clock import Deadlines
    from foi_workflow.domain.vocabulary import Deadline

    fields = {f.name: f.type for f in dataclasses.fields(Deadlines)}
    assert all(fields.get(d.value) == "date | None" for d in Deadline)
