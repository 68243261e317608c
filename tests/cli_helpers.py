"""What the command-line tests share: run a command that must be refused and check nothing
changed, read `foi show` as JSON, register a case."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from foi_workflow.domain.calendar import WorkCalendar
from tests.conftest import Foi, Result

INTAKE = "intake --applicant 张三 --applicant-type natural_person --channel online --request 申请公开某文件"
CAL = WorkCalendar.load(Path(__file__).resolve().parents[1] / "config" / "calendar")

SHOW_FIELDS = {
    "id", "state", "outcome", "applicant_type", "received_on", "decided_on", "reply_due", "on_time",
    "provisional", "correction_due", "consultation_due", "fee_due", "extended_days", "events",
}  # fmt: skip


def show(foi: Foi, case_id: str) -> dict[str, Any]:
    detail = json.loads(foi.ok("show", case_id, "--format", "json"))
    assert isinstance(detail, dict)
    return detail


def database_state(foi: Foi) -> tuple[str, str, str]:
    """Everything a refusal must leave untouched: the event log, the case list, the appeals."""
    engine = create_engine(foi.db_url)
    with engine.connect() as conn:
        appeals = repr(conn.execute(text("SELECT * FROM appeal ORDER BY id")).all())
        appeals += repr(conn.execute(text("SELECT * FROM counter ORDER BY agency, name")).all())
    engine.dispose()
    return foi.ok("export"), foi.ok("list --format json"), appeals


def refused(foi: Foi, code: str, *args: str) -> str:
    """Run a command that must be refused with `code`; check nothing changed; return the line."""
    before = database_state(foi)
    result = foi(*args)
    assert result.exit_code == 1, f"{args}: expected exit 1, got {result.exit_code}: {result.stdout}{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got: {result.stderr!r}"
    assert lines[0].startswith(f"错误[{code}]："), lines[0]
    assert re.search(r"[\u4e00-\u9fff]", lines[0])  # the message is in Chinese
    assert database_state(foi) == before
    return lines[0]


def usage_error(foi: Foi, *args: str) -> Result:
    before = database_state(foi)
    result = foi(*args)
    assert result.exit_code == 2, f"{args}: expected exit 2, got {result.exit_code}: {result.stderr}"
    assert database_state(foi) == before
    return result


def intake(foi: Foi, on: str, case_id: str | None = None, extra: str = "") -> str:
    args = f"{INTAKE} --on {on}" + (f" --id {case_id}" if case_id else "") + (f" {extra}" if extra else "")
    return foi.ok(args).strip()
