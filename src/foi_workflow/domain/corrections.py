"""Corrections (SPEC §11): which events of a log still count, and in what form.

The log of a case (or an appeal) stays append-only. A `void` event says that an earlier event
(its `target`: the ordinal within the log, 1 = the creating event) no longer counts; a
`correct` event says that it counts with other values (`set`: its `on` and/or fields of its
data). The *effective history* is the log without the amending events, without the voided
events, and with every corrected event in its target's place, its corrections applied in the
order they were recorded. The replay folds the effective history by the ordinary rules, so a
void or correction that would leave a broken history is refused by the same guards that
refuse a wrong event, naming the first event that would break.

Pure: events are any objects with `event`, `on`, `data` and `by` (and, when read from the
database, `recorded_at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from foi_workflow.domain.definition import FIELD_LABELS, MachineDef
from foi_workflow.errors import InvalidInput, RuleViolation

# Fields that say whose case it is rather than what happened: a case registered at the wrong
# agency is voided and registered again there.
FIXED_FIELDS = frozenset({"agency"})


class LogEvent(Protocol):
    """What the correction rules read of one line of a log."""

    @property
    def event(self) -> str: ...

    @property
    def on(self) -> date: ...

    @property
    def data(self) -> Mapping[str, Any]: ...

    @property
    def by(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Amendment:
    """A recorded `void` or `correct`: who, when and why, and what it changed."""

    no: int  # its own ordinal in the log
    event: str  # void | correct
    target: int
    on: date  # the day it was recorded
    by: str
    reason: str
    changes: Mapping[str, Any]  # the corrected values (`on` as ISO text, data fields); empty for void
    recorded_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "no": self.no,
            "on": self.on.isoformat(),
            "by": self.by,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "reason": self.reason,
        }
        if self.event == "correct":
            out["set"] = dict(self.changes)
        return out


@dataclass(frozen=True, slots=True)
class Counted:
    """An event of the effective history: the original's ordinal, with its corrections applied."""

    no: int
    event: str
    on: date
    data: Mapping[str, Any]
    by: str


@dataclass
class History:
    """A log read through its amendments."""

    events: dict[int, Counted]  # every amendable event by ordinal, corrections applied (voided ones too)
    voided: dict[int, Amendment] = field(default_factory=dict)  # by target
    corrections: dict[int, list[Amendment]] = field(default_factory=dict)  # by target, in order
    amendments: list[Amendment] = field(default_factory=list)

    @property
    def counted(self) -> list[Counted]:
        """The effective history, in log order."""
        return [ev for no, ev in self.events.items() if no not in self.voided]

    @property
    def creation_voided(self) -> bool:
        """The creating event (1: `receive`, `file`) is voided: the whole case or appeal is."""
        return 1 in self.voided


def amending_events(mdef: MachineDef) -> frozenset[str]:
    """The events of a workflow that amend earlier ones (`amends: true` in its YAML)."""
    return mdef.amending


def has_amendments(mdef: MachineDef, events: Iterable[LogEvent]) -> bool:
    amending = amending_events(mdef)
    return any(ev.event in amending for ev in events)


def apply_changes(on: date, data: Mapping[str, Any], changes: Mapping[str, Any]) -> tuple[date, dict[str, Any]]:
    """An event's date and data with corrected values put in (an empty value removes a field)."""
    new_data = dict(data)
    for name, value in changes.items():
        if name == "on":
            on = date.fromisoformat(str(value))
        elif value is None or value == "":
            new_data.pop(name, None)
        else:
            new_data[name] = value
    return on, new_data


