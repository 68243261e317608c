"""How a workflow file (`workflows/*.yaml`) becomes a `domain.definition.MachineDef`: read
(PyYAML, or the caller's caching reader), built into state and event specs, and checked at
load time (reachable states, final states without exits, every outcome mapped to a report
row, known guards and field types, automatic data the event accepts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from foi_workflow.domain.definition import (
    ENUMS,
    PLAIN_TYPES,
    STATE_ENUMS,
    Automatic,
    EventSpec,
    Guard,
    MachineDef,
    StateSpec,
    normalize_data,
)
from foi_workflow.domain.vocabulary import Deadline, Outcome
from foi_workflow.errors import ConfigError, InvalidInput


def parse_yaml(text: str, path: Path) -> Any:
    """The data of a workflow file's text; a refusal (E-CONFIG) naming `path` if it is not YAML.

    PyYAML is imported here, not at the top: a command that finds the parsed definition in the
    cache (`adapters.yaml_cache`) never imports it (~5 % of a short command's start-up)."""
    import yaml

    # libyaml's loader when present: the pure-Python one costs ~100 ms per process start.
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"无法读取流程定义 {path}：{exc}") from exc


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"无法读取流程定义 {path}：{exc}") from exc


def read_yaml(path: Path) -> Any:
    """A workflow file's data (no cache)."""
    return parse_yaml(read_text(path), path)


# How a workflow file becomes data: `read_yaml`, or a caching reader the caller supplies.
DataReader = Callable[[Path], Any]


def load_definition(path: Path, guards: Mapping[str, Guard], read: DataReader = read_yaml) -> MachineDef:
    """The workflow file at `path` as a checked definition; any fault a refusal (E-CONFIG)."""
    raw = read(path)
    try:
        return _build_def(raw, guards)
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A missing key, a wrong shape or an unknown outcome code: refuse it as a definition error.
        raise ConfigError(f"流程定义 {path.name} 格式有误：{type(exc).__name__}: {exc}") from None


_STATE_KEYS = frozenset({"name", "final"})
_EVENT_KEYS = frozenset(
    {"creates", "source", "dest", "internal", "marker", "outcome", "automatic", "required", "optional", "guards"}
    | {"amends", "stay_while", "command"}
)


def _build_def(raw: Any, guards: Mapping[str, Guard]) -> MachineDef:
    name = raw["name"]
    words = STATE_ENUMS.get(name)
    if words is None:
        raise ConfigError(f"流程定义 {name} 未知：应为 {'、'.join(STATE_ENUMS)}")
    problems: list[str] = []
    states: dict[str, StateSpec] = {}
    for s in raw["states"]:
        problems += [f"state {s['name']} has unknown key {k!r}" for k in sorted(set(s) - _STATE_KEYS)]
        if s["name"] not in words.__members__.values():
            problems.append(f"state {s['name']} is not a word of {words.__name__}")
            continue
        states[s["name"]] = StateSpec(s["name"], words(s["name"]).label, bool(s.get("final")))
    open_states = tuple(n for n, s in states.items() if not s.final)
    events: dict[str, EventSpec] = {}
    for event, e in raw["events"].items():
        problems += [f"event {event} has unknown key {k!r}" for k in sorted(set(e) - _EVENT_KEYS)]
        src = e.get("source", [])
        sources: tuple[str, ...]
        if src == "open":
            sources = open_states
        elif src == "any":
            sources = tuple(states)
        else:
            sources = tuple(src)
        auto = e.get("automatic")
        events[event] = EventSpec(
            name=event,
            sources=sources,
            dest=None if e.get("internal") else e["dest"],
            creates=bool(e.get("creates")),
            marker=bool(e.get("marker")),
            outcome=Outcome(e["outcome"]) if "outcome" in e else None,
            automatic=Automatic(Deadline(auto["after"]), dict(auto.get("data") or {})) if auto else None,
            amends=bool(e.get("amends")),
            stay_while=e.get("stay_while"),
            command=e.get("command"),
            required=dict(e.get("required", {})),
            optional=dict(e.get("optional", {})),
            guards=tuple(e.get("guards", [])),
        )
    if problems:
        raise ConfigError(f"流程定义 {name} 有误：" + "；".join(problems))
    definition_check(name, raw["initial"], states, events, raw.get("outcomes"), guards)
    return MachineDef(name, raw["initial"], states, events, dict(raw.get("outcomes") or {}), guards)


