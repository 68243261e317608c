"""The light Markdown of the report inputs (paragraphs, **bold**, [text](url), <url>) split
into segments, so every renderer prints the agency's text the same way without trusting it
(no raw HTML passes through)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_INLINE = re.compile(r"\*\*(.+?)\*\*|\[([^\]]+)\]\(((?:https?://|mailto:)[^)\s]+)\)|<((?:https?://|mailto:)[^>\s]+)>")


@dataclass(frozen=True)
class Segment:
    text: str
    bold: bool = False
    link: str | None = None


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; single line breaks inside one are joined."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return [" ".join(line.strip() for line in b.splitlines()).strip() for b in blocks if b.strip()]


def segments(paragraph: str) -> list[Segment]:
    out: list[Segment] = []
    pos = 0
    for match in _INLINE.finditer(paragraph):
        if match.start() > pos:
            out.append(Segment(paragraph[pos:match.start()]))
        bold, label, url, auto = match.groups()
        if bold is not None:
            out.append(Segment(bold, bold=True))
        elif label is not None:
            out.append(Segment(label, link=url))
        else:
            out.append(Segment(auto, link=auto))
        pos = match.end()
    if pos < len(paragraph):
        out.append(Segment(paragraph[pos:]))
    return out


def plain(paragraph: str) -> str:
    """The paragraph as it reads, without markup."""
    return "".join(s.text for s in segments(paragraph))
