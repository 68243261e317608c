"""`foi import` and `foi export` (SPEC §9): the example file imports; any bad line aborts the
whole file with its line number and keeps nothing; an export re-imports to identical cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Foi
from tests.helpers.transfer import RECEIVE, every_case_shown, write_jsonl


def test_the_example_events_import(foi: Foi, events_small: Path) -> None:
    lines = [json.loads(x) for x in events_small.read_text(encoding="utf-8").splitlines() if x.strip()]
    out = foi.ok("import", events_small)
    assert f"已导入 {len(lines)} 条事件" in out
    cases = {x["case"] for x in lines if "appeal" not in x}
    listed = json.loads(foi.ok("list --format json"))
    assert {c["id"] for c in listed} == cases
    decided = {x["case"] for x in lines if x["event"] in ("decide", "withdraw", "lapse_correction", "lapse_fee")}
    assert {c["id"] for c in listed if c["state"] == "decided"} == decided
    assert foi.ok("rebuild --check").strip() == "案件表与事件日志一致"


def test_export_then_import_into_an_empty_database_gives_identical_cases(
    foi: Foi, events_small: Path, tmp_path: Path
) -> None:
    foi.ok("import", events_small)
    foi.ok(f"{'intake --applicant 李四 --applicant-type commercial --channel post --request 某文件'} --on 2024-03-01"
           " --id CLI-1 --phone 13812345678 --contact 某路1号 --by 王五")  # fmt: skip
    foi.ok("assign CLI-1 赵六 --on 2024-03-04")
    foi.ok("extend CLI-1 --days 5 --approved-by 负责人 --on 2024-03-05")
    foi.ok("fee-notice CLI-1 --amount 100.00 --basis per_page --quantity 40 --on 2024-03-06")
    exported = foi.ok("export")
    out_file = tmp_path / "all.jsonl"
    foi.ok("export", "--out", out_file)
    assert out_file.read_text(encoding="utf-8") == exported

    second_dir = tmp_path / "second"
    second_dir.mkdir()
    other = Foi(f"sqlite:///{second_dir / 'foi.db'}", second_dir)  # an empty database of its own
    other.ok("init")
    other.ok("import", out_file)
    assert other.ok("export") == exported
    assert every_case_shown(other) == every_case_shown(foi)


BAD_LINES = [
    ('{"case": "X-1", "event": "receive", "on": ', "JSON"),
    ('["a list"]', "JSON 对象"),
    ('{"case": "NOPE", "event": "decide", "on": "2024-03-05", "outcome": "granted"}', "E-NOT-FOUND"),
    ('{"case": "X-1", "event": "fee_paid", "on": "2024-03-05"}', "E-STATE"),
    ('{"case": "X-1", "event": "lapse_correction", "on": "2024-03-05"}', "E-STATE"),
    ('{"case": "X-2", "event": "lapse_correction", "on": "2024-03-06"}', "E-RULE"),
    ('{"case": "X-1", "event": "decide", "on": "2099-03-05", "outcome": "granted"}', "E-DATE"),
    ('{"case": "X-1", "event": "decide", "on": "2024-02-05", "outcome": "granted"}', "E-DATE"),
    ('{"case": "X-1", "event": "decide", "on": "2024-03-05", "outcome": "other.fee_unpaid"}', "E-RULE"),
    ('{"case": "X-1", "event": "decide", "on": "2024-03-05", "outcome": "maybe"}', "E-INPUT"),
    ('{"case": "X-1", "event": "decide", "on": "5 March 2024", "outcome": "granted"}', "E-INPUT"),
    ('{"case": "X-1", "event": "extend", "on": "2024-03-05", "days": -1, "approved_by": "负责人"}', "E-RULE"),
    ('{"case": "X-1", "event": "explode", "on": "2024-03-05"}', "E-INPUT"),
    ('{"case": "X-1", "event": "decide", "on": "2024-03-05", "outcome": "granted", "colour": "red"}', "E-INPUT"),
    (
        '{"case": "X-1", "event": "receive", "on": "2024-03-05", "applicant": "某", "applicant_type": "other",'
        ' "channel": "post", "request": "x"}',
        "E-EXISTS",
    ),
    ('{"appeal": "F-9", "event": "conclude", "on": "2024-03-05", "result": "upheld"}', "E-NOT-FOUND"),
    ('{"event": "decide", "on": "2024-03-05"}', "case"),
]


@pytest.mark.parametrize(
    ("bad_line", "reason", "position"),
    [(line, reason, ("first", "middle", "last")[i % 3]) for i, (line, reason) in enumerate(BAD_LINES)],
)
def test_a_bad_line_anywhere_aborts_the_import_with_its_line_number_and_keeps_nothing(
    foi: Foi, tmp_path: Path, bad_line: str, reason: str, position: str
) -> None:
    foi.ok("import", write_jsonl(tmp_path / "existing.jsonl", [
        {"case": "X-1", **RECEIVE, "on": "2024-03-01"},
        {"case": "X-2", **RECEIVE, "on": "2024-03-01"},
        {"case": "X-2", "event": "request_correction", "on": "2024-03-04", "items": "请补充", "period": 10},
    ]))  # fmt: skip
    good = [
        {"case": "N-1", **RECEIVE, "on": "2024-03-01"},
        {"case": "N-1", "event": "consult", "on": "2024-03-04", "party": "某公司"},
        {"case": "N-2", **RECEIVE, "on": "2024-03-02"},
        {"appeal": "F-1", "event": "file", "on": "2024-03-04", "kind": "review", "case": "N-1"},
    ]
    rows: list[str] = [json.dumps(r, ensure_ascii=False) for r in good]
    index = {"first": 0, "middle": 2, "last": len(rows)}[position]
    rows.insert(index, bad_line)
    before = (foi.ok("export"), foi.ok("list --format json"))

    result = foi("import", write_jsonl(tmp_path / "bad.jsonl", rows))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误[E-IMPORT]：")
    assert f"第 {index + 1} 行" in lines[0]
    assert reason in lines[0]
    assert (foi.ok("export"), foi.ok("list --format json")) == before


def test_a_later_bad_line_throws_away_cases_created_earlier_in_the_file(foi: Foi, tmp_path: Path) -> None:
    rows = [{"case": f"B-{i}", **RECEIVE, "on": "2024-03-01"} for i in range(50)]
    rows.append({"case": "B-3", "event": "lapse_fee", "on": "2024-03-05"})
    result = foi("import", write_jsonl(tmp_path / "bad.jsonl", rows))
    assert result.exit_code == 1 and "第 51 行" in result.stderr
    assert json.loads(foi.ok("list --format json")) == []
    assert foi.ok("export") == ""


def test_a_lapse_after_the_period_imports(foi: Foi, tmp_path: Path) -> None:
    due = foi.ok("calendar add-working-days 2024-03-04 10").split()[0]
    day_after = foi.ok(f"calendar add-working-days {due} 1").split()[0]
    rows = [
        {"case": "L-1", **RECEIVE, "on": "2024-03-01"},
        {"case": "L-1", "event": "request_correction", "on": "2024-03-04", "items": "请补充", "period": 10},
        {"case": "L-1", "event": "lapse_correction", "on": day_after},
    ]
    foi.ok("import", write_jsonl(tmp_path / "lapse.jsonl", rows))
    shown = json.loads(foi.ok("show L-1 --format json"))
    assert shown["outcome"] == "other.correction_lapsed" and shown["decided_on"] == day_after


def test_an_import_continues_cases_already_in_the_database(foi: Foi, tmp_path: Path) -> None:
    foi.ok("intake --applicant 张三 --applicant-type natural_person --channel online --request x --on 2024-03-01"
           " --id E-1")  # fmt: skip
    foi.ok("import", write_jsonl(tmp_path / "more.jsonl", [
        {"case": "E-1", "event": "decide", "on": "2024-03-05", "outcome": "granted"},
    ]))  # fmt: skip
    assert json.loads(foi.ok("show E-1 --format json"))["outcome"] == "granted"
    assert foi.ok("rebuild --check").strip() == "案件表与事件日志一致"


def test_a_missing_file_is_refused(foi: Foi, tmp_path: Path) -> None:
    result = foi("import", tmp_path / "nope.jsonl")
    assert result.exit_code == 1 and result.stderr.startswith("错误[E-INPUT]")
