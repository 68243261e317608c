"""The read path of `foi show` and `foi list`: a plain DB-API connection (sqlite3, psycopg)
instead of SQLAlchemy, so a short process does not pay SQLAlchemy's import. It must print
exactly what the SQLAlchemy path prints, refuse an uninitialised database the same way, and
never create a database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from foi_workflow.adapters.db import open_engine
from foi_workflow.adapters.reader import Reader, connect_reader, engine_reader, open_reader
from foi_workflow.config import load_config
from foi_workflow.errors import NotFound
from foi_workflow.services.app import App
from foi_workflow.services.views import list_cases, show_case
from tests.conftest import BACKEND, Foi

NOT_INITIALISED = "错误[E-DB]：数据库尚未初始化，请先运行 foi init"
HEAVY = ("sqlalchemy", "sqlmodel", "foi_workflow.adapters.tables", "foi_workflow.adapters.db")
TODAY = date(2025, 6, 30)
LIST_FILTERS: list[dict[str, Any]] = [
    {},
    {"state": "decided"},
    {"state": "received"},
    {"overdue": True},
    {"due_within": 10},
    {"year": 2023},
    {"year": 2024, "state": "decided"},
    {"caseworker": "nobody"},
    {"applicant": "公司"},
]


def _populate(foi: Foi, events: Path) -> list[str]:
    """The example year, plus what the example lacks: notices, an amended event in a closed
    year, a case with a phone and ID number. Returns every case id."""
    foi.ok("import", events)
    cases = json.loads(foi.ok("list", "--format", "json"))
    decided = next(c["id"] for c in cases if c["state"] == "decided")
    foi.ok("notice", decided, "decision")
    foi.ok("notice", decided, "acknowledgement")
    foi.ok("year", "close", "2023")
    foi.ok("intake --applicant 张三 --applicant-type natural_person --channel online --request 某文件 "
           "--on 2023-06-01 --phone 13812345678 --id-number 110101199001011234 "
           "--amend-closed-year 补录遗漏 --id LATE-1")  # fmt: skip
    return [c["id"] for c in json.loads(foi.ok("list", "--format", "json"))]


@pytest.fixture
def populated(foi: Foi, events_small: Path) -> tuple[Foi, list[str]]:
    return foi, _populate(foi, events_small)


def _app(foi: Foi, *, engine: bool) -> App:
    config = load_config(None, db_url=foi.db_url, env={})
    return App(config, open_engine(foi.db_url)) if engine else App(config)


def test_show_and_list_read_without_importing_sqlalchemy(populated: tuple[Foi, list[str]]) -> None:
    foi, ids = populated
    case_id = ids[0]
    probe = (
        "import json, sys\n"
        "from foi_workflow.cli.main import main\n"
        "main(sys.argv[1:])\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r})\n"
        "print(json.dumps(heavy), file=sys.stderr)\n"
    )
    for args in (["show", case_id, "--format", "json"], ["show", case_id], ["list", "--format", "json"]):
        run = subprocess.run(
            [sys.executable, "-c", probe, "--db", foi.db_url, *args],
            cwd=foi.cwd, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert json.loads(run.stderr.strip().splitlines()[-1]) == [], args
        assert run.stdout == foi.ok(*args), args  # the same bytes as in-process (where SQLAlchemy is loaded)
    assert case_id in json.loads(foi.ok("show", case_id, "--format", "json"))["id"]


def test_the_plain_connection_and_the_sqlalchemy_fallback_show_and_list_the_same(
    populated: tuple[Foi, list[str]],
) -> None:
    foi, ids = populated
    fast, slow = _app(foi, engine=False), _app(foi, engine=True)
    with fast.reader() as a, slow.reader() as b:
        assert (a.via, b.via) == ({"sqlite": "sqlite3", "postgresql": "psycopg"}[BACKEND], "sqlalchemy")
    shown = 0
    for case_id in ids:
        one, other = show_case(fast, case_id, TODAY).as_json(), show_case(slow, case_id, TODAY).as_json()
        assert json.dumps(one, ensure_ascii=False) == json.dumps(other, ensure_ascii=False), case_id
        shown += bool(one["notices"]) + any("amend_reason" in e for e in one["events"])
    assert shown >= 2  # the notices and the amended event were compared too
    for filters in LIST_FILTERS:
        one_list, other_list = list_cases(fast, today=TODAY, **filters), list_cases(slow, today=TODAY, **filters)
        assert one_list == other_list, filters
    assert list_cases(fast, today=TODAY, state="decided") and list_cases(fast, today=TODAY, overdue=True)
    assert "sqlalchemy" in {type(v).__module__.split(".")[0] for v in vars(slow).values()}
    assert "engine" not in vars(fast)  # the fast App never opened an engine
    slow.engine.dispose()


def test_values_come_back_as_sqlalchemy_gives_them(populated: tuple[Foi, list[str]]) -> None:
    foi, _ = populated
    late = show_case(_app(foi, engine=False), "LATE-1", TODAY).as_json()
    assert late["received_on"] == "2023-06-01" and late["provisional"] is False and late["on_time"] is None
    receive, *carried = late["events"]  # registered into a closed year: carried over at its end
    assert all(e["event"] == "carry_over" for e in carried)
    assert receive["amend_reason"] == "补录遗漏" and receive["data"]["applicant"] == "张三"
    recorded = datetime.fromisoformat(receive["recorded_at"])  # ISO with a "T", as SQLAlchemy's datetime prints
    assert "T" in receive["recorded_at"] and recorded.year >= 2025
    assert late["phone"] == "138****5678"  # masked unless revealed
    assert show_case(_app(foi, engine=False), "LATE-1", TODAY, reveal=True).as_json()["phone"] == "13812345678"
    decided = next(c for c in list_cases(_app(foi, engine=False), today=TODAY) if c["on_time"] is not None)
    assert decided["on_time"] in (True, False)  # a boolean, not SQLite's 0/1


def test_every_spelling_of_the_url_reads_the_plain_way(populated: tuple[Foi, list[str]]) -> None:
    foi, ids = populated
    expected = foi.ok("show", ids[0], "--format", "json")
    if BACKEND == "sqlite":
        path = Path(foi.db_url.removeprefix("sqlite:///"))
        spellings = {
            f"sqlite:///{path}": "sqlite3",
            f"sqlite+pysqlite:///{path}": "sqlite3",
            f"sqlite:///{os.path.relpath(path, foi.cwd)}": "sqlite3",
            f"sqlite:///{path}?timeout=20": "sqlalchemy",
        }
    else:
        rest = foi.db_url.split("://", 1)[1]
        spellings = {
            f"postgresql+psycopg://{rest}": "psycopg",
            f"postgresql://{rest}": "psycopg",
            f"postgresql+psycopg://{rest}?application_name=foi-show": "psycopg",
        }
    old = Path.cwd()
    os.chdir(foi.cwd)
    try:
        for url, via in spellings.items():
            reader = connect_reader(url)
            try:
                assert reader.via == via, url
            finally:
                reader.close()
    finally:
        os.chdir(old)
    for url in spellings:
        assert Foi(url, foi.cwd).ok("show", ids[0], "--format", "json") == expected, url


def _sqlite_cli(tmp_path: Path, events: Path) -> tuple[Foi, list[str]]:
    foi = Foi(f"sqlite:///{tmp_path / 'own.db'}", tmp_path)
    foi.ok("init")
    return foi, _populate(foi, events)


def test_a_sqlite_url_with_a_query_string_prints_the_same_through_sqlalchemy(
    tmp_path: Path, events_small: Path
) -> None:
    foi, ids = _sqlite_cli(tmp_path, events_small)  # a SQLite file on either backend under test
    fallback = Foi(foi.db_url + "?timeout=20", tmp_path)
    with open_reader(fallback.db_url) as r:
        assert r.via == "sqlalchemy"
    for case_id in [*ids[:10], "LATE-1"]:
        for fmt in ("json", "text"):
            assert fallback.ok("show", case_id, "--format", fmt) == foi.ok("show", case_id, "--format", fmt)
    for args in (["--format", "json"], ["--format", "csv"], ["--state", "decided", "--format", "json"],
                 ["--year", "2023", "--format", "json"], ["--due-within", "5", "--format", "json"]):  # fmt: skip
        assert fallback.ok("list", *args) == foi.ok("list", *args), args


@pytest.mark.parametrize("suffix", ["", "?timeout=20"])
def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path, suffix: str) -> None:
    for url, path in (
        (f"sqlite:///{tmp_path / 'absent.db'}{suffix}", tmp_path / "absent.db"),
        (f"sqlite:///sub/absent.db{suffix}", tmp_path / "sub" / "absent.db"),
    ):
        foi = Foi(url, tmp_path)
        for args in (["show", "2024-00001"], ["list"], ["list", "--format", "json"]):
            result = foi(*args)
            assert (result.exit_code, result.stdout, result.stderr.strip()) == (1, "", NOT_INITIALISED), args
        assert not path.exists() and not path.parent.joinpath(path.name + "-wal").exists()
    assert not (tmp_path / "sub").exists()


def test_an_empty_sqlite_file_is_refused_as_uninitialised(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    for suffix in ("", "?timeout=20"):
        result = Foi(f"sqlite:///{path}{suffix}", tmp_path)("show", "2024-00001")
        assert (result.exit_code, result.stderr.strip()) == (1, NOT_INITIALISED)
        if not suffix:
            assert path.stat().st_size == 0  # the plain read wrote nothing (the engine sets WAL mode)


def test_a_file_that_is_not_a_database_is_a_clear_refusal(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    result = Foi(f"sqlite:///{path}", tmp_path)("show", "2024-00001")
    assert (result.exit_code, result.stderr.strip()) == (1, "错误[E-DB]：无法打开数据库：file is not a database")


def test_an_uninitialised_database_is_refused_on_the_backend_under_test(db_url: str, tmp_path: Path) -> None:
    foi = Foi(db_url, tmp_path)  # no `foi init`
    for args in (["show", "2024-00001"], ["list", "--format", "json"]):
        result = foi(*args)
        assert (result.exit_code, result.stdout, result.stderr.strip()) == (1, "", NOT_INITIALISED), args
    if BACKEND == "sqlite":
        assert not Path(db_url.removeprefix("sqlite:///")).exists()


def test_an_unknown_case_is_not_found_either_way(foi: Foi) -> None:
    result = foi("show", "2024-99999")
    assert (result.exit_code, result.stderr.strip()) == (1, "错误[E-NOT-FOUND]：没有编号为 2024-99999 的案件")
    for app in (_app(foi, engine=False), _app(foi, engine=True)):
        with pytest.raises(NotFound, match="没有编号为 2024-99999 的案件"):
            show_case(app, "2024-99999", TODAY)
        assert list_cases(app, today=TODAY) == []


def test_the_reader_binds_parameters_in_the_drivers_own_style(foi: Foi) -> None:
    engine = open_engine(foi.db_url)
    try:
        for reader in (connect_reader(foi.db_url), engine_reader(engine)):
            try:
                sql = "SELECT count(*) FROM foi_case WHERE received_on >= ? AND agency = ?"
                assert reader.rows(sql, (date(2000, 1, 1), "default")) == [(0,)]
                assert reader.rows("SELECT ? || ?", ("甲", "乙")) == [("甲乙",)]
            finally:
                reader.close()
    finally:
        engine.dispose()
    import sqlite3

    for style in ("qmark", "numeric", "named"):
        plain = Reader(sqlite3.connect(":memory:"), via="sqlite3", paramstyle=style, text_dates=True)
        assert plain.rows("SELECT ?, ? || '%'", (date(2024, 3, 1), "a")) == [("2024-03-01", "a%")], style
        plain.close()
