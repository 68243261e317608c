"""Reading a submitted report back for `foi report check`: our JSON contract, or a workbook
in our xlsx layout (each cell remembers its spreadsheet address for the error list)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from foi_workflow.adapters.report_render.layout import TABLE3_LINES
from foi_workflow.adapters.report_render.xlsx import (
    SHEET_INFO,
    SHEET_T3,
    SHEET_T4,
    T3_FIRST_COL,
    T3_FIRST_ROW,
    T4_ROW,
)
from foi_workflow.domain.report_check import SubmittedReport
from foi_workflow.domain.vocabulary import TABLE3_COLUMNS, TABLE4_COLUMNS, AppealKind
from foi_workflow.errors import InvalidInput


def read_submitted(path: Path) -> SubmittedReport:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return SubmittedReport.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"无法读取 JSON 报告 {path}：{exc}") from None
    if suffix == ".xlsx":
        return read_xlsx(path)
    raise InvalidInput(f"只能检查 .json 或 .xlsx 报告文件：{path.name}")


def _value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def read_xlsx(path: Path) -> SubmittedReport:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise InvalidInput(f"无法读取 xlsx 报告 {path}：{type(exc).__name__}") from None
    missing = [s for s in (SHEET_T3, SHEET_T4) if s not in wb.sheetnames]
    if missing:
        raise InvalidInput(f"{path.name} 不是本系统格式的报告：缺少工作表 {'、'.join(missing)}")
    report = SubmittedReport()
    if SHEET_INFO in wb.sheetnames:
        report.year = _value(wb[SHEET_INFO]["B1"])
    ws = wb[SHEET_T3]
    for i, line in enumerate(TABLE3_LINES):
        r = T3_FIRST_ROW + i
        values = []
        for j, column in enumerate(TABLE3_COLUMNS):
            cell = ws.cell(r, T3_FIRST_COL + j)
            values.append(_value(cell))
            report.where[f"table3.{line.key}.{column}"] = f"{SHEET_T3}!{get_column_letter(T3_FIRST_COL + j)}{r}"
        report.table3[line.key] = values
    for j, column in enumerate(TABLE3_COLUMNS):
        letter = get_column_letter(T3_FIRST_COL + j)
        report.where[f"table3.balance.{column}"] = f"{SHEET_T3}!{letter}{T3_FIRST_ROW}:{letter}{r}"
    ws4 = wb[SHEET_T4]
    for k, kind in enumerate(AppealKind):
        values = []
        for j, column in enumerate(TABLE4_COLUMNS):
            col = 1 + k * len(TABLE4_COLUMNS) + j
            values.append(_value(ws4.cell(T4_ROW, col)))
            report.where[f"table4.{kind.value}.{column}"] = f"{SHEET_T4}!{get_column_letter(col)}{T4_ROW}"
        report.table4[kind.value] = values
    return report
