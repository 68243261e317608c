"""What a line of a `foi import` / `foi restore` file is (SPEC §9, §12): one JSON object, a case
or appeal event (`case` or `appeal`, `event`, `on`, `by`, `amend_reason`, the rest its data) or
a record (`letter`, `year_close`), read strictly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson

from foi_workflow.domain.boundary import MAX_DEPTH, check_utf8, json_depth_ok
from foi_workflow.errors import InvalidInput

# The keys of an event line that are not the event's data.
RESERVED = ("case", "appeal", "event", "on", "by", "amend_reason")
RESERVED_KEYS = frozenset(RESERVED)

# The records of SPEC §12 that follow the events in an export: a letter, a year close, a proof
# of delivery (SPEC §15). A line with an `event` is an event, whatever else it names (a `serve`
# names its letter).
RECORD_KEYS = ("letter", "year_close", "service_proof")


def is_record(obj: dict[str, Any]) -> bool:
    return "event" not in obj and any(key in obj for key in RECORD_KEYS)


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"不是有效的 JSON：{name} 不是数")


def parse_line(lineno: int, line: str) -> dict[str, Any]:
    if not json_depth_ok(line):
        raise InvalidInput(f"嵌套过深（超过 {MAX_DEPTH} 层）")
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        # What orjson refuses, `json` may still read (integers beyond 64 bits, lone surrogates,
        # refused later by the field checks) or refuses with its own familiar reason (a UTF-8
        # BOM, "Expecting value"): the stdlib decides. NaN and Infinity are not JSON.
        check_utf8(line)
        try:
            obj = json.loads(line, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"不是有效的 JSON：{exc.msg}") from None
    if not isinstance(obj, dict):
        raise InvalidInput("每行应为一个 JSON 对象")
    if is_record(obj):
        return obj  # checked field by field by `services.letters` / `services.service`
    for key in ("event", "on"):
        if not isinstance(obj.get(key), str):
            raise InvalidInput(f"缺少字段 {key}")
    return obj


def line_date(obj: dict[str, Any]) -> date:
    """The `on` of an event line."""
    try:
        return date.fromisoformat(obj["on"])
    except ValueError:
        raise InvalidInput(f"生效日期 on 格式错误：{obj['on']!r}，应为 YYYY-MM-DD") from None


def may_amend(lines: Sequence[str]) -> bool:
    """Whether any line may be a `void` or `correct` (a quick substring scan; a false alarm
    only costs keeping the cases' histories during the replay)."""
    return any('"void"' in line or '"correct"' in line for line in lines)
