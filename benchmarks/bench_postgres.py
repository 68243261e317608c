"""The report and sweep benchmarks (bench_report, bench_sweep) again on PostgreSQL, with the
same data shapes, baselines and targets, so the two backends can be compared line by line.

Needs a PostgreSQL server: FOI_TEST_PG_ADMIN (the admin URL `scripts/pg-test-server start`
prints). Without it the module returns one measurement saying it was skipped.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from tests.pg_helpers import fresh_database

import foi_workflow.adapters.mailer  # noqa: F401  (imported once per process, not part of a sweep)
from benchmarks import bench_report, bench_sweep
from benchmarks.common import Measurement, best_of, best_of_interleaved
from foi_workflow.adapters.db import migrate, open_engine
from foi_workflow.config import Config, SchedulerSettings, load_config
from foi_workflow.services.app import App
from foi_workflow.services.report import build_report, report_figures
from foi_workflow.services.sweep import sweep

CASE_COLUMNS = bench_report.CASE_COLUMNS


def copy_rows(engine: Engine, table: str, columns: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY … FROM STDIN: the fast way to fill a PostgreSQL table for a benchmark."""
    raw = engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def analyze(engine: Engine) -> None:
    """Gather the planner's statistics, as autovacuum would after a bulk load, committed: under
    `engine.connect()` the ANALYZE was rolled back with the block, and the benchmarks measured a
    database without statistics (the planner took 1,000,000 rows for a few hundred), which no
    installation keeps for more than a minute."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def report_rows(n: int) -> Iterator[tuple[Any, ...]]:
    """bench_report.populate's cases (same seed, same shape), as Python values for COPY."""
    return bench_report.case_rows(n, random.Random(5), sqlite=False)


def bench_report_pg(admin: str, quick: bool) -> list[Measurement]:
    n = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 5
    year = bench_report.YEAR
    with fresh_database(admin, "bench") as url:
        engine = open_engine(url)
        migrate(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO agency (code, name, created_at) VALUES ('default', 'default', now())"))
        copy_rows(engine, "foi_case", CASE_COLUMNS, report_rows(n))
        rng = random.Random(6)
        appeals = [
            (f"AP-{i}", "default", rng.choice(["review", "litigation_direct", "litigation_after_review"]), None,
             "pending", date(2020, 1, 1) + timedelta(days=rng.randrange(5 * 365)), None, None, 1)
            for i in range(n // 200)
        ]  # fmt: skip
        columns = "id, agency, kind, case_id, state, filed_on, concluded_on, result, version"
        copy_rows(engine, "appeal", columns, appeals)
        analyze(engine)
        app = App(Config(db_url=url, config_dir=Path(__file__).parent), engine)
        params = {"s": date(year, 1, 1), "e": date(year, 12, 31)}
        hand = text(bench_report.HAND_WRITTEN)
        appeals_sql = text("SELECT kind, COUNT(*) FROM appeal WHERE filed_on <= :e GROUP BY kind")

        def hand_written() -> None:
            with engine.connect() as conn:
                conn.execute(hand, params).all()
                conn.execute(appeals_sql, params).all()

        assert report_figures(app, year, "default").balanced
        hand_written()
        product, baseline = best_of_interleaved(repeats, lambda: report_figures(app, year, "default"), hand_written)
        full = best_of(repeats, lambda: build_report(app, year, agency="default", as_of=date(2025, 1, 31)))
        engine.dispose()
    label = f"{n:,} cases over 2020–2024, report of {year}, PostgreSQL"
    return [
        Measurement(f"report tables 3+4 ({label})", product, "s", "hand-written single GROUP BY", baseline,
                    "<= 1.5x the hand-written GROUP BY", product <= 1.5 * baseline),
        Measurement(f"whole report incl. timeliness ({label})", full, "s", "hand-written single GROUP BY", baseline),
    ]  # fmt: skip


def bench_sweep_pg(admin: str, quick: bool) -> list[Measurement]:
    n = 100_000 if quick else 1_000_000
    with fresh_database(admin, "bench") as url:
        engine = open_engine(url)
        migrate(engine)
        base = load_config(None, db_url=url, env={})
        app = App(replace(base, scheduler=SchedulerSettings(digest_time="23:00")), engine)
        # bench_sweep's rows: (id, state, outcome, caseworker, received_on, decided_on, reply_due, last_event_on, stamp)
        stamp = datetime(2024, 3, 1, tzinfo=UTC)
        rows = [
            (r[0], "default", r[1], r[2], "申请人", "natural_person", "online", "", "", "", "某信息", r[3], r[4], r[5],
             r[6], False, None, None, None, None, 0, None, None, r[7], stamp, 1)
            for r in bench_sweep._rows(app, n, 0.01)
        ]  # fmt: skip
        due = sum(1 for i in range(n) if i % 100 == 0)
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO agency (code, name, created_at) VALUES ('default', '某局', now())"))
        copy_rows(engine, "foi_case", CASE_COLUMNS, rows)
        fill_s = time.perf_counter() - start
        analyze(engine)
        baseline = min(bench_sweep._read_every_open_case(app) for _ in range(2))
        start = time.perf_counter()
        first = sweep(app, bench_sweep.NOW)
        first_s = time.perf_counter() - start
        assert first.reminders == due, (first.reminders, due)
        start = time.perf_counter()
        again = sweep(app, bench_sweep.NOW + timedelta(minutes=5))
        again_s = time.perf_counter() - start
        assert again.reminders == 0
        per_lapse = bench_sweep._lapses(app, 50 if quick else 200)
        engine.dispose()
    label = f"{n:,} cases, PostgreSQL"
    target = bench_sweep.TARGET_SECONDS
    return [
        Measurement(f"sweep, {label}, {due:,} at a reminder point (1%)", first_s, "s",
                    "reading every open case (what the sweep must not do)", baseline,
                    f"< {target} s (1,000,000 cases)", first_s < target,
                    note=f"setup: {n:,} rows copied in {fill_s:.1f} s"),
        Measurement(f"second sweep, {label}, nothing new (idempotent)", again_s, "s",
                    target=f"< {target} s", met=again_s < target),
        Measurement("automatic transition (lapse_correction) on PostgreSQL", per_lapse * 1000, "ms/case"),
    ]  # fmt: skip


def run(quick: bool) -> list[Measurement]:
    admin = os.environ.get("FOI_TEST_PG_ADMIN", "")
    if not admin:
        return [
            Measurement(
                "PostgreSQL report and sweep benchmarks",
                0.0,
                "",
                note="skipped: set FOI_TEST_PG_ADMIN (scripts/pg-test-server start DIR PORT prints it)",
            )
        ]
    return bench_report_pg(admin, quick) + bench_sweep_pg(admin, quick)


if __name__ == "__main__":
    import sys

    for m in run(quick="--full" not in sys.argv):
        ratio = f" ratio {m.ratio:.2f}" if m.ratio is not None else ""
        print(f"{m.name}: {m.value:.4f} {m.unit} vs {m.baseline_name} {m.baseline_value}{ratio} met={m.met} {m.note}")
