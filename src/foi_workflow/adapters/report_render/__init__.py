"""Renderers of the annual report: md, html (printable, with a month chart), json, xlsx,
docx and pdf. Each takes a `domain.report.AnnualReport`; heavy libraries load only in the
format that needs them."""

from __future__ import annotations

import json
from importlib import import_module

from foi_workflow.domain.report import AnnualReport

FORMATS: tuple[str, ...] = ("md", "html", "json", "xlsx", "docx", "pdf")


def render_json(report: AnnualReport) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=1) + "\n"


# Each format but json: the module that renders it and its function, imported when asked for.
_RENDERERS = {
    "md": ("markdown", "render_markdown"),
    "html": ("html", "render_html"),
    "xlsx": ("xlsx", "render_xlsx"),
    "docx": ("docx", "render_docx"),
    "pdf": ("pdf", "render_pdf"),
}


def render(report: AnnualReport, fmt: str) -> str | bytes:
    """The report in `fmt`: text for md, html and json; bytes for xlsx, docx and pdf."""
    if fmt == "json":
        return render_json(report)
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}")
    module, function = _RENDERERS[fmt]
    rendered: str | bytes = getattr(import_module(f"{__name__}.{module}"), function)(report)
    return rendered
