"""Use cases on one case: intake, any workflow event, assignment, the views `show` and `list`
print, and the rebuild of the projection from the event log.

Every change is one unit of work: the event row, the case projection (with its version
checked) and anything else the caller adds in the same session commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Required, TypedDict, TypeVar, Unpack

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from foi_workflow.adapters.db import require_schema, unit_of_work
from foi_workflow.adapters.tables import Agency, Case, Counter, Event, YearClose, column_limits, utcnow
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


@dataclass
class Change:
    """What a recorded event left: the case row, the event row, and warnings to show."""

    case: Case
    event: Event
    snapshot: CaseSnapshot
    warnings: list[str] = field(default_factory=list)


@contextmanager
def session_scope(app: App, session: Session | None) -> Iterator[Session]:
    """Join the caller's transaction, or run a unit of work of our own (rolled back unless the
    use case commits it: see `commit_own`)."""
    if session is not None:
        yield session
        return
    require_schema(app.engine)
    try:
        with unit_of_work(app.engine) as own:
            yield own
    except StaleDataError:
        raise ConcurrentChange("该案件刚被其他人修改，本次操作未保存，请重新查看后再试") from None
    except OperationalError as exc:
        reason = str(exc.orig).lower()
        if "locked" in reason or "could not serialize" in reason or "deadlock detected" in reason:
            raise ConcurrentChange("数据库正被其他操作占用或案件已被修改，本次操作未保存，请重试") from None
        raise


def transaction(app: App) -> AbstractContextManager[Session]:
    """A unit of work of its own whose concurrency failures become a clear E-CONFLICT; the use
    case commits it (`session.commit()`), or it is rolled back."""
    return session_scope(app, None)


def commit_own(s: Session, joined: Session | None) -> None:
    """The end of a use case run in `session_scope(app, joined)`: commit its own unit of work;
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

    def event(self, name: str, clean: dict[str, Any], **owner: Any) -> Event:
        """The event row recording this entry (`clean`: its data as the workflow made it
        canonical; `owner`: its `case_id` or `appeal_id`)."""
        return Event(**owner, event=name, on=self.on, by=self.by, data=clean, amend_reason=self.amend_reason)


def resolve_agency(app: App, data: Mapping[str, Any]) -> str:
    """The agency a new case or appeal belongs to: the one its data names, else the default;
    one the config does not know is refused."""
    agency = str(data.get("agency") or app.config.default_agency)
    app.config.agency(agency)
    return agency


# --------------------------------------------------------------------------- projection


def projection_dict(snap: CaseSnapshot) -> dict[str, Any]:
    """The cached columns of a case row as the snapshot gives them (no id, no version)."""
    d = snap.deadlines
    reply, remedies = snap.reply, snap.remedies
    return {
        "agency": snap.agency,
        "state": snap.state,
        "outcome": snap.outcome,
        "applicant": snap.applicant,
        "applicant_type": snap.applicant_type,
        "channel": snap.channel,
        "contact": snap.contact,
        "phone": snap.phone,
        "id_number": snap.id_number,
        "request": snap.request,
        "caseworker": snap.caseworker,
        "received_on": snap.received_on,
        "decided_on": snap.decided_on,
        "reply_due": d.reply_due if d else None,
        "reply_due_provisional": bool(d and d.provisional),
        "correction_notice_due": d.correction_notice_due if d else None,
        "correction_due": d.correction_due if d else None,
        "consultation_due": d.consultation_due if d else None,
        "fee_due": d.fee_due if d else None,
        "extended_days": d.extended_days if d else 0,
        "on_time": snap.on_time if d else None,
        "replied_on": reply.replied_on if reply else None,
        "served": bool(reply and reply.served),
        "review_until": remedies.review_until if remedies else None,
        "litigation_until": remedies.litigation_until if remedies else None,
        "carried_over_to": snap.carried_over_to,
        "voided": snap.voided,
        "last_event_on": snap.last_event_on,
    }


def write_projection(row: Case, snap: CaseSnapshot) -> None:
    """Copy a snapshot onto the cached case row."""
    for column, value in projection_dict(snap).items():
        setattr(row, column, value)
    row.updated_at = utcnow()


