"""The storage steps every use case on a case shares, in SQLAlchemy Core over
`adapters.tables`: where its statements run (its own Core connection, or a caller's ORM session
joined), reading a case and its log, writing its projection with the version checked, the
closed years, counters and agencies.

Core, never the ORM classes: an event command imports neither SQLModel nor the ORM (#16).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import OperationalError

from foi_workflow.adapters.db import require_schema
from foi_workflow.adapters.tables import AGENCY, CASE_TABLE, COUNTER, EVENT_TABLE, YEAR_CLOSE, utcnow
from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.errors import ClosedYear, ConcurrentChange, NotFound
from foi_workflow.services.app import App

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
STALE = "该案件刚被其他人修改，本次操作未保存，请重新查看后再试"  # a write from a read someone has since overtaken


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
        caught_up(joined)
        yield joined
        return
    with own_connection(app) as own:
        yield own


def caught_up(db: Db) -> None:
    """Send what a caller's ORM session holds (an appeal just added, a changed row) to the
    database, so that the Core statements that follow in its transaction see it and may refer
    to it. A Core connection holds nothing back."""
    if not isinstance(db, Connection):
        db.flush()


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
        raise ConcurrentChange(STALE) from None


def transaction(app: App) -> AbstractContextManager[Session]:
    """A unit of work of its own whose concurrency failures become a clear E-CONFLICT; the use
    case commits it (`session.commit()`), or it is rolled back."""
    return session_scope(app, None)


def commit_own(s: Db, joined: Db | None) -> None:
    """The end of a use case run in a scope joined to `joined`: commit its own unit of work;
    a joined one belongs to the caller, who commits it (or not) with everything else."""
    if joined is None:
        s.commit()


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


# The statements of every event, built once with their values as parameters: building one per
# call (a bound value per column, its cache key) cost more than running it.
_WRITE = (
    update(CASE_TABLE)
    .where(CASE.id == bindparam("read_id"), CASE.version == bindparam("read_version"))
    .values({**{name: bindparam(name) for name in (*PROJECTED, "updated_at")}, "version": CASE.version + 1})
    .returning(*CASE_TABLE.c)
)
INSERT_CASE = insert(CASE_TABLE).returning(*CASE_TABLE.c)
_CASE = select(CASE_TABLE).where(CASE.id == bindparam("id"))
_LOCKED_CASE = _CASE.with_for_update()
_EVENTS = select(EVENT_TABLE).where(EVENT.case_id == bindparam("id")).order_by(EVENT.seq)


def write_projection(db: Db, row: AnyCase, snap: CaseSnapshot) -> CaseRow:
    """Copy a snapshot onto the cached case row read as `row`, if nobody has written the row
    since (its version): the row as it now is. A write from a stale read is refused."""
    values = {**projection_dict(snap), "updated_at": utcnow(), "read_id": row.id, "read_version": row.version}
    written = db.execute(_WRITE, values).one_or_none()
    if written is None:
        raise ConcurrentChange(STALE)
    _expire_orm_copy(db, row.id)
    return written


def _expire_orm_copy(db: Db, case_id: str) -> None:
    """A joined ORM session may hold the case as it was: have it read the row again."""
    if not isinstance(db, Connection):
        from foi_workflow.adapters.models import Case

        cached = db.identity_map.get(db.identity_key(Case, case_id))
        if cached is not None:
            db.expire(cached)


def case_events(db: Db, case_id: str) -> list[AnyEvent]:
    return list(db.execute(_EVENTS, {"id": case_id}))


def get_case(db: Db, case_id: str, *, lock: bool = False) -> CaseRow:
    """The case's row (locked until the transaction ends: `lock`; PostgreSQL, SQLite ignores FOR
    UPDATE and serialises writers itself)."""
    row = db.execute(_LOCKED_CASE if lock else _CASE, {"id": case_id}).one_or_none()
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


def insert_if_absent(db: Db, table: Table, values: Mapping[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two writers creating the same row at once both succeed."""
    statement: Any
    if connection_of(db).dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    db.execute(statement)


def row_exists(db: Db, table: Table, key: str) -> bool:
    primary = next(iter(table.primary_key))
    return db.execute(select(primary).where(primary == key)).first() is not None


def ensure_agency(db: Db, app: App, code: str) -> None:
    if not row_exists(db, AGENCY, code):
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
        if not row_exists(db, table, candidate):
            return candidate


def new_case_id(db: Db, agency: str, received_on: date) -> str:
    prefix = "" if agency == "default" else f"{agency}-"
    year = received_on.year
    return new_id(db, CASE_TABLE, agency, f"case:{year}", lambda seq: f"{prefix}{year}-{seq:05d}")
