"""`foi report` and `foi year close` from the command line, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Foi


@pytest.fixture
def small(foi: Foi, events_small: Path) -> Foi:
    foi.ok("import", events_small)
    return foi


@pytest.mark.parametrize("year", [2023, 2024])
def test_report_of_the_small_example_equals_the_expected_json(small: Foi, year: int) -> None:
    got = json.loads(small.ok(f"report {year} --format json"))
    expected = json.loads((FIXTURES / f"events-small.report-{year}.json").read_text(encoding="utf-8"))
    assert got == expected
    assert list(got) == list(expected)
    assert list(got["table3"]["rows"]) == list(expected["table3"]["rows"])


def test_report_names_the_agency_when_asked_for_one(small: Foi) -> None:
    assert json.loads(small.ok("report 2024 --format json --agency default"))["agency"] == "default"
    assert json.loads(small.ok("report 2024 --format json --all-agencies"))["agency"] is None


def test_markdown_report_has_the_national_sections_and_timeliness(small: Foi) -> None:
    md = small.ok("report 2024 --as-of 2025-01-31")
    for title in ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                  "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"):
        assert f"## {title}" in md
    assert "| 一、本年新收政府信息公开申请数量 |  |  | 21 | 4 | 0 | 0 | 1 | 5 | 31 |" in md
    assert "按期答复率" in md and "工作日数中位数" in md


def test_check_accepts_our_own_json_and_xlsx(small: Foi, tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text(small.ok("report 2024 --format json"), encoding="utf-8")
    small.ok("report", "2024", "--format", "xlsx", "--out", tmp_path / "r.xlsx")
    assert "未发现不一致" in small.ok("report", "check", tmp_path / "r.json")
    assert "未发现不一致" in small.ok("report", "check", tmp_path / "r.xlsx")


def test_check_lists_planted_inconsistencies_in_json_by_cell(small: Foi, tmp_path: Path) -> None:
    data = json.loads(small.ok("report 2024 --format json"))
    data["table3"]["rows"]["granted"][0] += 1  # breaks (七) and the balance of 自然人 and of 总计's row
    data["table4"]["review"][4] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = small("report", "check", path)
    assert result.exit_code == 1
    assert "错误[E-REPORT]" in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("table3.granted.total：") for line in lines)
    assert any(line.startswith("table3.handled_total.natural_person：") for line in lines)
    assert any(line.startswith("table4.review.total：") for line in lines)


def test_check_locates_planted_inconsistencies_in_xlsx_by_spreadsheet_cell(small: Foi, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = tmp_path / "r.xlsx"
    small.ok("report", "2024", "--format", "xlsx", "--out", path)
    wb = load_workbook(path)
    ws = wb["表三 依申请公开"]
    ws["E5"] = ws["E5"].value + 2  # 一、本年新收 / 商业企业
    ws["F8"] = "三"  # a word where a number belongs
    wb.save(path)
    result = small("report", "check", path)
    assert result.exit_code == 1
    out = result.stdout
    assert "表三 依申请公开!J5 table3.received.total" in out
    assert "表三 依申请公开!F8 table3.partially_granted.research" in out
    assert "商业企业」列不平衡" in out


def test_year_close_from_the_command_line(foi: Foi, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join([
        '{"case": "X-1", "event": "receive", "on": "2023-12-20", "applicant": "张三",'
        ' "applicant_type": "natural_person", "channel": "online", "request": "某信息"}',
    ]) + "\n", encoding="utf-8")
    foi.ok("import", events)
    out = foi.ok("year close 2023 --on 2024-01-05 --by 主任")
    assert "结转下年度 1 件" in out and "记录结转事件 1 件" in out
    refused = foi("intake --applicant 李四 --applicant-type other --channel post --request x --on 2023-12-30")
    assert refused.exit_code == 1 and "E-CLOSED-YEAR" in refused.stderr
    assert foi("year close 2023 --on 2024-01-06").exit_code == 1


def test_report_refuses_bad_options(foi: Foi) -> None:
    # A binary format without --out goes to a default file (tests/e2e/test_first_week_rough.py).
    assert "E-INPUT" in foi("report 2024 --agency default --all-agencies").stderr
    assert "E-CONFIG" in foi("report 2024 --agency nowhere").stderr
    assert foi("report 2024 --format csv").exit_code == 2


def test_report_help_documents_both_forms(foi: Foi) -> None:
    text = foi.ok("report --help")
    assert "foi report YEAR" in text and "check" in text
    assert "--agency" in foi.ok("report 2024 --help")


def test_report_refuses_to_render_a_table_that_does_not_balance(foi: Foi) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(foi.db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agency (code, name, created_at) VALUES ('default', 'x', '2024-01-01')"))
        conn.execute(text(
            "INSERT INTO foi_case (id, agency, state, outcome, applicant, applicant_type, channel, contact, phone,"
            " id_number, request, caseworker, received_on, decided_on, reply_due_provisional, extended_days,"
            " last_event_on, updated_at, version) VALUES ('BROKEN', 'default', 'decided', NULL, 'x', 'commercial',"
            " 'post', '', '', '', '', '', '2024-03-01', '2024-03-05', false, 0, '2024-03-05', '2024-03-05', 1)"))
    engine.dispose()
    result = foi("report 2024 --format json")
    assert result.exit_code == 1
    assert "错误[E-UNBALANCED]" in result.stderr and "商业企业" in result.stderr
    assert result.stdout == ""
