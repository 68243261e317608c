"""`foi import` and `foi export`: the event log as JSON Lines (SPEC §9).

An import replays every line through the same workflow rules as the commands, entirely in
memory, and only then writes everything in one transaction with bulk inserts: the first bad
line stops it with its line number and reason, and nothing of the file is kept.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from sys import intern
from typing import IO, Any, cast

import orjson
from sqlalchemy import JSON, Column, Date, DateTime, Table, insert, select
from sqlmodel import Session, col

from foi_workflow.adapters.db import json_text, require_schema
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
from foi_workflow.services import letters
from foi_workflow.services.app import App, apply_context
from foi_workflow.services.appeals import appeal_snapshot, appeal_values, write_appeal
from foi_workflow.services.cases import (
    case_events,
    ensure_agency,
    projection_dict,
    replay,
    transaction,
    write_projection,
)
from foi_workflow.services.record_import import RecordLines, refuse_unless_empty

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
    letters: int = 0
    year_closes: int = 0


# The records of SPEC §12 that follow the events in an export: a letter, a year close.
RECORD_KEYS = ("letter", "year_close")


def parse_line(lineno: int, line: str) -> dict[str, Any]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        # What orjson refuses, `json` may still read (NaN, integers beyond 64 bits) or refuses
        # with its own familiar reason (a UTF-8 BOM, "Expecting value"): the stdlib decides.
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"不是有效的 JSON：{exc.msg}") from None
    if not isinstance(obj, dict):
        raise InvalidInput("每行应为一个 JSON 对象")
    if any(key in obj for key in RECORD_KEYS):
        return obj  # checked field by field by `services.letters`
    for key in ("event", "on"):
        if not isinstance(obj.get(key), str):
            raise InvalidInput(f"缺少字段 {key}")
    return obj


def _on(obj: dict[str, Any]) -> date:
    try:
        return date.fromisoformat(obj["on"])
    except ValueError:
        raise InvalidInput(f"生效日期 on 格式错误：{obj['on']!r}，应为 YYYY-MM-DD") from None


class Importer(RecordLines):
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
        # Event rows in file order, ready for the bulk insert: tuples already in SQLite's storage
        # form, or dicts for a Core insert (see `_event_row_builder`).
        self.event_row = _event_row_builder(session, self.now)
        self.case_row = _case_row_builder(session, self.now)
        self.events: list[Any] = []
        self.event_counts: dict[str, int] = {}  # per case: a new case's version is its number of events
        # The ids already stored, read once: asking the database line by line is the slow part.
        self.stored_case_ids: set[str] = set(session.scalars(select(col(Case.id))))
        self.stored_appeal_ids: set[str] = set(session.scalars(select(col(Appeal.id))))
        self.closed: set[tuple[str, int]] = {
            (a, y) for a, y in session.execute(select(col(YearClose.agency), col(YearClose.year)))
        }
        # Stored histories read ahead of the replay (`prefetch`), for replays that cannot use
        # this transaction (the parallel replay's worker processes).
        self.stored_events: dict[str, list[Event]] = {}
        # With the parallel replay, the cases live in the workers: for appeals, each case of the
        # file by the index of its first line, with its agency (see `import_parallel`).
        self.file_cases: dict[str, tuple[int, str]] | None = None
        self.line_index = 0  # of the appeal line being replayed after them (0-based)
        self.init_records()

    def prefetch(self, case_ids: Iterable[str]) -> None:
        """Read the stored histories of `case_ids` now, in this transaction."""
        wanted = sorted(set(case_ids) & self.stored_case_ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(Event).where(col(Event.case_id).in_(chunk)).order_by(col(Event.seq))
            for ev in self.s.scalars(query):
                self.stored_events.setdefault(str(ev.case_id), []).append(ev)

    def _check_year(self, agency: str, on: date, obj: dict[str, Any]) -> None:
        if (agency, on.year) in self.closed and not obj.get("amend_reason"):
            raise ClosedYear(f"{on.year} 年度已结转封存；如确需补录，请在该行加 amend_reason 字段说明理由")

    def _case(self, case_id: str) -> CaseSnapshot:
        snap = self.cases.get(case_id)
        if snap is None:
            if case_id not in self.stored_case_ids:
                raise NotFound(f"案件 {case_id} 不存在（其 receive 事件应在前面）")
            stored = self.stored_events.get(case_id)
            snap = replay(self.app, case_id, stored if stored is not None else case_events(self.s, case_id))
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
        # The case's and the event's names as one object each (not one per line): hundreds of
        # thousands fewer objects to keep, send between processes and free.
        self.events.append(self.event_row(snap.id, None, intern(event), on, by, clean, obj.get("amend_reason")))

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
            if linked:
                agency = self._linked_agency(str(linked))
                if "agency" not in data:
                    data["agency"] = agency
            snap, clean = file_appeal(self.app.workflow, appeal_id, on, data, self.ctx)
        else:
            current = self.appeals.get(appeal_id)
            if current is None:
                current = appeal_snapshot(self.app, self.s, appeal_id)
                self.existing_appeals.add(appeal_id)
            snap, clean = apply_appeal_event(self.app.workflow, current, event, on, data, self.ctx)
        self._check_year(snap.agency, on, obj)
        self.appeals[appeal_id] = snap
        self.events.append(self.event_row(None, appeal_id, event, on, by, clean, obj.get("amend_reason")))

    def record_line(self, obj: dict[str, Any]) -> bool:
        """Replay a line that is not a case event (an appeal event, a letter, a year close);
        False when it is none of these."""
        if "letter" in obj:
            self.letter_line(obj)
        elif "year_close" in obj:
            self.year_close_line(obj)
        elif "appeal" in obj:
            self.appeal_line(obj)
        else:
            return False
        return True

    def _linked_agency(self, case_id: str, what: str = "复议诉讼") -> str:
        """The agency of the case an appeal or a letter names: a case of the file (on an
        earlier line) or a stored one."""
        if self.file_cases is None:
            snap = self.cases.get(case_id)
            if snap is not None:
                return snap.agency
        else:
            first = self.file_cases.get(case_id)
            if first is not None and first[0] < self.line_index:
                return first[1]
        if case_id in self.stored_case_ids:
            return str(self.s.scalar(select(col(Case.agency)).where(col(Case.id) == case_id)))
        raise NotFound(f"{what}关联的案件 {case_id} 不存在")

    def new_case_rows(self) -> list[Any]:
        """The rows of the cases the file creates, in the order of their first lines, in the
        form the bulk insert takes (see `_case_row_builder`)."""
        ctx, build, counts, existing = self.ctx, self.case_row, self.event_counts, self.existing_cases
        # As if each event had been recorded by its command: one version per event.
        return [
            build(finish_snapshot(snap, ctx), counts[cid]) for cid, snap in self.cases.items() if cid not in existing
        ]

    def case_agencies(self) -> set[str]:
        if self.file_cases is not None:
            return {agency for _, agency in self.file_cases.values()}
        return {snap.agency for snap in self.cases.values()}

    def write(self, new_cases: list[Any] | None = None) -> ImportResult:
        """Store what the replay left (`new_cases`: the new case rows, when already built)."""
        if new_cases is None:
            new_cases = self.new_case_rows()
        for cid in self.existing_cases:
            finish_snapshot(self.cases[cid], self.ctx)
        for agency in sorted(self.case_agencies() | {a.agency for a in self.appeals.values()}):
            ensure_agency(self.s, self.app, agency)
        new_appeals = [appeal_values(a) for aid, a in self.appeals.items() if aid not in self.existing_appeals]
        case_table, event_table = Case.metadata.tables["foi_case"], Event.metadata.tables["event"]
        with _bulk_load(self.s, {case_table: len(new_cases), event_table: len(self.events)}):
            if new_cases:
                # Core insert: the ORM bulk path would reset the version column to 1.
                _insert_rows(self.s, case_table, new_cases, CASE_COLUMNS)
            if new_appeals:
                self.s.execute(insert(Appeal), new_appeals)
            if self.events:  # after the cases and appeals they refer to
                _insert_rows(self.s, event_table, self.events, EVENT_COLUMNS)
        for cid in self.existing_cases:
            row = self.s.get(Case, cid)
            assert row is not None
            write_projection(row, self.cases[cid])
        for aid in self.existing_appeals:
            write_appeal(self.s, self.appeals[aid])
        self.write_records()
        self.s.flush()
        return ImportResult(
            events=len(self.events),
            new_cases=len(new_cases),
            updated_cases=len(self.existing_cases),
            appeals=len(self.appeals),
            letters=len(self.letters),
            year_closes=len(self.year_closes),
        )


EVENT_COLUMNS = ("case_id", "appeal_id", "event", "on", "by", "recorded_at", "data", "amend_reason")
# (case_id, appeal_id, event, on, by, data, amend_reason) -> a row for `_insert_rows`
EventRowBuilder = Callable[[str | None, str | None, str, date, str, dict[str, Any], str | None], Any]


def _iso_or_none(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _value_converter(dialect: Any, column: Column[Any]) -> Callable[[Any], Any] | None:
    """What a Core insert does to one value of `column` on `dialect` (None: nothing), with the
    per-call overhead taken out where the result is known to be the same."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    if isinstance(column.type, Date) and process(_PROBE_DATE) == _PROBE_DATE.isoformat():
        # SQLite's DATE storage format is ISO 8601: the same text from the C method.
        return _iso_or_none if column.nullable else date.isoformat
    if isinstance(column.type, JSON):
        return _json_processor(dialect, column.type) or process
    return cast(Callable[[Any], Any], process)


