"""The rows an import writes, built as the bulk insert takes them (`adapters.bulk`): on SQLite
a tuple of stored values per row, built once (no per-column pass later); else a dict for a
Core insert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Connection

from foi_workflow.adapters import bulk
from foi_workflow.adapters.tables import CASE_TABLE, EVENT_TABLE
from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.services.case_store import projection_dict, projection_tuple

# The columns of a row, in the order of the table's declaration (`adapters.tables`).
CASE_COLUMNS = tuple(CASE_TABLE.c.keys())
EVENT_COLUMNS = ("case_id", "appeal_id", "event", "on", "by", "recorded_at", "data", "amend_reason")
# (case_id, appeal_id, event, on, by, data, amend_reason) -> a row for `bulk.insert_rows`
EventRowBuilder = Callable[[str | None, str | None, str, date, str, dict[str, Any], str | None], Any]


def case_row_builder(conn: Connection, now: datetime) -> Callable[[CaseSnapshot, int], Any]:
    """New case rows (snapshot, version): on SQLite a tuple of stored values in `CASE_COLUMNS`
    order (the id, `cases.PROJECTED`, the bookkeeping), else a dict for the Core insert."""
    forms = bulk.stored_forms(conn, CASE_TABLE, CASE_COLUMNS)
    if forms is None:
        return lambda snap, version: {"id": snap.id, **projection_dict(snap), "updated_at": now, "version": version}
    # Only the columns whose values change on the way in (dates, flags), by position: most
    # are text stored as it is, and a pass over every cell cost more than the conversions.
    converted = [(i, process) for i, process in enumerate(forms[1:-2]) if process is not None]
    stamp_form = forms[-2]
    stamp = stamp_form(now) if stamp_form is not None else now

    def as_tuple(snap: CaseSnapshot, version: int) -> tuple[Any, ...]:
        values = [snap.id, *projection_tuple(snap), stamp, version]
        for i, process in converted:
            values[i + 1] = process(values[i + 1])
        return tuple(values)

    return as_tuple


def event_row_builder(conn: Connection, now: datetime) -> EventRowBuilder:
    """Event rows: on SQLite a tuple of stored values in `EVENT_COLUMNS` order, else a dict for
    the Core insert."""
    forms = bulk.stored_forms(conn, EVENT_TABLE, EVENT_COLUMNS)
    if forms is not None:
        convert = dict(zip(EVENT_COLUMNS, forms, strict=True))
        on_value, data_value, stamp_value = convert.pop("on"), convert.pop("data"), convert.pop("recorded_at")
        if on_value is not None and data_value is not None and stamp_value is not None and not any(convert.values()):
            stamp = stamp_value(now)  # one transaction: every row is recorded at the same instant
            return lambda case_id, appeal_id, event, on, by, data, amend: (
                (case_id, appeal_id, event, on_value(on), by, stamp, data_value(data), amend)
            )

    return lambda case_id, appeal_id, event, on, by, data, amend: dict(
        zip(EVENT_COLUMNS, (case_id, appeal_id, event, on, by, now, data, amend), strict=True)
    )
