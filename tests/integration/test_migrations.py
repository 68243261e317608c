"""Schema migrations on a database with data: 0002 turns the indexes of mostly-NULL columns
into partial ones, and an upgraded database keeps every case and event."""

from __future__ import annotations

import json
from pathlib import Path

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
