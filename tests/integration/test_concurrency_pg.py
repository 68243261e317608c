"""Many writers on one database at once (SPEC §10): several processes advance the same cases
concurrently; every accepted command is in the event log exactly once, every refusal is a
clean one (E-CONFLICT, or E-STATE / E-RULE because the other change won), and the case
table equals its rebuild from the log.

Runs on the backend under test: 8 processes on PostgreSQL, 4 on SQLite (where writers are
serialised by the file lock and a lost race must still be refused cleanly, never corrupt).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import threading
import time
from collections import Counter as Tally
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from foi_workflow.adapters.db import migrate, unit_of_work
from foi_workflow.adapters.models import Case, Event
from foi_workflow.config import load_config
from foi_workflow.errors import FoiError
from foi_workflow.services.app import App
from foi_workflow.services.cases import advance, intake, rebuild
from foi_workflow.services.transfer import import_lines

BACKEND = os.environ.get("FOI_TEST_BACKEND", "sqlite")
PROCESSES = 8 if BACKEND == "postgresql" else 4
OPERATIONS = 40 if BACKEND == "postgresql" else 30  # per process
INTAKES = 3  # new cases registered by each process, numbered automatically
CASES = 200
HOT = 6  # a few cases every process keeps hitting, so that races really happen
RECEIVED = date(2024, 3, 1)
ON = date(2024, 3, 5)
TODAY = date(2024, 6, 1)
CLEAN_REFUSALS = {"E-CONFLICT", "E-STATE", "E-RULE"}

# (event, data) a caseworker might send; the weights favour events that keep a case open.
MOVES: list[tuple[str, dict[str, Any], int]] = [
    ("extend", {"days": 5, "approved_by": "王主任"}, 6),
    ("extend", {"days": 12, "approved_by": "王主任"}, 3),
    ("consult", {"party": "某公司", "kind": "third_party"}, 4),
    ("consultation_reply", {"opinion": "agree"}, 4),
    ("request_correction", {"items": "请写明文件名称"}, 2),
    ("receive_correction", {}, 2),
    ("fee_notice", {"amount": "100", "basis": "per_item", "quantity": 12}, 1),
    ("fee_paid", {}, 1),
    ("decide", {"outcome": "granted"}, 1),
    ("withdraw", {"reason": "申请人撤回"}, 1),
]


def case_id(n: int) -> str:
    return f"C-{n:03d}"


def make_app(db_url: str) -> App:
    return App(load_config(db_url=db_url, env={}))


def seed(db_url: str, cases: int = CASES) -> App:
    app = make_app(db_url)
    migrate(app.engine)
    lines = [
        json.dumps(
            {"case": case_id(n), "event": "receive", "on": RECEIVED.isoformat(), "applicant": f"申请人{n}",
             "applicant_type": "natural_person", "channel": "online", "request": "某文件"},
            ensure_ascii=False,
        )
        for n in range(cases)
    ]
    import_lines(app, lines, by="seed")
    return app


def worker(db_url: str, number: int, start: Any, results: Any) -> None:
    """One caseworker process: registers a few cases, then fires random events at random cases."""
    app = make_app(db_url)
    rng = random.Random(number)
    events, weights = [(e, d) for e, d, _ in MOVES], [w for _, _, w in MOVES]
    done: list[tuple[str, str, str, int | None]] = []  # (result code or "ok", case, event, event seq)
    start.wait()
    for i in range(INTAKES + OPERATIONS):
        if i < INTAKES:
            target, event, data = "(new)", "receive", {}
        else:
            n = rng.randrange(HOT) if rng.random() < 0.5 else rng.randrange(CASES)
            target = case_id(n)
            event, data = rng.choices(events, weights)[0]
        try:
            if event == "receive":
                change = intake(
                    app,
                    on=date(2024, 3, 4),
                    by=f"w{number}",
                    data={"applicant": f"新申请人{number}", "applicant_type": "commercial",
                          "channel": "post", "request": "某文件"},
                    today=TODAY,
                )
                target = change.case.id
            else:
                change = advance(app, target, event, on=ON, by=f"w{number}", data=data, today=TODAY)
            done.append(("ok", target, event, change.event.seq))
        except FoiError as exc:
            done.append((exc.code, target, event, None))
        except Exception as exc:  # anything else is a bug: report it to the test
            done.append((f"crash {type(exc).__name__}: {exc}"[:300], target, event, None))
    app.engine.dispose()
    results.put(done)


def process_context() -> Any:
    """Fresh single-threaded processes (no fork of the test runner's threads), forked from a
    server that has imported the product once, so starting eight of them is cheap."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def run_workers(db_url: str, processes: int) -> list[tuple[str, str, str, int | None]]:
    ctx = process_context()
    start = ctx.Event()
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(db_url, n, start, results)) for n in range(processes)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let them import, then release them together
    start.set()
    collected: list[tuple[str, str, str, int | None]] = []
    for _ in procs:
        collected.extend(results.get(timeout=120))
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return collected


