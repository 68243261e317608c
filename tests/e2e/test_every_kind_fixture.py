"""`tests/fixtures/events-every-kind.jsonl`: the checked-in file is what its generator makes,
it exercises every event, field and value the workflows define, and `foi import` + `foi report`
give the reports its generator counted case by case."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from foi_workflow.domain.definition import ENUMS
from foi_workflow.domain.vocabulary import Outcome
from foi_workflow.domain.workflow import load_workflows
from tests.conftest import Foi
from tests.fixtures import every_kind


def checked_in() -> list[dict[str, Any]]:
    return [json.loads(line) for line in every_kind.EVENTS.read_text(encoding="utf-8").splitlines()]


def test_the_checked_in_file_and_reports_are_what_the_generator_makes() -> None:
    fixture = every_kind.build()
    assert every_kind.EVENTS.read_text(encoding="utf-8") == fixture.text(), (
        "events-every-kind.jsonl drifted from its generator: run python -m tests.fixtures.every_kind"
    )
    for year in every_kind.YEARS:
        assert every_kind.report_path(year).read_text(encoding="utf-8") == every_kind.report_text(fixture, year)


def test_the_file_exercises_every_event_field_and_value_of_the_workflows() -> None:
    wf = load_workflows()
    lines = checked_in()
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)  # (machine, event) -> fields present
    values: dict[tuple[str, str], set[str]] = defaultdict(set)  # (event, field) -> values present
    for line in lines:
        machine = "appeal" if "appeal" in line else "disclosure"
        fields = set(line) - {"case", "appeal", "event", "on", "by"}
        if machine == "appeal" and "case" in line:
            fields.add("case")  # an appeal's link to its case is one of its fields
        seen[(machine, line["event"])] |= fields
        for name in fields:
            values[(line["event"], name)].add(str(line[name]))
    reached: set[str] = set(values[("decide", "outcome")])
    for machine, mdef in (("disclosure", wf.disclosure), ("appeal", wf.appeal)):
        for name, spec in mdef.events.items():
            assert (machine, name) in seen, f"no {name} event in the file"
            assert seen[(machine, name)] == set(spec.fields), f"{name}: fields {sorted(spec.fields)}"
            if spec.outcome is not None:
                reached.add(spec.outcome.value)
            for field, ftype in (*spec.required.items(), *spec.optional.items()):
                if ftype.startswith("enum:") and ftype != "enum:Outcome":
                    assert values[(name, field)] == {v.value for v in ENUMS[ftype[5:]]}, f"{name}.{field}"
    assert reached == {o.value for o in Outcome}
    assert any("by" in line for line in lines)
    assert {line["on"][:4] for line in lines} >= {str(y) for y in every_kind.YEARS}


@pytest.mark.parametrize("year", every_kind.YEARS)
def test_the_report_of_the_imported_file_equals_the_generators_count(foi: Foi, year: int) -> None:
    foi.ok("import", every_kind.EVENTS)
    got = json.loads(foi.ok(f"report {year} --format json"))
    expected = json.loads(every_kind.report_path(year).read_text(encoding="utf-8"))
    assert got == expected
    assert list(got) == list(expected)
    assert list(got["table3"]["rows"]) == list(expected["table3"]["rows"])


def test_every_case_of_the_file_shows_the_state_and_outcome_it_was_built_for(foi: Foi) -> None:
    foi.ok("import", every_kind.EVENTS)
    listed = {c["id"]: c for c in json.loads(foi.ok("list --format json"))}
    built = [c for c in every_kind.build().cases if not c.voided]  # a voided registration is in no list
    assert set(listed) == {c.id for c in built}
    for case in built:
        shown = listed[case.id]
        assert (shown["outcome"], shown["decided_on"]) == (
            case.outcome,
            case.decided_on.isoformat() if case.decided_on else None,
        ), case.id
        assert shown["applicant_type"] == case.applicant_type and shown["received_on"] == case.received_on.isoformat()