# The columns of a new case row: the projection's (in `projection_dict` order) between the id
# and the bookkeeping columns.
_NO_CASE = CaseSnapshot("", "", "", "", "", "", "", date.min, date.min)
CASE_COLUMNS = ("id", *projection_dict(_NO_CASE), "updated_at", "version")


def _case_row_builder(session: Session, now: datetime) -> Callable[[CaseSnapshot, int], Any]:
    """New case rows (snapshot, version) as the bulk insert takes them: on SQLite a tuple of
    stored values in `CASE_COLUMNS` order, else a dict for the Core insert."""
    dialect = session.connection().dialect
    if dialect.name != "sqlite":
        return lambda snap, version: {"id": snap.id, **projection_dict(snap), "updated_at": now, "version": version}
    columns = Case.metadata.tables["foi_case"].c
    processes = [_value_converter(dialect, columns[name]) for name in CASE_COLUMNS[1:-2]]
    stamp_value = _value_converter(dialect, columns["updated_at"])
    stamp = stamp_value(now) if stamp_value is not None else now

    def as_tuple(snap: CaseSnapshot, version: int) -> tuple[Any, ...]:
        values = zip(projection_dict(snap).values(), processes, strict=True)  # in CASE_COLUMNS order
        return (snap.id, *[value if process is None else process(value) for value, process in values], stamp, version)

    return as_tuple


