"""What `foi show` and `foi list` print: case rows and their histories as plain dicts
(the JSON contract of SPEC §8), with the deadline explanation from the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, get_args, get_type_hints

from foi_workflow.adapters.reader import Reader, as_bool, as_date, as_json, as_timestamp
from foi_workflow.domain.corrections import History, read_history
from foi_workflow.domain.remedies import is_final
from foi_workflow.domain.replay import REPLAY_TODAY, replay_case
from foi_workflow.domain.service import reply_lines
from foi_workflow.domain.vocabulary import (
    RUNNING_DEADLINE,
    ApplicantType,
    Channel,
    Outcome,
    State,
)
from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.errors import NotFound
from foi_workflow.services.app import App, apply_context, today_local

# The views read through `App.reader()`: a plain DB-API connection, no SQLAlchemy, no ORM (its
# import alone was most of the time `foi show` took). The rows are these small records, with
# the values SQLAlchemy's column types would give (see `adapters.reader`).


@dataclass(frozen=True, slots=True)
class CaseRow:
    """The columns of `foi_case` the views print: the table's own declaration
    (`adapters.tables.Case`) cannot be imported on this path, so this record repeats its names
    and Python types, in the table's order, and `tests/integration/test_schema.py` holds the
    two together. Each value is converted by its declared type, never by its name."""

    id: str
    agency: str
    state: str
    outcome: str | None
    applicant: str
    applicant_type: str
    channel: str
    contact: str
    phone: str
    id_number: str
    request: str
    caseworker: str
    received_on: date
    decided_on: date | None
    reply_due: date | None
    reply_due_provisional: bool
    correction_notice_due: date | None
    correction_due: date | None
    consultation_due: date | None
    fee_due: date | None
    extended_days: int
    on_time: bool | None
    replied_on: date | None
    served: bool
    review_until: date | None
    litigation_until: date | None
    carried_over_to: int | None
    voided: bool
    version: int

    @classmethod
    def from_db(cls, r: tuple[Any, ...]) -> CaseRow:
        return cls(*[value if convert is None else convert(value) for value, convert in zip(r, _CONVERT, strict=True)])


CASE_FIELDS = tuple(f.name for f in fields(CaseRow))
CASE_COLUMNS = ", ".join(CASE_FIELDS)


def _converter(declared: Any) -> Callable[[Any], Any] | None:
    """How a raw value of a field declared `declared` becomes what SQLAlchemy's type gives."""
    kinds = set(get_args(declared)) or {declared}
    if date in kinds:
        return as_date
    if bool in kinds:
        return as_bool
    return None


_CONVERT = tuple(_converter(declared) for declared in get_type_hints(CaseRow).values())


@dataclass(frozen=True, slots=True)
class EventRow:
    """One line of a case's event log, as the views and the replay read it."""

    event: str
    on: date
    by: str
    recorded_at: datetime | None  # aware on PostgreSQL, naive UTC on SQLite (as SQLAlchemy gives it)
    amend_reason: str | None
    data: dict[str, Any]

    @classmethod
    def from_db(cls, r: tuple[Any, ...]) -> EventRow:
        on = as_date(r[1])
        assert on is not None
        return cls(r[0], on, r[2], as_timestamp(r[3]), r[4], as_json(r[5]))


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise, not enough to misuse."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(number: str) -> str:
    """110101********1234."""
    n = number.strip()
    if len(n) < 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


# What is masked in `foi show` and `foi list` unless `--reveal` (in full only in `foi export`).
_MASKS = {"phone": mask_phone, "id_number": mask_id_number}