def projection_values(snap: CaseSnapshot) -> dict[str, Any]:
    """A whole new case row as column values (for inserts and bulk inserts)."""
    return {"id": snap.id, **projection_dict(snap), "updated_at": utcnow(), "version": 1}


def replay(app: App, case_id: str, events: Iterable[StoredEvent] | History, *, explain: bool = False) -> CaseSnapshot:
    """The case as its stored events (or their `History`, when the caller reads it too) leave
    it (`domain.replay.replay_case` with this app's rules)."""
    return replay_case(app.workflow, case_id, events, apply_context(app, REPLAY_TODAY, explain=explain))


def case_events(session: Session, case_id: str) -> list[Event]:
    return list(session.scalars(select(Event).where(col(Event.case_id) == case_id).order_by(col(Event.seq))))


def get_case(session: Session, case_id: str, *, lock: bool = False) -> Case:
    row = (
        session.get(Case, case_id, with_for_update=True, populate_existing=True) if lock else session.get(Case, case_id)
    )
    if row is None:
        raise NotFound(f"没有编号为 {case_id} 的案件")
    return row


def closed_years(session: Session, agency: str) -> set[int]:
    return set(session.scalars(select(col(YearClose.year)).where(col(YearClose.agency) == agency)))


def check_open_year(session: Session, agency: str, on: date, amend_reason: str | None, subject: str) -> None:
    """Refuse an event dated in a year frozen by `foi year close`, unless amending on purpose."""
    if on.year in closed_years(session, agency) and not (amend_reason and amend_reason.strip()):
        raise ClosedYear(
            f'{subject}：{on.year} 年度已结转封存，不能再记录该年度的事件；如确需更正，请加 --amend-closed-year "理由"'
        )


