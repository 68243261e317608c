"""The report as a printable HTML page: the national tables with merged cells as on paper,
the narrative, and the timeliness section with an inline SVG chart of cases received and
decided per month (WeasyPrint prints the same page to PDF)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from foi_workflow.adapters.report_render import layout
from foi_workflow.adapters.report_render.markdown import MONTHS, section_text, timeliness_lines, title
from foi_workflow.adapters.report_render.text import paragraphs, segments
from foi_workflow.domain.report import AnnualReport
from foi_workflow.domain.vocabulary import AppealKind

CSS = """
@page { size: A4; margin: 20mm 16mm; @bottom-center { content: counter(page); font-size: 9pt; } }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", serif;
       font-size: 11pt; line-height: 1.7; color: #000; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 17pt; text-align: center; margin: 0 0 1em; }
h2 { page-break-after: avoid; font-size: 13pt; margin: 1.2em 0 0.5em; font-family: "Noto Sans CJK SC", sans-serif; }
p { text-indent: 2em; margin: 0.3em 0; text-align: justify; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1em; page-break-inside: auto; }
th, td { border: 0.6pt solid #000; padding: 2pt 3pt; font-size: 9pt; line-height: 1.35; }
th { font-weight: normal; }
td.n { text-align: center; width: 3.2em; }
table.t3 th.l1 { width: 4.5em; } table.t3 th.l2 { width: 6em; } table.t3 th.l3 { text-align: left; width: 15em; }
table.t3 td.n { width: 2.6em; }
thead th { text-align: center; }
.note { font-size: 9pt; color: #333; text-indent: 0; }
.diff { color: #a00; }
ul { margin: 0.3em 0 0.6em 1.5em; padding: 0; }
svg text { font-family: "Noto Sans CJK SC", sans-serif; font-size: 10px; }
svg.chart { width: 100%; height: auto; page-break-inside: avoid; }
@media print { a { color: #000; text-decoration: none; } }
"""


def _text(text: str) -> str:
    out = []
    for para in paragraphs(text):
        parts = []
        for seg in segments(para):
            piece = escape(seg.text)
            if seg.bold:
                piece = f"<strong>{piece}</strong>"
            if seg.link:
                piece = f'<a href="{escape(seg.link, quote=True)}">{piece}</a>'
            parts.append(piece)
        out.append(f"<p>{''.join(parts)}</p>")
    return "\n".join(out)


def _th(text: str, cls: str = "", rowspan: int = 1, colspan: int = 1) -> str:
    attrs = ""
    if cls:
        attrs += f' class="{cls}"'
    if rowspan > 1:
        attrs += f' rowspan="{rowspan}"'
    if colspan > 1:
        attrs += f' colspan="{colspan}"'
    return f"<th{attrs}>{escape(text)}</th>"


def _row(*cells: str) -> str:
    return f"<tr>{''.join(cells)}</tr>"


def _tds(values: Sequence[object]) -> str:
    return "".join(f'<td class="n">{escape(str(v))}</td>' for v in values)


def table2_html(report: AnnualReport) -> str:
    rows = []
    for block in layout.table2_blocks(report.inputs.table2):
        rows.append(f"<tr>{_th(block.article, colspan=4)}</tr>")
        heads = list(block.headers)
        rows.append("<tr>" + "".join(_th(h) for h in heads[:-1])
                    + _th(heads[-1], colspan=4 - len(heads) + 1) + "</tr>")
        for label, values in block.rows:
            cells = list(values)
            last = f'<td class="n" colspan="{4 - len(cells)}">{escape(cells[-1])}</td>' if len(cells) < 3 else ""
            body = _tds(cells) if len(cells) == 3 else _tds(cells[:-1]) + last
            rows.append(f"<tr>{_th(label)}{body}</tr>")
    return f'<table class="t2"><tbody>{"".join(rows)}</tbody></table>'


def table3_html(report: AnnualReport) -> str:
    t3 = report.figures.table3
    applicant, *legal_persons = layout.TYPE_LABELS
    head = (
        _row(_th(layout.BALANCE_NOTE, rowspan=3, colspan=3), _th(layout.APPLICANT_HEADER, colspan=7))
        + _row(_th(applicant, rowspan=2), _th(layout.LEGAL_PERSON_HEADER, colspan=5), _th(layout.TOTAL, rowspan=2))
        + _row(*map(_th, legal_persons))
    )
    spans = dict(layout.section_spans())
    first_result, result_rows = layout.RESULT_BLOCK
    body = []
    for i, line in enumerate(layout.TABLE3_LINES):
        cells = ""
        if line.key in ("received", "carried_in", "carried_out"):
            cells = _th(line.level1, "l3", colspan=3)
        else:
            if i == first_result:
                cells += _th(line.level1, "l1", rowspan=result_rows)
            if not line.level3:
                cells += _th(line.level2, "l3", colspan=2)
            else:
                if i in spans:
                    cells += _th(line.level2, "l2", rowspan=spans[i])
                cells += _th(line.level3, "l3")
        body.append(f"<tr>{cells}{_tds(t3.rows[line.key])}</tr>")
    return f'<table class="t3"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def table4_html(report: AnnualReport) -> str:
    t4 = report.figures.table4
    head = (
        _row(_th(layout.TABLE4_REVIEW, rowspan=2, colspan=5), _th(layout.TABLE4_LITIGATION, colspan=10))
        + _row(*(_th(block, colspan=5) for block in layout.TABLE4_SUBBLOCKS))
        + _row(*map(_th, layout.TABLE4_RESULTS * 3))
    )
    figures = [v for kind in AppealKind for v in t4.rows[kind.value]]
    return f'<table class="t4"><thead>{head}</thead><tbody><tr>{_tds(figures)}</tr></tbody></table>'


def month_chart(received: Sequence[int], decided: Sequence[int]) -> str:
    """A bar chart, two bars per month, as inline SVG (no script, prints as is)."""
    width, height, left, bottom, top = 640, 240, 34, 44, 14
    plot_h = height - bottom - top
    step = (width - left - 10) / 12
    tick = max(1, -(-max([*received, *decided, 1]) // 4))  # whole-number gridlines
    peak = tick * 4
    scale = plot_h / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="每月新收与办结件数" class="chart">'
             '<g font-family="Noto Sans CJK SC, sans-serif" font-size="10">']
    for k in range(5):  # gridlines
        value = tick * k
        y = height - bottom - value * scale
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                     'stroke="#ccc" stroke-width="0.5"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{value:.0f}</text>')
    bar = step * 0.34
    for m in range(12):
        x0 = left + m * step + step * 0.14
        for j, (series, colour) in enumerate(((received, "#3b6ea8"), (decided, "#d08a2c"))):
            h = series[m] * scale
            x = x0 + j * bar
            what = "新收" if j == 0 else "办结"
            parts.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{MONTHS[m]} {what} {series[m]}</title></rect>')
        parts.append(f'<text x="{x0 + bar:.1f}" y="{height - bottom + 13}" text-anchor="middle">{MONTHS[m]}</text>')
    parts.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#000"/>')
    legend_y = height - 6
    parts.append(f'<rect x="{left}" y="{legend_y - 8}" width="10" height="8" fill="#3b6ea8"/>'
                 f'<text x="{left + 14}" y="{legend_y}">新收申请</text>'
                 f'<rect x="{left + 80}" y="{legend_y - 8}" width="10" height="8" fill="#d08a2c"/>'
                 f'<text x="{left + 94}" y="{legend_y}">办结申请</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def render_html(report: AnnualReport) -> str:
    t = report.timeliness
    head = escape(title(report))
    months = ("<table class=\"months\"><tbody><tr>" + _th("月份") + "".join(_th(m) for m in MONTHS) + "</tr>"
              f"<tr>{_th('新收')}{_tds(t.received_by_month)}</tr>"
              f"<tr>{_th('办结')}{_tds(t.decided_by_month)}</tr></tbody></table>")
    sections = [
        f"<h1>{head}</h1>",
        _text(section_text(report, "preface")),
        f"<h2>{layout.SECTION_TITLES[0]}</h2>", _text(section_text(report, "overview")),
        f"<h2>{layout.SECTION_TITLES[1]}</h2>", table2_html(report),
        f"<h2>{layout.SECTION_TITLES[2]}</h2>", table3_html(report),
        f"<h2>{layout.SECTION_TITLES[3]}</h2>", table4_html(report),
        f"<h2>{layout.SECTION_TITLES[4]}</h2>", _text(section_text(report, "problems")),
        f"<h2>{layout.SECTION_TITLES[5]}</h2>", _text(section_text(report, "other_matters")),
        f"<h2>{layout.TIMELINESS_TITLE}</h2>",
        "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in timeliness_lines(report)) + "</ul>",
        month_chart(t.received_by_month, t.decided_by_month),
        months,
    ]
    if report.frozen_differences:
        sections.append(f"<h2 class=\"diff\">{layout.DIFF_TITLE}</h2>")
        sections.append("<ul class=\"diff\">" + "".join(
            f"<li>{escape(d.line())}</li>" for d in report.frozen_differences) + "</ul>")
    body = "\n".join(s for s in sections if s)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{head}</title>'
            f"<style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")
