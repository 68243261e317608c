"""What the letter tests share: an in-memory case and its history, rendered into the text and
HTML letters with the project's templates (no database), and the text layer of a PDF."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path
from typing import Any

from foi_workflow.adapters.models import Case, Event
from foi_workflow.adapters.notices import renderer_for
from foi_workflow.config import Agency
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockSettings
from foi_workflow.domain.vocabulary import NoticeKind
from foi_workflow.resources import CONFIG_DIR
from foi_workflow.services.notice_context import Sources, build_context
from foi_workflow.services.notices import template_names

CALENDAR = WorkCalendar.load(CONFIG_DIR / "calendar")
AGENCY = Agency(
    code="lr", name="乐清市融媒体中心", short_name="乐融", address="乐清市伯乐东路1号",
    phone="0577-61234567", postcode="325600", review_body="乐清市人民政府",
)  # fmt: skip
CASE_ID = "2024-00007"


def history(received: date, *steps: tuple[str, date, dict[str, Any]]) -> list[Event]:
    events = [Event(case_id=CASE_ID, event="receive", on=received, data={}, seq=1)]
    for i, (name, on, data) in enumerate(steps, start=2):
        events.append(Event(case_id=CASE_ID, event=name, on=on, data=data, seq=i))
    return events


def render(kind: NoticeKind, events: list[Event], *, agency: Agency = AGENCY) -> tuple[str, str]:
    """The text and HTML letter of `kind` for the case whose history is `events`."""
    received = events[0].on
    case = Case(
        id=CASE_ID, agency=agency.code, state="received", applicant="张三", applicant_type="natural_person",
        request="某路段道路维修合同", received_on=received, last_event_on=received, channel="online",
    )  # fmt: skip
    src = Sources(case=case, events=events, agency=agency, calendar=CALENDAR, settings=ClockSettings())
    ctx = build_context(src, kind, number="乐融公开〔2024〕3号", dated=events[-1].on)
    renderer = renderer_for(None)
    txt, html = template_names(kind)
    return renderer.render(txt, ctx), renderer.render(html, ctx)


def flat(text: str) -> str:
    """Text without the line breaks and spaces a layout adds (PDF text layers, wrapped lines)."""
    return "".join(text.split())


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "letter.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return flat(out)
