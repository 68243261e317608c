"""Bad ledgers are refused whole (SPEC §14): every cell that cannot be read is named at once
with its row, column and value; a row the workflow refuses (an answer dated before its
receipt, a lapse without a correction notice, a number already taken) is named with its row
and column; exit status 1, one line on stderr, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Foi, Result
from tests.ledger_helpers import case_count, write_csv_ledger, write_xlsx_ledger

HEADER = ["登记编号", "收到日期", "申请人类型", "申请人", "答复日期", "处理结果"]


def refused(foi: Foi, ledger: Path, code: str = "E-LEDGER") -> str:
    result: Result = foi("ledger", "import", ledger)
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"错误[{code}]："), lines[0]
    assert case_count(foi) == 0
    return lines[0]


def test_unknown_outcome_texts_are_listed_all_at_once_with_their_rows(foi: Foi, tmp_path: Path) -> None:
    rows = [
        ["X-1", "2024-03-01", "自然人", "张三", "2024-03-10", "同意给予"],
        ["X-2", "2024-03-02", "自然人", "李四", "2024-03-11", "予以公开"],
        ["X-3", "2024-03-03", "自然人", "王五", "2024-03-12", "已办理"],
        ["X-4", "2024-03-04", "商业企业", "某公司", "2024-03-13", "不予公开"],
        ["X-5", "2024-03-05", "自然人", "赵六", "2024-03-14", "已办理"],
    ]
    line = refused(foi, write_xlsx_ledger(tmp_path / "bad.xlsx", HEADER, rows))
    assert "台账有 4 处无法读取，整个台账未导入" in line
    assert "第 2 行 处理结果（F列）“同意给予”：无法对应到年度报告的办理结果" in line
    assert "第 4、6 行 处理结果（F列）“已办理”" in line
    assert "第 5 行 处理结果（F列）“不予公开”" in line  # which of the eight 不予公开 rows? the ledger must say


OK_ROW = ["X-1", "2024-03-01", "自然人", "张三", "", ""]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([OK_ROW, ["X-2", "2024-02-30", "自然人", "李四", "", ""],
                      ["X-3", "2024-03-03", "自然人", "王五", "2024年13月1日", "予以公开"]],
                     ["第 3 行 收到日期（B列）“2024-02-30”：日期不存在",
                      "第 4 行 答复日期（E列）“2024年13月1日”：日期不存在"],
                     id="impossible dates"),
        pytest.param([OK_ROW, ["X-2", "2024-03-02", "", "李四", "", ""], ["X-3", "", "自然人", "王五", "", ""],
                      ["X-4", "2024-03-04", "—", "赵六", "", ""]],
                     ["第 3 行 申请人类型（C列）（空）：缺少申请人类型", "第 4 行 收到日期（B列）（空）：缺少收到日期",
                      "第 5 行 申请人类型（C列）“—”：缺少申请人类型"],
                     id="no applicant type, no receipt date"),
        pytest.param([["X-1", "2024-03-01", "法人或其他组织", "某单位", "", ""]],
                     ["第 2 行 申请人类型（C列）“法人或其他组织”：无法对应到申请人类型"], id="unknown applicant type"),
        pytest.param([OK_ROW, ["X-2", "2024-03-02", "自然人", "李四", "", ""],
                      ["X-1", "2024-03-03", "自然人", "王五", "", ""]],
                     ["第 4 行 登记编号（A列）“X-1”：登记编号重复（与第 2 行相同）"], id="duplicate number"),
    ],
)  # fmt: skip
def test_a_bad_cell_is_refused_with_row_column_and_value(
    foi: Foi, tmp_path: Path, rows: list[list[str]], expected: list[str]
) -> None:
    line = refused(foi, write_csv_ledger(tmp_path / "bad.csv", HEADER, rows))
    for fragment in expected:
        assert fragment in line


def test_a_duplicate_number_under_a_title_row_names_the_spreadsheet_rows(foi: Foi, tmp_path: Path) -> None:
    rows = [OK_ROW, ["X-2", "2024-03-02", "自然人", "李四", "", ""], ["X-1", "2024-03-03", "自然人", "王五", "", ""]]
    line = refused(foi, write_xlsx_ledger(tmp_path / "bad.xlsx", HEADER, rows, titles=["台账"]))
    assert "第 5 行 登记编号（A列）“X-1”：登记编号重复（与第 3 行相同）" in line


def test_an_answer_dated_before_the_receipt_is_refused_by_the_deadline_rules(foi: Foi, tmp_path: Path) -> None:
    rows = [["X-1", "2024-03-01", "自然人", "张三", "2024-03-10", "予以公开"],
            ["X-2", "2024-03-05", "自然人", "李四", "2024-03-04", "予以公开"]]  # fmt: skip
    line = refused(foi, write_csv_ledger(tmp_path / "bad.csv", HEADER, rows))
    assert line.startswith("错误[E-LEDGER]：第 3 行 答复日期（E列）“2024-03-04”：")
    assert "早于该案上一事件的日期 2024-03-05（E-DATE）；整个台账未导入" in line


@pytest.mark.parametrize(
    ("extra_header", "row", "expected"),
    [
        ([], ["X-1", "2024-03-01", "自然人", "张三", "2024-05-10", "逾期未补正"],
         "补正告知日期（空）：处理结果为“逾期未补正”，须填写补正告知日期"),
        ([], ["X-1", "2024-03-01", "自然人", "张三", "2024-05-10", "逾期未缴费"], "须填写收费通知日期"),
        (["补正告知日期", "补正收到日期"],
         ["X-1", "2024-03-01", "自然人", "张三", "2024-05-10", "逾期未补正", "2024-03-04", "2024-03-08"],
         "当前状态为“办理中”"),
        (["补正告知日期"], ["X-1", "2024-03-01", "自然人", "张三", "2024-03-12", "逾期未补正", "2024-03-04"],
         "补正期限至 2024-03-25 届满"),
        (["延期天数"], ["X-1", "2024-03-01", "自然人", "张三", "2024-05-10", "予以公开", "25"],
         "延长天数应为 1 至 20 个工作日"),
    ],
)  # fmt: skip
def test_a_row_the_workflow_refuses_is_named_with_its_column(
    foi: Foi, tmp_path: Path, extra_header: list[str], row: list[str], expected: str
) -> None:
    line = refused(foi, write_csv_ledger(tmp_path / "bad.csv", HEADER + extra_header, [row]))
    assert "：第 2 行 " in line and expected in line


def test_a_number_already_in_the_database_is_refused(foi: Foi, tmp_path: Path) -> None:
    foi.ok("intake --applicant 张三 --applicant-type natural_person --channel post --request 某文件"
           " --on 2024-03-01 --id X-1")  # fmt: skip
    rows = [["X-2", "2024-03-01", "自然人", "李四", "", ""], ["X-1", "2024-03-02", "自然人", "王五", "", ""]]
    result = foi("ledger", "import", write_csv_ledger(tmp_path / "bad.csv", HEADER, rows))
    assert result.exit_code == 1
    assert result.stderr.startswith("错误[E-LEDGER]：第 3 行 登记编号（A列）“X-1”：案件 X-1 已存在（E-EXISTS）")
    assert case_count(foi) == 1


def test_a_file_that_is_not_a_ledger_is_refused_in_one_line(foi: Foi, tmp_path: Path) -> None:
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert "另存为 .xlsx" in refused(foi, old, "E-INPUT")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert "不是有效的 xlsx 文件" in refused(foi, broken, "E-INPUT")
    assert "找不到台账文件" in refused(foi, tmp_path / "missing.csv", "E-INPUT")
    empty = write_csv_ledger(tmp_path / "empty.csv", HEADER, [])
    assert "表头下没有申请记录" in refused(foi, empty)