def masked_data(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data with the applicant's phone and identity number masked."""
    if not any(key in data for key in _MASKS):
        return data
    return {k: _MASKS[k](str(v)) if k in _MASKS and v else v for k, v in data.items()}


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def case_summary(
    row: CaseRow, today: date, *, masked: bool = True, caseworker_name: str = "", appealed: bool = False
) -> dict[str, Any]:
    """A case row as `foi list --format json` prints it (SPEC §8, without events), with the
    end of whichever period runs (`due`: the reply, a correction, a consultation, a fee), and
    §15's reply date, remedy windows and finality (`appealed`: whether an appeal names it)."""
    state = State(row.state)
    overdue = bool(row.reply_due and state is State.RECEIVED and today > row.reply_due)
    running = RUNNING_DEADLINE.get(state)
    due: date | None = getattr(row, running.value) if running is not None else None
    decided = state is State.DECIDED
    return {
        "id": row.id,
        "agency": row.agency,
        "state": row.state,
        "state_label": state.label,
        "outcome": row.outcome,
        "outcome_label": Outcome(row.outcome).info.label if row.outcome else None,
        "outcome_short": Outcome(row.outcome).short_label if row.outcome else None,
        "applicant": row.applicant,
        "applicant_type": row.applicant_type,
        "applicant_type_label": ApplicantType(row.applicant_type).label,
        "channel": row.channel,
        "channel_label": Channel(row.channel).label,
        "phone": mask_phone(row.phone) if masked else row.phone,
        "id_number": mask_id_number(row.id_number) if masked else row.id_number,
        "caseworker": row.caseworker,
        "caseworker_name": caseworker_name or row.caseworker,
        "received_on": _iso(row.received_on),
        "decided_on": _iso(row.decided_on),
        "reply_due": _iso(row.reply_due),
        "on_time": row.on_time,
        "replied_on": _iso(row.replied_on),
        "served": row.served if decided else None,
        "review_until": _iso(row.review_until),
        "litigation_until": _iso(row.litigation_until),
        "final": is_final(row.review_until, row.litigation_until, today, appealed),
        "provisional": bool(row.reply_due_provisional),
        "overdue": overdue,
        "due": _iso(due),
        "due_kind": running.value if due is not None and running is not None else None,
        "due_label": running.label if due is not None and running is not None else None,
        "due_passed": bool(due and today > due),
        "correction_notice_due": _iso(row.correction_notice_due),
        "correction_due": _iso(row.correction_due),
        "consultation_due": _iso(row.consultation_due),
        "fee_due": _iso(row.fee_due),
        "extended_days": row.extended_days,
        "carried_over_to": row.carried_over_to,
        "voided": row.voided,
        "version": row.version,
    }


@dataclass
class CaseDetail:
    summary: dict[str, Any]
    request: str
    contact: str
    events: list[dict[str, Any]]
    explanation: list[str]
    notices: list[dict[str, Any]]
    service: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.summary,
            "request": self.request,
            "contact": self.contact,
            "events": self.events,
            "explanation": self.explanation,
            "notices": self.notices,
            "service": self.service,
        }


def event_dict(ev: EventRow, no: int, history: History, *, masked: bool = True) -> dict[str, Any]:
    """One event as `foi show --format json` prints it: numbered (the ordinal `foi void` and
    `foi correct` name), with the void and the corrections that apply to it (SPEC §11)."""
    voided = history.voided.get(no)
    return {
        "no": no,
        "event": ev.event,
        "on": ev.on.isoformat(),
        "by": ev.by,
        "recorded_at": ev.recorded_at.isoformat() if ev.recorded_at else None,
        **({"amend_reason": ev.amend_reason} if ev.amend_reason else {}),
        "data": masked_data(ev.data) if masked else ev.data,
        "voided": voided.as_json() if voided is not None else None,
        "corrected_by": [c.as_json() for c in history.corrections.get(no, ())],
    }


def show_case(app: App, case_id: str, today: date | None = None, *, reveal: bool = False) -> CaseDetail:
    today = today or today_local()
    with app.reader() as db:
        return case_detail(app, db, case_id, today, reveal=reveal)


def case_detail(app: App, db: Reader, case_id: str, today: date, *, reveal: bool = False) -> CaseDetail:
    """What `foi show` prints, read through `db` (one read transaction)."""
    found = db.rows(f"SELECT {CASE_COLUMNS} FROM foi_case WHERE id = ?", (case_id,))
    if not found:
        raise NotFound(f"没有编号为 {case_id} 的案件")
    row = CaseRow.from_db(found[0])
    events = [
        EventRow.from_db(r)
        for r in db.rows(
            'SELECT event, "on", "by", recorded_at, amend_reason, data FROM event WHERE case_id = ? ORDER BY seq',
            (case_id,),
        )
    ]
    notices = db.rows(
        "SELECT id, kind, number, dated, status, template_name, template_hash FROM notice"
        " WHERE case_id = ? ORDER BY id",
        (case_id,),
    )
    history = read_history(app.workflow.disclosure, events)
    snap = replay_case(app.workflow, case_id, history, apply_context(app, REPLAY_TODAY, explain=True))
    appealed = bool(db.rows(_APPEALED + " AND case_id = ?", (False, case_id)))
    return CaseDetail(
        summary=case_summary(
            row, today, masked=not reveal, caseworker_name=_caseworker_names(app).get(row.caseworker, ""),
            appealed=appealed,
        ),
        request=row.request,
        contact=row.contact,
        # In the order they took effect (numbered as recorded): a 结转 marker is recorded weeks
        # after its 31 December.
        events=[
            event_dict(e, no, history, masked=not reveal)
            for no, e in sorted(enumerate(events, 1), key=lambda p: p[1].on)
        ],
        explanation=_explanation(snap),
        notices=[
            {
                "id": notice_id,
                "kind": kind,
                "number": number,
                "dated": _iso(as_date(dated)),
                "status": status,
                "template": template_name,
                "template_hash": template_hash,
            }
            for notice_id, kind, number, dated, status, template_name, template_hash in notices
        ],
        service=[entry.as_json() for entry in snap.service.letters],
    )


