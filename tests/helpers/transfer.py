"""Helpers of the import and export tests: event files written and the cases they leave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Foi

RECEIVE = {"event": "receive", "applicant": "张三", "applicant_type": "natural_person", "channel": "online",
           "request": "申请公开某文件"}  # fmt: skip


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


def every_case_shown(foi: Foi) -> dict[str, dict[str, Any]]:
    """`foi show --format json` of every case, without the recording timestamps."""
    shown: dict[str, dict[str, Any]] = {}
    for case in json.loads(foi.ok("list --format json")):
        detail = json.loads(foi.ok("show", case["id"], "--format", "json"))
        for ev in detail["events"]:
            ev.pop("recorded_at")
            for correction in ev.get("corrected_by") or ():
                correction.pop("recorded_at", None)
        shown[case["id"]] = detail
    return shown
