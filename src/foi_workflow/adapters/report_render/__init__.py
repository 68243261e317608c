"""Renderers of the annual report: md, html (printable, with a month chart), json, xlsx,
docx and pdf. Each takes a `domain.report.AnnualReport`; heavy libraries load only in the
format that needs them."""

from __future__ import annotations

import json

from foi_workflow.domain.report import AnnualReport

FORMATS: tuple[str, ...] = ("md", "html", "json", "xlsx", "docx", "pdf")


def render_json(report: AnnualReport) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n"


def render(report: AnnualReport, fmt: str) -> str | bytes:
    """The report in `fmt`: text for md, html and json; bytes for xlsx, docx and pdf."""
    if fmt == "md":
        from foi_workflow.adapters.report_render.markdown import render_markdown

        return render_markdown(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        from foi_workflow.adapters.report_render.html import render_html

        return render_html(report)
    if fmt == "xlsx":
        from foi_workflow.adapters.report_render.xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "docx":
        from foi_workflow.adapters.report_render.docx import render_docx

        return render_docx(report)
    if fmt == "pdf":
        from foi_workflow.adapters.report_render.pdf import render_pdf

        return render_pdf(report)
    raise ValueError(f"unknown report format {fmt!r}")
