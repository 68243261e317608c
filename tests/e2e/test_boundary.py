"""One boundary for every input (SPEC §8, §9): the same hostile value is refused as a command
line option (naming the option) and as a field of an import line (naming the line), with
exit status 1, one Chinese line with its code, and nothing written. And what `foi` prints
or writes from those values: never markup, never a formula, never world-readable."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from foi_workflow.adapters.tables import column_limits
from tests.conftest import Foi
from tests.refusals import refusal_code, snapshot

INTAKE = ["intake", "--applicant", "张三", "--applicant-type", "natural_person", "--channel", "online",
          "--request", "申请公开某文件", "--on", "2024-03-01"]  # fmt: skip
LIMITS = column_limits()
LONG_ID = "A" * (LIMITS.case["id"] + 1)  # 65 characters: SQLite would store it, PostgreSQL would not


def refused(foi: Foi, *args: str, code: str = "E-INPUT") -> str:
    before = snapshot(foi.db_url)
    result = foi(*args)
    assert refusal_code(result) == code, result.stderr
    assert snapshot(foi.db_url) == before
    return result.stderr.strip()


def with_option(args: list[str], option: str, value: str) -> list[str]:
    """`args` with `option` set to `value` (replaced when present)."""
    if option in args:
        out = list(args)
        out[out.index(option) + 1] = value
        return out
    return [*args, option, value]


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--id", "2024\nX", "换行"),
        ("--id", "2024 X", "空白"),
        ("--id", LONG_ID, "过长"),
        ("--applicant", "张\x00三", "U+0000"),
        ("--applicant", "张\ud800三", "U+D800"),
        ("--applicant", "张\u202e三", "U+202E"),
        ("--applicant", "张" * (LIMITS.case["applicant"] + 1), "过长"),
        ("--phone", "138\n0000", "换行"),
        ("--id-number", "1" * (LIMITS.case["id_number"] + 1), "过长"),
        ("--request", "某\x07文件", "U+0007"),
        ("--by", "李\n四", "换行"),
        ("--by", "   ", "不能为空"),
        ("--by", "李" * (LIMITS.event["by"] + 1), "过长"),
        ("--amend-closed-year", "\t", "不能为空"),
    ],
)
def test_a_hostile_intake_option_is_refused_naming_the_option(foi: Foi, option: str, value: str, says: str) -> None:
    line = refused(foi, *with_option(INTAKE, option, value))
    assert option in line and says in line


@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (["extend", "{id}", "--days", "99999999999", "--approved-by", "王"], "--days", "超出范围"),
        (["extend", "{id}", "--days", "5", "--approved-by", "王\r"], "--approved-by", "换行"),
        (["fee-notice", "{id}", "--amount", "Infinity", "--basis", "per_item", "--quantity", "1"], "--amount", "金额"),
        (["fee-notice", "{id}", "--amount", "1e400", "--basis", "per_item", "--quantity", "1"], "--amount", "金额"),
        (["fee-notice", "{id}", "--amount", "1e308", "--basis", "per_item", "--quantity", "1"], "--amount", "金额"),
        (["fee-notice", "{id}", "--amount", "NaN", "--basis", "per_item", "--quantity", "1"], "--amount", "金额"),
        (["fee-notice", "{id}", "--amount", "10", "--basis", "per_item", "--quantity", "12345678901234567890123"],
         "--quantity", "超出范围"),
        (["request-correction", "{id}", "--items", "x", "--period", "-99999999999"], "--period", "超出范围"),
        (["consult", "{id}", "--party", "某\x1b[31m公司"], "--party", "U+001B"),
        (["assign", "{id}", "王\n五"], "NAME", "换行"),
        (["decide", "2024\nX", "--outcome", "granted"], "ID", "换行"),
        (["decide", "{id}", "--outcome", "granted", "--note", "\x00"], "--note", "U+0000"),
        (["appeal", "file", "--kind", "review", "--case", "X\nY"], "--case", "换行"),
        (["appeal", "file", "--kind", "review", "--id", "F\x00"], "--id", "U+0000"),
        (["appeal", "conclude", "F\n1", "--result", "upheld"], "APPEAL_ID", "换行"),
    ],
)  # fmt: skip
def test_a_hostile_event_option_is_refused_naming_the_option(foi: Foi, args: list[str], option: str, says: str) -> None:
    case_id = foi.ok(*INTAKE).strip()
    line = refused(foi, *[a.replace("{id}", case_id) for a in args])
    assert option in line and says in line


def test_a_case_id_with_a_newline_is_refused_by_show_and_the_plain_read_path(foi: Foi) -> None:
    assert "换行" in refused(foi, "show", "2024\nX")


# --------------------------------------------------------------------------- import lines

RECEIVE = {"case": "IMP-1", "event": "receive", "on": "2024-03-01", "applicant": "张三",
           "applicant_type": "natural_person", "channel": "online", "request": "某文件"}  # fmt: skip


def import_text(foi: Foi, tmp_path: Path, body: bytes) -> str:
    """Import `body` after one good line, expecting a refusal of line 2; return the line."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(json.dumps(RECEIVE, ensure_ascii=False).encode() + b"\n" + body + b"\n")
    line = refused(foi, "import", str(path), code="E-IMPORT")
    assert "第 2 行" in line
    return line


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"case": "2024\nX"}, "换行"),
        ({"case": LONG_ID}, "过长"),
        ({"case": 2024}, "应为文字"),
        ({"applicant": "张\u0000三"}, "U+0000"),
        ({"applicant": "张\ud800三"}, "U+D800"),
        ({"applicant": ["张三"]}, "应为文字"),
        ({"applicant": "张" * (LIMITS.case["applicant"] + 1)}, "过长"),
        ({"phone": 13800000000}, "应为文字"),
        ({"by": {"name": "李四"}}, "by"),
        ({"by": 7}, "by"),
        ({"by": "李\n四"}, "换行"),
        ({"amend_reason": ["漏登"]}, "amend_reason"),
        ({"amend_reason": "  "}, "不能为空"),
        ({"contact": "x" * (LIMITS.case["contact"] + 1)}, "过长"),
    ],
)
def test_a_hostile_receive_line_is_refused_naming_the_line_and_field(
    foi: Foi, tmp_path: Path, fields: dict[str, Any], says: str
) -> None:
    line = json.dumps({**RECEIVE, "case": "IMP-2", **fields})  # lone surrogates as JSON escapes
    refusal = import_text(foi, tmp_path, line.encode())
    assert says in refusal


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ('{"case": "IMP-1", "event": "extend", "on": "2024-03-04", "days": Infinity, "approved_by": "王"}', "JSON"),
        ('{"case": "IMP-1", "event": "extend", "on": "2024-03-04", "days": NaN, "approved_by": "王"}', "JSON"),
        ('{"case": "IMP-1", "event": "extend", "on": "2024-03-04", "days": 1e400, "approved_by": "王"}', "days"),
        ('{"case": "IMP-1", "event": "extend", "on": "2024-03-04", "days": 5.5, "approved_by": "王"}', "days"),
        ('{"case": "IMP-1", "event": "fee_notice", "on": "2024-03-04", "amount": 1e308, "basis": "per_item",'
         ' "quantity": 1}', "amount"),
        ('{"case": "IMP-1", "event": "fee_notice", "on": "2024-03-04", "amount": 10, "basis": "per_item",'
         ' "quantity": 12345678901234567890123}', "quantity"),
        ('{"case": "IMP-1", "event": "carry_over", "on": "2024-03-04", "year": 99999999999}', "year"),
        ('{"case": "IMP-1", "event": "set_reasonable_period", "on": "2024-03-04", "due": 20240601, "reason": "r"}',
         "due"),
        ('{"case": "IMP-1", "event": "decide", "on": "2024-03-04", "outcome": {"a": [1]}}', "outcome"),
        ('{"case": "IMP-1", "event": "decide", "on": "2024-03-04", "outcome": "granted", "x": ' + "[" * 5000
         + "]" * 5000 + "}", "嵌套过深"),
        ('{"case": "IMP-1", "event": "decide", "on": "2024-03-04", "outcome": ' + "[" * 60 + "]" * 60 + "}",
         "outcome"),
    ],
)  # fmt: skip
def test_a_hostile_event_line_is_refused_naming_the_line_and_field(
    foi: Foi, tmp_path: Path, raw: str, says: str
) -> None:
    assert says in import_text(foi, tmp_path, raw.encode())