def _event_row_builder(session: Session, now: datetime) -> EventRowBuilder:
    """Event rows as the bulk insert takes them: on SQLite a tuple of stored values in
    `EVENT_COLUMNS` order, built once per event (no per-column pass later); else a dict for
    the Core insert."""
    dialect = session.connection().dialect
    columns = Event.metadata.tables["event"].c
    if dialect.name == "sqlite":
        convert = {name: _value_converter(dialect, columns[name]) for name in EVENT_COLUMNS}
        on_value, data_value, stamp_value = convert.pop("on"), convert.pop("data"), convert.pop("recorded_at")
        if on_value is not None and data_value is not None and stamp_value is not None and not any(convert.values()):
            stamp = stamp_value(now)  # one transaction: every row is recorded at the same instant
            return lambda case_id, appeal_id, event, on, by, data, amend: (
                (case_id, appeal_id, event, on_value(on), by, stamp, data_value(data), amend)
            )

    return lambda case_id, appeal_id, event, on, by, data, amend: dict(
        zip(EVENT_COLUMNS, (case_id, appeal_id, event, on, by, now, data, amend), strict=True)
    )


def _insert_rows(session: Session, table: Table, rows: Sequence[Any], names: Sequence[str] = ()) -> None:
    """Insert many rows of one shape in one executemany: dicts (any database, through each
    column type's bind processing), or on SQLite tuples of stored values in `names` order.

    On SQLite the values go straight to the driver's executemany: the Core insert's per-row
    parameter bookkeeping cost more than the insert itself. Other databases use the Core
    insert (psycopg batches it)."""
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name != "sqlite":
        # Core, not the ORM bulk path: that would reset the version column to 1.
        session.execute(insert(table), list(rows))
        return
    if rows and isinstance(rows[0], dict):
        names = list(rows[0])
        # Column by column: one tight loop per column instead of a processor call per cell.
        converted: list[list[Any]] = []
        for name in names:
            values = [row[name] for row in rows]
            process = _value_converter(dialect, table.c[name])
            if process is None:
                pass
            elif isinstance(table.c[name].type, DateTime):
                # Usually one instant for the whole import: convert each distinct value once.
                done = {v: process(v) for v in set(values)}
                values = [done[v] for v in values]
            else:
                values = list(map(process, values))
            converted.append(values)
        rows = list(zip(*converted, strict=True))
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(table.c[n].name) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    conn.exec_driver_sql(sql, rows)


