"""Helpers for the ledger tests: ledgers written as an agency's Excel or CSV file would be
(title rows merged above the header, group headings, blank rows, notes under the table), and
table 3 as the report gives it and as a test states it by hand."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from foi_workflow.domain.vocabulary import TABLE3_COLUMNS, TABLE3_ROWS
from tests.conftest import Foi


def write_xlsx_ledger(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *,
                      titles: Sequence[str] = (), groups: Mapping[str, tuple[int, int]] | None = None,
                      trailing_blank_rows: int = 0, footer: Sequence[Any] = ()) -> Path:
    """An xlsx ledger: each title on its own row merged across the table, then (with `groups`:
    heading -> first and last 1-based column) a row of group headings merged over their columns
    with the other headings merged down two rows, then the header, the rows, blank rows (cells
    holding nothing but formatting, as Excel leaves them) and a footer row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "2024年"
    width = len(header)
    r = 1
    for title in titles:
        ws.cell(r, 1, title)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    if groups:
        grouped = {c for first, last in groups.values() for c in range(first, last + 1)}
        for heading, (first, last) in groups.items():
            ws.cell(r, first, heading)
            ws.merge_cells(start_row=r, start_column=first, end_row=r, end_column=last)
        for c, text in enumerate(header, start=1):
            if c in grouped:
                ws.cell(r + 1, c, text)
            else:
                ws.cell(r, c, text)
                ws.merge_cells(start_row=r, start_column=c, end_row=r + 1, end_column=c)
        r += 2
    else:
        for c, text in enumerate(header, start=1):
            ws.cell(r, c, text)
        r += 1
    for row in rows:
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
        r += 1
    for _ in range(trailing_blank_rows):
        for c in range(1, width + 1):
            ws.cell(r, c).number_format = "yyyy-mm-dd"  # touched but empty
        r += 1
    for c, value in enumerate(footer, start=1):
        ws.cell(r, c, value)
    wb.save(path)
    return path


def write_csv_ledger(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *,
                     encoding: str = "utf-8-sig", titles: Sequence[str] = (), trailing_blank_rows: int = 0) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for title in titles:
        writer.writerow([title] + [""] * (len(header) - 1))
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    for _ in range(trailing_blank_rows):
        writer.writerow([""] * len(header))
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def table3(foi: Foi, year: int) -> dict[str, list[int]]:
    """Table 3 of `year` from `foi report YEAR --format json`."""
    report = json.loads(foi.ok("report", str(year), "--format", "json"))
    assert report["table3"]["columns"] == list(TABLE3_COLUMNS)
    rows: dict[str, list[int]] = report["table3"]["rows"]
    return rows


def expected_table3(**rows: Sequence[int]) -> dict[str, list[int]]:
    """A table 3 stated by hand: each given row as its six applicant-type cells (the total is
    added), every other row zero. Outcome rows are named with `__` for the dot
    (withheld__state_secret)."""
    table = {key: [0] * len(TABLE3_COLUMNS) for key in TABLE3_ROWS}
    for name, cells in rows.items():
        key = name.replace("__", ".")
        assert key in table, key
        assert len(cells) == len(TABLE3_COLUMNS) - 1
        table[key] = [*cells, sum(cells)]
    return table


def assert_same_table3(actual: Mapping[str, Sequence[int]], expected: Mapping[str, Sequence[int]]) -> None:
    """Cell by cell, naming every cell that differs."""
    wrong = [
        f"{row}/{column}: {actual[row][i]} != {expected[row][i]}"
        for row in TABLE3_ROWS
        for i, column in enumerate(TABLE3_COLUMNS)
        if actual[row][i] != expected[row][i]
    ]
    assert not wrong, "; ".join(wrong)


def case_count(foi: Foi) -> int:
    return len(json.loads(foi.ok("list --format json")))