def test_invalid_utf8_is_refused_naming_its_line(foi: Foi, tmp_path: Path) -> None:
    line = import_text(foi, tmp_path, b'{"case": "IMP-2", "applicant": "\xe5\xbc"}')
    assert "UTF-8" in line


def test_a_binary_file_is_refused_as_an_import(foi: Foi, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40)
    line = refused(foi, "import", str(path), code="E-IMPORT")
    assert "第 1 行" in line


# --------------------------------------------------------------------------- what is printed


def test_markup_in_a_name_is_printed_as_text_by_list_and_outbox(foi: Foi) -> None:
    case_id = foi.ok(*with_option(with_option(INTAKE, "--applicant", "b[/bold]"), "--id", "[red]X[/]")).strip()
    listed = foi.ok("list")
    assert "b[/bold]" in listed and "[red]X[/]" in listed
    engine = create_engine(foi.db_url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO outbox (key, agency, case_id, rule, to_addr, subject, body, status, attempts,"
                 " next_attempt_at, last_error, created_at) VALUES ('k', 'default', :case, 'r', 'a@example.org',"
                 " :subject, 'b', 'failed', 1, '2024-03-01 00:00:00', '[/]', '2024-03-01 00:00:00')"),
            {"case": case_id, "subject": f"提醒 {case_id} b[/bold]"},
        )  # fmt: skip
    engine.dispose()
    shown = foi.ok("outbox", "--failed")
    assert "b[/bold]" in shown and "[/]" in shown


