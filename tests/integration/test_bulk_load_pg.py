"""A large import on PostgreSQL leaves the planner statistics of what it loaded: a report run
right after it gets the plan it would get once autovacuum had analyzed the tables (without
statistics, tables 3+4 of a million cases sorted on disk, several times slower).

Runs on the shared throwaway server of `.ci/run` (FOI_TEST_PG_ADMIN), in both halves of CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.conftest import Foi
from tests.helpers.transfer import RECEIVE, write_jsonl
from tests.pg_helpers import SHARED_ADMIN, fresh_database

pytestmark = pytest.mark.skipif(
    not SHARED_ADMIN, reason="needs FOI_TEST_PG_ADMIN (the PostgreSQL server .ci/run starts)"
)
TABLES = ("foi_case", "event")


def cases(first: int, count: int) -> list[dict[str, object]]:
    return [{"case": f"S-{n:04d}", **RECEIVE, "on": "2024-03-01"} for n in range(first, first + count)]


def test_a_large_import_analyzes_what_it_loaded_and_a_small_one_does_not(tmp_path: Path) -> None:
    with fresh_database(SHARED_ADMIN) as url:
        engine = create_engine(url, poolclass=NullPool)
        foi = Foi(url, tmp_path)
        foi.ok("init")
        with engine.begin() as conn:  # only the import may analyze these tables in this test
            for table in TABLES:
                conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")

        def statistics() -> tuple[set[str], float]:
            with engine.connect() as conn:
                analyzed = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT tablename FROM pg_stats")}
                held = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'foi_case'").scalar()
            return analyzed & set(TABLES), float(held or 0)

        assert statistics()[0] == set()
        foi.ok("import", write_jsonl(tmp_path / "many.jsonl", cases(0, 80)))
        assert statistics() == (set(TABLES), 80.0)
        # 3 more cases beside 80: below autovacuum's threshold (50 rows and a tenth of the table).
        foi.ok("import", write_jsonl(tmp_path / "few.jsonl", cases(80, 3)))
        assert statistics() == (set(TABLES), 80.0)
        assert len(foi.ok("list", "--format", "json")) > 0
        engine.dispose()
