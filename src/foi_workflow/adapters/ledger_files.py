"""Ledger files (登记台账, SPEC §14) on disk: an xlsx workbook (openpyxl) or a CSV file read
into rows of cell values, and the export's rows written back as either.

Reading keeps what Excel gives (real dates, numbers, text) and fills merged cells with their
value, so a heading merged over two rows or a caseworker merged down a block reads in every
cell it covers. Writing makes the file open cleanly in Excel: a frozen header row, column
widths, real dates; CSV in UTF-8 with a BOM; and text that Excel would run as a formula
(= + - @) written as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from foi_workflow.domain.ledger_values import FORMULA_STARTS, guard_formula
from foi_workflow.errors import InvalidInput

FORMATS = ("xlsx", "csv")
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Sheet:
    """A ledger's cells, row by row (rows[0] is the spreadsheet's row 1)."""

    name: str
    rows: list[list[Any]]


def read_ledger_file(path: Path, sheet: str | None = None) -> Sheet:
    """The cells of an xlsx workbook's sheet (`sheet`, else the first) or of a CSV file."""
    if not path.is_file():
        raise InvalidInput(f"找不到台账文件 {path}")
    suffix = path.suffix.lower()
    if suffix in _XLSX_SUFFIXES:
        return _read_xlsx(path, sheet)
    if suffix in (".csv", ".txt"):
        return Sheet(path.name, _read_csv(path))
    if suffix == ".xls":
        raise InvalidInput(f"{path.name} 是旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    raise InvalidInput(f"{path.name}：台账应为 .xlsx 或 .csv 文件")


def _read_xlsx(path: Path, sheet: str | None) -> Sheet:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        # data_only: a formula cell reads as the value Excel last computed for it.
        workbook = load_workbook(path, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InvalidInput(f"无法读取 {path.name}：不是有效的 xlsx 文件（{type(exc).__name__}）") from None
    if sheet is not None and sheet not in workbook.sheetnames:
        raise InvalidInput(f"{path.name} 中没有名为“{sheet}”的工作表；现有：{'、'.join(workbook.sheetnames)}")
    ws = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    for merged in ws.merged_cells.ranges:
        value = ws.cell(merged.min_row, merged.min_col).value
        for r in range(merged.min_row, min(merged.max_row, len(rows)) + 1):
            cells = rows[r - 1]
            cells.extend([None] * (merged.max_col - len(cells)))
            for c in range(merged.min_col, merged.max_col + 1):
                cells[c - 1] = value
    return Sheet(ws.title, rows)


def _read_csv(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    # Excel writes "CSV UTF-8" with a BOM, and plain "CSV" in the system's code page, which on
    # a Chinese Windows is GBK (GB18030 reads it and more).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(f"{path.name}：无法识别文件编码（应为 UTF-8 或 GBK）")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]


# --------------------------------------------------------------------------- writing


def _width(header: str, values: Sequence[Any]) -> float:
    """A column width that shows the header and typical values (a CJK character is ~2 units)."""

    def units(value: Any) -> int:
        if isinstance(value, date):
            return 10
        text = str(value) if value is not None else ""
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    longest = max([units(header), *(units(v) for v in values[:500])])
    return float(min(max(longest + 2, 8), 50))


def write_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str) -> bytes:
    """An xlsx workbook of one sheet: bold frozen header row, widths, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    ws = workbook.active
    ws.title = title[:31]  # Excel's limit for a sheet name
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c, value)
            if isinstance(value, date):
                cell.number_format = _DATE_FORMAT
            elif isinstance(value, str) and value.startswith(FORMULA_STARTS):
                # Text, never a formula: openpyxl would store "=…" as one, and Excel would run it.
                cell.data_type = "s"
                cell.quotePrefix = True
    ws.freeze_panes = "A2"
    for c, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(c)].width = _width(header, [row[c - 1] for row in rows])
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel reads it as UTF-8), dates ISO, formula-like text made
    inert with a leading apostrophe (which `foi ledger import` takes off again)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            [v.isoformat() if isinstance(v, date) else guard_formula(v) if isinstance(v, str) else
             "" if v is None else v for v in row]
        )  # fmt: skip
    return out.getvalue().encode("utf-8-sig")
