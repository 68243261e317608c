"""`foi import --workers N`: the parallel replay stores exactly what the serial replay stores,
and refuses exactly what it refuses (the same first bad line, the same reason, nothing kept)."""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from foi_workflow.config import load_config
from foi_workflow.services import import_parallel
from foi_workflow.services.app import App
from foi_workflow.services.case_store import transaction
from foi_workflow.services.transfer import Importer, import_lines
from tests.conftest import Foi
from tests.helpers.transfer import RECEIVE, every_case_shown, write_jsonl

MakeFoi = Callable[[], Foi]


@pytest.fixture
def make_foi(make_db_url: Callable[[], str], tmp_path: Path) -> MakeFoi:
    """Fresh, initialised databases, one per call."""

    def make() -> Foi:
        runner = Foi(make_db_url(), tmp_path)
        runner.ok("init")
        return runner

    return make


def generated_events(cases: int, seed: int = 7, *, appeals: bool = False) -> list[dict[str, Any]]:
    """Cases through every kind of step, the lines of all cases interleaved by date (with
    `appeals`: a review filed and concluded on every seventh case, interleaved too)."""
    rng = random.Random(seed)
    timeline: list[tuple[date, int, dict[str, Any]]] = []
    for n in range(cases):
        cid = f"P-{n:04d}"
        on = date(2024, 1, 2) + timedelta(days=rng.randrange(300))
        timeline.append((on, 0, {"case": cid, **RECEIVE, "on": on.isoformat(), "applicant": f"申请人{n}"}))
        mid = on + timedelta(days=rng.randrange(1, 6))
        end = mid + timedelta(days=rng.randrange(1, 10))
        step = n % 5
        if step == 0:
            timeline.append((mid, 1, {"case": cid, "event": "extend", "on": mid.isoformat(), "days": 5,
                                      "approved_by": "负责人"}))  # fmt: skip
        elif step == 1:
            timeline.append((mid, 1, {"case": cid, "event": "consult", "on": mid.isoformat(), "party": "某公司"}))
            timeline.append((end, 2, {"case": cid, "event": "consultation_reply", "on": end.isoformat(),
                                      "opinion": "agree"}))  # fmt: skip
        elif step == 2:
            timeline.append((mid, 1, {"case": cid, "event": "request_correction", "on": mid.isoformat(),
                                      "items": "请明确所需信息"}))  # fmt: skip
            timeline.append((end, 2, {"case": cid, "event": "receive_correction", "on": end.isoformat()}))
        elif step == 3:
            timeline.append((mid, 1, {"case": cid, "event": "assign", "on": mid.isoformat(), "caseworker": "王五"}))
        if step != 4:  # every fifth case stays open
            final = end + timedelta(days=rng.randrange(5))
            timeline.append((final, 3, {"case": cid, "event": "decide", "on": final.isoformat(),
                                        "outcome": "granted"}))  # fmt: skip
            if appeals and n % 7 == 1:  # a review of the decision, concluded weeks later
                filed, concluded = final + timedelta(days=3), final + timedelta(days=40)
                timeline.append((filed, 4, {"appeal": f"F-{n}", "event": "file", "on": filed.isoformat(),
                                            "kind": "review", "case": cid}))  # fmt: skip
                timeline.append((concluded, 5, {"appeal": f"F-{n}", "event": "conclude",
                                                "on": concluded.isoformat(), "result": "upheld"}))  # fmt: skip
    timeline.sort(key=lambda t: (t[0], t[1]))
    return [e for _, _, e in timeline]


def state_of(foi: Foi) -> tuple[str, Any, Any]:
    """Everything a caseworker can see: the export (event order included), the case list with
    versions, every case as `show` gives it (without the recording timestamps)."""
    return foi.ok("export"), json.loads(foi.ok("list --format json")), every_case_shown(foi)


def test_the_parallel_replay_stores_what_the_serial_replay_stores(make_foi: MakeFoi, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "events.jsonl", generated_events(120))
    serial, parallel = make_foi(), make_foi()
    assert serial.ok("import", path, "--workers", "1") == parallel.ok("import", path, "--workers", "3")
    assert state_of(parallel) == state_of(serial)
    assert parallel.ok("rebuild --check").strip() == "案件表与事件日志一致"


