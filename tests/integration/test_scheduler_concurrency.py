"""Several schedulers on one database (SPEC §7, issue 7): every queued mail reaches the SMTP
server (aiosmtpd on 127.0.0.1) exactly once, whether three `foi scheduler run --once`
processes start together or three deliveries race on the outbox claim; and a second
long-running scheduler refuses to start with a clear message."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from foi_workflow.adapters.db import migrate
from foi_workflow.config import load_config
from foi_workflow.services.app import App
from foi_workflow.services.delivery import deliver_outbox
from foi_workflow.services.outbox import OUTBOX
from foi_workflow.services.sweep import SHANGHAI, sweep
from foi_workflow.services.transfer import import_lines
from tests.conftest import Foi
from tests.smtp_helpers import SmtpServer, write_config

FOI = [str(Path(sys.executable).with_name("foi"))]
NOW = "2024-03-22T09:00"  # the reply of a case received 2024-03-01 is due 2024-03-29: 5 working days
NOW_DT = datetime(2024, 3, 22, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    s = SmtpServer().start()
    yield s
    s.stop()


def seed(db_url: str, config: Path, cases: int) -> App:
    """`cases` cases whose reply is due in 5 working days at NOW: one reminder each."""
    app = App(load_config(config, db_url=db_url, env={}))
    migrate(app.engine)
    lines = [
        json.dumps(
            {"case": f"M-{n:03d}", "event": "receive", "on": "2024-03-01", "applicant": "某人",
             "applicant_type": "natural_person", "channel": "online", "request": "某文件", "caseworker": "zhangsan"},
            ensure_ascii=False,
        )
        for n in range(cases)
    ]
    import_lines(app, lines, by="seed")
    return app


def keys_received(server: SmtpServer) -> Counter[str]:
    return Counter(str(m.message["X-FOI-Key"]) for m in server.inbox.messages)


def outbox_rows(app: App) -> list[Any]:
    with app.engine.connect() as conn:
        return list(conn.execute(select(OUTBOX.c.key, OUTBOX.c.status)).all())


def test_three_scheduler_processes_at_once_send_every_mail_exactly_once(
    db_url: str, tmp_path: Path, server: SmtpServer
) -> None:
    config = write_config(tmp_path, server.port)
    app = seed(db_url, config, 40)
    command = [*FOI, "--db", db_url, "--config", str(config), "scheduler", "run", "--once", "--now", NOW]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    results = [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]
    ran = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] != 0]
    assert ran, results
    for code, _out, err in refused:  # the one-scheduler lock: a clear refusal, nothing else
        assert code == 1 and err.startswith("错误[E-SCHEDULER]"), err
    server.inbox.wait_for(40, timeout=5)
    received = keys_received(server)
    rows = outbox_rows(app)
    assert len(rows) == 40 and {status for _, status in rows} == {"sent"}
    assert received == Counter({key: 1 for key, _ in rows})


def deliver_worker(db_url: str, config: str, ready: Any, start: Any, results: Any) -> None:
    app = App(load_config(config, db_url=db_url, env={}))
    import foi_workflow.adapters.mailer  # noqa: F401  (imported before the race, not during it)

    with app.engine.connect():  # connected and imported: ready to race
        pass
    ready.put(os.getpid())
    start.wait()
    try:
        results.put(deliver_outbox(app, NOW_DT).sent)
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")
    app.engine.dispose()


def test_three_deliveries_racing_on_the_outbox_claim_never_send_a_mail_twice(
    db_url: str, tmp_path: Path, server: SmtpServer
) -> None:
    # Below the one-scheduler lock: the claim itself (FOR UPDATE SKIP LOCKED on PostgreSQL,
    # the single writer on SQLite) must hand each row to exactly one process.
    config = write_config(tmp_path, server.port)
    # A server that takes 20 ms per mail, so that no delivery finishes before the others start.
    server.inbox.refuse_data = lambda: time.sleep(0.02)  # type: ignore[func-returns-value]
    app = seed(db_url, config, 90)
    assert sweep(app, NOW_DT).reminders == 90
    app.engine.dispose()
    ctx = mp.get_context("forkserver")
    ready, start, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=deliver_worker, args=(db_url, str(config), ready, start, results)) for _ in range(3)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=60)
    start.set()
    sent = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(isinstance(n, int) for n in sent), sent
    assert sum(sent) == 90
    assert sum(1 for n in sent if n) >= 2, sent  # the deliveries really overlapped
    server.inbox.wait_for(90, timeout=5)
    rows = outbox_rows(app)
    assert {status for _, status in rows} == {"sent"}
    assert keys_received(server) == Counter({key: 1 for key, _ in rows})


def test_a_second_scheduler_refuses_to_start_with_a_clear_message(db_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, None)
    foi = Foi(db_url, tmp_path, config=config)
    foi.ok("init")
    first = subprocess.Popen(
        [*FOI, "--db", db_url, "--config", str(config), "scheduler", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert first.stdout is not None
        deadline = time.monotonic() + 60
        while "调度进程已启动" not in first.stdout.readline():
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read() if first.stderr else ""
        second = foi("scheduler", "run", "--once", "--now", NOW)
        assert second.exit_code == 1
        assert second.stderr.startswith("错误[E-SCHEDULER]：已有一个调度进程在此数据库上运行"), second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=30)
    assert first.returncode == 0 and "Traceback" not in err, err
    # Once the first one stops, a scheduler starts again.
    assert foi("scheduler", "run", "--once", "--now", NOW).exit_code == 0
