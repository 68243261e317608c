"""Schema migrations on a database with data: 0002 turns the indexes of mostly-NULL columns
into partial ones, and an upgraded database keeps every case and event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import text

from foi_workflow.adapters.db import _alembic_config, open_engine
from tests.conftest import BACKEND, Foi

PARTIAL = ["ix_case_reply_due", "ix_case_correction_notice_due", "ix_case_correction_due",
           "ix_case_consultation_due", "ix_case_fee_due", "ix_event_appeal"]  # fmt: skip


def index_definitions(db_url: str) -> dict[str, str]:
    engine = open_engine(db_url)
    query = (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        if BACKEND == "sqlite"
        else "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
    )
    with engine.connect() as conn:
        found = {name: sql for name, sql in conn.execute(text(query))}
    engine.dispose()
    return found


def test_an_upgraded_database_gets_partial_indexes_and_keeps_its_cases(foi: Foi, events_small: Path) -> None:
    foi.ok("import", events_small)
    before = (foi.ok("export"), json.loads(foi.ok("list --format json")))
    for name in PARTIAL:
        assert "IS NOT NULL" in index_definitions(foi.db_url)[name]
    engine = open_engine(foi.db_url)
    command.downgrade(_alembic_config(engine), "0001")
    engine.dispose()
    assert all("IS NOT NULL" not in index_definitions(foi.db_url)[name] for name in PARTIAL)
    assert "数据库已就绪" in foi.ok("init")  # upgrades to the newest schema
    definitions = index_definitions(foi.db_url)
    for name in PARTIAL:
        assert "IS NOT NULL" in definitions[name], definitions[name]
    assert (foi.ok("export"), json.loads(foi.ok("list --format json"))) == before
    assert foi.ok("rebuild --check").strip() == "案件表与事件日志一致"


def test_migration_0003_fills_in_the_letter_record_of_an_existing_database(foi: Foi, events_small: Path) -> None:
    """Letters issued before 0003 (which follows 0005) learn the event they answer, their place in the year's count,
    their addressee and status (of two for one event, the older is 已替换); a year close its date."""
    foi.ok("import", events_small)
    foi.ok("notice HX-2023-00015 acknowledgement")
    foi.ok("notice HX-2023-00015 decision")
    foi.ok("notice HX-2024-00027 extension")
    foi.ok("year close 2023 --on 2024-01-05")
    engine = open_engine(foi.db_url)
    command.downgrade(_alembic_config(engine), "0005")
    with engine.begin() as conn:  # a second decision letter for the same event, as 0002 allowed
        conn.execute(text(
            "INSERT INTO notice (case_id, kind, number, dated, body_text, body_html, template_name, template_hash,"
            ' "by", created_at) SELECT case_id, kind, :n, dated, body_text, body_html, template_name, template_hash,'
            ' "by", created_at FROM notice WHERE kind = :k'), {"n": "某公开〔2023〕3号", "k": "decision"})
    engine.dispose()
    foi.ok("init")
    engine = open_engine(foi.db_url)
    with engine.connect() as conn:
        letters = [tuple(r) for r in conn.execute(text(
            "SELECT number, seq, answers, addressee, status FROM notice ORDER BY id"))]
        closed_on, closed_at = conn.execute(text("SELECT closed_on, closed_at FROM year_close")).one()
    engine.dispose()
    assert letters == [
        ("某公开〔2023〕1号", 1, 1, "王五", "valid"),
        ("某公开〔2023〕2号", 2, 2, "王五", "replaced"),
        ("某公开〔2024〕1号", 1, 2, "陈七", "valid"),
        ("某公开〔2023〕3号", 3, 2, "王五", "valid"),
    ]
    if isinstance(closed_at, str):  # SQLite: ISO text, UTC
        closed_at = datetime.fromisoformat(closed_at).replace(tzinfo=UTC)
    assert str(closed_on) == closed_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    refused = foi("notice HX-2023-00015 decision --amend-closed-year x")
    assert refused.exit_code == 1 and "E-EXISTS" in refused.stderr
