"""`foi import` and `foi export`: the event log as JSON Lines (SPEC §9).

An import replays every line through the same workflow rules as the commands, entirely in
memory, and only then writes everything in one transaction with bulk inserts: the first bad
line stops it with its line number and reason, and nothing of the file is kept.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import IO, Any

from sqlalchemy import JSON, Date, DateTime, Table, insert, select
from sqlmodel import Session, col

from foi_workflow.adapters.db import require_schema
from foi_workflow.adapters.tables import Appeal, Case, Event, YearClose, utcnow
from foi_workflow.domain.workflow import (
    AppealSnapshot,
    CaseSnapshot,
    apply_appeal_event,
    apply_case_event,
    file_appeal,
    finish_snapshot,
    receive_case,
)
from foi_workflow.errors import AlreadyExists, ClosedYear, FoiError, ImportFailed, InvalidInput, NotFound
from foi_workflow.services.app import App
from foi_workflow.services.appeals import appeal_snapshot, appeal_values, write_appeal
from foi_workflow.services.cases import (
    apply_context,
    case_events,
    ensure_agency,
    projection_values,
    replay,
    transaction,
    write_projection,
)

_PROBE_DATE = date(2024, 3, 1)
_BULK_CACHE_KIB = -65536  # PRAGMA cache_size for a bulk insert: 64 MiB (negative: in KiB)
RESERVED = ("case", "appeal", "event", "on", "by", "amend_reason")
_RESERVED = frozenset(RESERVED)


@dataclass
class ImportResult:
    events: int
    new_cases: int
    updated_cases: int
    appeals: int


# `json.loads` of a str is this decoder's `decode` after a BOM check (kept below).
_decode = json.JSONDecoder().decode


def _parse_line(lineno: int, line: str) -> dict[str, Any]:
    try:
        # json.loads keeps its own "Unexpected UTF-8 BOM" refusal.
        obj = json.loads(line) if line.startswith("\ufeff") else _decode(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"不是有效的 JSON：{exc.msg}") from None
    if not isinstance(obj, dict):
        raise InvalidInput("每行应为一个 JSON 对象")
    for key in ("event", "on"):
        if not isinstance(obj.get(key), str):
            raise InvalidInput(f"缺少字段 {key}")
    return obj


def _on(obj: dict[str, Any]) -> date:
    try:
        return date.fromisoformat(obj["on"])
    except ValueError:
        raise InvalidInput(f"生效日期 on 格式错误：{obj['on']!r}，应为 YYYY-MM-DD") from None


class _Importer:
    """Replays a file in memory against the database's current state."""

    def __init__(self, app: App, session: Session, by: str) -> None:
        self.app = app
        self.s = session
        self.by = by
        # One transaction: every row of the import is recorded at the same instant.
        self.now = utcnow()
        self.ctx = apply_context(app)
        self.cases: dict[str, CaseSnapshot] = {}
        self.existing_cases: set[str] = set()
        self.appeals: dict[str, AppealSnapshot] = {}
        self.existing_appeals: set[str] = set()
        self.events: list[dict[str, Any]] = []
        self.event_counts: dict[str, int] = {}  # per case: a new case's version is its number of events
        # The ids already stored, read once: asking the database line by line is the slow part.
        self.stored_case_ids: set[str] = set(session.scalars(select(col(Case.id))))
        self.stored_appeal_ids: set[str] = set(session.scalars(select(col(Appeal.id))))
        self.closed: set[tuple[str, int]] = {
            (a, y) for a, y in session.execute(select(col(YearClose.agency), col(YearClose.year)))
        }

    def _check_year(self, agency: str, on: date, obj: dict[str, Any]) -> None:
        if (agency, on.year) in self.closed and not obj.get("amend_reason"):
            raise ClosedYear(f"{on.year} 年度已结转封存；如确需补录，请在该行加 amend_reason 字段说明理由")

    def _case(self, case_id: str) -> CaseSnapshot:
        snap = self.cases.get(case_id)
        if snap is None:
            if case_id not in self.stored_case_ids:
                raise NotFound(f"案件 {case_id} 不存在（其 receive 事件应在前面）")
            snap = replay(self.app, case_id, case_events(self.s, case_id))
            self.existing_cases.add(case_id)
        return snap

    def case_line(self, obj: dict[str, Any]) -> None:
        case_id = obj["case"]
        if not isinstance(case_id, str) or not case_id.strip():
            raise InvalidInput("字段 case 应为非空的案件编号")
        event, on = obj["event"], _on(obj)
        by = str(obj.get("by") or self.by)
        reserved = _RESERVED
        data = {k: v for k, v in obj.items() if k not in reserved}
        if event == "receive":
            if case_id in self.cases or case_id in self.stored_case_ids:
                raise AlreadyExists(f"案件 {case_id} 已存在")
            self.app.config.agency(data.get("agency") or self.app.config.default_agency)
            snap, clean = receive_case(self.app.workflow, case_id, on, data, self.ctx, by=by, deadlines=False)
        else:
            # The deadlines are computed once per case in `write`; the guards read the clock.
            current = self._case(case_id)
            snap, clean, _ = apply_case_event(self.app.workflow, current, event, on, data, self.ctx, deadlines=False)
        if self.closed and event != "carry_over":
            self._check_year(snap.agency, on, obj)
        self.cases[case_id] = snap
        counts = self.event_counts
        counts[case_id] = counts.get(case_id, 0) + 1
        # As `_event_row`, inline: once per imported event.
        self.events.append(
            {
                "case_id": case_id,
                "appeal_id": None,
                "event": event,
                "on": on,
                "by": by,
                "recorded_at": self.now,
                "data": clean,
                "amend_reason": obj.get("amend_reason"),
            }
        )

    def appeal_line(self, obj: dict[str, Any]) -> None:
        appeal_id = obj["appeal"]
        if not isinstance(appeal_id, str) or not appeal_id.strip():
            raise InvalidInput("字段 appeal 应为非空的复议诉讼编号")
        event, on = obj["event"], _on(obj)
        by = str(obj.get("by") or self.by)
        data = {k: v for k, v in obj.items() if k not in RESERVED or k == "case"}
        if event == "file":
            if appeal_id in self.appeals or appeal_id in self.stored_appeal_ids:
                raise AlreadyExists(f"复议诉讼 {appeal_id} 已存在")
            linked = data.get("case")
            if linked and linked not in self.cases and linked not in self.stored_case_ids:
                raise NotFound(f"复议诉讼关联的案件 {linked} 不存在")
            if linked and "agency" not in data:
                data["agency"] = self._case(linked).agency
            snap, clean = file_appeal(self.app.workflow, appeal_id, on, data, self.ctx)
        else:
            current = self.appeals.get(appeal_id)
            if current is None:
                current = appeal_snapshot(self.app, self.s, appeal_id)
                self.existing_appeals.add(appeal_id)
            snap, clean = apply_appeal_event(self.app.workflow, current, event, on, data, self.ctx)
        self._check_year(snap.agency, on, obj)
        self.appeals[appeal_id] = snap
        self.events.append(self._event_row(event, on, by, clean, obj, appeal_id=appeal_id))

    def _event_row(
        self,
        event: str,
        on: date,
        by: str,
        data: dict[str, Any],
        obj: dict[str, Any],
        *,
        case_id: str | None = None,
        appeal_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "appeal_id": appeal_id,
            "event": event,
            "on": on,
            "by": by,
            "recorded_at": self.now,
            "data": data,
            "amend_reason": obj.get("amend_reason"),
        }

    def write(self) -> ImportResult:
        for snap in self.cases.values():
            finish_snapshot(snap, self.ctx)
        agencies = {snap.agency for snap in self.cases.values()} | {a.agency for a in self.appeals.values()}
        for agency in sorted(agencies):
            ensure_agency(self.s, self.app, agency)
        # As if each event had been recorded by its command: one version per event.
        new_cases = [
            {**projection_values(snap), "updated_at": self.now, "version": self.event_counts[cid]}
            for cid, snap in self.cases.items()
            if cid not in self.existing_cases
        ]
        if new_cases:
            # Core insert: the ORM bulk path would reset the version column to 1.
            _bulk_insert(self.s, Case.metadata.tables["foi_case"], new_cases)
        for cid in self.existing_cases:
            row = self.s.get(Case, cid)
            assert row is not None
            write_projection(row, self.cases[cid])
        new_appeals = [appeal_values(a) for aid, a in self.appeals.items() if aid not in self.existing_appeals]
        if new_appeals:
            self.s.execute(insert(Appeal), new_appeals)
        for aid in self.existing_appeals:
            write_appeal(self.s, self.appeals[aid])
        if self.events:
            _bulk_insert(self.s, Event.metadata.tables["event"], self.events)
        self.s.flush()
        return ImportResult(
            events=len(self.events),
            new_cases=len(new_cases),
            updated_cases=len(self.existing_cases),
            appeals=len(self.appeals),
        )