def test_appeals_and_the_example_file_import_alike_in_parallel(make_foi: MakeFoi, events_small: Path) -> None:
    serial, parallel = make_foi(), make_foi()
    out = parallel.ok("import", events_small, "--workers", "2")
    assert out == serial.ok("import", events_small, "--workers", "1")
    assert "复议诉讼 1 件" in out
    assert state_of(parallel) == state_of(serial)
    assert parallel.ok("report 2023 --format json") == serial.ok("report 2023 --format json")


def test_appeals_throughout_the_file_and_every_kind_of_line_import_alike_in_parallel(
    make_foi: MakeFoi, tmp_path: Path
) -> None:
    interleaved = write_jsonl(tmp_path / "appeals.jsonl", generated_events(90, seed=12, appeals=True))
    every_kind = Path(__file__).parent.parent / "fixtures" / "events-every-kind.jsonl"
    for path in (interleaved, every_kind):
        serial, parallel = make_foi(), make_foi()
        out = parallel.ok("import", path, "--workers", "2")
        assert out == serial.ok("import", path, "--workers", "1")
        assert "复议诉讼 0 件" not in out
        assert state_of(parallel) == state_of(serial)
        assert parallel.ok("rebuild --check").strip() == "案件表与事件日志一致"
        for year in ("2023", "2024"):  # table 4: the appeals as they end, stored before their last line
            assert parallel.ok("report", year, "--format", "json") == serial.ok("report", year, "--format", "json")


def test_a_file_continuing_stored_cases_imports_alike_in_parallel(make_foi: MakeFoi, tmp_path: Path) -> None:
    events = generated_events(60, seed=11)
    cut = len(events) // 2
    first = write_jsonl(tmp_path / "first.jsonl", events[:cut])
    second = write_jsonl(tmp_path / "second.jsonl", events[cut:])
    serial, parallel = make_foi(), make_foi()
    for foi in (serial, parallel):
        foi.ok("import", first, "--workers", "1")
    out = parallel.ok("import", second, "--workers", "2")
    assert out == serial.ok("import", second, "--workers", "1")
    assert "更新已有案件 0 件" not in out  # the second half does continue stored cases
    assert state_of(parallel) == state_of(serial)


def with_bad_lines(kind: str, ev: list[dict[str, Any]]) -> list[Any]:
    if kind == "two refusals":  # one in the middle of a case, an earlier one in another case: the first wins
        too_long = {**ev[5], "event": "extend", "days": 30, "approved_by": "x"}
        lapse = {"case": "P-0001", "event": "decide", "on": "2024-12-30", "outcome": "lapse_fee"}
        return [*ev[:40], too_long, *ev[40:70], lapse, *ev[70:]]
    if kind == "not JSON":
        return [*ev[:50], '{"case": "P-0003", "event": ', *ev[50:]]
    if kind == "neither case nor appeal":
        return [*ev[:30], {"event": "receive", "on": "2024-03-01"}, *ev[30:]]
    if kind == "unknown case":
        return [*ev[:20], {"case": "NOPE", "event": "fee_paid", "on": "2024-03-01"}, *ev[20:]]
    assert kind == "appeal before its case"
    appeal = {"appeal": "F-1", "event": "file", "on": "2024-12-30", "kind": "review", "case": "LATE-1"}
    return [appeal, *ev, {"case": "LATE-1", **RECEIVE, "on": "2024-01-02"}]


