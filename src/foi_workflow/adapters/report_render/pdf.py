"""The report as PDF: the printable HTML through WeasyPrint, with the Noto CJK font
embedded (subset) so the Chinese text prints and extracts anywhere."""

from __future__ import annotations

from foi_workflow.adapters.report_render.html import render_html
from foi_workflow.domain.report import AnnualReport


def render_pdf(report: AnnualReport) -> bytes:
    from weasyprint import HTML

    data = HTML(string=render_html(report)).write_pdf()
    assert isinstance(data, bytes)
    return data
