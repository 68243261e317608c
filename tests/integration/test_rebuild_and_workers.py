"""`foi rebuild` writes only the rows that differ from the log and takes part in the locking
beside writers; the worker processes of a parallel import end when their parent is killed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from foi_workflow.adapters.db import migrate
from foi_workflow.config import load_config
from foi_workflow.errors import ConcurrentChange
from foi_workflow.services.app import App
from foi_workflow.services.cases import advance, rebuild
from foi_workflow.services.transfer import import_lines

FOI = str(Path(sys.executable).with_name("foi"))


def receive_line(case: str, on: date) -> str:
    return json.dumps({"case": case, "event": "receive", "on": on.isoformat(), "applicant": "某人",
                       "applicant_type": "natural_person", "channel": "online", "request": "某文件"},
                      ensure_ascii=False)  # fmt: skip


def seeded_app(db_url: str, cases: int) -> App:
    app = App(load_config(db_url=db_url, env={}))
    migrate(app.engine)
    import_lines(app, [receive_line(f"RB-{n:03d}", date(2024, 3, 1) + timedelta(days=n % 10)) for n in range(cases)],
                 by="seed")  # fmt: skip
    return app


def versions(db_url: str) -> dict[str, tuple[int, str]]:
    engine = create_engine(db_url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, version, state FROM foi_case")).all()
    engine.dispose()
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def test_rebuild_writes_only_the_rows_that_differ(db_url: str) -> None:
    app = seeded_app(db_url, 20)
    before = versions(db_url)
    assert rebuild(app) == []
    assert versions(db_url) == before  # nothing differs: no version bumped
    engine = create_engine(db_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE foi_case SET state = 'decided' WHERE id = 'RB-007'"))
    engine.dispose()
    differences = rebuild(app)
    assert differences == ["RB-007: state 'decided' ≠ 'received'"]
    after = versions(db_url)
    assert after["RB-007"] == (before["RB-007"][0] + 1, "received")
    assert {k: v for k, v in after.items() if k != "RB-007"} == {k: v for k, v in before.items() if k != "RB-007"}


def test_rebuild_beside_writers_never_loses_a_write_and_refuses_only_with_e_conflict(db_url: str) -> None:
    app = seeded_app(db_url, 12)
    stop = threading.Event()
    unexpected: list[BaseException] = []
    written: list[str] = []

    def writer() -> None:
        n = 0
        while not stop.is_set():
            case = f"RB-{n % 12:03d}"
            try:
                advance(app, case, "assign", on=date(2024, 3, 20), by="writer", data={"caseworker": f"w{n}"})
                written.append(case)
            except ConcurrentChange:
                pass
            except BaseException as exc:
                unexpected.append(exc)
            n += 1

    def corrupt() -> None:
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE foi_case SET extended_days = 99"))
        except Exception:
            pass
        finally:
            engine.dispose()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(8):
            corrupt()
            with contextlib.suppress(ConcurrentChange):
                rebuild(app)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not unexpected, unexpected
    assert written  # the writer got its turns
    rebuild(app)
    assert rebuild(app, check_only=True) == []
    engine = create_engine(db_url, poolclass=NullPool)
    with engine.connect() as conn:
        assigns = conn.execute(text("SELECT count(*) FROM event WHERE event = 'assign'")).scalar_one()
    engine.dispose()
    assert assigns == len(written)  # every write that succeeded is in the log


# --------------------------------------------------------------------------- parallel import


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def test_the_workers_of_a_parallel_import_end_when_the_import_is_killed(db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOI_")}
    assert subprocess.run([FOI, "--db", db_url, "init"], env=env, capture_output=True, cwd=tmp_path).returncode == 0
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as out:
        for n in range(60_000):
            on = date(2024, 1, 2) + timedelta(days=n % 60)
            out.write(receive_line(f"K-{n:06d}", on) + "\n")
            extend = {"case": f"K-{n:06d}", "event": "extend", "on": on.isoformat(), "days": 5, "approved_by": "王"}
            out.write(json.dumps(extend, ensure_ascii=False) + "\n")
    parent = subprocess.Popen([FOI, "--db", db_url, "import", str(big), "--workers", "3"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while len(workers) < 3 and time.monotonic() < deadline and parent.poll() is None:
            workers = children(parent.pid)
            time.sleep(0.01)
        assert len(workers) == 3, "the import never started its workers"  # --workers 3: three replay
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        ended = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < ended:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers), "a worker outlived its parent"
    finally:
        for pid in [parent.pid, *children(parent.pid)]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
