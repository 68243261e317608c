"""The report as a Word document (python-docx): the same sections and tables as the
printable HTML, merged header cells as on paper, Chinese text in a CJK font."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from foi_workflow.adapters.report_render import layout
from foi_workflow.adapters.report_render.markdown import MONTHS, section_text, timeliness_lines, title
from foi_workflow.adapters.report_render.text import paragraphs, segments
from foi_workflow.adapters.word import set_east_asian_font
from foi_workflow.domain.report import AnnualReport
from foi_workflow.domain.vocabulary import AppealKind

FONT = "Noto Serif CJK SC"


def _east_asian(run_or_style: Any, name: str = FONT) -> None:
    run_or_style.font.name = name
    set_east_asian_font(run_or_style, name)


def _text(doc: Any, text: str) -> None:
    for para in paragraphs(text):
        p = doc.add_paragraph()
        for seg in segments(para):
            run = p.add_run(seg.text)
            run.bold = seg.bold or None
            _east_asian(run)


class _Grid:
    """Writes a table's cells first and merges them last: python-docx looks each cell up by
    walking the whole table, so `table.cell()` per cell is quadratic (seconds for table 3)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.cols = len(table.columns)
        self.cells = list(table._cells)  # row-major, before any merge
        self.merges: list[tuple[int, int, int, int]] = []

    def set(self, r: int, c: int, text: str, *, r2: int | None = None, c2: int | None = None) -> None:
        self.cells[r * self.cols + c].text = text
        if r2 is not None or c2 is not None:
            self.merges.append((r, c, r if r2 is None else r2, c if c2 is None else c2))

    def finish(self) -> None:
        for r, c, r2, c2 in self.merges:
            self.cells[r * self.cols + c].merge(self.cells[r2 * self.cols + c2])
        _small(self.table)


def _small(table: Any) -> None:
    from docx.shared import Pt

    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8)
                    _east_asian(run)


def _table2(doc: Any, report: AnnualReport) -> None:
    blocks = layout.table2_blocks(report.inputs.table2)
    nrows = sum(2 + len(b.rows) for b in blocks)
    table = doc.add_table(rows=nrows, cols=4)
    table.style = "Table Grid"
    g = _Grid(table)
    r = 0
    for block in blocks:
        g.set(r, 0, block.article, c2=3)
        r += 1
        heads = list(block.headers)
        for j, h in enumerate(heads[:-1]):
            g.set(r, j, h)
        g.set(r, len(heads) - 1, heads[-1], c2=3)
        r += 1
        for label, values in block.rows:
            g.set(r, 0, label)
            for j, v in enumerate(values[:-1]):
                g.set(r, 1 + j, v)
            g.set(r, len(values), values[-1], c2=3)
            r += 1
    g.finish()


def _table3(doc: Any, report: AnnualReport) -> None:
    lines = layout.TABLE3_LINES
    table = doc.add_table(rows=3 + len(lines), cols=10)
    table.style = "Table Grid"
    g = _Grid(table)
    g.set(0, 0, layout.BALANCE_NOTE, r2=2, c2=2)
    g.set(0, 3, layout.APPLICANT_HEADER, c2=9)
    g.set(1, 3, layout.TYPE_LABELS[0], r2=2)
    g.set(1, 4, layout.LEGAL_PERSON_HEADER, c2=8)
    g.set(1, 9, layout.TOTAL, r2=2)
    for j, label in enumerate(layout.TYPE_LABELS[1:]):
        g.set(2, 4 + j, label)
    spans = dict(layout.section_spans())
    first_result, result_rows = layout.RESULT_BLOCK
    for i, line in enumerate(lines):
        r = 3 + i
        for j, v in enumerate(report.figures.table3.rows[line.key]):
            g.set(r, 3 + j, str(v))
        if line.key in ("received", "carried_in", "carried_out"):
            g.set(r, 0, line.level1, c2=2)
            continue
        if i == first_result:
            g.set(r, 0, line.level1, r2=r + result_rows - 1)
        if not line.level3:
            g.set(r, 1, line.level2, c2=2)
        else:
            if i in spans:
                g.set(r, 1, line.level2, r2=r + spans[i] - 1)
            g.set(r, 2, line.level3)
    g.finish()


def _table4(doc: Any, report: AnnualReport) -> None:
    table = doc.add_table(rows=4, cols=15)
    table.style = "Table Grid"
    g = _Grid(table)
    g.set(0, 0, layout.TABLE4_REVIEW, r2=1, c2=4)
    g.set(0, 5, layout.TABLE4_LITIGATION, c2=14)
    g.set(1, 5, layout.TABLE4_SUBBLOCKS[0], c2=9)
    g.set(1, 10, layout.TABLE4_SUBBLOCKS[1], c2=14)
    for j, label in enumerate(layout.TABLE4_RESULTS * 3):
        g.set(2, j, label)
    figures = [v for kind in AppealKind for v in report.figures.table4.rows[kind.value]]
    for j, v in enumerate(figures):
        g.set(3, j, str(v))
    g.finish()


def render_docx(report: AnnualReport) -> bytes:
    from docx import Document

    doc = Document()
    _east_asian(doc.styles["Normal"])
    for style in ("Title", "Heading 1", "Heading 2"):
        _east_asian(doc.styles[style], "Noto Sans CJK SC")
    doc.add_heading(title(report), level=0)
    _text(doc, section_text(report, "preface"))
    doc.add_heading(layout.SECTION_TITLES[0], level=1)
    _text(doc, section_text(report, "overview"))
    doc.add_heading(layout.SECTION_TITLES[1], level=1)
    _table2(doc, report)
    doc.add_heading(layout.SECTION_TITLES[2], level=1)
    _table3(doc, report)
    doc.add_heading(layout.SECTION_TITLES[3], level=1)
    _table4(doc, report)
    doc.add_heading(layout.SECTION_TITLES[4], level=1)
    _text(doc, section_text(report, "problems"))
    doc.add_heading(layout.SECTION_TITLES[5], level=1)
    _text(doc, section_text(report, "other_matters"))
    doc.add_heading(layout.TIMELINESS_TITLE, level=1)
    for line in timeliness_lines(report):
        _text(doc, line)
    t = report.timeliness
    months = doc.add_table(rows=3, cols=13)
    months.style = "Table Grid"
    g = _Grid(months)
    for j, cell_text in enumerate(["月份", *MONTHS]):
        g.set(0, j, cell_text)
    for i, (label, series) in enumerate((("新收", t.received_by_month), ("办结", t.decided_by_month)), 1):
        g.set(i, 0, label)
        for j, v in enumerate(series):
            g.set(i, 1 + j, str(v))
    g.finish()
    if report.frozen_differences:
        doc.add_heading(layout.DIFF_TITLE, level=1)
        for d in report.frozen_differences:
            _text(doc, d.line())
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
