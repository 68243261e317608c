"""Use cases on one case: intake, any workflow event, assignment, and the rebuild of the
projection from the event log; with the storage steps the other use cases share (read a case
and its events, write its projection, advance a counter).

Every change is one unit of work: the event row, the case projection (with its version
checked) and anything else the caller adds in the same transaction commit together or not at
all. Written in SQLAlchemy Core over `adapters.tables`, never the ORM classes: an event command
imports neither SQLModel nor the ORM (#16). A caller's ORM `Session` may be joined: its Core
statements run in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Required, TypeAlias, TypedDict, Unpack

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError, OperationalError

from foi_workflow.adapters.db import require_schema
from foi_workflow.adapters.tables import AGENCY, CASE_TABLE, COUNTER, EVENT_TABLE, YEAR_CLOSE, column_limits, utcnow
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
from foi_workflow.errors import AlreadyExists, ClosedYear, ConcurrentChange, NotFound
from foi_workflow.services.app import App, apply_context
from foi_workflow.services.outbox import drop_stale_mail

if TYPE_CHECKING:
    from sqlmodel import Session

    from foi_workflow.adapters.models import Case, Event

# Where a use case's statements run: its own Core connection, or a caller's ORM session.
Db: TypeAlias = "Connection | Session"
CaseRow: TypeAlias = Row[Any]  # a row of `foi_case`, read by column name
EventRow: TypeAlias = Row[Any]  # a row of `event`
AnyCase: TypeAlias = "Case | CaseRow"  # a case as the ORM or a Core statement read it
AnyEvent: TypeAlias = "Event | EventRow"

CASE = CASE_TABLE.c
EVENT = EVENT_TABLE.c
CONFLICT = "数据库正被其他操作占用或案件已被修改，本次操作未保存，请重试"


@dataclass
class Change:
    """What a recorded event left: the case row, the event row, and warnings to show."""

    case: CaseRow
    event: EventRow
    snapshot: CaseSnapshot
    warnings: list[str] = field(default_factory=list)


@contextmanager
def _conflicts_explained() -> Iterator[None]:
    """A lock or serialisation failure of the database as the one-line E-CONFLICT."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).lower()
        if "locked" in reason or "could not serialize" in reason or "deadlock detected" in reason:
            raise ConcurrentChange(CONFLICT) from None
        raise


@contextmanager
def connection_scope(app: App, joined: Db | None) -> Iterator[Db]:
    """Join the caller's transaction, or run one of our own on a Core connection (rolled back
    unless the use case commits it: see `commit_own`)."""
    if joined is not None:
        if not isinstance(joined, Connection):
            joined.flush()  # what the caller's ORM session holds is in the transaction before we read
        yield joined
        return
    with own_connection(app) as own:
        yield own


@contextmanager
def own_connection(app: App) -> Iterator[Connection]:
    """A transaction of the use case's own on a Core connection: rolled back unless it commits,
    its lock and serialisation failures the one-line E-CONFLICT."""
    require_schema(app.engine)
    with _conflicts_explained(), app.engine.connect() as own:
        yield own


@contextmanager
def session_scope(app: App, session: Session | None) -> Iterator[Session]:
    """Join the caller's ORM session, or run a unit of work of our own (rolled back unless the
    use case commits it: see `commit_own`), for the use cases that query the ORM classes."""
    if session is not None:
        yield session
        return
    from sqlalchemy.orm.exc import StaleDataError

    from foi_workflow.adapters.db import unit_of_work

    require_schema(app.engine)
    try:
        with _conflicts_explained(), unit_of_work(app.engine) as own:
            yield own
    except StaleDataError:
        raise ConcurrentChange("该案件刚被其他人修改，本次操作未保存，请重新查看后再试") from None


def transaction(app: App) -> AbstractContextManager[Session]:
    """A unit of work of its own whose concurrency failures become a clear E-CONFLICT; the use
    case commits it (`session.commit()`), or it is rolled back."""
    return session_scope(app, None)