def test_concurrent_writers_lose_nothing_duplicate_nothing_and_refuse_cleanly(db_url: str) -> None:
    app = seed(db_url)
    outcomes = run_workers(db_url, PROCESSES)
    assert len(outcomes) == PROCESSES * (INTAKES + OPERATIONS)

    crashes = [o for o in outcomes if o[0].startswith("crash")]
    assert crashes == []
    codes = Tally(o[0] for o in outcomes)
    assert set(codes) - {"ok"} <= CLEAN_REFUSALS, codes
    accepted = [o for o in outcomes if o[0] == "ok"]
    assert codes["ok"] > PROCESSES * INTAKES  # plenty of events got through, not only the intakes

    with Session(app.engine) as s:
        logged = {
            ev.seq: (ev.case_id, ev.event)
            for ev in s.scalars(select(Event).where(col(Event.by) != "seed"))
        }
        # Every accepted command is in the log exactly once, and nothing else is.
        assert sorted(o[3] for o in accepted) == sorted(logged)  # type: ignore[type-var]
        assert all(logged[o[3]] == (o[1], o[2]) for o in accepted)  # type: ignore[index]
        # Automatic numbering under contention: every intake got its own case.
        # (the year's counter row is created by whichever intake comes first).
        new_ids = sorted(o[1] for o in accepted if o[2] == "receive")
        assert new_ids == [f"2024-{n:05d}" for n in range(1, PROCESSES * INTAKES + 1)]
        # The version column counts the events of each case: no update was lost.
        per_case = dict(
            s.execute(select(col(Event.case_id), func.count()).group_by(col(Event.case_id))).all()
        )
        for row in s.scalars(select(Case)):
            assert row.version == per_case[row.id], row.id
        assert s.scalar(select(func.count()).select_from(Case)) == CASES + PROCESSES * INTAKES
        if BACKEND == "sqlite":
            assert s.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert rebuild(app, check_only=True) == []


def _race(db_url: str, first: tuple[str, dict[str, Any]], second: tuple[str, dict[str, Any]]) -> tuple[bool, Any]:
    """Hold `first` uncommitted on C-000 while another connection tries `second`; then commit.

    Returns whether the second writer was still waiting when the first committed, and what
    it got (the Change, or the FoiError)."""
    app = seed(db_url, cases=1)
    other = make_app(db_url)
    got: list[Any] = []

    def second_writer() -> None:
        try:
            got.append(advance(other, case_id(0), second[0], on=ON, by="b", data=second[1], today=TODAY))
        except FoiError as exc:
            got.append(exc)

    with unit_of_work(app.engine) as session:
        advance(app, case_id(0), first[0], on=ON, by="a", data=first[1], today=TODAY, session=session)
        session.flush()
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=0.7)
        waiting = thread.is_alive()
        session.commit()
    thread.join(timeout=20)
    assert not thread.is_alive()
    other.engine.dispose()
    app.engine.dispose()
    return waiting, got[0]


def test_a_change_racing_a_decision_is_refused_and_the_log_keeps_only_the_decision(db_url: str) -> None:
    waiting, result = _race(
        db_url, ("decide", {"outcome": "granted"}), ("extend", {"days": 5, "approved_by": "王主任"})
    )
    assert isinstance(result, FoiError)
    if BACKEND == "postgresql":
        # The row lock makes the second writer wait, re-read the decided case and refuse.
        assert waiting and result.code == "E-STATE"
    else:
        assert result.code in ("E-CONFLICT", "E-STATE")
    app = make_app(db_url)
    with Session(app.engine) as s:
        assert [e.event for e in s.scalars(select(Event).order_by(col(Event.seq)))] == ["receive", "decide"]
    assert rebuild(app, check_only=True) == []


def test_two_racing_extensions_never_exceed_the_twenty_day_cap(db_url: str) -> None:
    waiting, result = _race(
        db_url,
        ("extend", {"days": 15, "approved_by": "王主任"}),
        ("extend", {"days": 10, "approved_by": "李主任"}),
    )
    assert isinstance(result, FoiError)
    if BACKEND == "postgresql":
        assert waiting and result.code == "E-RULE"  # re-validated against the committed 15 days
    else:
        assert result.code in ("E-CONFLICT", "E-RULE")
    app = make_app(db_url)
    with Session(app.engine) as s:
        row = s.get(Case, case_id(0))
        assert row is not None and row.extended_days == 15 and row.version == 2


def test_two_compatible_changes_racing_on_postgresql_both_succeed_in_turn(db_url: str) -> None:
    if BACKEND != "postgresql":
        # SQLite has no row locks: the later writer is refused with E-CONFLICT instead.
        waiting, result = _race(
            db_url,
            ("extend", {"days": 5, "approved_by": "王主任"}),
            ("extend", {"days": 5, "approved_by": "李主任"}),
        )
        assert isinstance(result, FoiError) and result.code == "E-CONFLICT"
        return
    waiting, result = _race(
        db_url,
        ("extend", {"days": 5, "approved_by": "王主任"}),
        ("extend", {"days": 5, "approved_by": "李主任"}),
    )
    assert waiting and not isinstance(result, FoiError)
    app = make_app(db_url)
    with Session(app.engine) as s:
        row = s.get(Case, case_id(0))
        assert row is not None and row.extended_days == 10 and row.version == 3
    assert rebuild(app, check_only=True) == []
