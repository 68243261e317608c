"""Many processes issuing letters at once (SPEC §12): the numbers given out are consecutive and
unique with no gap, every case gets exactly one letter of the kind however many processes ask,
and letters that fail while rendering (after their number was taken) give it back.

Runs on the backend under test: 8 processes on PostgreSQL, 4 on SQLite.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import time
from collections import Counter as Tally
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from foi_workflow.adapters.db import migrate
from foi_workflow.adapters.models import Notice
from foi_workflow.adapters.tables import COUNTER
from foi_workflow.config import load_config
from foi_workflow.errors import FoiError
from foi_workflow.services.app import App
from foi_workflow.services.notices import issue_and_print
from foi_workflow.services.transfer import import_lines

BACKEND = os.environ.get("FOI_TEST_BACKEND", "sqlite")
PROCESSES = 8 if BACKEND == "postgresql" else 4
CASES = 40
BROKEN = "坏"  # an applicant whose letters fail while rendering (see CONFIG's template)
CONFIG = """default_agency = "a"
[agencies.a]
name = "某某市某某局"
short_name = "某公开"
number_pattern = "{short}〔{year}〕第{seq}号"
folder = "agency"
"""
CLEAN_REFUSALS = {"E-EXISTS", "E-CONFLICT", "E-TEMPLATE"}


def make_app(config: str, db_url: str) -> App:
    return App(load_config(config, db_url=db_url, env={}))


def applicant(n: int) -> str:
    return BROKEN if n % 5 == 0 else f"申请人{n}"


def seed(tmp_path: Path, db_url: str) -> str:
    (tmp_path / "agency" / "notices").mkdir(parents=True)
    # Fails for one applicant only, and only while rendering: after the number was taken.
    (tmp_path / "agency" / "notices" / "acknowledgement.txt.j2").write_text(
        '{% extends "base/acknowledgement.txt.j2" %}{% block closing %}'
        f'{{% if case.applicant == "{BROKEN}" %}}{{{{ no_such_value }}}}{{% endif %}}{{% endblock %}}',
        encoding="utf-8",
    )
    config = tmp_path / "foi.toml"
    config.write_text(CONFIG, encoding="utf-8")
    app = make_app(str(config), db_url)
    migrate(app.engine)
    lines = [json.dumps({"case": f"C-{n:03d}", "event": "receive", "on": "2024-03-01", "applicant": applicant(n),
                         "applicant_type": "natural_person", "channel": "online", "request": "某文件"},
                        ensure_ascii=False) for n in range(CASES)]  # fmt: skip
    import_lines(app, lines, by="seed")
    app.engine.dispose()
    return str(config)


def worker(config: str, db_url: str, out_dir: str, number: int, start: Any, results: Any) -> None:
    """One caseworker: asks for the acknowledgement of every case, in an order of its own."""
    app = make_app(config, db_url)
    order = list(range(CASES))
    random.Random(number).shuffle(order)
    done: list[tuple[str, str]] = []
    start.wait()
    for n in order:
        try:
            printed = issue_and_print(app, f"C-{n:03d}", "acknowledgement", fmt="txt",
                                      out=Path(out_dir) / f"{number}-{n}.txt", by=f"w{number}")  # fmt: skip
            done.append(("ok", printed.letter.number))
        except FoiError as exc:
            done.append((exc.code, f"C-{n:03d}"))
        except Exception as exc:  # anything else is a bug: report it to the test
            done.append((f"crash {type(exc).__name__}: {exc}"[:300], f"C-{n:03d}"))
    app.engine.dispose()
    results.put(done)


def test_concurrent_notices_get_consecutive_unique_numbers_with_no_gap(db_url: str, tmp_path: Path) -> None:
    config = seed(tmp_path, db_url)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(config, db_url, str(out_dir), n, start, results))
             for n in range(PROCESSES)]  # fmt: skip
    for p in procs:
        p.start()
    time.sleep(0.5)
    start.set()
    outcomes: list[tuple[str, str]] = []
    for _ in procs:
        outcomes.extend(results.get(timeout=300))
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    codes = Tally(code for code, _ in outcomes)
    assert set(codes) <= {"ok"} | CLEAN_REFUSALS, codes
    good = [n for n in range(CASES) if applicant(n) != BROKEN]
    issued = [number for code, number in outcomes if code == "ok"]
    assert len(issued) == len(good)  # one letter per case, whoever asked first
    expected = [f"某公开〔2024〕第{seq}号" for seq in range(1, len(good) + 1)]
    assert sorted(issued, key=lambda s: int(s.split("第")[1][:-1])) == expected
    assert codes["E-TEMPLATE"] == PROCESSES * (CASES - len(good))  # every try of a broken letter failed

    app = make_app(config, db_url)
    with Session(app.engine) as s:
        stored = list(s.scalars(select(Notice).order_by(col(Notice.seq))))
        counter = s.execute(select(COUNTER).where(COUNTER.c.name == "notice:2024")).one()
    app.engine.dispose()
    assert [n.seq for n in stored] == list(range(1, len(good) + 1)) and counter.value == len(good)
    assert sorted(n.case_id for n in stored) == [f"C-{n:03d}" for n in good]
    assert len(list(out_dir.iterdir())) == len(good)  # a file for each letter issued, none for the others