def commit_own(s: Db, joined: Db | None) -> None:
    """The end of a use case run in a scope joined to `joined`: commit its own unit of work;
    a joined one belongs to the caller, who commits it (or not) with everything else."""
    if joined is None:
        s.commit()


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
        if not isinstance(db, Connection):
            db.flush()  # an ORM session's pending rows (the appeal the event names) go first
        values = {**owner, "event": name, "on": self.on, "by": self.by, "data": clean,
                  "amend_reason": self.amend_reason, "recorded_at": utcnow()}  # fmt: skip
        return db.execute(insert(EVENT_TABLE).values(values).returning(*EVENT_TABLE.c)).one()


def resolve_agency(app: App, data: Mapping[str, Any]) -> str:
    """The agency a new case or appeal belongs to: the one its data names, else the default;
    one the config does not know is refused."""
    agency = str(data.get("agency") or app.config.default_agency)
    app.config.agency(agency)
    return agency


# --------------------------------------------------------------------------- projection


# The cached columns a snapshot gives, in the table's order: all but the id and the bookkeeping.
PROJECTED = tuple(CASE_TABLE.c.keys())[1:-2]


def projection_tuple(snap: CaseSnapshot) -> tuple[Any, ...]:
    """The cached columns of a case row as the snapshot gives them, in `PROJECTED` order (what
    a bulk import takes, without a dict per row)."""
    d = snap.deadlines
    reply, remedies = snap.reply, snap.remedies
    return (
        snap.agency,
        snap.state,
        snap.outcome,
        snap.applicant,
        snap.applicant_type,
        snap.channel,
        snap.contact,
        snap.phone,
        snap.id_number,
        snap.request,
        snap.caseworker,
        snap.received_on,
        snap.decided_on,
        d.reply_due if d else None,
        bool(d and d.provisional),
        d.correction_notice_due if d else None,
        d.correction_due if d else None,
        d.consultation_due if d else None,
        d.fee_due if d else None,
        d.extended_days if d else 0,
        snap.on_time if d else None,
        reply.replied_on if reply else None,
        bool(reply and reply.served),
        remedies.review_until if remedies else None,
        remedies.litigation_until if remedies else None,
        snap.carried_over_to,
        snap.voided,
        snap.last_event_on,
    )


def projection_dict(snap: CaseSnapshot) -> dict[str, Any]:
    """The cached columns of a case row as the snapshot gives them (no id, no version)."""
    return dict(zip(PROJECTED, projection_tuple(snap), strict=True))


def projection_values(snap: CaseSnapshot) -> dict[str, Any]:
    """A whole new case row as column values (for inserts and bulk inserts)."""
    return {"id": snap.id, **projection_dict(snap), "updated_at": utcnow(), "version": 1}


def write_projection(db: Db, row: Any, snap: CaseSnapshot) -> CaseRow:
    """Copy a snapshot onto the cached case row read as `row`, if nobody has written the row
    since (its version): the row as it now is. A write from a stale read is refused."""
    written = db.execute(
        update(CASE_TABLE)
        .where(CASE.id == row.id, CASE.version == row.version)
        .values(**projection_dict(snap), updated_at=utcnow(), version=CASE.version + 1)
        .returning(*CASE_TABLE.c)
    ).one_or_none()
    if written is None:
        raise ConcurrentChange("该案件刚被其他人修改，本次操作未保存，请重新查看后再试")
    _expire_orm_copy(db, row.id)
    return written


def _expire_orm_copy(db: Db, case_id: str) -> None:
    """A joined ORM session may hold the case as it was: have it read the row again."""
    if not isinstance(db, Connection):
        from foi_workflow.adapters.models import Case

        cached = db.identity_map.get(db.identity_key(Case, case_id))
        if cached is not None:
            db.expire(cached)


def replay(app: App, case_id: str, events: Iterable[StoredEvent] | History, *, explain: bool = False) -> CaseSnapshot:
    """The case as its stored events (or their `History`, when the caller reads it too) leave
    it (`domain.replay.replay_case` with this app's rules)."""
    return replay_case(app.workflow, case_id, events, apply_context(app, REPLAY_TODAY, explain=explain))


def case_events(db: Db, case_id: str) -> list[AnyEvent]:
    return list(db.execute(select(EVENT_TABLE).where(EVENT.case_id == case_id).order_by(EVENT.seq)))


