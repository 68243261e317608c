"""`foi export` on one backend, `foi import` into an empty database on the other: the same
annual report (JSON) for every year and the same `foi show` for every case, both ways; and the
whole record (letters, closed years) moved SQLite → PostgreSQL → SQLite unchanged, with
numbering that continues.

Needs the throwaway PostgreSQL server of `.ci/run` (FOI_TEST_PG_ADMIN); it runs in both
halves of CI, whatever FOI_TEST_BACKEND says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, Foi
from tests.pg_helpers import SHARED_ADMIN, fresh_database
from tests.record_helpers import letter_table, populate_record, record_snapshot

pytestmark = pytest.mark.skipif(
    not SHARED_ADMIN, reason="needs FOI_TEST_PG_ADMIN (the PostgreSQL server .ci/run starts)"
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database(SHARED_ADMIN) as url:
        yield url


def populate(foi: Foi) -> None:
    """The example event files (one with every event, field and outcome), plus cases made by
    commands with every kind of event data."""
    foi.ok("import", str(FIXTURES / "events-small.jsonl"))
    foi.ok("import", str(FIXTURES / "events-every-kind.jsonl"))
    intake = "intake --applicant-type {t} --channel {c} --request 某文件 --on {on} --applicant {a}"
    a = foi.ok(intake.format(t="commercial", c="post", on="2024-11-04", a="某公司") + " --phone 13800001111").strip()
    foi.ok(f"extend {a} --days 7 --approved-by 王主任 --on 2024-11-20")
    foi.ok(f"fee-notice {a} --amount 120 --basis per_page --quantity 42 --on 2024-11-25")
    b = foi.ok(intake.format(t="research", c="in_person", on="2024-12-20", a="某研究所")).strip()
    foi.ok(f"consult {b} --party 某公司 --kind co_producer --on 2024-12-23")
    c = foi.ok(intake.format(t="other", c="fax", on="2023-12-28", a="张三")).strip()
    foi.ok(f"decide {c} --outcome withheld.third_party_rights --note 涉及商业秘密 --on 2024-01-15")
    appeal = foi.ok(f"appeal file --kind litigation_after_review --case {c} --on 2024-03-01").strip()
    foi.ok(f"appeal conclude {appeal} --result corrected --on 2024-09-30")


def snapshot(foi: Foi, exported: list[dict[str, Any]]) -> dict[str, Any]:
    """What must survive the move: every year's report and every case as `foi show` gives it."""
    years = sorted({int(e["on"][:4]) for e in exported})
    cases = sorted({e["case"] for e in exported if "case" in e and "appeal" not in e})
    shown: dict[str, Any] = {}
    for case in cases:
        detail = json.loads(foi.ok("show", case, "--format", "json"))
        for event in detail["events"]:
            event.pop("recorded_at")  # when it was written down: the import is a new writing
            for amendment in [event["voided"] or {}, *event["corrected_by"]]:  # the void / correct, likewise
                amendment.pop("recorded_at", None)
        shown[case] = detail
    return {
        "reports": {y: json.loads(foi.ok("report", str(y), "--format", "json")) for y in years},
        "cases": shown,
    }


@pytest.mark.parametrize("direction", ["sqlite_to_postgresql", "postgresql_to_sqlite"])
def test_export_then_import_on_the_other_backend_gives_the_same_reports_and_cases(
    direction: str, pg_url: str, tmp_path: Path
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'foi.db'}"
    source_url, target_url = (sqlite_url, pg_url) if direction == "sqlite_to_postgresql" else (pg_url, sqlite_url)
    source, target = Foi(source_url, tmp_path), Foi(target_url, tmp_path)
    source.ok("init")
    target.ok("init")
    populate(source)

    dump = tmp_path / "events.jsonl"
    source.ok("export", "--out", str(dump))
    exported = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert len(exported) > 150
    target.ok("import", str(dump))

    before, after = snapshot(source, exported), snapshot(target, exported)
    assert after["reports"] == before["reports"]
    assert set(before["reports"]) == {2023, 2024, 2025, 2026}  # the every-kind file ends in January 2026
    assert after["cases"] == before["cases"]
    # And the log itself round-trips: the target exports the very same lines.
    assert target.ok("export") == source.ok("export")


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
