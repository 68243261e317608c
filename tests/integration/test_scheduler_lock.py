"""The one-scheduler rule on PostgreSQL across a server restart, and a scheduler that stops
cleanly and logs one line per failure (issue 17). Each test runs a PostgreSQL server of its
own, since it restarts or stops it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from foi_workflow.adapters.db import migrate
from foi_workflow.adapters.locks import PG_LOCK_KEY
from foi_workflow.adapters.models import Event
from foi_workflow.config import load_config
from foi_workflow.scheduler import LOCK_CHECK_SECONDS
from foi_workflow.services.app import App
from foi_workflow.services.transfer import import_lines
from tests.pg_helpers import have_postgresql, pg_server, private_pg_server
from tests.smtp_helpers import write_config

pytestmark = pytest.mark.skipif(not have_postgresql(), reason="needs the PostgreSQL server binaries")

FOI = [str(Path(sys.executable).with_name("foi"))]


@dataclass
class Deployment:
    db_url: str
    folder: Path
    config: Path
    probe: Engine

    def scheduler(self, *args: str) -> subprocess.Popen[str]:
        """`foi scheduler run ARGS`, once it says it has started."""
        proc = subprocess.Popen(
            [*FOI, "--db", self.db_url, "--config", str(self.config), "scheduler", "run", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while "调度进程已启动" not in proc.stdout.readline():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        return proc

    def once(self) -> subprocess.CompletedProcess[str]:
        command = [*FOI, "--db", self.db_url, "--config", str(self.config), "scheduler", "run", "--once"]
        return subprocess.run([*command, "--now", "2024-06-03T09:00"], capture_output=True, text=True, timeout=60)

    def lock_holders(self) -> int:
        with self.probe.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :low"),
                    {"low": PG_LOCK_KEY & 0xFFFFFFFF},
                ).scalar_one()
            )


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with private_pg_server() as (db_url, folder):
        config = write_config(tmp_path, None, sweep_minutes=1)
        app = App(load_config(config, db_url=db_url, env={}))
        migrate(app.engine)
        app.engine.dispose()
        probe = create_engine(db_url, poolclass=NullPool)
        try:
            yield Deployment(db_url, folder, config, probe)
        finally:
            probe.dispose()


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGTERM; (exit status, stderr)."""
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    return proc.returncode, err


def wait_until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.1)


def seed_lapsing(db_url: str, config: Path, cases: int) -> None:
    """`cases` corrections that lapse on the first sweep of 2024-06-03."""
    app = App(load_config(config, db_url=db_url, env={}))
    lines = []
    for n in range(cases):
        case = f"R-{n:04d}"
        lines.append(json.dumps({"case": case, "event": "receive", "on": "2024-03-01", "applicant": "某人",
                                 "applicant_type": "natural_person", "channel": "online", "request": "某文件"},
                                ensure_ascii=False))  # fmt: skip
        lines.append(json.dumps({"case": case, "event": "request_correction", "on": "2024-03-04",
                                 "items": "请补正", "period": 5}, ensure_ascii=False))  # fmt: skip
    import_lines(app, lines, by="seed")
    app.engine.dispose()


def lapsed(probe: Engine) -> int:
    with probe.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(Event).where(Event.event == "lapse_correction")).scalar_one()
        )


def test_after_a_database_restart_the_scheduler_takes_its_lock_again_and_a_second_one_is_refused(
    deployment: Deployment,
) -> None:
    first = deployment.scheduler()
    try:
        assert deployment.lock_holders() == 1
        pg_server("restart", deployment.folder)  # the session, and its advisory lock, are gone
        wait_until(lambda: deployment.lock_holders() == 1)  # taken again within LOCK_CHECK_SECONDS
        second = deployment.once()
        assert second.returncode == 1
        assert second.stderr.startswith("错误[E-SCHEDULER]：已有一个调度进程在此数据库上运行"), second.stderr
        assert len(second.stderr.splitlines()) == 1
    finally:
        code, err = stop(first)
    assert code == 0, err
    assert "Traceback" not in err
    assert "已重新取得调度锁" in err and len(err.splitlines()) <= 3, err
    assert deployment.lock_holders() == 0  # released on SIGTERM
    assert deployment.once().returncode == 0


def test_a_scheduler_whose_lock_was_taken_during_a_restart_stops_with_one_line(deployment: Deployment) -> None:
    first = deployment.scheduler()
    # Frozen while the server restarts, so that another process takes the lock first.
    first.send_signal(signal.SIGSTOP)
    pg_server("restart", deployment.folder)
    impostor = deployment.probe.connect()
    try:
        assert impostor.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar_one()
        first.send_signal(signal.SIGCONT)
        _out, err = first.communicate(timeout=LOCK_CHECK_SECONDS * 6)
    finally:
        if first.poll() is None:
            first.kill()
        impostor.close()
    assert first.returncode == 1
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("错误[E-SCHEDULER]：与数据库的连接中断期间，另一个调度进程已取得调度锁"), err


def test_a_database_stopped_mid_sweep_costs_one_log_line_and_sigterm_still_stops_cleanly(
    deployment: Deployment,
) -> None:
    seed_lapsing(deployment.db_url, deployment.config, 300)

    first = deployment.scheduler("--now", "2024-06-03T09:00")
    try:
        wait_until(lambda: lapsed(deployment.probe) >= 20)
        assert lapsed(deployment.probe) < 300  # still sweeping
        pg_server("stop", deployment.folder)
        time.sleep(LOCK_CHECK_SECONDS * 2.5)  # the lock is checked (and found unavailable) twice
    finally:
        code, err = stop(first)
    assert code == 0, err
    assert "Traceback" not in err
    lines_logged = err.splitlines()
    assert sum("调度周期失败：数据库错误" in line for line in lines_logged) == 1, err
    assert sum("数据库不可用" in line for line in lines_logged) == 1, err
    assert len(lines_logged) <= 3, err


def test_sigterm_during_a_sweep_lets_it_finish_and_exits_cleanly(db_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, None)
    app = App(load_config(config, db_url=db_url, env={}))
    migrate(app.engine)
    app.engine.dispose()
    seed_lapsing(db_url, config, 600)
    probe = create_engine(db_url, poolclass=NullPool)
    deployment = Deployment(db_url, tmp_path, config, probe)
    try:
        first = deployment.scheduler("--now", "2024-06-03T09:00")
        wait_until(lambda: lapsed(probe) >= 1)
        code, err = stop(first)
        assert code == 0 and "Traceback" not in err and err == "", err
        assert lapsed(probe) == 600  # the sweep under way was finished, not cut off
    finally:
        probe.dispose()
