"""The whole record moved SQLite → PostgreSQL → SQLite (SPEC §12): every export along the way is
byte-identical; the register, the cases as shown and the reports (the closed years' frozen
figures included) are the same; and each database gives the next letter the next number.

Needs the throwaway PostgreSQL server of `.ci/run` (FOI_TEST_PG_ADMIN); it runs in both halves
of CI, whatever FOI_TEST_BACKEND says.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import Foi
from tests.record_helpers import letter_table, populate_record, record_snapshot

ADMIN = os.environ.get("FOI_TEST_PG_ADMIN", "")

pytestmark = pytest.mark.skipif(not ADMIN, reason="needs FOI_TEST_PG_ADMIN (the PostgreSQL server .ci/run starts)")


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"r_{uuid.uuid4().hex[:16]}"
    engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield ADMIN.rsplit("/", 1)[0] + f"/{name}"
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_the_record_moves_from_sqlite_to_postgresql_and_back_unchanged(pg_url: str, tmp_path: Path) -> None:
    first = Foi(f"sqlite:///{tmp_path / 'first.db'}", tmp_path)
    first.ok("init")
    populate_record(first)
    before = record_snapshot(first)
    chain = [first]
    for url in (pg_url, f"sqlite:///{tmp_path / 'back.db'}"):
        chain[-1].ok("export", "--out", tmp_path / "moving.jsonl")
        target = Foi(url, tmp_path)
        target.ok("init")
        target.ok("import", tmp_path / "moving.jsonl")
        assert record_snapshot(target) == before
        assert letter_table(target.db_url) == letter_table(first.db_url)
        chain.append(target)
    for db in chain:
        db.ok("notice HX-2024-00020 acknowledgement --amend-closed-year 补发回执")
    last = {json.loads(db.ok("register 2024 --format json"))[-1]["number"] for db in chain}
    assert len(last) == 1  # the same next number on each: numbering continued after the import
    assert {db.ok("export") for db in chain} == {chain[0].ok("export")}