def read_history(mdef: MachineDef, events: Sequence[LogEvent]) -> History:
    """The log `events` (in `seq` order) read through its void and correct events."""
    amending = amending_events(mdef)
    history = History(events={})
    for no, ev in enumerate(events, 1):
        if ev.event not in amending:
            continue
        data = ev.data
        amendment = Amendment(
            no=no,
            event=ev.event,
            target=int(data["target"]),
            on=ev.on,
            by=ev.by,
            reason=str(data.get("reason", "")),
            changes=dict(data.get("set") or {}),
            recorded_at=getattr(ev, "recorded_at", None),
        )
        history.amendments.append(amendment)
        if ev.event == "void":
            history.voided.setdefault(amendment.target, amendment)
        else:
            history.corrections.setdefault(amendment.target, []).append(amendment)
    for no, ev in enumerate(events, 1):
        if ev.event in amending:
            continue
        on, data = ev.on, ev.data
        for correction in history.corrections.get(no, ()):
            on, data = apply_changes(on, data, correction.changes)
        history.events[no] = Counted(no, ev.event, on, data, ev.by)
    return history


def check_amendment(
    mdef: MachineDef,
    subject: str,
    events: Sequence[LogEvent],
    kind: str,
    target: int,
    changes: Mapping[str, Any] | None = None,
) -> Counted:
    """Refuse a void or correction that cannot be recorded whatever the rest of the history:
    a target that does not exist, is itself an amendment or a year-end marker, is already
    voided; a correction that changes nothing or names a field the target does not have.
    Returns the target as it counts now (corrections applied)."""
    if kind not in amending_events(mdef):
        raise InvalidInput(f"未知的更正事件：{kind}")
    if not 1 <= target <= len(events):
        raise InvalidInput(f"{subject} 没有第 {target} 个事件（共 {len(events)} 个）")
    history = read_history(mdef, events)
    original = events[target - 1]
    if original.event in amending_events(mdef):
        raise RuleViolation(
            f"{subject} 的第 {target} 个事件本身是作废或更正记录，不能再作废或更正；如更正有误，请再次更正原事件"
        )
    spec = mdef.events.get(original.event)
    if spec is not None and spec.marker:  # carry_over: the record of a year's close, not a mistake
        raise RuleViolation(f"{subject} 的第 {target} 个事件是年度结转标记（{original.event}），不能作废或更正")
    voided = history.voided.get(target)
    if voided is not None:
        raise RuleViolation(
            f"{subject} 的第 {target} 个事件已由第 {voided.no} 个事件作废（{voided.on.isoformat()}，{voided.by}）"
        )
    current = history.events[target]
    if history.creation_voided:
        raise RuleViolation(f"{subject} 的登记已作废，不能再作废或更正其中的事件")
    if kind == "correct":
        _check_changes(mdef, subject, current, changes or {})
    return current


def _check_changes(mdef: MachineDef, subject: str, current: Counted, changes: Mapping[str, Any]) -> None:
    if not changes:
        raise InvalidInput(f"{subject}：没有给出要更正的内容（--on 或该事件的字段）")
    spec = mdef.events[current.event]
    allowed = (spec.fields - FIXED_FIELDS) | {"on"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        names = "、".join(f"{FIELD_LABELS.get(n, n)}（{n}）" for n in unknown)
        can = "、".join(sorted(allowed))
        raise InvalidInput(f"{subject} 的第 {current.no} 个事件（{current.event}）不能更正：{names}；可更正：{can}")
    if "on" in changes:
        try:
            date.fromisoformat(str(changes["on"]))
        except ValueError:
            raise InvalidInput(f"更正后的日期格式错误：{changes['on']!r}，应为 YYYY-MM-DD") from None
    on, data = apply_changes(current.on, current.data, changes)
    if on == current.on and data == dict(current.data):
        raise InvalidInput(f"{subject} 的第 {current.no} 个事件已经是这样记录的，无需更正")


def amended_dates(current: Counted, changes: Mapping[str, Any] | None) -> list[date]:
    """The dates a void or correction touches: the target's, and its corrected date if any
    (each needs `--amend-closed-year` when it falls in a closed year)."""
    dates = [current.on]
    if changes and "on" in changes:
        dates.append(date.fromisoformat(str(changes["on"])))
    return dates
