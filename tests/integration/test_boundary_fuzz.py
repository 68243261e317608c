"""Arbitrary values in every field of every event type, through `foi import` and through the
command line: the answer is success, or one refusal line with exit status 1 (a usage error,
exit 2, where click parses the option itself) — never a traceback — and a refusal leaves the
database exactly as it was. The fields come from the workflow definitions, so a new event or
field is fuzzed without touching this test."""

from __future__ import annotations

import itertools
import json
from typing import Any

import click
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foi_workflow.cli.main import COMMANDS, cli
from foi_workflow.domain.definition import ENUMS, EventSpec
from foi_workflow.domain.workflow import load_workflows
from tests.conftest import Foi
from tests.refusals import refusal_code, snapshot

WORKFLOW = load_workflows()
CASE_EVENTS = WORKFLOW.disclosure.events
APPEAL_EVENTS = WORKFLOW.appeal.events
RESERVED = ("event", "on", "by", "amend_reason")
ON = "2024-03-04"
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_serial = itertools.count()

HOSTILE: list[Any] = [
    "", " ", "\n", "a\nb", "a\x00b", "\ud800", "\u202e", "[/bold]", "=HYPERLINK(\"x\")", "Infinity", "NaN", "1e400",
    "9" * 25, "x" * 70, "x" * 500, "2024-02-30", "-1", 1e308, -1e308, 2**64, 10**23, -(2**31), 0.5, True, [], {},
]  # fmt: skip
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats()
    | st.text(st.characters(exclude_categories=()), max_size=80) | st.sampled_from(HOSTILE)
)  # fmt: skip
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def valid(ftype: str, name: str, case_id: str) -> Any:
    """A value of `ftype` that the field accepts (when the event is allowed at all)."""
    if name == "case":
        return case_id
    simple = {"text": "某事项", "line": "某人", "id": case_id, "int": 5, "date": "2024-03-20", "money": 10,
              "map": {"note": "更正"}}
    if ftype in simple:
        return {"year": 2024, "period": 15, "quantity": 1}.get(name, simple[ftype])
    return next(iter(ENUMS[ftype[5:]])).value


def valid_data(spec: EventSpec, case_id: str) -> dict[str, Any]:
    data = {name: valid(ftype, name, case_id) for name, ftype in spec.required.items()}
    if spec.name == "receive":
        data.update(applicant_type="natural_person", channel="online")
    if spec.name == "decide":
        data["outcome"] = "granted"
    if spec.name == "file":
        data["kind"] = "review"
    return data


def receive(case_id: str) -> dict[str, Any]:
    return {"case": case_id, "event": "receive", "on": "2024-03-01", **valid_data(CASE_EVENTS["receive"], case_id)}


def line_for(event: str, field: str, value: Any, n: int) -> list[dict[str, Any]]:
    """The lines of a file whose last line carries `value` in `field` of `event`."""
    case_id, appeal_id = f"FZ-{n}", f"FA-{n}"
    if event in CASE_EVENTS:
        spec = CASE_EVENTS[event]
        head = [] if spec.creates else [receive(case_id)]
        last = {"case": case_id, "event": event, "on": ON, **valid_data(spec, case_id)}
    else:
        spec = APPEAL_EVENTS[event]
        head = [receive(case_id)]
        if not spec.creates:
            head.append({"appeal": appeal_id, "event": "file", "on": ON, "kind": "review", "case": case_id})
        last = {"appeal": appeal_id, "event": event, "on": ON, **valid_data(spec, case_id)}
    return [*head, {**last, field: value}]


def event_fields() -> st.SearchStrategy[tuple[str, str]]:
    pairs = [(name, f) for events in (CASE_EVENTS, APPEAL_EVENTS) for name, spec in events.items()
             for f in (*spec.fields, *RESERVED, "case" if name in CASE_EVENTS else "appeal")]  # fmt: skip
    return st.sampled_from(sorted(set(pairs)))


def assert_answered(foi: Foi, before: dict[str, Any], result: Any, *, usage_allowed: bool = False) -> None:
    if result.exit_code == 0:
        return
    if usage_allowed and result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误[E-USAGE]："), result.stderr
    else:
        refusal_code(result)
    assert snapshot(foi.db_url) == before


@FUZZ
@given(event_field=event_fields(), value=json_values)
def test_any_value_in_any_field_of_an_import_line_is_imported_or_refused_in_one_line(
    foi: Foi, tmp_path_factory: Any, event_field: tuple[str, str], value: Any
) -> None:
    event, field = event_field
    path = tmp_path_factory.mktemp("fuzz") / "events.jsonl"
    path.write_text("".join(json.dumps(obj) + "\n" for obj in line_for(event, field, value, next(_serial))))
    before = snapshot(foi.db_url)
    assert_answered(foi, before, foi("import", str(path)))


# --------------------------------------------------------------------------- the command line


