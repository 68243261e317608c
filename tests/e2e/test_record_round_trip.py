"""A database moved by `foi export` / `foi import` (or `foi backup` / `foi restore`) is the same
database (SPEC §12): the same letters with the same numbers and statuses, the same closed years
with their frozen figures, numbering that continues, and an export that is byte-identical.

Runs on the backend under test; `test_record_cross_backend.py` moves it between backends."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Foi
from tests.record_helpers import letter_table, populate_record, record_snapshot

FOI = str(Path(sys.executable).with_name("foi"))


def moved(source: Foi, make_db_url: Callable[[], str], tmp_path: Path, *, restore: bool = False) -> Foi:
    """A new, empty database holding what `source` exported."""
    backup = tmp_path / f"backup-{len(list(tmp_path.glob('backup-*')))}.jsonl"
    source.ok("backup" if restore else "export", "--out", backup)
    target = Foi(make_db_url(), tmp_path, source.config)
    target.ok("init")
    target.ok("restore" if restore else "import", backup)
    return target


@pytest.mark.parametrize("restore", [False, True], ids=["export-import", "backup-restore"])
def test_a_moved_database_keeps_its_letters_closed_years_and_numbering(
    foi: Foi, make_db_url: Callable[[], str], tmp_path: Path, restore: bool
) -> None:
    populate_record(foi)
    before = record_snapshot(foi)
    assert {"valid", "void", "replaced"} <= {r["status"] for r in exported_letters(foi)}
    assert any('"event": "void"' in line for line in before["export"].splitlines())
    target = moved(foi, make_db_url, tmp_path, restore=restore)
    assert record_snapshot(target) == before  # export byte-identical; register, report, show the same
    assert letter_table(target.db_url) == letter_table(foi.db_url)

    # The closed years stay closed; the next letter takes the next number, the same on both.
    refused = target("intake --applicant 张三 --applicant-type natural_person --channel online --request x"
                     " --on 2024-12-30")  # fmt: skip
    assert refused.exit_code == 1 and "E-CLOSED-YEAR" in refused.stderr
    highest = max(int(str(r["seq"])) for r in exported_letters(foi) if str(r["on"]).startswith("2024"))
    for db in (foi, target):
        db.ok("notice HX-2024-00020 acknowledgement --amend-closed-year 补发回执")
        register = json.loads(db.ok("register 2024 --format json"))
        assert register[-1]["number"] == f"某公开〔2024〕{highest + 1}号" and register[-1]["case"] == "HX-2024-00020"
    assert target.ok("export") == foi.ok("export")


def exported_letters(foi: Foi) -> list[dict[str, object]]:
    return [json.loads(line) for line in foi.ok("export").splitlines() if line.startswith('{"letter"')]


def test_the_parallel_replay_restores_the_record_as_the_serial_one(
    foi: Foi, make_db_url: Callable[[], str], tmp_path: Path
) -> None:
    populate_record(foi)
    exported = foi.ok("export")
    (tmp_path / "all.jsonl").write_text(exported, encoding="utf-8")
    target = Foi(make_db_url(), tmp_path)
    target.ok("init")
    target.ok("import", tmp_path / "all.jsonl", "--workers", "2")
    assert target.ok("export") == exported


def test_restore_refuses_a_database_that_already_holds_anything(foi: Foi, tmp_path: Path) -> None:
    populate_record(foi)
    foi.ok("backup", "--out", tmp_path / "b.jsonl")
    before = foi.ok("export")
    refused = foi("restore", tmp_path / "b.jsonl")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("错误[E-EXISTS]：目标数据库已有") and len(refused.stderr.splitlines()) == 1
    assert foi.ok("export") == before


def test_a_file_of_events_only_still_imports(foi: Foi, tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    out = foi.ok("import", FIXTURES / "events-small.jsonl")
    assert "告知书 0 份，年度结转 0 个" in out
    assert json.loads(foi.ok("register 2024 --format json")) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda r: {**r, "letter": "某公开〔2023〕1号"}, "E-EXISTS"),  # a number already in the file
        (lambda r: {**r, "case": "NOPE"}, "E-NOT-FOUND"),
        (lambda r: {**r, "status": "lost"}, "E-INPUT"),
        (lambda r: {**r, "seq": 0}, "E-INPUT"),
        (lambda r: {**r, "colour": "red"}, "E-INPUT"),
    ],
)
def test_a_bad_letter_line_refuses_the_whole_file(
    foi: Foi, make_db_url: Callable[[], str], tmp_path: Path, change: Callable[[dict[str, object]], object], code: str
) -> None:
    populate_record(foi)
    lines = foi.ok("export").splitlines()
    last_letter = max(i for i, line in enumerate(lines) if line.startswith('{"letter"'))
    lines[last_letter] = json.dumps(change(json.loads(lines[last_letter])), ensure_ascii=False)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = Foi(make_db_url(), tmp_path)
    target.ok("init")
    refused = target("import", bad)
    assert refused.exit_code == 1 and f"第 {last_letter + 1} 行" in refused.stderr and code in refused.stderr
    assert target.ok("export") == ""


def test_a_year_close_line_twice_is_refused(foi: Foi, make_db_url: Callable[[], str], tmp_path: Path) -> None:
    populate_record(foi)
    lines = foi.ok("export").splitlines()
    doubled = tmp_path / "doubled.jsonl"
    doubled.write_text("\n".join([*lines, lines[-1]]) + "\n", encoding="utf-8")
    target = Foi(make_db_url(), tmp_path)
    target.ok("init")
    refused = target("import", doubled)
    assert refused.exit_code == 1 and "E-EXISTS" in refused.stderr and "已结转" in refused.stderr


@pytest.mark.slow
def test_the_demo_database_survives_the_round_trip(make_db_url: Callable[[], str], tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    done = subprocess.run([FOI, "demo", "--dir", str(folder), "--year", "2025", "--cases", "60"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    demo = Foi(f"sqlite:///{folder / 'foi.db'}", folder, folder / "foi.toml")
    before = record_snapshot(demo)
    assert '{"letter"' in before["export"]
    target = moved(demo, make_db_url, tmp_path)
    assert record_snapshot(target) == before
