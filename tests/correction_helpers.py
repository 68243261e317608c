"""Shared by the correction tests: a case built right the first time and the same case put
right after a mistake must look the same to every reader — `show`, `list`, the report and the
sweep."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from foi_workflow.adapters.db import open_engine
from tests.conftest import Foi

# Differ between a case put right and one built right without saying anything about the case:
# the log itself and the row's version (one more event).
NOT_COMPARED = ("events", "version", "notices")


def intake(foi: Foi, case_id: str, on: str, applicant: str = "王五", applicant_type: str = "natural_person") -> None:
    foi.ok(
        "intake", "--id", case_id, "--applicant", applicant, "--applicant-type", applicant_type,
        "--channel", "online", "--request", "某项目环评报告", "--on", on, "--by", "zhangsan",
    )  # fmt: skip


def shown(foi: Foi, case_id: str) -> dict[str, Any]:
    detail = json.loads(foi.ok("show", case_id, "--format", "json"))
    return {k: v for k, v in detail.items() if k not in NOT_COMPARED}


def listed(foi: Foi) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "version"} for row in json.loads(foi.ok("list --format json"))]


def reported(foi: Foi, year: int) -> dict[str, Any]:
    report = json.loads(foi.ok("report", str(year), "--format", "json"))
    assert isinstance(report, dict)
    return report


def swept(foi: Foi, now: str) -> list[tuple[str, str]]:
    """Run one sweep at `now`; the mails it left queued or sent (key, status)."""
    foi.ok("scheduler", "run", "--once", "--now", now)
    return outbox(foi)


def outbox(foi: Foi) -> list[tuple[str, str]]:
    engine = open_engine(foi.db_url)
    try:
        with engine.connect() as conn:
            return [(str(k), str(s)) for k, s in conn.execute(text("SELECT key, status FROM outbox ORDER BY key"))]
    finally:
        engine.dispose()


def picture(foi: Foi, case_ids: tuple[str, ...], years: tuple[int, ...]) -> dict[str, Any]:
    """Everything a reader sees of these cases."""
    return {
        "show": {case_id: shown(foi, case_id) for case_id in case_ids},
        "list": listed(foi),
        "report": {year: reported(foi, year) for year in years},
    }


def refused(foi: Foi, *args: str, code: str) -> str:
    """Run a command that must be refused: exit 1, one Chinese line with `code`, nothing written."""
    before = (foi.ok("export"), outbox(foi))
    result = foi(*args)
    assert result.exit_code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"错误[{code}]："), result.stderr
    assert (foi.ok("export"), outbox(foi)) == before
    return lines[0]
