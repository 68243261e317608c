"""The workflow definitions as data: the state and event specs, the shared `transitions`
machine built from them and the table read off it, and each event's data checked and
converted to canonical JSON values. How a `workflows/*.yaml` file becomes a `MachineDef`
(read, built, checked at load time) is `domain.workflow_file`; the rules that act on a case
live in `domain.workflow`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from foi_workflow.domain import vocabulary as vocab
from foi_workflow.domain.boundary import MAX_INT, TEXT_KINDS, BadValue, clean_amount, clean_int, clean_text, shown
from foi_workflow.domain.vocabulary import Deadline, Labelled, Outcome
from foi_workflow.errors import InvalidInput

if TYPE_CHECKING:
    from transitions import Machine

# A named legal rule, a condition of the machine: True when it holds; when it does not, it
# raises a refusal that says why (a bare False could only say "not allowed").
Guard = Callable[[Any], bool]

ENUMS: dict[str, type[StrEnum]] = {
    "ApplicantType": vocab.ApplicantType,
    "Channel": vocab.Channel,
    "ConsultationKind": vocab.ConsultationKind,
    "Opinion": vocab.Opinion,
    "FeeBasis": vocab.FeeBasis,
    "Outcome": vocab.Outcome,
    "AppealKind": vocab.AppealKind,
    "AppealResult": vocab.AppealResult,
    "NoticeKind": vocab.NoticeKind,
    "ServiceMethod": vocab.ServiceMethod,
}

PLAIN_TYPES = frozenset({*TEXT_KINDS, "int", "date", "money", "map"})  # and enum:<Name>, from ENUMS

FIELD_LABELS: dict[str, str] = {
    "applicant": "申请人",
    "applicant_type": "申请人类型",
    "channel": "提交渠道",
    "request": "申请内容",
    "items": "补正事项",
    "period": "补正期限",
    "party": "征求意见对象",
    "opinion": "意见",
    "days": "延长天数",
    "approved_by": "批准人",
    "amount": "金额",
    "basis": "计费方式",
    "quantity": "数量",
    "outcome": "办理结果",
    "caseworker": "经办人",
    "year": "年度",
    "due": "答复期限",
    "reason": "理由",
    "kind": "类型",
    "result": "结果",
    "target": "事件序号",
    "set": "更正内容",
    "note": "说明",
    "refer_to": "负责公开的机关",
    "published_at": "获取途径",
    "override_reason": "决定公开的理由",
    "disclose_on": "公开日期",
    "letter": "文号",
    "method": "送达方式",
    "sent_on": "交邮日期",
    "tracking": "邮件号",
    "proof": "送达凭证",
    "e_service": "电子送达地址",
}


# --------------------------------------------------------------------------- definitions


# The enum that names and labels each workflow's states (SPEC §2).
STATE_ENUMS: dict[str, type[Labelled]] = {"disclosure": vocab.State, "appeal": vocab.AppealState}


@dataclass(frozen=True)
class Automatic:
    """An event the scheduler fires on its own, the day after the period `after` ended."""

    after: Deadline
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventSpec:
    name: str
    sources: tuple[str, ...]  # empty for a creating event
    dest: str | None  # None: internal transition (state unchanged)
    creates: bool = False
    marker: bool = False  # exempt from the event-order rule, and does not hold back the events after it
    outcome: Outcome | None = None
    automatic: Automatic | None = None
    amends: bool = False  # void / correct (SPEC §11): acts on an earlier event, through the replay
    stay_while: str | None = None  # a condition: while it holds, the event keeps the state (no dest)
    command: str | None = None  # the `foi` command that records it, when not its own name with dashes
    required: Mapping[str, str] = field(default_factory=dict)
    optional: Mapping[str, str] = field(default_factory=dict)
    guards: tuple[str, ...] = ()
    fields: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Checked for every imported event: the names this event accepts, as one set.
        object.__setattr__(self, "fields", frozenset(self.required) | frozenset(self.optional))


@dataclass(frozen=True)
class StateSpec:
    name: str
    label: str
    final: bool = False


@dataclass
class MachineDef:
    """One workflow: its states and events, and the one shared `transitions` machine built
    from them (`model=None`, no auto transitions), which fires every command.

    `routes` is the machine's own transition table, read off the built machine for a bulk
    replay (import, show, rebuild): (source, trigger) -> (dest, conditions), evaluated without
    building an EventData and callback chain for each of hundreds of thousands of events."""

    name: str
    initial: str
    states: dict[str, StateSpec]
    events: dict[str, EventSpec]
    outcome_rows: dict[str, str] = field(default_factory=dict)
    guards: Mapping[str, Guard] = field(default_factory=dict)

    def machine_config(self) -> dict[str, Any]:
        """The keyword arguments the machine (and its diagram) is built from."""
        transitions = []
        for spec in self.events.values():
            if spec.creates:
                continue
            conditions = [self.guards[g] for g in spec.guards]
            if spec.stay_while:
                # Tried first: while its condition holds the event keeps the state (the reply to
                # one of several consultations); otherwise the transition below.
                transitions.append({"trigger": spec.name, "source": list(spec.sources), "dest": None,
                                    "conditions": [*conditions, self.guards[spec.stay_while]]})  # fmt: skip
            transitions.append({"trigger": spec.name, "source": list(spec.sources), "dest": spec.dest,
                                "conditions": conditions})  # fmt: skip
        return {
            "model": None,
            "states": list(self.states),
            "transitions": transitions,
            "initial": self.initial,
            "auto_transitions": False,
        }

    @cached_property
    def machine(self) -> Machine:
        """The shared machine, built once on first use (so that a process that never fires an
        event does not import `transitions`)."""
        from transitions import Machine

        return Machine(**self.machine_config())

    @cached_property
    def routes(self) -> dict[tuple[str, str], tuple[tuple[str | None, tuple[Guard, ...]], ...]]:
        """(source, trigger) -> its transitions as (dest, conditions), in the order the machine
        tries them (the first whose conditions hold is taken), read off the built machine."""
        return {
            # The conditions are the guards the machine was built with (never names).
            (source, trigger): tuple((c.dest, tuple(cast(Guard, f.func) for f in c.conditions)) for c in candidates)
            for trigger, event in self.machine.events.items()
            for source, candidates in event.transitions.items()
        }

    @cached_property
    def opening(self) -> EventSpec:
        """The event that opens a case or an appeal (`creates: true`; the check makes it one)."""
        return next(spec for spec in self.events.values() if spec.creates)

    def automatic_events(self) -> list[tuple[str, Automatic]]:
        """The events the scheduler fires on its own, in the order the definition declares them."""
        return [(name, spec.automatic) for name, spec in self.events.items() if spec.automatic is not None]

    @cached_property
    def amending(self) -> frozenset[str]:
        """The events that amend earlier ones (`amends: true`: void, correct)."""
        return frozenset(name for name, spec in self.events.items() if spec.amends)

    def allowed_events(self, state: str) -> list[str]:
        return [name for name, spec in self.events.items() if not spec.creates and state in spec.sources]

    def commands_allowed(self, state: str) -> list[str]:
        """The events of `state` a person records by a command, as typed (`receive-correction`):
        not the markers the year close writes, nor an automatic event that decides the case (a
        lapse is the scheduler's, dated by the period; no one records it by hand)."""
        typed = (
            self.events[name].command or name.replace("_", "-")
            for name in self.allowed_events(state)
            if not self.events[name].marker
            and not (self.events[name].automatic is not None and self.events[name].outcome is not None)
        )
        return list(dict.fromkeys(typed))  # `extend` records extend or request_extension: named once

    def state_label(self, state: str) -> str:
        spec = self.states.get(state)
        return spec.label if spec else state


@dataclass
class Workflow:
    """Both machines, loaded once per process."""

    disclosure: MachineDef
    appeal: MachineDef


# --------------------------------------------------------------------------- event data


def _coerce(event: str, name: str, ftype: str, value: Any) -> Any:
    # Values that are already canonical (the common case of an import) come back as they are.
    cls = value.__class__
    if cls is str:
        bad = TEXT_KINDS.get(ftype)
        if bad is not None:
            if value and not value[0].isspace() and not value[-1].isspace() and bad.search(value) is None:
                return value
        else:
            members = _ENUM_FIELD_VALUES.get(ftype)
            if members is not None:
                known = members.get(value)
                if known is not None:
                    return known
    elif cls is int and ftype == "int" and -MAX_INT <= value <= MAX_INT:
        return value
    label = FIELD_LABELS.get(name, name)
    try:
        if ftype in TEXT_KINDS:
            return clean_text(name, label, value, ftype)
        if ftype == "int":
            return clean_int(name, label, value)
        if ftype == "money":
            return clean_amount(name, label, value)
    except BadValue as exc:
        raise BadValue(name, label, exc.reason, event=event) from None
    if ftype == "date":
        if not isinstance(value, str):
            raise BadValue(name, label, f"应为 YYYY-MM-DD 日期，而不是 {shown(value)}", event=event)
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise BadValue(name, label, f"应为 YYYY-MM-DD 日期，而不是 {shown(value)}", event=event) from None
    if ftype == "map":
        if not isinstance(value, Mapping) or not value or not all(isinstance(k, str) for k in value):
            raise BadValue(name, label, "应为非空的字段对象", event=event)
        return dict(value)
    enum_cls = ENUMS[ftype[5:]]
    try:
        # A member's value by dict lookup (a StrEnum member hashes as its value): an Enum call
        # per imported field was a visible part of the import.
        known = _ENUM_VALUES[enum_cls].get(value)
    except TypeError:  # unhashable: not a member either
        known = None
    if known is not None:
        return known
    choices = "、".join(m.value for m in enum_cls)
    raise BadValue(name, label, f"无效：{shown(value)}，可选：{choices}", event=event)


_ENUM_VALUES: dict[type[StrEnum], dict[str, str]] = {cls: {m.value: m.value for m in cls} for cls in ENUMS.values()}
# The same, by field type ("enum:Outcome").
_ENUM_FIELD_VALUES: dict[str, dict[str, str]] = {f"enum:{n}": _ENUM_VALUES[c] for n, c in ENUMS.items()}


def normalize_data(spec: EventSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's data, checked and converted to canonical JSON values; unknown fields refused."""
    if not spec.fields.issuperset(data):
        unknown = data.keys() - spec.fields
        raise InvalidInput(f"{spec.name} 事件不接受字段：{'、'.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for name, ftype in spec.required.items():
        value = data.get(name)
        if value is None or value == "":
            raise InvalidInput(f"{spec.name} 事件缺少必填字段：{FIELD_LABELS.get(name, name)}（{name}）")
        out[name] = _coerce(spec.name, name, ftype, value)
    # Every required field is in `data` now and every key of it is known: when it has no more
    # keys than the required ones there is no optional field to look for.
    if len(data) > len(spec.required):
        for name, ftype in spec.optional.items():
            value = data.get(name)
            if value is not None and value != "":
                out[name] = _coerce(spec.name, name, ftype, value)
    return out