def get_case(db: Db, case_id: str, *, lock: bool = False) -> CaseRow:
    """The case's row (locked until the transaction ends: `lock`; PostgreSQL, SQLite ignores FOR
    UPDATE and serialises writers itself)."""
    query = select(CASE_TABLE).where(CASE.id == case_id)
    row = db.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NotFound(f"没有编号为 {case_id} 的案件")
    return row


def closed_years(db: Db, agency: str) -> set[int]:
    return set(db.execute(select(YEAR_CLOSE.c.year).where(YEAR_CLOSE.c.agency == agency)).scalars())


def check_open_year(db: Db, agency: str, on: date, amend_reason: str | None, subject: str) -> None:
    """Refuse an event dated in a year frozen by `foi year close`, unless amending on purpose."""
    if on.year in closed_years(db, agency) and not (amend_reason and amend_reason.strip()):
        raise ClosedYear(
            f'{subject}：{on.year} 年度已结转封存，不能再记录该年度的事件；如确需更正，请加 --amend-closed-year "理由"'
        )


def connection_of(db: Db) -> Connection:
    """The Core connection `db` runs on (an ORM session's, in its transaction)."""
    return db if isinstance(db, Connection) else db.connection()


def _dialect_name(db: Db) -> str:
    return connection_of(db).dialect.name


def insert_if_absent(db: Db, table: Table, values: Mapping[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two writers creating the same row at once both succeed."""
    statement: Any
    if _dialect_name(db) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    db.execute(statement)


def _exists(db: Db, table: Table, key: str) -> bool:
    primary = next(iter(table.primary_key))
    return db.execute(select(primary).where(primary == key)).first() is not None


def ensure_agency(db: Db, app: App, code: str) -> None:
    if not _exists(db, AGENCY, code):
        insert_if_absent(db, AGENCY, {"code": code, "name": app.config.agency(code).name, "created_at": utcnow()})


def next_sequence(db: Db, agency: str, name: str) -> int:
    """Advance a per-agency counter inside the current transaction.

    One atomic `UPDATE … SET value = value + 1 RETURNING value`: the row stays locked until
    the transaction ends, so concurrent writers (PostgreSQL) queue up and never share a value."""
    insert_if_absent(db, COUNTER, {"agency": agency, "name": name, "value": 0})
    c = COUNTER.c
    value = db.execute(
        update(COUNTER).where(c.agency == agency, c.name == name).values(value=c.value + 1).returning(c.value)
    ).scalar_one()
    return int(value)


def new_id(db: Db, table: Table, agency: str, counter: str, form: Callable[[int], str]) -> str:
    """The next number of the agency's `counter` in its `form`, skipping ids already taken
    (a case or appeal recorded with an id of its own, or imported, may hold one)."""
    while True:
        candidate = form(next_sequence(db, agency, counter))
        if not _exists(db, table, candidate):
            return candidate


def new_case_id(db: Db, agency: str, received_on: date) -> str:
    prefix = "" if agency == "default" else f"{agency}-"
    year = received_on.year
    return new_id(db, CASE_TABLE, agency, f"case:{year}", lambda seq: f"{prefix}{year}-{seq:05d}")


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
            if _exists(s, CASE_TABLE, case_id):
                raise AlreadyExists(f"编号为 {case_id} 的案件已存在")
        snap, clean = receive_case(app.workflow, case_id or "(new)", e.on, {**e.data, "agency": agency}, e.ctx, by=e.by)
        e.limits.check_case_data(clean, FIELD_LABELS)
        check_open_year(s, agency, e.on, e.amend_reason, "登记申请")
        ensure_agency(s, app, agency)
        if case_id is None:
            snap.id = new_case_id(s, agency, e.on)
        try:
            row = s.execute(insert(CASE_TABLE).values(projection_values(snap)).returning(*CASE_TABLE.c)).one()
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


def reminder_keys(app: App, row: Any) -> dict[str, set[str]]:
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


def _differences(case_id: str, row: Any, snap: CaseSnapshot) -> list[str]:
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
                s.execute(insert(CASE_TABLE).values(projection_values(snap)))
                continue
            if _differences(case_id, locked, snap):
                write_projection(s, locked, snap)
        s.commit()
    return differences
