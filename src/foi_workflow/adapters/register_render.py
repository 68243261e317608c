"""The 发文登记簿 (SPEC §12) printed: Markdown, CSV, an Excel workbook and JSON, all from the
same entries and the same columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from foi_workflow.domain.boundary import looks_like_formula, spreadsheet_text
from foi_workflow.domain.vocabulary import NoticeKind

if TYPE_CHECKING:
    from foi_workflow.services.letters import RegisterEntry

FORMATS = ("md", "csv", "xlsx", "json")
HEADERS = ("文号", "日期", "种类", "案件编号", "收件人", "状态", "出具人", "备注")


def _cells(entry: RegisterEntry) -> tuple[str, ...]:
    return (entry.number, entry.on.isoformat(), NoticeKind.label_of(entry.kind), entry.case, entry.addressee,
            entry.status.label, entry.by, entry.note)  # fmt: skip


def title(year: int, agency_name: str) -> str:
    return f"{agency_name}发文登记簿（{year}年）"


def _markdown(entries: Sequence[RegisterEntry], heading: str) -> str:
    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    lines = [f"# {heading}", "", f"共 {len(entries)} 份。", "", row(HEADERS), row(["---"] * len(HEADERS))]
    lines.extend(row(_cells(e)) for e in entries)
    return "\n".join(lines) + "\n"


def _csv(entries: Sequence[RegisterEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    # An applicant's name such as `=HYPERLINK(...)` must stay text in Excel or WPS.
    writer.writerows([spreadsheet_text(c) for c in _cells(e)] for e in entries)
    return out.getvalue()


def _xlsx(entries: Sequence[RegisterEntry], heading: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "发文登记簿"
    sheet.append([heading])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for entry in entries:
        sheet.append(list(_cells(entry)))
        for cell in sheet[sheet.max_row]:
            if looks_like_formula(cell.value):
                cell.data_type = "s"  # data, never a formula
    for letter, width in zip("ABCDEFGH", (24, 12, 26, 18, 24, 8, 12, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_register(entries: Sequence[RegisterEntry], fmt: str, *, year: int, agency_name: str) -> bytes:
    """The register in `fmt` (one of FORMATS)."""
    heading = title(year, agency_name)
    if fmt == "md":
        return _markdown(entries, heading).encode("utf-8")
    if fmt == "csv":
        return _csv(entries).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx(entries, heading)
    if fmt == "json":
        return (json.dumps([e.as_json() for e in entries], ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    raise ValueError(fmt)
