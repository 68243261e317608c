"""`foi export` / `foi backup`: everything needed to rebuild the database as JSON Lines, in the
order an import replays it (SPEC §9, §12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import Session, col

from foi_workflow.adapters.db import require_schema
from foi_workflow.adapters.models import Event
from foi_workflow.services import letters
from foi_workflow.services.app import App
from foi_workflow.services.service import proof_records


def export_lines(app: App) -> Iterator[str]:
    """Everything needed to rebuild the database (SPEC §12), in file order: the cases' events,
    the appeals' events (each in the order recorded), the letters, the year closes, the proofs
    of delivery. The lines
    re-import to the same database, and export again byte for byte."""
    require_schema(app.engine)
    with Session(app.engine) as s:
        for owner in (col(Event.case_id), col(Event.appeal_id)):
            query = select(Event).where(owner.is_not(None)).order_by(col(Event.seq)).execution_options(yield_per=5000)
            for ev in s.scalars(query):
                head: dict[str, Any] = {"appeal": ev.appeal_id} if ev.appeal_id is not None else {"case": ev.case_id}
                head.update({"event": ev.event, "on": ev.on.isoformat()})
                head.update(ev.data)
                head["by"] = ev.by
                if ev.amend_reason:
                    head["amend_reason"] = ev.amend_reason
                yield json.dumps(head, ensure_ascii=False)
        for record in letters.export_records(s):
            yield json.dumps(record, ensure_ascii=False)
        for record in proof_records(s):
            yield json.dumps(record, ensure_ascii=False)


def export_to(app: App, out: IO[str]) -> int:
    count = 0
    for line in export_lines(app):
        out.write(line + "\n")
        count += 1
    return count
