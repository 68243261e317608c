"""The workflow definitions (SPEC §3): the shipped YAML loads, and a broken definition is
refused when it is loaded, before any case could be stranded by it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from foi_workflow.domain.vocabulary import Outcome
from foi_workflow.domain.workflow import GUARDS, load_workflows
from foi_workflow.errors import ConfigError
from foi_workflow.resources import WORKFLOWS_DIR


def test_the_shipped_workflows_load_with_every_state_event_and_outcome() -> None:
    wf = load_workflows()
    d = wf.disclosure
    assert set(d.states) == {"received", "correction_requested", "consultation", "fee_notice", "decided"}
    assert [s for s, spec in d.states.items() if spec.final] == ["decided"]
    expected_events = {
        "receive", "request_correction", "receive_correction", "lapse_correction", "consult", "consultation_reply",
        "extend", "set_reasonable_period", "fee_notice", "fee_paid", "lapse_fee", "decide", "withdraw", "assign",
        "carry_over", "void", "correct", "request_extension", "reject_extension", "serve", "delivered", "returned",
        "consent",
    }  # fmt: skip
    assert set(d.events) == expected_events
    assert d.outcome_rows == {o.value: o.info.row for o in Outcome}
    assert d.events["lapse_correction"].outcome is Outcome("other.correction_lapsed")
    assert d.events["withdraw"].sources == ("received", "correction_requested", "consultation", "fee_notice")
    assert "decided" not in d.events["carry_over"].sources
    # A decided case still serves its letters (SPEC §15).
    assert d.allowed_events("decided") == ["assign", "serve", "delivered", "returned", "consent", "void", "correct"]
    assert d.amending == {"void", "correct"} == wf.appeal.amending
    assert set(wf.appeal.states) == {"pending", "concluded"}
    for spec in d.events.values():
        assert set(spec.guards) <= set(GUARDS)


def test_the_machine_is_shared_and_built_without_a_model_or_auto_transitions() -> None:
    wf = load_workflows()
    assert wf.disclosure.machine.models == [] and not wf.disclosure.machine.auto_transitions
    assert load_workflows() is wf  # loaded once per process


def test_the_machine_fires_exactly_the_transitions_and_guards_the_workflow_routes_use() -> None:
    wf = load_workflows()
    for mdef in (wf.disclosure, wf.appeal):
        table = {
            (source, trigger): tuple((c.dest, tuple(f.func for f in c.conditions)) for c in candidates)
            for trigger, event in mdef.machine.events.items()
            for source, candidates in event.transitions.items()
        }
        assert table == mdef.routes
        assert mdef.machine is mdef.machine  # built once, then shared


def broken(tmp_path: Path, edit: Callable[[str], str], name: str = "disclosure.yaml") -> Path:
    folder = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS_DIR, folder)
    path = folder / name
    text = path.read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text, "the edit did not apply"
    path.write_text(changed, encoding="utf-8")
    return folder


def test_a_copy_of_the_shipped_definitions_loads(tmp_path: Path) -> None:
    folder = broken(tmp_path, lambda t: t + "\n# a comment\n")
    assert set(load_workflows(folder).disclosure.states) == set(load_workflows().disclosure.states)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        # fee_notice can no longer be entered: unreachable.
        (lambda t: t.replace("    dest: fee_notice\n", "    dest: received\n"), "state fee_notice is unreachable"),
        # a final state with an exit.
        (
            lambda t: t.replace(
                "  receive_correction:\n    source: [correction_requested]",
                "  receive_correction:\n    source: [correction_requested, decided]",
            ),
            "final state decided has an exit through receive_correction",
        ),
        # an outcome not mapped to a report row.
        (
            lambda t: t.replace('  not_processed.duplicate: "(五)2"\n', ""),
            "outcome not_processed.duplicate is not mapped",
        ),
        # an outcome mapped to the wrong row.
        (lambda t: t.replace('  granted: "(一)"', '  granted: "(二)"'), "outcome granted maps to (二)"),
        # an unknown guard.
        (
            lambda t: t.replace("guards: [outcome_not_lapse]", "guards: [outcome_not_lapse, be_nice]"),
            "unknown guard 'be_nice'",
        ),
        # an unknown state named by an event.
        (lambda t: t.replace("    dest: correction_requested\n", "    dest: limbo\n"), "unknown state 'limbo'"),
        # an unknown field type.
        (lambda t: t.replace("{items: text}", "{items: blob}"), "unknown field type 'blob'"),
        # an open state with no way out.
        (
            lambda t: (
                t.replace("  fee_paid:\n    source: [fee_notice]", "  fee_paid:\n    source: [received]")
                .replace("  lapse_fee:\n    source: [fee_notice]", "  lapse_fee:\n    source: [received]")
                .replace(
                    "    source: open\n    dest: decided",
                    "    source: [received, correction_requested, consultation]\n    dest: decided",
                )
            ),
            "open state fee_notice has no way out",
        ),
    ],
)
def test_a_broken_disclosure_definition_is_refused_at_load_time(
    tmp_path: Path, edit: Callable[[str], str], problem: str
) -> None:
    folder = broken(tmp_path, edit)
    with pytest.raises(ConfigError) as exc:
        load_workflows(folder)
    assert exc.value.code == "E-CONFIG"
    assert problem in exc.value.message
    assert re.search(r"流程定义 disclosure 有误", exc.value.message)


def test_a_broken_appeal_definition_is_refused_at_load_time(tmp_path: Path) -> None:
    folder = broken(tmp_path, lambda t: t.replace("    dest: concluded\n", "    dest: pending\n"), "appeal.yaml")
    with pytest.raises(ConfigError, match="state concluded is unreachable"):
        load_workflows(folder)


def test_unreadable_yaml_is_a_config_error(tmp_path: Path) -> None:
    folder = broken(tmp_path, lambda t: t + "\nstates: [unclosed\n")
    with pytest.raises(ConfigError, match="无法读取流程定义"):
        load_workflows(folder)


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("    dest: correction_requested\n", ""),  # an event without a destination
        lambda t: t.replace("    outcome: other.fee_unpaid\n", "    outcome: other.unpaid\n"),  # unknown outcome
        lambda t: t.replace("initial: received\n", ""),  # no initial state
    ],
)
def test_a_malformed_definition_is_a_config_error_not_a_crash(tmp_path: Path, edit: Callable[[str], str]) -> None:
    with pytest.raises(ConfigError, match="流程定义"):
        load_workflows(broken(tmp_path, edit))


def test_a_replay_that_defers_the_deadlines_ends_with_the_same_case_as_one_event_at_a_time() -> None:
    import json
    from datetime import date

    from foi_workflow.domain.calendar import WorkCalendar
    from foi_workflow.domain.clock import ClockSettings
    from foi_workflow.domain.workflow import (
        ApplyContext,
        CaseSnapshot,
        apply_case_event,
        finish_snapshot,
        receive_case,
    )
    from tests.conftest import FIXTURES

    wf = load_workflows()
    lines = (FIXTURES / "events-small.jsonl").read_text(encoding="utf-8")
    histories: dict[str, list[dict[str, object]]] = {}
    for line in lines.splitlines():
        obj = json.loads(line)
        if "case" in obj and "appeal" not in obj:
            histories.setdefault(obj["case"], []).append(obj)
    assert len(histories) >= 50
    for explain in (False, True):
        ctx = ApplyContext(WorkCalendar.load(None), ClockSettings(), date.max, explain=explain)
        for case_id, events in histories.items():
            eager: CaseSnapshot | None = None
            lazy: CaseSnapshot | None = None
            for obj in events:
                data = {k: v for k, v in obj.items() if k not in ("case", "event", "on", "by")}
                on = date.fromisoformat(str(obj["on"]))
                if eager is None or lazy is None:
                    eager, _ = receive_case(wf, case_id, on, data, ctx)
                    lazy, _ = receive_case(wf, case_id, on, data, ctx, deadlines=False)
                else:
                    eager, _, _ = apply_case_event(wf, eager, str(obj["event"]), on, data, ctx)
                    lazy, _, _ = apply_case_event(wf, lazy, str(obj["event"]), on, data, ctx, deadlines=False)
                    assert lazy.deadlines is None
                    assert (lazy.reply_due, lazy.extended_days, lazy.on_time) == (
                        eager.reply_due, eager.extended_days, eager.on_time,
                    )  # fmt: skip
            assert eager is not None and lazy is not None
            assert finish_snapshot(lazy, ctx) == eager
