"""`foi notice` keeps the record whole (SPEC §12): every refused or failed letter leaves the
counter and the letter table as they were; one letter per kind per answered event, with
`--reprint` and `--reissue --reason`; a letter dated in a closed year needs
`--amend-closed-year`; a failure after the commit says the letter stands and how to reprint;
`foi register` lists every letter with its status."""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from foi_workflow.adapters import files
from tests.conftest import Foi
from tests.record_helpers import letter_table

FOI = str(Path(sys.executable).with_name("foi"))
INTAKE = "intake --applicant 王五 --applicant-type natural_person --channel online --request 某文件 --on 2024-03-01"


@pytest.fixture
def case(foi: Foi) -> str:
    case_id = foi.ok(INTAKE).strip()
    foi.ok(f"notice {case_id} acknowledgement")  # one letter already, so "as they were" is not "empty"
    return case_id


def broken_template(foi: Foi, tmp_path: Path) -> None:
    """An agency whose decision template needs a value no case has: it fails while rendering,
    after the template hash and with the number already taken in the transaction."""
    folder = tmp_path / "agency"
    (folder / "notices").mkdir(parents=True)
    (folder / "notices" / "decision.txt.j2").write_text(
        '{% extends "base/decision.txt.j2" %}{% block closing %}{{ no_such_value }}{% endblock %}', encoding="utf-8")
    config = tmp_path / "foi.toml"
    config.write_text('default_agency = "default"\n[agencies.default]\nname = "某某市某某局"\n'
                      'short_name = "某公开"\nnumber_pattern = "{short}〔{year}〕第{seq}号"\nfolder = "agency"\n',
                      encoding="utf-8")  # fmt: skip
    foi.config = config