AMENDING = ("void", "correct")


def command_of(event: str) -> list[str] | None:
    if event in APPEAL_EVENTS:
        return ["appeal", event]
    name = "intake" if event == "receive" else event.replace("_", "-")
    return [name] if name in COMMANDS else None


CLI_EVENTS = sorted(e for e in (*CASE_EVENTS, *APPEAL_EVENTS) if command_of(e) is not None)


def click_params(command: list[str]) -> dict[str, click.Parameter]:
    found: Any = cli
    for part in command:
        found = found.get_command(click.Context(found), part)
    return {p.name or "": p for p in found.params}


def option_of(event: str, field: str) -> str | None:
    """The command-line option (or "ARG") a field is given with, None when there is none."""
    if event == "assign" and field == "caseworker":
        return "ARG"
    options = {"case": "--id" if event == "receive" else "--case", "amend_reason": "--amend-closed-year"}
    return options.get(field, "--" + field.replace("_", "-"))


def cli_args(event: str, field: str, value: str, case_id: str, appeal_id: str) -> tuple[list[str], bool]:
    """argv for `event` with `value` in `field`; whether click parses that option itself."""
    command = command_of(event)
    assert command is not None
    spec = CASE_EVENTS.get(event) or APPEAL_EVENTS[event]
    data = {k: str(v) for k, v in valid_data(spec, case_id).items()}
    if event == "receive":
        data.pop("case", None)
    data[field] = value
    option = option_of(event, field)
    args = list(command)
    if event in AMENDING:
        # `void` / `correct` ID EVENT_NO: the target is the positional event number; the
        # corrected fields (`set`) are the options of the target's own command, fuzzed there.
        data.pop("set", None)
        data.pop("case", None)
        args += [appeal_id if command[0] == "appeal" else case_id, data.pop("target")]
    elif event == "conclude":
        args.append(appeal_id)
    elif event not in ("receive", "file"):
        args.append(value if field == "case" else case_id)
        data.pop("case", None)
    if event == "assign":
        args.append(data.pop("caseworker"))
    for name, given_value in data.items():
        if name == "case" and event == "receive":
            args += ["--id", given_value]
        elif name not in ("event",):
            args += [option_of(event, name) or "", given_value]
    params = click_params(command)
    param = params.get({"--amend-closed-year": "amend", "--id": "case_id", "--case": "case_id",
                        "--request": "request_text", "--target": "event_no"}.get(option or "", field))  # fmt: skip
    parsed_by_click = param is not None and not isinstance(param.type, click.types.StringParamType)
    if param is not None and param.type.name == "id":
        parsed_by_click = False  # the boundary's own type: refuses with exit 1
    return args, parsed_by_click


cli_values = st.text(st.characters(exclude_categories=()), max_size=80) | st.sampled_from(
    [v for v in HOSTILE if isinstance(v, str)]
) | json_values.map(json.dumps)  # fmt: skip


def cli_fields() -> st.SearchStrategy[tuple[str, str]]:
    pairs = []
    for event in CLI_EVENTS:
        spec = CASE_EVENTS.get(event) or APPEAL_EVENTS[event]
        dated = event != "void"  # a void is dated the day it is recorded: it has no --on
        names = {*spec.fields, "by", "amend_reason", *(["on"] if dated else [])} - {"agency", "caseworker", "set"} | (
            {"caseworker"} if event == "assign" else set())  # fmt: skip
        if event == "serve":
            names.discard("kind")  # a served letter's kind comes from its record, not from an option
        if event in CASE_EVENTS and event not in ("receive", *AMENDING):
            names.add("case")
        pairs += [(event, name) for name in sorted(names)]
    return st.sampled_from(pairs)


@FUZZ
@given(event_field=cli_fields(), value=cli_values)
def test_any_value_of_any_option_is_recorded_or_refused_in_one_line(
    foi: Foi, event_field: tuple[str, str], value: str
) -> None:
    event, field = event_field
    n = next(_serial)
    case_id, appeal_id = f"FC-{n}", f"FCA-{n}"
    foi.ok("intake", "--applicant", "某人", "--applicant-type", "natural_person", "--channel", "online",
           "--request", "某文件", "--on", "2024-03-01", "--id", case_id)  # fmt: skip
    if event in ("conclude", *AMENDING):
        foi.ok("appeal", "file", "--kind", "review", "--case", case_id, "--id", appeal_id, "--on", ON)
    args, parsed_by_click = cli_args(event, field, value, case_id, appeal_id)
    command = command_of(event)
    assert command is not None
    if "--on" not in args and "on" in click_params(command):  # `void` is dated the day it is recorded
        args += ["--on", ON]
    before = snapshot(foi.db_url)
    # A value starting with "-" may be read as an option: a usage error, as in any shell.
    assert_answered(foi, before, foi(*args), usage_allowed=parsed_by_click or value.startswith("-"))
