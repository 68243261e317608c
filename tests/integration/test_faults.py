"""Faults a shared deployment meets: a `kill -9` in the middle of a big `foi import`, the
database server restarting during a sweep, and the scheduler killed between sending a mail
and recording it (docs/architecture.md, "Concurrency and faults")."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col

from foi_workflow.adapters.db import migrate
from foi_workflow.adapters.models import Case, Event
from foi_workflow.config import load_config
from foi_workflow.services.app import App
from foi_workflow.services.cases import rebuild
from foi_workflow.services.outbox import OUTBOX
from foi_workflow.services.sweep import SHANGHAI, sweep
from foi_workflow.services.transfer import import_lines
from tests.conftest import Foi
from tests.pg_helpers import have_postgresql, pg_server, private_pg_server
from tests.smtp_helpers import Inbox, SmtpServer, write_config

FOI = [str(Path(sys.executable).with_name("foi"))]
BACKEND = os.environ.get("FOI_TEST_BACKEND", "sqlite")
TABLES = ("agency", "counter", "foi_case", "event", "appeal", "notice", "outbox", "year_close")


def make_app(db_url: str) -> App:
    return App(load_config(db_url=db_url, env={}))


def receive(case: str, on: date, **extra: Any) -> str:
    return json.dumps(
        {"case": case, "event": "receive", "on": on.isoformat(), "applicant": "某人",
         "applicant_type": "natural_person", "channel": "online", "request": "某文件", **extra},
        ensure_ascii=False,
    )  # fmt: skip


def line(case: str, event: str, on: date, **data: Any) -> str:
    return json.dumps({"case": case, "event": event, "on": on.isoformat(), **data}, ensure_ascii=False)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with engine.connect() as conn:
        return {
            name: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2"))]
            for name in TABLES
        }


# --------------------------------------------------------------------------- kill -9 during import


def big_import(path: Path, cases: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        # Events for cases already in the database first (the update path), then new cases.
        for n in range(10):
            out.write(line(f"A-{n:03d}", "extend", date(2023, 1, 10), days=5, approved_by="王主任") + "\n")
        for n in range(cases):
            cid, on = f"B-{n:05d}", date(2023, 1, 3) + timedelta(days=n % 300)
            out.write(receive(cid, on) + "\n")
            out.write(line(cid, "consult", on + timedelta(days=1), party="某公司") + "\n")
            out.write(line(cid, "consultation_reply", on + timedelta(days=2), opinion="agree") + "\n")
            out.write(line(cid, "decide", on + timedelta(days=3), outcome="granted") + "\n")


def writing(db_url: str, engine: Engine) -> bool:
    """Whether another process holds an open write transaction on the database right now."""
    if db_url.startswith("sqlite"):
        probe = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        )


def test_kill_9_in_the_middle_of_an_import_leaves_the_database_as_it_was(db_url: str, tmp_path: Path) -> None:
    app = make_app(db_url)
    migrate(app.engine)
    import_lines(app, [receive(f"A-{n:03d}", date(2023, 1, 4)) for n in range(20)], by="seed")
    app.engine.dispose()
    probe = create_engine(db_url, poolclass=NullPool)
    before = dump(probe)
    big = tmp_path / "big.jsonl"
    big_import(big, 3000)

    proc = subprocess.Popen([*FOI, "--db", db_url, "import", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not writing(db_url, probe):  # replaying in memory: wait for the write transaction
        assert proc.poll() is None, f"the import ended before it was killed: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    # PostgreSQL notices the dead client and rolls its transaction back; nothing was committed.
    deadline = time.monotonic() + 10
    while writing(db_url, probe) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dump(probe) == before
    if db_url.startswith("sqlite"):
        with probe.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"

    # And the same file imports cleanly afterwards: no lock or half-written row left behind.
    done = subprocess.run([*FOI, "--db", db_url, "import", str(big)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "新案件 3000 件，更新已有案件 10 件" in done.stdout
    with Session(probe) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 3020
    assert rebuild(make_app(db_url), check_only=True) == []
    probe.dispose()


# --------------------------------------------------------------------------- restart during a sweep


@pytest.fixture
def private_pg() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL server of this test's own: yields (URL of a fresh database, server folder)."""
    with private_pg_server() as server:
        yield server