def definition_check(
    name: str,
    initial: str,
    states: Mapping[str, StateSpec],
    events: Mapping[str, EventSpec],
    outcomes: Mapping[str, str] | None,
    guards: Mapping[str, Guard],
) -> None:
    """Refuse a workflow definition that could strand a case or miscount the report."""
    problems: list[str] = []
    opening = [spec.name for spec in events.values() if spec.creates]
    if len(opening) != 1:
        problems.append(f"exactly one event must have creates: true, not {opening or 'none'}")
    if initial not in states:
        problems.append(f"initial state {initial!r} is not declared")
    for spec in events.values():
        for s in (*spec.sources, *([spec.dest] if spec.dest else [])):
            if s not in states:
                problems.append(f"event {spec.name} names unknown state {s!r}")
        for s in spec.sources:
            if s in states and states[s].final and spec.dest is not None:
                problems.append(f"final state {s} has an exit through {spec.name}")
        # Where cases carry outcomes, an event that ends a case gives it one.
        ends = spec.dest is not None and spec.dest in states and states[spec.dest].final
        if outcomes is not None and ends and spec.outcome is None and spec.required.get("outcome") != "enum:Outcome":
            problems.append(f"event {spec.name} ends a case without an outcome (outcome: or a required outcome field)")
        for g in spec.guards:
            if g not in guards:
                problems.append(f"event {spec.name} names unknown guard {g!r}")
        if spec.stay_while is not None and spec.stay_while not in guards:
            problems.append(f"event {spec.name} names unknown condition {spec.stay_while!r}")
        for ftype in (*spec.required.values(), *spec.optional.values()):
            if ftype not in PLAIN_TYPES and not (ftype.startswith("enum:") and ftype[5:] in ENUMS):
                problems.append(f"event {spec.name} has unknown field type {ftype!r}")
        if spec.automatic is not None:
            try:
                normalize_data(spec, spec.automatic.data)
            except InvalidInput as exc:
                problems.append(f"automatic event {spec.name} has data it would refuse: {exc}")
        if spec.amends and (spec.dest is not None or spec.creates or "target" not in spec.required):
            problems.append(f"event {spec.name} amends an earlier event: it must be internal and name a target")
    # Every state reachable from the initial one.
    reached = {initial}
    frontier = [initial]
    while frontier:
        here = frontier.pop()
        for spec in events.values():
            if here in spec.sources and spec.dest and spec.dest not in reached:
                reached.add(spec.dest)
                frontier.append(spec.dest)
    for s in states:
        if s not in reached:
            problems.append(f"state {s} is unreachable")
    # Every non-final state can reach a final state.
    for s, spec_s in states.items():
        if not spec_s.final and not any(s in e.sources and e.dest for e in events.values()):
            problems.append(f"open state {s} has no way out")
    if outcomes is not None:
        declared = set(outcomes)
        known = {o.value for o in Outcome}
        for missing in sorted(known - declared):
            problems.append(f"outcome {missing} is not mapped to a report row")
        for extra in sorted(declared - known):
            problems.append(f"unknown outcome {extra}")
        for code, row in outcomes.items():
            if code in known and Outcome(code).info.row != row:
                problems.append(f"outcome {code} maps to {row}, the report format says {Outcome(code).info.row}")
    if problems:
        raise ConfigError(f"流程定义 {name} 有误：" + "；".join(problems))