@contextmanager
def _bulk_load(session: Session, incoming: Mapping[Table, int]) -> Iterator[None]:
    """On SQLite, prepare a connection for a bulk load into `incoming` (table -> rows to come).

    A bulk load inserts into every index of a table in key order of its own: a page cache
    bigger than SQLite's default 2 MB keeps those B-trees in memory (a connection setting, put
    back afterwards). And when a load brings at least as many rows as a table holds (a first
    migration into a new database), its secondary indexes are dropped for the load and built
    again from sorted keys afterwards, which is cheaper than keeping them up to date row by
    row. Both inside the import's one transaction (SQLite's DDL is transactional): a failed
    import rolls the indexes back with everything else, and readers keep seeing the old state."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        # pysqlite opens its transaction only before DML: DDL would commit on its own.
        conn.exec_driver_sql("BEGIN")
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size={_BULK_CACHE_KIB}")
    rebuild: list[str] = []
    for table, count in incoming.items():
        held = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table.name}").scalar() or 0
        if count and count >= held:
            indexes = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table.name,),
            ).all()
            for name, create in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
                rebuild.append(create)
    try:
        yield
        for create in rebuild:
            conn.exec_driver_sql(create)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous) if previous is not None else -2000}")


def _json_processor(dialect: Any, json_type: Any) -> Callable[[Any], str] | None:
    """The engine's JSON serializer itself, when that is all the column's bind processor
    adds (no string processing); else None (use the processor)."""
    str_impl = getattr(json_type, "_str_impl", None)
    if getattr(dialect, "_json_serializer", None) is not json_text or str_impl is None:
        return None
    return json_text if str_impl.bind_processor(dialect) is None else None


def import_lines(
    app: App, lines: Iterable[str], *, by: str, workers: int | None = None, into_empty: bool = False
) -> ImportResult:
    """Import events; all or nothing. `into_empty` (a restore): refused unless the database
    holds nothing yet.

    `workers`: processes that replay a large file in parallel (None: one per CPU, at most
    `import_parallel.MAX_WORKERS`, for files of `import_parallel.MIN_LINES` lines or more; 1: no
    parallel replay). Whatever the number, the result and any refusal are those of the serial
    replay (see `import_parallel`)."""
    # The replay builds hundreds of thousands of small objects that all live until the write and
    # form no reference cycles: the cyclic collector would rescan the whole growing heap again
    # and again (a third of a 100,000-case import). Reference counting frees everything as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import_lines(app, lines, by=by, workers=workers, into_empty=into_empty)
    finally:
        if collecting:
            gc.enable()


def _import_lines(app: App, lines: Iterable[str], *, by: str, workers: int | None, into_empty: bool) -> ImportResult:
    # A case the file continues may be changed by someone else meanwhile: the version check
    # then refuses the whole import with E-CONFLICT, like any other change.
    with transaction(app) as s:
        if into_empty:
            refuse_unless_empty(s)
        if workers != 1:
            from foi_workflow.services import import_parallel

            lines = list(lines)
            count = import_parallel.worker_count(len(lines), workers)
            if count > 1:
                importer = Importer(app, s, by)
                new_cases = import_parallel.replay(importer, lines, count)
                if new_cases is not None:
                    return importer.write(new_cases)
                # Something in the file is refused (or could not be placed): the serial replay
                # finds the first bad line and says why, exactly as without workers.
        importer = Importer(app, s, by)
        replay_lines(importer, enumerate(lines))
        return importer.write()


def replay_lines(importer: Importer, numbered: Iterable[tuple[int, str]]) -> None:
    """Replay (index, line) pairs in order; the first bad line stops it with its line number."""
    for index, line in numbered:
        if not line.strip():
            continue
        try:
            obj = parse_line(index + 1, line)
            if importer.record_line(obj):
                pass
            elif "case" in obj:
                importer.case_line(obj)
            else:
                raise InvalidInput(
                    "每行应有 case（案件事件）、appeal（复议诉讼事件）、letter（告知书）或 year_close（年度结转）字段"
                )
        except FoiError as exc:
            raise ImportFailed(f"第 {index + 1} 行：{exc.message}（{exc.code}）；整个文件未导入") from None


def export_lines(app: App) -> Iterator[str]:
    """Everything needed to rebuild the database (SPEC §12), in file order: the cases' events,
    the appeals' events (each in the order recorded), the letters, the year closes. The lines
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


def export_to(app: App, out: IO[str]) -> int:
    count = 0
    for line in export_lines(app):
        out.write(line + "\n")
        count += 1
    return count
