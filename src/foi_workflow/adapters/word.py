"""What both Word documents (the notice letters and the annual report) need of python-docx
beyond its API: the font of Chinese text."""

from __future__ import annotations

from typing import Any


def set_east_asian_font(run_or_style: Any, name: str) -> None:
    """Use font `name` for the East Asian characters of a run or style: python-docx's
    `font.name` sets only the Latin one, and Word would show Chinese text in its default."""
    from docx.oxml.ns import qn

    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
