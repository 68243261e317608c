"""The aggregate queries behind tables 3 and 4, on a real database with projection rows
written directly: every history balances, years chain, and the counts match SPEC §5's
definitions (checked against a plain count of the same cases)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from foi_workflow.adapters.db import migrate, open_engine
from foi_workflow.adapters.models import Appeal, Case
from foi_workflow.config import Agency, Config
from foi_workflow.domain.vocabulary import TABLE3_COLUMNS, ApplicantType, Outcome
from foi_workflow.services.app import App
from foi_workflow.services.report import build_report, compute_figures, report_figures, resolve_scope
from tests.integration.report_helpers import CaseRow, insert_appeal, insert_cases

YEARS = range(2021, 2026)


def engine_for(db_url: str) -> Engine:
    engine = open_engine(db_url)
    migrate(engine)
    return engine


_MIGRATED: dict[str, Engine] = {}


def cached_engine(db_url: str) -> Engine:
    """One migrated engine per database for all the examples of a property."""
    if db_url not in _MIGRATED:
        _MIGRATED.clear()
        _MIGRATED[db_url] = engine_for(db_url)
    return _MIGRATED[db_url]


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(Appeal))
        conn.execute(delete(Case))


@st.composite
def histories(draw: st.DrawFn) -> list[CaseRow]:
    n = draw(st.integers(min_value=0, max_value=40))
    rows = []
    for i in range(n):
        received = date(2021, 1, 1) + timedelta(days=draw(st.integers(0, 5 * 365 - 1)))
        decided = None
        outcome = None
        if draw(st.booleans()) or draw(st.booleans()):
            decided = received + timedelta(days=draw(st.integers(0, 500)))
            outcome = draw(st.sampled_from(list(Outcome))).value
        rows.append(CaseRow(f"C{i}", draw(st.sampled_from(list(ApplicantType))).value, received, decided, outcome,
                            agency=draw(st.sampled_from(["default", "other"]))))
    return rows


def expected_row(rows: list[CaseRow], year: int, test: str) -> list[int]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    counts = dict.fromkeys(TABLE3_COLUMNS, 0)
    for r in rows:
        hit = {
            "received": start <= r.received_on <= end,
            "carried_in": r.received_on < start and (r.decided_on is None or r.decided_on >= start),
            "carried_out": r.received_on <= end and (r.decided_on is None or r.decided_on > end),
        }.get(test)
        if hit is None:  # an outcome row
            hit = r.decided_on is not None and start <= r.decided_on <= end and r.outcome == test
        if hit:
            counts[r.applicant_type] += 1
            counts["total"] += 1
    return list(counts.values())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=histories())
def test_every_history_balances_and_carried_out_equals_next_carried_in(db_url: str, rows: list[CaseRow]) -> None:
    engine = cached_engine(db_url)
    clear(engine)
    insert_cases(engine, rows, agencies=("default", "other"))
    with engine.connect() as conn:
        by_year = {y: compute_figures(conn, y, None) for y in range(2020, 2028)}
    for year, figs in by_year.items():
        assert figs.balanced, (year, figs.table3.imbalances())
        if year + 1 in by_year:
            assert figs.table3.rows["carried_out"] == by_year[year + 1].table3.rows["carried_in"]
    for year in YEARS:
        t3 = by_year[year].table3
        for row in ("received", "carried_in", "carried_out", "granted", "other.other", "withheld.state_secret"):
            assert list(t3.rows[row]) == expected_row(rows, year, row), (year, row)


def test_a_case_decided_on_new_years_day_counts_in_the_new_year(db_url: str) -> None:
    engine = engine_for(db_url)
    insert_cases(engine, [
        CaseRow("A", "research", date(2023, 12, 29), date(2024, 1, 1), "granted"),
        CaseRow("B", "research", date(2023, 12, 31), date(2023, 12, 31), "other.other"),
        CaseRow("C", "legal_service", date(2024, 1, 1)),
    ])
    with engine.connect() as conn:
        y23, y24 = compute_figures(conn, 2023, None), compute_figures(conn, 2024, None)
    assert y23.table3.cell("carried_out", "research") == 1
    assert y23.table3.cell("other.other", "research") == 1
    assert y24.table3.cell("carried_in", "research") == 1
    assert y24.table3.cell("granted", "research") == 1
    assert y24.table3.cell("carried_out", "legal_service") == 1
    assert y24.table3.cell("carried_out", "total") == 1


def test_a_case_decided_after_the_year_is_carried_out_not_counted_under_its_outcome(db_url: str) -> None:
    engine = engine_for(db_url)
    insert_cases(engine, [
        CaseRow("A", "research", date(2023, 3, 1), date(2023, 3, 20), "granted"),
        CaseRow("B", "research", date(2023, 12, 1), date(2024, 1, 10), "granted"),
        CaseRow("C", "research", date(2022, 12, 1), date(2024, 2, 1), "granted"),
    ])  # fmt: skip
    with engine.connect() as conn:
        t3 = compute_figures(conn, 2023, None).table3
    assert t3.cell("granted", "research") == 1
    assert t3.cell("received", "research") == 2
    assert t3.cell("carried_in", "research") == 1
    assert t3.cell("carried_out", "research") == 2
    assert t3.cell("handled_total", "research") == 1


def test_table4_counts_appeals_filed_or_still_pending_by_result(db_url: str) -> None:
    engine = engine_for(db_url)
    insert_appeal(engine, "P1", "review", date(2023, 11, 1))  # pending since 2023
    insert_appeal(engine, "P2", "review", date(2023, 6, 1), date(2024, 2, 1), "corrected")
    insert_appeal(engine, "P3", "review", date(2023, 6, 1), date(2023, 9, 1), "upheld")  # not in 2024
    insert_appeal(engine, "P4", "litigation_direct", date(2024, 3, 1), date(2025, 1, 5), "upheld")
    insert_appeal(engine, "P5", "litigation_after_review", date(2024, 5, 1), date(2024, 8, 1), "other")
    with engine.connect() as conn:
        t4 = compute_figures(conn, 2024, None).table4
        t4_2023 = compute_figures(conn, 2023, None).table4
    assert t4.rows["review"] == (0, 1, 0, 1, 2)
    assert t4.rows["litigation_direct"] == (0, 0, 0, 1, 1)  # concluded only in 2025: pending in 2024
    assert t4.rows["litigation_after_review"] == (0, 0, 1, 0, 1)
    assert t4_2023.rows["review"] == (1, 0, 0, 2, 3)


def test_one_agency_or_all_agencies_summed(db_url: str, tmp_path: Path) -> None:
    engine = engine_for(db_url)
    insert_cases(engine, [
        CaseRow("A1", "natural_person", date(2024, 3, 1), date(2024, 3, 20), "granted", agency="a"),
        CaseRow("B1", "natural_person", date(2024, 3, 1), agency="b"),
        CaseRow("B2", "commercial", date(2024, 4, 1), date(2024, 4, 2), "granted", agency="b"),
    ], agencies=("a", "b"))
    config = Config(db_url=db_url, config_dir=tmp_path, default_agency="a",
                    agencies={"a": Agency("a", "甲局"), "b": Agency("b", "乙局")})
    app = App(config, engine)
    assert resolve_scope(config, None, False) == "a"
    assert resolve_scope(config, None, True) is None
    assert resolve_scope(config, "b", False) == "b"
    a, b, both = (report_figures(app, 2024, s) for s in ("a", "b", None))
    assert a.table3.cell("granted", "total") == 1 and a.agency == "a"
    assert b.table3.cell("received", "total") == 2 and b.table3.cell("carried_out", "total") == 1
    assert both.table3.cell("received", "total") == 3 and both.agency is None


def test_timeliness_counts_on_time_median_overdue_and_months(db_url: str, tmp_path: Path) -> None:
    engine = engine_for(db_url)
    insert_cases(engine, [
        # 2024-03-01 (Fri) -> 2024-03-08 (Fri): 5 working days
        CaseRow("T1", "natural_person", date(2024, 3, 1), date(2024, 3, 8), "granted", on_time=True),
        # 2024-03-01 -> 2024-04-30: 40 working days (Qingming 4–6 April, make-up day 7 April)
        CaseRow("T2", "natural_person", date(2024, 3, 1), date(2024, 4, 30), "granted", on_time=False),
        CaseRow("T3", "other", date(2024, 5, 6), reply_due=date(2024, 6, 3)),
    ])
    app = App(Config(db_url=db_url, config_dir=tmp_path), engine)
    report = build_report(app, 2024, agency=None, as_of=date(2024, 7, 1))
    t = report.timeliness
    assert (t.decided, t.on_time, t.decided_late, t.overdue_open) == (2, 1, 1, 1)
    assert t.on_time_rate == 0.5
    assert t.median_working_days == (5 + app.calendar.working_days_between(date(2024, 3, 1), date(2024, 4, 30))) / 2
    assert t.received_by_month[2] == 2 and t.received_by_month[4] == 1
    assert t.decided_by_month[2] == 1 and t.decided_by_month[3] == 1