def insert_if_absent(session: Session, table: Any, values: Mapping[str, Any]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: two writers creating the same row at once both succeed."""
    statement: Any
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    session.execute(statement)


def ensure_agency(session: Session, app: App, code: str) -> None:
    if session.get(Agency, code) is None:
        agency = app.config.agency(code)
        values = {"code": code, "name": agency.name, "created_at": utcnow()}
        insert_if_absent(session, Agency.__table__, values)  # type: ignore[attr-defined]


def next_sequence(session: Session, agency: str, name: str) -> int:
    """Advance a per-agency counter inside the current transaction.

    One atomic `UPDATE … SET value = value + 1 RETURNING value`: the row stays locked until
    the transaction ends, so concurrent writers (PostgreSQL) queue up and never share a value."""
    table = Counter.__table__  # type: ignore[attr-defined]
    insert_if_absent(session, table, {"agency": agency, "name": name, "value": 0})
    value = session.execute(
        update(table)
        .where(table.c.agency == agency, table.c.name == name)
        .values(value=table.c.value + 1)
        .returning(table.c.value)
    ).scalar_one()
    return int(value)


_Row = TypeVar("_Row")


def new_id(session: Session, table: type[_Row], agency: str, counter: str, form: Callable[[int], str]) -> str:
    """The next number of the agency's `counter` in its `form`, skipping ids already taken
    (a case or appeal recorded with an id of its own, or imported, may hold one)."""
    while True:
        candidate = form(next_sequence(session, agency, counter))
        if session.get(table, candidate) is None:
            return candidate


def new_case_id(session: Session, agency: str, received_on: date) -> str:
    prefix = "" if agency == "default" else f"{agency}-"
    year = received_on.year
    return new_id(session, Case, agency, f"case:{year}", lambda seq: f"{prefix}{year}-{seq:05d}")


# --------------------------------------------------------------------------- use cases


def intake(
    app: App, *, case_id: str | None = None, session: Session | None = None, **args: Unpack[EventArgs]
) -> Change:
    """Register an application: the `receive` event creates the case."""
    e = Entry.of(app, args)
    with session_scope(app, session) as s:
        agency = resolve_agency(app, e.data)
        if case_id is not None:
            case_id = clean_id("case", "案件编号", case_id, e.limits.case["id"])
            if s.get(Case, case_id) is not None:
                raise AlreadyExists(f"编号为 {case_id} 的案件已存在")
        snap, clean = receive_case(app.workflow, case_id or "(new)", e.on, {**e.data, "agency": agency}, e.ctx, by=e.by)
        e.limits.check_case_data(clean, FIELD_LABELS)
        check_open_year(s, agency, e.on, e.amend_reason, "登记申请")
        ensure_agency(s, app, agency)
        if case_id is None:
            snap.id = new_case_id(s, agency, e.on)
        row = Case(**projection_values(snap))
        s.add(row)
        try:
            s.flush()
        except IntegrityError:
            raise AlreadyExists(f"编号为 {snap.id} 的案件已存在") from None
        event = e.event("receive", clean, case_id=snap.id)
        s.add(event)
        s.flush()
        if e.amend_reason:
            snap = _carry_into_open_years(app, s, snap, e.by)
        commit_own(s, session)
        return Change(row, event, snap)


def _carry_into_open_years(app: App, session: Session, snap: CaseSnapshot, by: str) -> CaseSnapshot:
    """A case registered into a closed year is open at that year's end: it gets the 结转 marker
    `foi year close` gave the cases open then, dated the same 31 December (each closed year on)."""
    closed = closed_years(session, snap.agency)
    year = snap.received_on.year
    while year in closed:
        data = {"year": year + 1}
        snap = advance(app, snap.id, "carry_over", on=date(year, 12, 31), by=by, data=data, session=session).snapshot
        year += 1
    return snap


def advance(
    app: App,
    case_id: str,
    event: str,
    *,
    expected_version: int | None = None,
    session: Session | None = None,
    **args: Unpack[EventArgs],
) -> Change:
    """Record one workflow event on an existing case (SPEC §3), in one transaction."""
    case_id = clean_id("case", "案件编号", case_id, column_limits().case["id"])
    e = Entry.of(app, args)
    with session_scope(app, session) as s:
        # Lock the row (PostgreSQL; SQLite ignores FOR UPDATE and serialises writers itself): a
        # concurrent writer of the same case waits here, then re-reads and re-validates against
        # the committed result. The version column still refuses any write from a stale read.
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
        write_projection(row, new)
        s.add(row)
        ev = e.event(event, clean, case_id=case_id)
        s.add(ev)
        s.flush()
        drop_stale_mail(s.connection(), case_id, reminder_keys(app, row))
        commit_own(s, session)
        return Change(row, ev, new, warnings)


def reminder_keys(app: App, row: Case) -> dict[str, set[str]]:
    """Per reminder rule, the outbox key of the deadline the case has now (SPEC §7: case, rule,
    due date), if it has one."""
    keys: dict[str, set[str]] = {}
    for rule in app.config.reminders:
        due = getattr(row, rule.deadline, None)
        keys[rule.name] = {f"{row.id}:{rule.name}:{due.isoformat()}"} if due is not None else set()
    return keys


def _settle_fee(session: Session, snap: CaseSnapshot, on: date, clean: dict[str, Any]) -> None:
    from foi_workflow.services.fee_month import settle_amount, stored_month_quantity

    already = stored_month_quantity(
        session, agency=snap.agency, applicant=snap.applicant, case_id=snap.id, on=on, basis=clean["basis"]
    )
    settle_amount(clean, already)


def _differences(case_id: str, row: Case, snap: CaseSnapshot) -> list[str]:
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
    with Session(app.engine) as s:
        by_case: dict[str, list[Event]] = {}
        for ev in s.scalars(select(Event).where(col(Event.case_id).is_not(None)).order_by(col(Event.seq))):
            assert ev.case_id is not None
            by_case.setdefault(ev.case_id, []).append(ev)
        rows = {r.id: r for r in s.scalars(select(Case))}
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
    with transaction(app) as s:
        for case_id in sorted(to_write):  # one lock order for every rebuild: no deadlock between two
            locked = s.get(Case, case_id, with_for_update=True, populate_existing=True)
            snap = replay(app, case_id, case_events(s, case_id))
            if locked is None:
                s.add(Case(**projection_values(snap)))
            elif _differences(case_id, locked, snap):
                write_projection(locked, snap)
        s.commit()
    return differences
