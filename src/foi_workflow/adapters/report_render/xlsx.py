"""The report as an Excel workbook (openpyxl): tables 2, 3 and 4 on their own sheets with
the header cells merged as on the paper form, a sheet of timeliness figures, and a 说明
sheet with the year and agency. `reading.py` reads table 3 and 4 back for `foi report check`."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from foi_workflow.adapters.report_render.layout import (
    APPLICANT_HEADER,
    BALANCE_NOTE,
    LEGAL_PERSON_HEADER,
    RESULT_BLOCK,
    TABLE3_LINES,
    TABLE4_LITIGATION,
    TABLE4_RESULTS,
    TABLE4_REVIEW,
    TABLE4_SUBBLOCKS,
    TOTAL,
    TYPE_LABELS,
    section_spans,
    table2_blocks,
)
from foi_workflow.adapters.report_render.markdown import MONTHS, title
from foi_workflow.domain.boundary import looks_like_formula
from foi_workflow.domain.report import AnnualReport
from foi_workflow.domain.vocabulary import TABLE3_COLUMNS, AppealKind, chinese_date

# Where the figures sit (1-based rows, columns) — shared with reading.py.
SHEET_INFO, SHEET_T2, SHEET_TIME = "说明", "表二 主动公开", "办理时效"
SHEET_T3, SHEET_T4 = "表三 依申请公开", "表四 复议诉讼"
T3_FIRST_ROW = 5  # the row of "一、本年新收…"
T3_FIRST_COL = 4  # column D: 自然人
T4_ROW = 5


def _style(ws: Any, first_row: int, last_row: int, last_col: int) -> None:
    from openpyxl.styles import Alignment, Border, Font, Side

    side = Side(style="thin")
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=last_col):
        for cell in row:
            cell.border = Border(left=side, right=side, top=side, bottom=side)
            cell.alignment = Alignment(wrap_text=True, vertical="center",
                                       horizontal="center" if isinstance(cell.value, int) else "left")
            cell.font = Font(name="宋体", size=10)


def _table3(ws: Any, report: AnnualReport) -> None:
    ws.append([f"{title(report)} — 三、收到和处理政府信息公开申请情况"])
    ws.cell(2, 1, BALANCE_NOTE)
    ws.merge_cells(start_row=2, start_column=1, end_row=4, end_column=3)
    ws.cell(2, T3_FIRST_COL, APPLICANT_HEADER)
    ws.merge_cells(start_row=2, start_column=T3_FIRST_COL, end_row=2, end_column=T3_FIRST_COL + 6)
    ws.cell(3, T3_FIRST_COL, TYPE_LABELS[0])
    ws.merge_cells(start_row=3, start_column=T3_FIRST_COL, end_row=4, end_column=T3_FIRST_COL)
    ws.cell(3, T3_FIRST_COL + 1, LEGAL_PERSON_HEADER)
    ws.merge_cells(start_row=3, start_column=T3_FIRST_COL + 1, end_row=3, end_column=T3_FIRST_COL + 5)
    ws.cell(3, T3_FIRST_COL + 6, TOTAL)
    ws.merge_cells(start_row=3, start_column=T3_FIRST_COL + 6, end_row=4, end_column=T3_FIRST_COL + 6)
    for j, label in enumerate(TYPE_LABELS[1:]):
        ws.cell(4, T3_FIRST_COL + 1 + j, label)
    spans = dict(section_spans())
    first_result, result_rows = RESULT_BLOCK
    for i, line in enumerate(TABLE3_LINES):
        r = T3_FIRST_ROW + i
        for j, value in enumerate(report.figures.table3.rows[line.key]):
            ws.cell(r, T3_FIRST_COL + j, value)
        if line.key in ("received", "carried_in", "carried_out"):
            ws.cell(r, 1, line.level1)
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
            continue
        if i == first_result:
            ws.cell(r, 1, line.level1)
            ws.merge_cells(start_row=r, start_column=1, end_row=r + result_rows - 1, end_column=1)
        if not line.level3:
            ws.cell(r, 2, line.level2)
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
        else:
            if i in spans:
                ws.cell(r, 2, line.level2)
                ws.merge_cells(start_row=r, start_column=2, end_row=r + spans[i] - 1, end_column=2)
            ws.cell(r, 3, line.level3)
    last = T3_FIRST_ROW + len(TABLE3_LINES) - 1
    _style(ws, 2, last, T3_FIRST_COL + 6)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 40


def _table4(ws: Any, report: AnnualReport) -> None:
    ws.append([f"{title(report)} — 四、政府信息公开行政复议、行政诉讼情况"])
    ws.cell(2, 1, TABLE4_REVIEW)
    ws.merge_cells(start_row=2, start_column=1, end_row=3, end_column=5)
    ws.cell(2, 6, TABLE4_LITIGATION)
    ws.merge_cells(start_row=2, start_column=6, end_row=2, end_column=15)
    ws.cell(3, 6, TABLE4_SUBBLOCKS[0])
    ws.merge_cells(start_row=3, start_column=6, end_row=3, end_column=10)
    ws.cell(3, 11, TABLE4_SUBBLOCKS[1])
    ws.merge_cells(start_row=3, start_column=11, end_row=3, end_column=15)
    for j, label in enumerate(TABLE4_RESULTS * 3):
        ws.cell(4, 1 + j, label)
    figures = [v for kind in AppealKind for v in report.figures.table4.rows[kind.value]]
    for j, value in enumerate(figures):
        ws.cell(T4_ROW, 1 + j, value)
    _style(ws, 2, T4_ROW, 15)


def _table2(ws: Any, report: AnnualReport) -> None:
    ws.append([f"{title(report)} — 二、主动公开政府信息情况"])
    for block in table2_blocks(report.inputs.table2):
        ws.append([block.article])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=4)
        ws.append(list(block.headers))
        for label, values in block.rows:
            ws.append([label, *(float(v) if "." in v else int(v) for v in values)])
    _style(ws, 2, ws.max_row, 4)
    ws.column_dimensions["A"].width = 20
    for col in "BCD":
        ws.column_dimensions[col].width = 16


def _texts_as_text(wb: Any) -> None:
    """openpyxl stores a string starting with "=" as a formula: an agency name or a report
    input from a file (SPEC's texts, the agency's config) is data, so every such cell is text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if looks_like_formula(cell.value):
                    cell.data_type = "s"


