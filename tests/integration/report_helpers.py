"""Helpers for the report tests: case and appeal projection rows written straight into the
tables (the report reads only the projection), and a parser of the national layout's
tables in Markdown or in the reference report's tab-separated text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from foi_workflow.adapters.models import Agency, Appeal, Case


@dataclass(frozen=True)
class CaseRow:
    id: str
    applicant_type: str
    received_on: date
    decided_on: date | None = None
    outcome: str | None = None
    agency: str = "default"
    on_time: bool | None = None
    reply_due: date | None = None


def ensure_agencies(engine: Engine, agencies: Sequence[str]) -> None:
    with engine.begin() as conn:
        existing = set(conn.execute(select(Agency.__table__.c.code)).scalars())  # type: ignore[attr-defined]
        new = [{"code": a, "name": a} for a in agencies if a not in existing]
        if new:
            conn.execute(insert(Agency), new)


def insert_cases(engine: Engine, rows: Iterable[CaseRow], agencies: Sequence[str] = ("default",)) -> None:
    ensure_agencies(engine, agencies)
    with engine.begin() as conn:
        values = [
            {
                "id": r.id, "agency": r.agency, "applicant": "申请人", "applicant_type": r.applicant_type,
                "channel": "online", "received_on": r.received_on, "decided_on": r.decided_on,
                "outcome": r.outcome, "state": "decided" if r.decided_on else "received",
                "on_time": r.on_time, "reply_due": r.reply_due,
                "last_event_on": r.decided_on or r.received_on, "version": 1,
            }
            for r in rows
        ]
        if values:
            conn.execute(insert(Case), values)


def insert_appeal(engine: Engine, appeal_id: str, kind: str, filed_on: date, concluded_on: date | None = None,
                  result: str | None = None, agency: str = "default") -> None:
    ensure_agencies(engine, [agency])
    with engine.begin() as conn:
        conn.execute(insert(Appeal), [{
            "id": appeal_id, "agency": agency, "kind": kind, "filed_on": filed_on,
            "concluded_on": concluded_on, "result": result,
            "state": "concluded" if concluded_on else "pending", "version": 1,
        }])


NUMBER = re.compile(r"^\d+(\.\d+)?$")


def table_cells(text: str) -> list[tuple[str, list[str]]]:
    """Every line of a table that ends in figures, as (its last label, the figures), in order.

    Works on pipe tables and on tab-separated text alike: merged label cells are empty, and
    the label of a line is its last non-empty, non-numeric cell.
    """
    out: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        if "|" in raw:
            if set(raw.replace("|", "").strip()) <= {"-"}:
                continue
            cells = [c.strip() for c in raw.strip().strip("|").split("|")]
        elif "\t" in raw:
            cells = [c.strip() for c in raw.split("\t")]
        else:
            continue
        cells = [c for c in cells if c]
        figures: list[str] = []
        while cells and NUMBER.match(cells[-1]):
            figures.insert(0, cells.pop())
        if figures:
            out.append((cells[-1] if cells else "", figures))
    return out


def sections(text: str, titles: Sequence[str]) -> dict[str, str]:
    """The text of each section, found by its title (markup around titles ignored)."""
    positions = []
    for title in titles:
        match = re.search(r"^[#*\s]*" + re.escape(title) + r"[*\s]*$", text, re.MULTILINE)
        assert match, f"section {title} not found"
        positions.append((match.start(), match.end(), title))
    positions.sort()
    result = {}
    for i, (_, end, title) in enumerate(positions):
        stop = positions[i + 1][0] if i + 1 < len(positions) else len(text)
        result[title] = text[end:stop]
    return result
