"""The annual report over many cases: `foi report`'s figures (tables 3 and 4, through the
service layer) against one hand-written GROUP BY over the same table, in the same run.

Cases are spread over five years (2020–2024); the report is of the middle year. The target
(issue 4): the product takes no more than 1.5 times the hand-written query. A second
baseline, the plainest GROUP BY a DBA would write (decided in the year, by type and
outcome: only the outcome rows), is shown for scale.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import Measurement, best_of, best_of_interleaved
from foi_workflow.adapters.db import migrate, open_engine
from foi_workflow.config import Config
from foi_workflow.domain.vocabulary import ApplicantType, Outcome
from foi_workflow.services.app import App
from foi_workflow.services.report import build_report, report_figures

YEAR = 2022
HAND_WRITTEN = """
SELECT applicant_type,
       CASE WHEN decided_on <= :e THEN outcome END AS o,
       SUM(CASE WHEN decided_on <= :e THEN 1 ELSE 0 END),
       SUM(CASE WHEN received_on >= :s THEN 1 ELSE 0 END),
       SUM(CASE WHEN received_on < :s THEN 1 ELSE 0 END),
       SUM(CASE WHEN decided_on IS NULL OR decided_on > :e THEN 1 ELSE 0 END)
FROM foi_case
WHERE agency = 'default' AND received_on <= :e AND (decided_on IS NULL OR decided_on >= :s)
GROUP BY applicant_type, o
"""
PLAIN = """
SELECT applicant_type, outcome, COUNT(*) FROM foi_case
WHERE agency = 'default' AND decided_on BETWEEN :s AND :e GROUP BY applicant_type, outcome
"""


def case_rows(n: int, rng: random.Random, *, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    """n cases over 2020–2024 (most decided within two months, a few still open), as `foi_case`
    rows in `CASE_COLUMNS` order: dates as SQLite stores them (`sqlite`), else Python values."""
    types = [t.value for t in ApplicantType]
    weights = [60, 15, 3, 2, 5, 15]
    outcomes = [o.value for o in Outcome]
    start = date(2020, 1, 1).toordinal()
    day: Callable[[date], Any] = date.isoformat if sqlite else (lambda d: d)
    stamp: Any = "2025-01-01 00:00:00" if sqlite else datetime(2025, 1, 1, tzinfo=UTC)
    no: Any = 0 if sqlite else False
    for i in range(n):
        received = date.fromordinal(start + rng.randrange(5 * 365))
        if rng.random() < 0.02:
            decided, outcome, state = None, None, "received"
        else:
            decided = received + timedelta(days=rng.randrange(1, 60))
            outcome, state = rng.choice(outcomes), "decided"
        yield (f"B-{i:07d}", "default", state, outcome, "申请人", rng.choices(types, weights)[0], "online",
               "", "", "", "申请公开某项政府信息", "", day(received), None if decided is None else day(decided),
               None, no, None, None, None, None, 0, None if decided is None else rng.random() < 0.95, None,
               day(decided or received), stamp, 1)  # fmt: skip


CASE_COLUMNS = (
    "id, agency, state, outcome, applicant, applicant_type, channel, contact, phone, id_number, request,"
    " caseworker, received_on, decided_on, reply_due, reply_due_provisional, correction_notice_due,"
    " correction_due, consultation_due, fee_due, extended_days, on_time, carried_over_to, last_event_on,"
    " updated_at, version"
)


def populate(path: Path, n: int) -> None:
    """`case_rows` into a SQLite file, and appeals."""
    rng = random.Random(5)
    start = date(2020, 1, 1).toordinal()
    con = sqlite3.connect(path)
    con.execute("INSERT OR IGNORE INTO agency (code, name, created_at) VALUES ('default', 'default', '2020-01-01')")

    con.executemany(
        f"INSERT INTO foi_case ({CASE_COLUMNS}) VALUES (" + ",".join("?" * 26) + ")",
        case_rows(n, rng, sqlite=True),
    )
    appeals = [
        (f"AP-{i}", "default", rng.choice(["review", "litigation_direct", "litigation_after_review"]), None,
         "pending", date.fromordinal(start + rng.randrange(5 * 365)).isoformat(), None, None, 1)
        for i in range(n // 200)
    ]
    con.executemany("INSERT INTO appeal (id, agency, kind, case_id, state, filed_on, concluded_on, result, version)"
                    " VALUES (?,?,?,?,?,?,?,?,?)", appeals)
    con.commit()
    con.close()


def run(quick: bool) -> list[Measurement]:
    n = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        engine = open_engine(url)
        migrate(engine)
        populate(path, n)
        app = App(Config(db_url=url, config_dir=Path(tmp)), engine)
        params = {"s": date(YEAR, 1, 1).isoformat(), "e": date(YEAR, 12, 31).isoformat()}
        raw = sqlite3.connect(path)

        def hand_written() -> None:
            raw.execute(HAND_WRITTEN, params).fetchall()
            raw.execute("SELECT kind, COUNT(*) FROM appeal WHERE filed_on <= :e GROUP BY kind", params).fetchall()

        def plain() -> None:
            raw.execute(PLAIN, params).fetchall()

        figures = report_figures(app, YEAR, "default")
        assert figures.balanced
        hand_written()  # warm the page cache for every contender alike
        product, baseline = best_of_interleaved(repeats, lambda: report_figures(app, YEAR, "default"), hand_written)
        plain_s = best_of(repeats, plain)
        full = best_of(repeats, lambda: build_report(app, YEAR, agency="default", as_of=date(2025, 1, 31)))
        raw.close()
        engine.dispose()
    label = f"{n:,} cases over 2020–2024, report of {YEAR}, SQLite"
    return [
        Measurement(f"report tables 3+4 ({label})", product, "s", "hand-written single GROUP BY", baseline,
                    "<= 1.5x the hand-written GROUP BY", product <= 1.5 * baseline),
        Measurement(f"report tables 3+4 ({label})", product, "s", "plain GROUP BY of decided cases only", plain_s,
                    note="for scale: that query counts only the outcome rows"),
        Measurement(f"whole report incl. timeliness ({label})", full, "s", "hand-written single GROUP BY", baseline,
                    note="adds on-time rate, median working days, overdue and month counts"),
    ]


if __name__ == "__main__":
    import sys

    for m in run(quick="--full" not in sys.argv):
        ratio = f" ratio {m.ratio:.2f}" if m.ratio is not None else ""
        print(f"{m.name}: {m.value:.3f} {m.unit} vs {m.baseline_name} {m.baseline_value:.3f}{ratio} {m.met}")