@pytest.mark.skipif(not have_postgresql(), reason="needs the PostgreSQL server binaries (.ci/run installs them)")
def test_a_database_restart_during_a_sweep_is_survived(private_pg: tuple[str, Path]) -> None:
    db_url, folder = private_pg
    app = make_app(db_url)
    migrate(app.engine)
    cases = 300
    lines: list[str] = []
    for n in range(cases):
        cid, on = f"R-{n:03d}", date(2024, 3, 1) + timedelta(days=n % 20)
        lines += [receive(cid, on), line(cid, "request_correction", on + timedelta(days=1), items="请补正", period=5)]
    import_lines(app, lines, by="seed")
    now = datetime(2024, 6, 3, 9, 0, tzinfo=SHANGHAI)
    probe = create_engine(db_url, poolclass=NullPool)

    def lapsed() -> int:
        with probe.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(Event).where(col(Event.event) == "lapse_correction")
                ).scalar_one()
            )

    outcome: list[Any] = []

    def first_sweep() -> None:
        try:
            outcome.append(sweep(app, now))
        except Exception as exc:  # a failure outside the per-case isolation: the next sweep catches up
            outcome.append(exc)

    thread = threading.Thread(target=first_sweep)
    thread.start()
    deadline = time.monotonic() + 60
    while lapsed() < 20:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.02)
    pg_server("restart", folder)
    thread.join(timeout=120)
    assert not thread.is_alive()
    first = outcome[0]
    if not isinstance(first, Exception):
        assert len(first.transitions) + len(first.failures) == cases
        assert len(first.transitions) < cases  # the restart really hit the sweep

    # The same process (same engine and pool) sweeps again after the restart and finishes.
    second = sweep(app, now + timedelta(minutes=5))
    assert second.failures == []
    assert lapsed() == cases  # every case lapsed exactly once
    with Session(probe) as s:
        per_case = s.execute(
            select(col(Event.case_id), func.count())
            .where(col(Event.event) == "lapse_correction")
            .group_by(col(Event.case_id))
        ).all()
        assert {n for _, n in per_case} == {1}
        assert set(s.scalars(select(col(Case.state)))) == {"decided"}
    assert rebuild(app, check_only=True) == []
    probe.dispose()
    app.engine.dispose()




# --------------------------------------------------------------------------- kill -9 while sending


class KillingInbox(Inbox):
    """Accepts mail; on the first message, kills the sender before answering (the mail is
    delivered, the scheduler never learns it and so never records it)."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
        return reply


def test_kill_9_between_sending_and_recording_duplicates_at_most_one_mail_and_loses_none(
    db_url: str, tmp_path: Path
) -> None:
    server = SmtpServer()
    server.inbox = KillingInbox()
    server.start()
    try:
        config = write_config(tmp_path, server.port)
        app = App(load_config(config, db_url=db_url, env={}))
        migrate(app.engine)
        cases = 30
        import_lines(
            app,
            [receive(f"K-{n:03d}", date(2024, 3, 1), caseworker="zhangsan") for n in range(cases)],
            by="seed",
        )
        foi = Foi(db_url, tmp_path, config=config)
        run = [*FOI, "--db", db_url, "--config", str(config), "scheduler", "run", "--once", "--now"]
        proc = subprocess.Popen([*run, "2024-03-22T09:00"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        server.inbox.victim = proc.pid
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        assert len(server.inbox.messages) == 1  # sent, never recorded
        statuses = Counter(status for _, status in outbox_rows(app))
        assert statuses["sending"] >= 1 and statuses["sent"] == 0 and sum(statuses.values()) == cases
        assert "发送中" in foi.ok("outbox")

        # A scheduler running soon after does not steal claims that may still be alive...
        soon = foi("scheduler", "run", "--once", "--now", "2024-03-22T09:05")
        assert soon.exit_code == 0, soon.stderr
        assert len(server.inbox.messages) == 1
        # ...and takes them over once they are stale (STALE_CLAIM, 15 minutes).
        later = foi("scheduler", "run", "--once", "--now", "2024-03-22T09:20")
        assert later.exit_code == 0, later.stderr
        server.inbox.wait_for(cases + 1, timeout=5)
        received = Counter(str(m.message["X-FOI-Key"]) for m in server.inbox.messages)
        rows = outbox_rows(app)
        assert {status for _, status in rows} == {"sent"}
        assert set(received) == {key for key, _ in rows}  # none lost
        assert sorted(received.values()) == [1] * (cases - 1) + [2]  # exactly the one in flight twice
        # The duplicate carries the same Message-ID as the first delivery, so mail clients drop it.
        twice = next(key for key, n in received.items() if n == 2)
        ids = {str(m.message["Message-ID"]) for m in server.inbox.messages if str(m.message["X-FOI-Key"]) == twice}
        assert len(ids) == 1
        assert len({str(m.message["Message-ID"]) for m in server.inbox.messages}) == cases
    finally:
        server.stop()


def outbox_rows(app: App) -> list[Any]:
    with app.engine.connect() as conn:
        return list(conn.execute(select(OUTBOX.c.key, OUTBOX.c.status)).all())
