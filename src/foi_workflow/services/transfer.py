"""`foi import` / `foi restore`: the event log, letters and year closes read from JSON Lines
(SPEC §9, §12); `services.export` writes them.

An import replays every line through the same workflow rules as the commands, entirely in
memory, and only then writes everything in one transaction with bulk inserts: the first bad
line stops it with its line number and reason, and nothing of the file is kept.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from sys import intern
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from foi_workflow.adapters import bulk
from foi_workflow.adapters.models import Appeal, Case, Event, YearClose
from foi_workflow.adapters.tables import APPEAL_TABLE, CASE_TABLE, EVENT_TABLE, column_limits, utcnow
from foi_workflow.domain.boundary import clean_amend_reason, clean_by, clean_id
from foi_workflow.domain.corrections import Counted
from foi_workflow.domain.definition import FIELD_LABELS
from foi_workflow.domain.fees import counted_over_the_month
from foi_workflow.domain.workflow import AppealSnapshot, CaseSnapshot, apply_case_event, finish_snapshot, receive_case
from foi_workflow.errors import AlreadyExists, FoiError, ImportFailed, InvalidInput, NotFound
from foi_workflow.services.app import App, apply_context
from foi_workflow.services.appeals import appeal_values, write_appeal
from foi_workflow.services.case_store import (
    AnyEvent,
    case_events,
    ensure_agency,
    get_case,
    transaction,
    write_projection,
)
from foi_workflow.services.cases import replay
from foi_workflow.services.corrections import replay_amendment
from foi_workflow.services.fee_month import FileFees, settle_amount
from foi_workflow.services.import_format import RESERVED_KEYS, line_date, may_amend, parse_line
from foi_workflow.services.import_rows import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    case_row_builder,
    event_row_builder,
)
from foi_workflow.services.record_import import RecordLines, refuse_unless_empty


@dataclass
class ImportResult:
    events: int
    new_cases: int
    updated_cases: int
    appeals: int
    letters: int = 0
    year_closes: int = 0


class Importer(RecordLines):
    """Replays a file in memory against the database's current state."""

    def __init__(self, app: App, session: Session, by: str, *, amendments: bool = True) -> None:
        self.app = app
        self.s = session
        self.limits = column_limits()
        self.by = clean_by(by, self.limits)
        # One transaction: every row of the import is recorded at the same instant.
        self.now = utcnow()
        self.ctx = apply_context(app)
        self.cases: dict[str, CaseSnapshot] = {}
        self.existing_cases: set[str] = set()
        self.appeals: dict[str, AppealSnapshot] = {}
        self.existing_appeals: set[str] = set()
        # Event rows in file order, ready for the bulk insert: tuples already in SQLite's storage
        # form, or dicts for a Core insert (see `import_rows.event_row_builder`).
        self.event_row = event_row_builder(session.connection(), self.now)
        self.case_row = case_row_builder(session.connection(), self.now)
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
        self.stored_events: dict[str, list[AnyEvent]] = {}
        # With the parallel replay, the cases live in the workers: for appeals, each case of the
        # file by the index of its first line, with its agency (see `import_parallel`).
        self.file_cases: dict[str, tuple[int, str]] | None = None
        self.line_index = 0  # of the appeal line being replayed after them (0-based)
        # The file's events of each case, kept only when the file may void or correct (a void
        # or correct line replays its case's whole history): a bulk import keeps nothing more.
        self.logs: dict[str, list[Counted]] | None = {} if amendments else None
        self.amending = app.workflow.disclosure.amending
        self.appeal_logs: dict[str, list[Counted]] = {}  # appeals are few: always kept
        self.file_fees = FileFees()
        self.parallel = False  # set by the parallel replay, which cannot see other workers' lines
        self.agencies: set[str] = set()  # made sure of (`_ensure_agencies`)
        self.written_cases = self.written_events = 0
        self.stored_appeals: dict[str, dict[str, Any]] = {}  # new appeals stored, as stored (`store_appeals`)
        self.init_records()

    def prefetch(self, case_ids: Iterable[str]) -> None:
        """Read the stored histories of `case_ids` now, in this transaction."""
        wanted = sorted(set(case_ids) & self.stored_case_ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(Event).where(col(Event.case_id).in_(chunk)).order_by(col(Event.seq))
            for ev in self.s.scalars(query):
                self.stored_events.setdefault(str(ev.case_id), []).append(ev)

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
        # A case of the file already has a clean id (checked at its receive): no second check.
        if case_id.__class__ is not str or case_id not in self.cases:
            case_id = clean_id("case", "案件编号", case_id, self.limits.case["id"])
        event, on = obj["event"], line_date(obj)
        by = self._by(obj)
        amend = obj.get("amend_reason")
        if amend is not None:  # rare: no call for the other lines
            amend = clean_amend_reason(amend, self.limits)
        reserved = RESERVED_KEYS
        data = {k: v for k, v in obj.items() if k not in reserved}
        if event in self.amending:
            snap, clean = self._amend(case_id, event, on, by, data, amend)
        elif event == "receive":
            if case_id in self.cases or case_id in self.stored_case_ids:
                raise AlreadyExists(f"案件 {case_id} 已存在")
            snap, clean = receive_case(self.app.workflow, case_id, on, data, self.ctx, by=by, deadlines=False)
            self.app.config.agency(snap.agency)  # a known agency (the field itself is checked above)
        else:
            # The deadlines are computed once per case in `write`; the guards read the clock.
            current = self._case(case_id)
            snap, clean, _ = apply_case_event(self.app.workflow, current, event, on, data, self.ctx, deadlines=False)
            if event == "fee_notice":
                self._settle_fee(current, on, clean)
        self.limits.check_case_data(clean, FIELD_LABELS)
        if self.closed and event != "carry_over":
            self._check_year(snap.agency, on, amend)
        self.cases[case_id] = snap
        if self.logs is not None:
            log = self.logs.setdefault(case_id, [])
            log.append(Counted(len(log) + 1, event, on, clean, by))
        counts = self.event_counts
        counts[case_id] = counts.get(case_id, 0) + 1
        # The case's and the event's names as one object each (not one per line): hundreds of
        # thousands fewer objects to keep, send between processes and free.
        self.events.append(self.event_row(snap.id, None, intern(event), on, by, clean, amend))

    def _amend(
        self, case_id: str, event: str, on: date, by: str, data: dict[str, Any], amend: str | None
    ) -> tuple[CaseSnapshot, dict[str, Any]]:
        """A `void` or `correct` line (SPEC §11): the case's whole history, stored and from the
        file, replayed with it."""
        if self.logs is None:
            raise InvalidInput("导入未准备更正事件")  # `import_lines` scans the file for them
        snap = self._case(case_id)
        stored = self.stored_events.get(case_id)
        if stored is None and case_id in self.existing_cases:
            stored = case_events(self.s, case_id)
        history = [*(stored or ()), *self.logs.get(case_id, ())]
        wf, line = self.app.workflow, Counted(0, event, on, data, by)
        check = lambda day: self._check_year(snap.agency, day, amend)  # noqa: E731
        amended, clean = replay_amendment(wf, wf.disclosure, case_id, history, line, self.ctx, check)
        assert isinstance(amended, CaseSnapshot)
        if case_id in self.existing_cases:
            self.undone.append((case_id, event, int(clean["target"])))
        return amended, clean

    def _settle_fee(self, case: CaseSnapshot, on: date, clean: dict[str, Any]) -> None:
        if self.parallel and counted_over_the_month(clean["basis"]):
            already = self.file_fees.planned.get(self.line_index)
            if already is None:  # not worked out beforehand: the serial replay takes over and says why
                raise ImportFailed("按件计收的收费通知须按文件顺序逐行核对")
            settle_amount(clean, already)
            return
        self.file_fees.settle(self.s, case.agency, case.applicant, case.id, on, clean)

    def plan_fees(self, lines: Sequence[str]) -> None:
        """Before a parallel replay (whose workers each see only their own cases)."""
        self.file_fees.plan(self.s, lines, self.app.config.default_agency)

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

    def take_over(self, existing: dict[str, CaseSnapshot]) -> None:
        """The stored cases a worker of the parallel replay continued, as the file leaves them."""
        self.cases.update(existing)
        self.existing_cases.update(existing)

    def replay_linked(self, index: int, obj: dict[str, Any]) -> Any | None:
        """In the parallel import, once every case line before it is replayed: an appeal, letter
        or year-close line (its index, parsed), knowing where each case of the file began
        (`file_cases`). Returns an appeal event's row (letters and year closes are no events).
        A refused line raises."""
        self.events = []
        self.line_index = index
        self.record_line(obj)
        return self.events.pop() if self.events else None

    def new_case_rows(self, ids: Iterable[str] | None = None) -> list[Any]:
        """The rows of the cases the file creates (of those among `ids`, when given), in the
        order of their first lines, in the form the bulk insert takes (see
        `import_rows.case_row_builder`)."""
        ctx, build, counts, existing = self.ctx, self.case_row, self.event_counts, self.existing_cases
        cases = self.cases
        chosen = cases.items() if ids is None else ((cid, cases[cid]) for cid in ids)
        # As if each event had been recorded by its command: one version per event.
        return [build(finish_snapshot(snap, ctx), counts[cid]) for cid, snap in chosen if cid not in existing]

    def spent(self) -> list[Any]:
        """The replay's large containers, of no more use once they are stored."""
        return [self.events, self.cases, self.event_counts, self.file_cases or {}, self.logs or {}]

    @contextmanager
    def loading(self, cases: int, events: int) -> Iterator[None]:
        """The bulk load of about `cases` new cases and `events` events (see `bulk.bulk_load`),
        around `store_cases`, `store_appeals` and `store_events`."""
        with bulk.bulk_load(self.s.connection(), {CASE_TABLE: cases, EVENT_TABLE: events}):
            yield

    def _ensure_agencies(self, agencies: Iterable[str]) -> None:
        for agency in sorted(set(agencies) - self.agencies):
            ensure_agency(self.s, self.app, agency)
            self.agencies.add(agency)

    def store_cases(self, rows: list[Any], agencies: Iterable[str]) -> None:
        """New case rows (`new_case_rows`), after the agencies they name."""
        self._ensure_agencies(agencies)
        if rows:
            bulk.insert_rows(self.s.connection(), CASE_TABLE, rows, CASE_COLUMNS)
            self.written_cases += len(rows)

    def store_appeals(self) -> None:
        """The file's new appeals not stored yet, as the replay has left them so far: after
        their cases, before their events (`finish` brings an appeal stored before its last line
        up to date)."""
        stored, existing = self.stored_appeals, self.existing_appeals
        new = [a for aid, a in self.appeals.items() if aid not in existing and aid not in stored]
        if new:
            self._ensure_agencies(a.agency for a in new)
            values = [appeal_values(a) for a in new]
            self.s.execute(insert(Appeal), values)
            self.stored_appeals.update((row["id"], row) for row in values)

    def store_events(self, rows: list[Any]) -> None:
        """Event rows, in file order: after the cases and appeals they refer to."""
        if rows:
            bulk.insert_rows(self.s.connection(), EVENT_TABLE, rows, EVENT_COLUMNS)
            self.written_events += len(rows)

    def finish(self) -> ImportResult:
        """After the bulk load: the stored cases and appeals the file continues, and the records."""
        for cid in self.existing_cases:
            write_projection(self.s, get_case(self.s, cid), finish_snapshot(self.cases[cid], self.ctx))
        for aid in self.existing_appeals:
            write_appeal(self.s, self.appeals[aid])
        for aid, stored in self.stored_appeals.items():
            final = appeal_values(self.appeals[aid])
            if final != stored:
                self.s.execute(update(APPEAL_TABLE).where(APPEAL_TABLE.c.id == aid).values(final))
        self.write_records()
        self.s.flush()
        return ImportResult(
            events=self.written_events,
            new_cases=self.written_cases,
            updated_cases=len(self.existing_cases),
            appeals=len(self.appeals),
            letters=len(self.letters),
            year_closes=len(self.year_closes),
        )

    def write(self) -> ImportResult:
        """Store what the serial replay left."""
        new_cases = self.new_case_rows()
        with self.loading(len(new_cases), len(self.events)):
            self.store_cases(new_cases, (snap.agency for snap in self.cases.values()))
            self.store_appeals()
            self.store_events(self.events)
        return self.finish()


def import_lines(
    app: App, lines: Iterable[str], *, by: str, workers: int | None = None, into_empty: bool = False
) -> ImportResult:
    """Import events; all or nothing. `into_empty` (a restore): refused unless the database
    holds nothing yet.

    `workers`: worker processes that replay a large file in parallel while this one stores what
    they finish (None: one per CPU, at most `import_parallel.MAX_WORKERS`, for files of
    `import_parallel.MIN_LINES` lines or more; 1: no parallel replay). Whatever the number, the
    result and any refusal are those of the serial replay (see `import_parallel`)."""
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
    # The lines are freed with the rest of the replay (`_commit_freeing`) unless the caller
    # passed its own list.
    read: list[str] = lines if isinstance(lines, list) else list(lines)
    own = [read] if read is not lines else []
    amendments = may_amend(read)
    if workers != 1:
        from foi_workflow.services import import_parallel

        count = import_parallel.worker_count(len(read), workers)
        if count > 1:
            with transaction(app) as s:
                if into_empty:
                    refuse_unless_empty(s)
                importer = Importer(app, s, by, amendments=amendments)
                result = import_parallel.store(importer, read, count)
                if result is not None:
                    _commit_freeing(s, [*importer.spent(), *own])
                    return result
            # Something in the file is refused (or could not be placed): what the parallel
            # import stored meanwhile is rolled back, and the serial replay finds the first bad
            # line and says why, exactly as without workers.
    # A case the file continues may be changed by someone else meanwhile: the version check
    # then refuses the whole import with E-CONFLICT, like any other change.
    with transaction(app) as s:
        if into_empty:
            refuse_unless_empty(s)
        importer = Importer(app, s, by, amendments=amendments)
        replay_lines(importer, enumerate(read))
        result = importer.write()
        _commit_freeing(s, [*importer.spent(), *own])
        return result


_FREE_SLICE = 4096  # list items freed at a time: the freeing thread hands the GIL back between slices


def _commit_freeing(s: Session, heaps: list[Any]) -> None:
    """Commit, while another thread empties `heaps` (what the replay built, written now).

    SQLite writes a large load out at its commit (and checkpoints it) without holding the GIL,
    and freeing the replay's hundreds of thousands of objects needs nothing but the GIL: done
    one after the other they cost the time of both. The thread frees slice by slice so that it
    lets go of the GIL between slices, and is joined before this returns (no thread outlives the
    import: `import_parallel` forks only a process without threads)."""
    freeing = threading.Thread(target=_empty, args=(heaps,), name="foi-import-free")
    freeing.start()
    try:
        s.commit()
    finally:
        freeing.join()


def _empty(heaps: list[Any]) -> None:
    while heaps:
        heap = heaps.pop()
        if isinstance(heap, dict):
            pop = heap.popitem
            while heap:
                pop()
        else:
            while heap:
                del heap[-_FREE_SLICE:]


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