def test_csv_cells_that_would_start_a_formula_are_written_as_text(foi: Foi) -> None:
    names = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1)"]
    for n, name in enumerate(names):
        foi.ok(*with_option(with_option(INTAKE, "--applicant", name), "--id", f"CSV-{n}"))
    rows = list(csv.DictReader(io.StringIO(foi.ok("list", "--format", "csv"))))
    applicants = {row["applicant"] for row in rows}
    assert applicants == {"'" + name for name in names}
    assert all(not str(v).startswith(("=", "+", "-", "@", "\t")) for row in rows for v in row.values())


def test_an_xlsx_report_keeps_a_formula_like_agency_name_as_text(foi: Foi, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    config = tmp_path / "foi.toml"
    source = (Path(__file__).resolve().parents[2] / "config" / "foi.toml").read_text(encoding="utf-8")
    config.write_text(source.replace('name = "某某市某某局"', 'name = "=HYPERLINK(\\"http://x\\")"'), encoding="utf-8")
    runner = Foi(foi.db_url, foi.cwd, config)
    out = tmp_path / "report.xlsx"
    runner.ok("report", "2024", "--format", "xlsx", "--out", str(out))
    cells = [c for ws in load_workbook(out).worksheets for row in ws.iter_rows() for c in row]
    formulas = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
    assert formulas and all(c.data_type == "s" for c in formulas)


# --------------------------------------------------------------------------- files written


def test_export_letters_and_reports_are_created_readable_by_the_owner_only(foi: Foi, tmp_path: Path) -> None:
    case_id = foi.ok(*INTAKE).strip()
    old = os.umask(0o022)  # a permissive umask, as on most desktops
    try:
        foi.ok("export", "--out", str(tmp_path / "events.jsonl"))
        foi.ok("notice", case_id, "acknowledgement", "--format", "txt", "--out", str(tmp_path / "letter.txt"))
        foi.ok("report", "2024", "--format", "md", "--out", str(tmp_path / "report.md"))
    finally:
        os.umask(old)
    for name in ("events.jsonl", "letter.txt", "report.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert not list(tmp_path.glob("*.part"))


def test_an_output_file_in_a_missing_folder_is_refused_in_one_line(foi: Foi, tmp_path: Path) -> None:
    assert refused(foi, "export", "--out", str(tmp_path / "no" / "such" / "events.jsonl"), code="E-FILE")
    assert not (tmp_path / "no").exists()


# --------------------------------------------------------------------------- database addresses


def test_an_unsupported_database_is_refused_in_one_line(foi: Foi) -> None:
    result = foi("--db", "mysql://x", "init")
    assert refusal_code(result) == "E-DB" and "mysql" in result.stderr


def test_a_bare_path_as_database_suggests_the_sqlite_url(foi: Foi, tmp_path: Path) -> None:
    result = foi("--db", str(tmp_path / "foo.db"), "init")
    assert refusal_code(result) == "E-DB"
    assert f"sqlite:///{tmp_path / 'foo.db'}" in result.stderr
    assert not (tmp_path / "foo.db").exists()


@pytest.mark.parametrize("command", [["init"], ["list"], ["show", "X"]])
def test_a_database_in_a_missing_folder_is_refused_and_no_folder_created(
    foi: Foi, tmp_path: Path, command: list[str]
) -> None:
    result = foi("--db", f"sqlite:///{tmp_path}/no/such/dir/foi.db", *command)
    assert refusal_code(result) == "E-DB"
    assert not (tmp_path / "no").exists()



@pytest.mark.parametrize(
    ("args", "named"),
    [(["list", "--year", "99999999999"], "--year"), (["year", "close", "99999999999"], "YEAR"),
     (["report", "1800"], "YEAR"), (["show", "a b"], "ID"), (["notice", "X\n", "decision"], "ID")],
)  # fmt: skip
def test_years_and_ids_are_checked_before_anything_is_looked_up(foi: Foi, args: list[str], named: str) -> None:
    assert named in refused(foi, *args)


@pytest.mark.parametrize("agency", ["x\ny", "x\ud800", "x\x1b[2J"])
def test_a_refusal_quoting_a_hostile_value_is_still_one_printable_line(foi: Foi, agency: str) -> None:
    line = refused(foi, *INTAKE, "--agency", agency, code="E-CONFIG")
    assert line.isprintable()