FAILURES: dict[str, tuple[str, int, str]] = {
    # name: (arguments after `foi notice CASE`, exit status, what stderr says)
    "unknown kind": ("verdict", 2, "verdict"),
    "no such folder": ("acknowledgement --out /no/such/dir/x.pdf --format pdf", 1, "E-FILE"),
    "out is a folder": ("acknowledgement --out {tmp} --format pdf", 2, "是文件夹"),
    "second letter": ("acknowledgement", 1, "E-EXISTS"),
    "reissue of nothing": ("decision --reissue --reason x", 1, "E-NOT-FOUND"),
    "reissue without a reason": ("acknowledgement --reissue", 2, "--reason"),
    "no answered event": ("decision", 1, "E-RULE"),
    "dated before its event": ("fee", 1, "E-RULE"),
    "closed year": ("decision", 1, "E-CLOSED-YEAR"),
    "broken template": ("decision --format pdf --out {tmp}/d.pdf", 1, "E-TEMPLATE"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_every_refused_or_failed_notice_leaves_the_counter_and_the_letters_as_they_were(
    foi: Foi, case: str, tmp_path: Path, failure: str
) -> None:
    args, status, says = FAILURES[failure]
    if failure == "dated before its event":
        foi.ok(f"fee-notice {case} --amount 100.00 --basis per_page --quantity 40 --on 2024-03-04")
        args += " --on 2024-03-02"
    if failure == "reissue of nothing":
        foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
    if failure == "closed year":
        foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
        foi.ok("year close 2024 --on 2025-01-05")
    if failure == "broken template":
        foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
        broken_template(foi, tmp_path)
    before = letter_table(foi.db_url)
    result = foi(f"notice {case} {args.format(tmp=tmp_path)}")
    assert result.exit_code == status, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr + result.stdout
    if status == 1:
        assert len(result.stderr.splitlines()) == 1
    assert letter_table(foi.db_url) == before
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob(".*.part"))


def test_a_full_disk_while_writing_the_file_stores_nothing(foi: Foi, case: str, tmp_path: Path) -> None:
    """A real write failure: the process may not write files past 4 KiB (RLIMIT_FSIZE), which
    the PDF is; the letter is written before the commit, so nothing is stored."""
    foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
    before = letter_table(foi.db_url)

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    config = ["--config", str(foi.config)] if foi.config else []
    done = subprocess.run([FOI, "--db", foi.db_url, *config, "notice", case, "decision", "--format", "pdf",
                           "--out", str(tmp_path / "d.pdf")], capture_output=True, text=True, timeout=120,
                          preexec_fn=small_files, env={**os.environ})  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("错误[E-FILE]：无法写入") and len(done.stderr.splitlines()) == 1
    assert letter_table(foi.db_url) == before
    assert not (tmp_path / "d.pdf").exists() and not list(tmp_path.glob(".*.part"))


def test_a_failure_after_the_commit_says_the_letter_stands_and_how_to_reprint(
    foi: Foi, case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    foi.ok(f"decide {case} --outcome granted --on 2024-03-20")

    def no_room(*_: object) -> None:  # the one step after the commit: putting the file in place
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", no_room)
    result = foi(f"notice {case} decision --format pdf --out {tmp_path / 'd.pdf'}")
    monkeypatch.undo()
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("错误[E-NOT-WRITTEN]：告知书 某公开〔2024〕2号 已出具并保存")
    assert f"foi notice {case} decision --reprint --format pdf" in result.stderr
    assert not list(tmp_path.glob(".*.part"))
    foi.ok(f"notice {case} decision --reprint --format pdf --out {tmp_path / 'd.pdf'}")
    assert (tmp_path / "d.pdf").read_bytes().startswith(b"%PDF")
    assert [e["number"] for e in json.loads(foi.ok("register 2024 --format json"))] == [
        "某公开〔2024〕1号", "某公开〔2024〕2号"]  # fmt: skip


def test_a_second_letter_is_refused_and_a_reissue_replaces_the_first(foi: Foi, case: str) -> None:
    refused = foi(f"notice {case} acknowledgement")
    assert refused.exit_code == 1
    assert "某公开〔2024〕1号" in refused.stderr and "--reprint" in refused.stderr and "--reissue" in refused.stderr
    reprint = foi(f"notice {case} acknowledgement --reprint")
    assert reprint.exit_code == 0 and "某公开〔2024〕1号" in reprint.stdout + reprint.stderr
    reissued = foi(f"notice {case} acknowledgement --reissue --reason 申请人姓名有误")
    assert reissued.exit_code == 0 and "替换 某公开〔2024〕1号" in reissued.stderr
    assert "某公开〔2024〕2号" in reissued.stdout
    book = json.loads(foi.ok("register 2024 --format json"))
    by = book[0]["by"]
    assert by and book == [
        {"number": "某公开〔2024〕1号", "on": "2024-03-01", "kind": "acknowledgement", "case": case,
         "addressee": "王五", "status": "replaced", "by": by},
        {"number": "某公开〔2024〕2号", "on": "2024-03-01", "kind": "acknowledgement", "case": case,
         "addressee": "王五", "status": "valid", "by": by},
    ]  # fmt: skip
    assert "某公开〔2024〕2号" in foi.ok(f"notice {case} acknowledgement --reprint")  # the standing one
    shown = foi.ok("show", case)
    assert "某公开〔2024〕1号" in shown and "已替换" in shown


def test_a_letter_dated_in_a_closed_year_needs_a_reason(foi: Foi, case: str) -> None:
    foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
    foi.ok("year close 2024 --on 2025-01-05")
    refused = foi(f"notice {case} decision")
    assert refused.exit_code == 1 and "--amend-closed-year" in refused.stderr
    assert foi(f"notice {case} decision --amend-closed-year ' '").exit_code == 1
    foi.ok(f"notice {case} decision --amend-closed-year 漏发答复书")
    book = foi.ok("register 2024 --format csv")
    rows = list(csv.DictReader(io.StringIO(book)))
    assert [r["状态"] for r in rows] == ["有效", "有效"] and rows[1]["备注"] == "已结转年度补发：漏发答复书"
    assert foi(f"notice {case} decision --on 2025-01-06").exit_code == 1  # the same event: reissue, not a second


def test_an_event_command_with_notice_records_neither_when_the_letter_fails(foi: Foi, tmp_path: Path) -> None:
    case_id = foi.ok(INTAKE).strip()
    broken_template(foi, tmp_path)
    before = foi.ok("export")
    refused = foi(f"decide {case_id} --outcome granted --on 2024-03-20 --notice")
    assert refused.exit_code == 1 and "E-TEMPLATE" in refused.stderr
    assert foi.ok("export") == before  # the decision was not recorded either
    refused = foi(f"receive-correction {case_id} --notice")  # no letter answers it: refused before anything
    assert refused.exit_code == 1 and "没有对应的告知书" in refused.stderr


def test_the_register_lists_the_years_letters_in_every_format(foi: Foi, case: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    foi.ok(f"consult {case} --party 某公司 --on 2024-03-05 --notice")
    md = foi.ok("register 2024")
    assert md.startswith("# 某某市某某局发文登记簿（2024年）")
    assert "| 某公开〔2024〕2号 | 2024-03-05 | 征求意见书 |" in md
    assert "某公司" in md  # a consultation letter goes to the party consulted
    foi.ok("register", "2024", "--format", "xlsx", "--out", tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:6] == ["文号", "日期", "种类", "案件编号", "收件人", "状态"]
    second = ["某公开〔2024〕2号", "2024-03-05", "征求意见书", case, "某公司", "有效"]
    assert [c.value for c in sheet[4]][:6] == second
    assert foi("register 2024 --format xlsx").exit_code == 1  # a workbook needs --out
    assert json.loads(foi.ok("register 2023 --format json")) == []


def test_an_addressee_that_looks_like_a_formula_stays_text_in_the_register(foi: Foi, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    case = foi.ok(INTAKE.replace("王五", "=HYPERLINK(1)")).strip()
    foi.ok(f"notice {case} acknowledgement")
    row = list(csv.reader(io.StringIO(foi.ok("register 2024 --format csv"))))[1]
    assert row[4] == "'=HYPERLINK(1)"
    foi.ok("register", "2024", "--format", "xlsx", "--out", tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx").active
    assert sheet is not None
    assert (sheet.cell(3, 5).value, sheet.cell(3, 5).data_type) == ("=HYPERLINK(1)", "s")
    assert json.loads(foi.ok("register 2024 --format json"))[0]["addressee"] == "=HYPERLINK(1)"