def _bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one shape (every row has the same keys) in one executemany.

    On SQLite the values go through each column type's own bind processor (so they are stored
    exactly as a Core insert would store them) and then straight to the driver's executemany:
    the Core insert's per-row parameter bookkeeping cost more than the insert itself. Other
    databases use the Core insert (psycopg batches it)."""
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name != "sqlite":
        # Core, not the ORM bulk path: that would reset the version column to 1.
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    # Column by column: one tight loop per column instead of a processor call per cell.
    converted: list[list[Any]] = []
    for name, column in zip(names, columns, strict=True):
        values = [row[name] for row in rows]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            pass
        elif isinstance(column.type, Date) and process(_PROBE_DATE) == _PROBE_DATE.isoformat():
            # SQLite's DATE storage format is ISO 8601: the same text, without a call per value.
            values = [None if v is None else v.isoformat() for v in values]
        elif isinstance(column.type, JSON):
            values = list(map(_json_processor(dialect, column.type) or process, values))
        elif isinstance(column.type, DateTime):
            # Usually one instant for the whole import: convert each distinct value once.
            done = {v: process(v) for v in set(values)}
            values = [done[v] for v in values]
        else:
            values = list(map(process, values))
        converted.append(values)
    params = list(zip(*converted, strict=True))
    # A bulk load inserts into every index of the table in key order of its own: a page cache
    # bigger than SQLite's default 2 MB keeps those B-trees in memory (connection setting only,
    # put back afterwards; the stored data is the same).
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size={_BULK_CACHE_KIB}")
    try:
        conn.exec_driver_sql(sql, params)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous) if previous is not None else -2000}")


def _json_processor(dialect: Any, json_type: Any) -> Callable[[Any], str] | None:
    """`json.dumps` with its default settings as one reusable C encoder, when that is exactly
    what the column's bind processor calls (no custom serializer, no string processing);
    else None (use the processor)."""
    if getattr(dialect, "_json_serializer", True) is not None:
        return None
    str_impl = getattr(json_type, "_str_impl", None)
    if str_impl is None or str_impl.bind_processor(dialect) is not None or c_make_encoder is None:
        return None
    default = json.encoder.JSONEncoder()  # the settings of json.dumps(obj)
    encoder = c_make_encoder({}, default.default, encode_basestring_ascii, None, ": ", ", ", False, False, True)

    def dumps(value: Any) -> str:
        return "".join(encoder(value, 0))

    return dumps


def import_lines(app: App, lines: Iterable[str], *, by: str) -> ImportResult:
    """Import events; all or nothing."""
    # The replay builds hundreds of thousands of small objects that all live until the write and
    # form no reference cycles: the cyclic collector would rescan the whole growing heap again
    # and again (a third of a 100,000-case import). Reference counting frees everything as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import_lines(app, lines, by=by)
    finally:
        if collecting:
            gc.enable()


def _import_lines(app: App, lines: Iterable[str], *, by: str) -> ImportResult:
    # A case the file continues may be changed by someone else meanwhile: the version check
    # then refuses the whole import with E-CONFLICT, like any other change.
    with transaction(app) as s:
        importer = _Importer(app, s, by)
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = _parse_line(lineno, line)
                if "appeal" in obj:
                    importer.appeal_line(obj)
                elif "case" in obj:
                    importer.case_line(obj)
                else:
                    raise InvalidInput("每行应有 case（案件事件）或 appeal（复议诉讼事件）字段")
            except FoiError as exc:
                raise ImportFailed(f"第 {lineno} 行：{exc.message}（{exc.code}）；整个文件未导入") from None
        return importer.write()


def export_lines(app: App) -> Iterator[str]:
    """Every event, in the order it was recorded, as JSON Lines that re-import to the same cases."""
    require_schema(app.engine)
    with Session(app.engine) as s:
        query = select(Event).order_by(col(Event.seq)).execution_options(yield_per=5000)
        for ev in s.scalars(query):
            head: dict[str, Any] = {"appeal": ev.appeal_id} if ev.appeal_id is not None else {"case": ev.case_id}
            head.update({"event": ev.event, "on": ev.on.isoformat()})
            head.update(ev.data)
            head["by"] = ev.by
            if ev.amend_reason:
                head["amend_reason"] = ev.amend_reason
            yield json.dumps(head, ensure_ascii=False)


def export_to(app: App, out: IO[str]) -> int:
    count = 0
    for line in export_lines(app):
        out.write(line + "\n")
        count += 1
    return count