def _caseworker_names(app: App) -> dict[str, str]:
    return {login: worker.name for login, worker in app.config.caseworkers.items()}


# The end of the period that runs, per case, in SQL: the same mapping as `RUNNING_DEADLINE`.
_RUNNING_DUE_SQL = (
    "CASE state "
    + " ".join(f"WHEN '{state.value}' THEN {deadline.value}" for state, deadline in RUNNING_DEADLINE.items())
    + " END"
)


def _explanation(snap: CaseSnapshot) -> list[str]:
    """How each deadline was derived; for a reply made while the clock ran, the conclusion by
    the date its service gives (SPEC §15) instead of the decision date."""
    lines = list(snap.deadlines.explanation) if snap.deadlines else []
    clock, reply, on_time = snap.clock, snap.reply, snap.on_time
    if clock is None or reply is None or on_time is None or not clock.decided_running or clock.frozen_due is None:
        return lines
    return [line for line in lines if not line.startswith("结论：")] + reply_lines(reply, clock.frozen_due, on_time)


# The cases an appeal (review or lawsuit) names: never 已生效 (a voided filing names none).
_APPEALED = "SELECT case_id FROM appeal WHERE case_id IS NOT NULL AND voided = ?"


def list_cases(
    app: App,
    *,
    state: str | None = None,
    overdue: bool = False,
    due_within: int | None = None,
    year: int | None = None,
    final: bool = False,
    unserved: bool = False,
    agency: str | None = None,
    caseworker: str | None = None,
    applicant: str | None = None,
    today: date | None = None,
    reveal: bool = False,
) -> list[dict[str, Any]]:
    """Cases of one agency, filtered, oldest first. Without `agency`: on SQLite the configured
    one; on PostgreSQL every case the login may see (SPEC §13: the database keeps the rest out).

    `due_within` N: the cases whose running period ends today or within N working days; the
    overdue ones are apart (`overdue`), not mixed in. `caseworker`: a login or a configured
    name. `applicant`: part of the applicant's name.

    `final`: the decisions 已生效; `unserved`: the decided cases whose reply rests on no
    recorded service (SPEC §15)."""
    today = today or today_local()
    names = _caseworker_names(app)
    where = ["voided = ?"]  # a voided registration is in no list (SPEC §11)
    params: list[Any] = [False]
    if agency is not None or not app.config.db_url.startswith("postgresql"):
        where.append("agency = ?")
        params.append(app.config.agency(agency).code if agency else app.config.default_agency)
    if state:
        where.append("state = ?")
        params.append(State(state).value)
    if overdue:
        where.append("state = ? AND reply_due < ?")
        params += [State.RECEIVED.value, today]
    if due_within is not None:
        where.append(f"{_RUNNING_DUE_SQL} BETWEEN ? AND ?")
        params += [today, app.calendar.add_working_days(today, due_within)]
    if year is not None:
        where.append("received_on >= ? AND received_on <= ?")
        params += [date(year, 1, 1), date(year, 12, 31)]
    if caseworker:
        logins = {caseworker} | {login for login, name in names.items() if name == caseworker}
        where.append(f"caseworker IN ({', '.join('?' for _ in logins)})")
        params += sorted(logins)
    if applicant:
        where.append("applicant LIKE ? ESCAPE '!'")
        params.append("%" + applicant.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%")
    if final:
        where.append(f"review_until < ? AND litigation_until < ? AND id NOT IN ({_APPEALED})")
        params += [today, today, False]
    if unserved:
        where.append("state = ? AND served = ?")
        params += [State.DECIDED.value, False]
    sql = f"SELECT {CASE_COLUMNS} FROM foi_case WHERE {' AND '.join(where)} ORDER BY received_on, id"
    with app.reader() as db:
        rows = db.rows(sql, params)
        appealed = {r[0] for r in db.rows(_APPEALED, (False,))} if rows else set()
    cases = [CaseRow.from_db(r) for r in rows]
    return [
        case_summary(c, today, masked=not reveal, caseworker_name=names.get(c.caseworker, ""),
                     appealed=c.id in appealed)
        for c in cases
    ]  # fmt: skip