def render_xlsx(report: AnnualReport) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    info = wb.active
    info.title = SHEET_INFO
    info.append(["年度", report.year])
    info.append(["机关代码", report.agency_code])
    info.append(["机关名称", report.agency_name])
    info.append(["勾稽关系平衡", "是" if report.figures.balanced else "否"])
    info.append(["列代码", *TABLE3_COLUMNS])
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 28
    _table2(wb.create_sheet(SHEET_T2), report)
    _table3(wb.create_sheet(SHEET_T3), report)
    _table4(wb.create_sheet(SHEET_T4), report)
    ws = wb.create_sheet(SHEET_TIME)
    t = report.timeliness
    ws.append(["本年办结", t.decided])
    ws.append(["按期答复", t.on_time])
    ws.append(["按期答复率", t.on_time_rate])  # a number the sheet can compute with, shown as 75.0%
    ws.cell(ws.max_row, 2).number_format = "0.0%"
    ws.append(["以送达记录为准", t.served])
    ws.append(["未记录送达", t.unserved])
    ws.append(["答复工作日数中位数", t.median_working_days])
    ws.append(["超期答复", t.decided_late])
    ws.append([f"截至{chinese_date(report.as_of)}超期未办结", t.overdue_open])
    ws.append([])
    ws.append(["月份", *MONTHS])
    ws.append(["新收", *t.received_by_month])
    ws.append(["办结", *t.decided_by_month])
    ws.column_dimensions["A"].width = 26
    _texts_as_text(wb)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