BAD_KINDS = ["two refusals", "not JSON", "neither case nor appeal", "unknown case", "appeal before its case"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_a_refused_file_is_refused_alike_in_parallel(make_foi: MakeFoi, tmp_path: Path, kind: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", with_bad_lines(kind, generated_events(40, seed=3)))
    serial, parallel = make_foi(), make_foi()
    refused = parallel("import", path, "--workers", "2")
    assert refused.exit_code == 1
    assert refused.stderr == serial("import", path, "--workers", "1").stderr
    assert refused.stderr.startswith("错误[E-IMPORT]：第 ") and len(refused.stderr.strip().splitlines()) == 1
    assert parallel.ok("export") == "" and json.loads(parallel.ok("list --format json")) == []


def test_a_case_id_the_sharing_cannot_read_falls_back_to_the_serial_replay(make_foi: MakeFoi, tmp_path: Path) -> None:
    events = generated_events(30, seed=5)
    # The same case written once with a JSON escape in its id: read off the raw line, the two
    # spellings would land in different workers.
    text = "\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n"
    text = text.replace('"case": "P-0007", "event": "decide"', '"case": "P-000\\u0037", "event": "decide"')
    assert "\\u0037" in text
    path = tmp_path / "escaped.jsonl"
    path.write_text(text, encoding="utf-8")
    serial, parallel = make_foi(), make_foi()
    assert parallel.ok("import", path, "--workers", "2") == serial.ok("import", path, "--workers", "1")
    assert state_of(parallel) == state_of(serial)
    assert json.loads(parallel.ok("show P-0007 --format json"))["state"] == "decided"


def test_the_parallel_replay_really_shares_the_work(foi: Foi, tmp_path: Path) -> None:
    """Not a silent fallback: the workers' replay is stored itself, the sharing puts every case in
    exactly one chunk, and the chunks follow the cases in the order of their first lines."""
    assert import_parallel.worker_count(10, 3) == 3  # what `--workers 3` gets here (no thread in the way)
    assert import_parallel.worker_count(import_parallel.MIN_LINES - 1, None) == 1
    lines = [json.dumps(e, ensure_ascii=False) for e in generated_events(50, seed=9)]
    shared = import_parallel._share_out(lines, 3)
    assert shared is not None
    keys, shares, appeals = shared
    assert appeals == [] and sorted(i for share in shares for i in share) == list(range(len(lines)))
    owners = {keys[i]: n for n, share in enumerate(shares) for i in share}
    assert all(owners[keys[i]] == n for n, share in enumerate(shares) for i in share)
    assert all(share for share in shares) and len(shares) == 3
    first_lines = list(dict.fromkeys(json.loads(line)["case"] for line in lines))
    assert [owners[cid] for cid in first_lines] == sorted(owners[cid] for cid in first_lines)
    app = App(load_config(None, db_url=foi.db_url, env={}))
    with transaction(app) as session:
        importer = Importer(app, session, "测试")
        result = import_parallel.store(importer, lines, 3)
        assert result is not None and (result.events, result.new_cases) == (len(lines), 50)
        session.rollback()


class Recording(Importer):
    """An importer that notes the case ids of the rows it is given to store, call by call."""

    calls: list[tuple[str, list[str | None]]]

    def store_cases(self, rows: list[Any], agencies: Iterable[str]) -> None:
        self.calls.append(("cases", [row["id"] if isinstance(row, dict) else row[0] for row in rows]))
        super().store_cases(rows, agencies)

    def store_events(self, rows: list[Any]) -> None:
        self.calls.append(("events", [row["case_id"] if isinstance(row, dict) else row[0] for row in rows]))
        super().store_events(rows)


def test_the_rows_are_stored_while_the_workers_replay_in_the_serial_order(foi: Foi) -> None:
    """The cases in the order of their first lines and the events in file order, as the serial
    replay stores them, but chunk by chunk as the workers send them (one worker: in order), and
    each case before its events; appeals throughout the file do not hold the rest back."""
    lines = [json.dumps(e, ensure_ascii=False) for e in generated_events(60, seed=4, appeals=True)]
    assert any('"appeal"' in line for line in lines[: len(lines) // 3])  # appeals from early on
    app = App(load_config(None, db_url=foi.db_url, env={}))
    with transaction(app) as session:
        importer = Recording(app, session, "测试")
        importer.calls = []
        assert import_parallel.store(importer, lines, 1) is not None
        session.rollback()
    app.engine.dispose()
    stored: set[str | None] = {None}  # an appeal's event names no case
    for kind, ids in importer.calls:
        if kind == "cases":
            stored.update(ids)
        else:
            assert stored.issuperset(ids)
    cases = [cid for kind, ids in importer.calls if kind == "cases" for cid in ids]
    events = [cid for kind, ids in importer.calls if kind == "events" for cid in ids]
    case_lines = [json.loads(line) for line in lines if '"appeal"' not in line]
    assert cases == list(dict.fromkeys(obj["case"] for obj in case_lines))
    # The appeal events (no case id) in their places among the case events.
    assert events == [None if '"appeal"' in line else json.loads(line)["case"] for line in lines]
    assert sum(1 for kind, ids in importer.calls if kind == "events" and ids) > 10


def test_files_with_appeals_and_stored_cases_take_the_parallel_path(foi: Foi, events_small: Path) -> None:
    """The example file (with an appeal on one of its cases), and then a file that continues
    stored cases and files an appeal on one, replay in workers (no fallback)."""
    lines = events_small.read_text(encoding="utf-8").splitlines()
    app = App(load_config(None, db_url=foi.db_url, env={}))
    with transaction(app) as session:
        importer = Importer(app, session, "测试")
        result = import_parallel.store(importer, lines, 2)
        assert result is not None and result.appeals == 1
        session.rollback()
    foi.ok("import", events_small, "--workers", "1")
    open_cases = [c["id"] for c in json.loads(foi.ok("list --format json")) if c["state"] != "decided"]
    decided = [c["id"] for c in json.loads(foi.ok("list --format json")) if c["state"] == "decided"]
    assert open_cases and decided
    more = [json.dumps({"case": cid, "event": "withdraw", "on": "2025-12-01"}) for cid in open_cases]
    more.append(json.dumps({"appeal": "F-X", "event": "file", "on": "2025-12-02", "kind": "litigation_direct",
                            "case": decided[0]}))  # fmt: skip
    with transaction(app) as session:
        importer = Importer(app, session, "测试")
        result = import_parallel.store(importer, more, 2)
        assert result is not None and result.new_cases == 0 and importer.existing_cases == set(open_cases)
        session.rollback()


def test_a_fault_in_a_worker_is_raised_not_hidden_behind_a_serial_replay(
    foi: Foi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a refusal (or a line the sharing cannot place) sends the file to the serial replay;
    anything else that breaks in a worker is raised in the importing process."""
    parent, case_line = os.getpid(), Importer.case_line

    def breaks_in_a_worker(self: Importer, obj: dict[str, Any]) -> None:
        if os.getpid() != parent:  # the workers replay every case line of the parallel import
            raise RuntimeError("工作进程内部故障")
        case_line(self, obj)

    monkeypatch.setattr(Importer, "case_line", breaks_in_a_worker)
    lines = [json.dumps(e, ensure_ascii=False) for e in generated_events(40, seed=5)]
    app = App(load_config(None, db_url=foi.db_url, env={}))
    with transaction(app) as session:
        importer = Importer(app, session, "测试")
        with pytest.raises(RuntimeError, match="工作进程内部故障"):
            import_parallel.store(importer, lines, 2)
    app.engine.dispose()


def test_a_chunk_this_process_cannot_read_is_raised_not_waited_for(foi: Foi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader thread that fails hands the failure on: the writer, waiting for chunks, raises it."""

    def unreadable(packed: bytes) -> Any:
        raise RuntimeError("无法读取的分块")

    monkeypatch.setattr(import_parallel, "_unpack", unreadable)
    lines = [json.dumps(e, ensure_ascii=False) for e in generated_events(20, seed=6)]
    app = App(load_config(None, db_url=foi.db_url, env={}))
    with transaction(app) as session:
        importer = Importer(app, session, "测试")
        with pytest.raises(RuntimeError, match="无法读取的分块"):
            import_parallel.store(importer, lines, 2)
    app.engine.dispose()


@pytest.mark.parametrize("workers", [1, 2])
def test_an_import_frees_what_it_built_but_leaves_the_callers_lines_and_no_thread(foi: Foi, workers: int) -> None:
    """The replay's objects are freed on another thread while the import commits: a list of
    lines the caller passed is the caller's (left as it was), and no thread outlives the import."""
    lines = [json.dumps(e, ensure_ascii=False) for e in generated_events(30, seed=3)]
    before, threads = list(lines), threading.active_count()
    app = App(load_config(None, db_url=foi.db_url, env={}))
    result = import_lines(app, lines, by="测试", workers=workers)
    assert (result.events, result.new_cases) == (len(lines), 30)
    assert lines == before and threading.active_count() == threads
    app.engine.dispose()
    assert len(json.loads(foi.ok("list --format json"))) == 30
