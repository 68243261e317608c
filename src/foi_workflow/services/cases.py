"""Use cases on one case: intake, any workflow event, assignment, and the rebuild of the
projection from the event log. Their storage steps (scopes, reading, the projection, counters)
are `services.case_store`'s.

Every change is one unit of work: the event row, the case projection (with its version
checked) and anything else the caller adds in the same transaction commit together or not at
all. Written in SQLAlchemy Core over `adapters.tables`, never the ORM classes: an event command
imports neither SQLModel nor the ORM (#16). A caller's ORM `Session` may be joined: its Core
statements run in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Required, TypedDict, Unpack

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from foi_workflow.adapters.db import require_schema
from foi_workflow.adapters.tables import CASE_TABLE, EVENT_TABLE, column_limits
from foi_workflow.domain.boundary import Limits, clean_amend_reason, clean_by, clean_id
from foi_workflow.domain.corrections import History
from foi_workflow.domain.definition import FIELD_LABELS
from foi_workflow.domain.letter_law import check_new_decision
from foi_workflow.domain.replay import REPLAY_TODAY, StoredEvent, replay_case
from foi_workflow.domain.vocabulary import Outcome
from foi_workflow.domain.workflow import (
    ApplyContext,
    CaseSnapshot,
    apply_case_event,
    receive_case,
)
from foi_workflow.errors import AlreadyExists, ConcurrentChange, NotFound
from foi_workflow.services.app import App, apply_context
from foi_workflow.services.case_store import (
    EVENT,
    INSERT_CASE,
    AnyCase,
    CaseRow,
    Db,
    EventRow,
    case_events,
    caught_up,
    check_open_year,
    closed_years,
    commit_own,
    connection_of,
    connection_scope,
    ensure_agency,
    get_case,
    new_case_id,
    projection_dict,
    projection_values,
    row_exists,
    write_projection,
)
from foi_workflow.services.outbox import drop_stale_mail


@dataclass
class Change:
    """What a recorded event left: the case row, the event row, and warnings to show."""

    case: CaseRow
    event: EventRow
    snapshot: CaseSnapshot
    warnings: list[str] = field(default_factory=list)


_RECORD = insert(EVENT_TABLE).returning(*EVENT_TABLE.c)


class EventArgs(TypedDict, total=False):
    """What every use case that records an event takes (`intake`, `advance`, `appeals.file`,
    `appeals.conclude`): its day, who records it, its data, the reason for recording it into a
    closed year, and the day it is recorded on (Shanghai's today when not given)."""

    on: Required[date]
    by: Required[str]
    data: Mapping[str, Any] | None
    amend_reason: str | None
    today: date | None


@dataclass(frozen=True)
class Entry:
    """An event's `EventArgs` checked at the boundary, with the rules' context for its day."""

    on: date
    by: str
    data: Mapping[str, Any]
    amend_reason: str | None
    ctx: ApplyContext
    limits: Limits

    @classmethod
    def of(cls, app: App, args: EventArgs) -> Entry:
        limits = column_limits()
        return cls(
            on=args["on"],
            by=clean_by(args["by"], limits),
            data=args.get("data") or {},
            amend_reason=clean_amend_reason(args.get("amend_reason"), limits),
            ctx=apply_context(app, args.get("today")),
            limits=limits,
        )

    def record(self, db: Db, name: str, clean: dict[str, Any], **owner: Any) -> EventRow:
        """Append the event row recording this entry (`clean`: its data as the workflow made it
        canonical; `owner`: its `case_id` or `appeal_id`)."""
        caught_up(db)  # a joined session's pending rows (the appeal the event names) go first
        values = {**owner, "event": name, "on": self.on, "by": self.by, "data": clean,
                  "amend_reason": self.amend_reason}  # fmt: skip
        return db.execute(_RECORD, values).one()


def resolve_agency(app: App, data: Mapping[str, Any]) -> str:
    """The agency a new case or appeal belongs to: the one its data names, else the default;
    one the config does not know is refused."""
    agency = str(data.get("agency") or app.config.default_agency)
    app.config.agency(agency)
    return agency


# --------------------------------------------------------------------------- projection


def replay(app: App, case_id: str, events: Iterable[StoredEvent] | History, *, explain: bool = False) -> CaseSnapshot:
    """The case as its stored events (or their `History`, when the caller reads it too) leave
    it (`domain.replay.replay_case` with this app's rules)."""
    return replay_case(app.workflow, case_id, events, apply_context(app, REPLAY_TODAY, explain=explain))


# --------------------------------------------------------------------------- use cases


def intake(
    app: App, *, case_id: str | None = None, session: Db | None = None, **args: Unpack[EventArgs]
) -> Change:
    """Register an application: the `receive` event creates the case."""
    e = Entry.of(app, args)
    with connection_scope(app, session) as s:
        agency = resolve_agency(app, e.data)
        if case_id is not None:
            case_id = clean_id("case", "案件编号", case_id, e.limits.case["id"])
            if row_exists(s, CASE_TABLE, case_id):
                raise AlreadyExists(f"编号为 {case_id} 的案件已存在")
        snap, clean = receive_case(app.workflow, case_id or "(new)", e.on, {**e.data, "agency": agency}, e.ctx, by=e.by)
        e.limits.check_case_data(clean, FIELD_LABELS)
        check_open_year(s, agency, e.on, e.amend_reason, "登记申请")
        ensure_agency(s, app, agency)
        if case_id is None:
            snap.id = new_case_id(s, agency, e.on)
        try:
            row = s.execute(INSERT_CASE, projection_values(snap)).one()
        except IntegrityError:
            raise AlreadyExists(f"编号为 {snap.id} 的案件已存在") from None
        event = e.record(s, "receive", clean, case_id=snap.id)
        if e.amend_reason:
            snap, row = _carry_into_open_years(app, s, snap, row, e.by)
        commit_own(s, session)
        return Change(row, event, snap)


def _carry_into_open_years(app: App, db: Db, snap: CaseSnapshot, row: CaseRow, by: str) -> tuple[CaseSnapshot, CaseRow]:
    """A case registered into a closed year is open at that year's end: it gets the 结转 marker
    `foi year close` gave the cases open then, dated the same 31 December (each closed year on)."""
    closed = closed_years(db, snap.agency)
    year = snap.received_on.year
    while year in closed:
        change = advance(app, snap.id, "carry_over", on=date(year, 12, 31), by=by, data={"year": year + 1}, session=db)
        snap, row = change.snapshot, change.case
        year += 1
    return snap, row


def advance(
    app: App,
    case_id: str,
    event: str,
    *,
    expected_version: int | None = None,
    session: Db | None = None,
    **args: Unpack[EventArgs],
) -> Change:
    """Record one workflow event on an existing case (SPEC §3), in one transaction."""
    case_id = clean_id("case", "案件编号", case_id, column_limits().case["id"])
    e = Entry.of(app, args)
    with connection_scope(app, session) as s:
        # Lock the row: a concurrent writer of the same case waits here, then re-reads and
        # re-validates against the committed result. The version still refuses any write from
        # a stale read.
        row = get_case(s, case_id, lock=True)
        if expected_version is not None and row.version != expected_version:
            raise ConcurrentChange(f"案件 {case_id} 已被其他人修改（版本 {row.version}），本次操作未保存")
        snap = replay(app, case_id, case_events(s, case_id))
        new, clean, warnings = apply_case_event(app.workflow, snap, event, e.on, e.data, e.ctx)
        if event == "decide":  # what a decision recorded now must carry (not stored history)
            check_new_decision(Outcome(clean["outcome"]), clean, snap.consultations, e.on)
        if event == "fee_notice":
            _settle_fee(s, snap, e.on, clean)
        e.limits.check_case_data(clean, FIELD_LABELS)
        if event != "carry_over":
            check_open_year(s, row.agency, e.on, e.amend_reason, f"案件 {case_id}")
        row = write_projection(s, row, new)
        ev = e.record(s, event, clean, case_id=case_id)
        drop_stale_mail(connection_of(s), case_id, reminder_keys(app, row))
        commit_own(s, session)
        return Change(row, ev, new, warnings)


def reminder_keys(app: App, row: AnyCase) -> dict[str, set[str]]:
    """Per reminder rule, the outbox key of the deadline the case has now (SPEC §7: case, rule,
    due date), if it has one."""
    keys: dict[str, set[str]] = {}
    for rule in app.config.reminders:
        due = getattr(row, rule.deadline, None)
        keys[rule.name] = {f"{row.id}:{rule.name}:{due.isoformat()}"} if due is not None else set()
    return keys


def _settle_fee(db: Db, snap: CaseSnapshot, on: date, clean: dict[str, Any]) -> None:
    from foi_workflow.services.fee_month import settle_amount, stored_month_quantity

    already = stored_month_quantity(
        db, agency=snap.agency, applicant=snap.applicant, case_id=snap.id, on=on, basis=clean["basis"]
    )
    settle_amount(clean, already)


def _differences(case_id: str, row: AnyCase, snap: CaseSnapshot) -> list[str]:
    """Where a stored case row differs from what its log gives (`case id: column stored ≠ expected`)."""
    return [
        f"{case_id}: {column} {getattr(row, column)!r} ≠ {expected!r}"
        for column, expected in projection_dict(snap).items()
        if getattr(row, column) != expected
    ]


def rebuild(app: App, *, check_only: bool = False) -> list[str]:
    """Recompute every case row from the event log. Returns the differences found (case id:
    column), and rewrites the rows that differ unless `check_only`.

    The comparison reads one snapshot without locks. Only the rows that differ are written
    (a row that agrees keeps its version, so no writer beside the rebuild is disturbed), each
    locked first (FOR UPDATE) and compared again with its log as it is then: a writer that
    changed the case meanwhile is waited for, never overwritten."""
    require_schema(app.engine)
    differences: list[str] = []
    to_write: list[str] = []
    with app.engine.connect() as conn:
        by_case: dict[str, list[EventRow]] = {}
        for ev in conn.execute(select(EVENT_TABLE).where(EVENT.case_id.is_not(None)).order_by(EVENT.seq)):
            by_case.setdefault(ev.case_id, []).append(ev)
        rows = {r.id: r for r in conn.execute(select(CASE_TABLE))}
        for case_id, events in by_case.items():
            row = rows.pop(case_id, None)
            snap = replay(app, case_id, events)
            found = [f"{case_id}: 案件表缺少该案件"] if row is None else _differences(case_id, row, snap)
            if found:
                differences.extend(found)
                to_write.append(case_id)
        differences.extend(f"{orphan}: 案件表中的案件没有事件记录" for orphan in rows)
    if check_only or not to_write:
        return differences
    with connection_scope(app, None) as s:
        for case_id in sorted(to_write):  # one lock order for every rebuild: no deadlock between two
            snap = replay(app, case_id, case_events(s, case_id))
            try:
                locked = get_case(s, case_id, lock=True)
            except NotFound:
                s.execute(INSERT_CASE, projection_values(snap))
                continue
            if _differences(case_id, locked, snap):
                write_projection(s, locked, snap)
        s.commit()
    return differences
