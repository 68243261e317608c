"""The database tables: the append-only event log, the case projection, appeals, notices,
the mail outbox and frozen year figures.

The event log is the source of truth; `foi_case` and `appeal` are cached projections of it
that `services` keep in step inside the same transaction and can rebuild. Dates of legal
effect are plain `date`s; timestamps are UTC-aware. States and outcomes are stored as short
strings (no native PostgreSQL ENUM), checked by the domain layer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    event,
    false,
    text,
    true,
)
from sqlmodel import Field, SQLModel

from foi_workflow.domain.boundary import Limits
from foi_workflow.domain.reminders import DEADLINE_COLUMNS


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_type=DateTime(timezone=True),
        nullable=nullable,
    )


class Agency(SQLModel, table=True):
    __tablename__: ClassVar[str] = "agency"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows where `where` holds. Its condition is kept in `info` and handed to
    the dialect only when the table is created (`_partial_where`): `sqlite_where=` and
    `postgresql_where=` here would import both dialects (PostgreSQL's with asyncpg and asyncio,
    ~70 ms) in every process that imports the tables, whichever database it uses. The
    migrations (0002, 0003) create the same indexes with their conditions."""
    return Index(name, *columns, unique=unique, info={"where": where})


def _not_null_index(name: str, column: str, *more: str) -> Index:
    """An index of the rows where `column` is set (migration 0002): the rest never need it."""
    return partial_index(name, column, *more, where=f"{column} IS NOT NULL")


@event.listens_for(Table, "before_create")
def _partial_where(table: Table, connection: Any, **_kw: Any) -> None:
    """Give each partial index its condition in the dialect that is creating the table."""
    dialect = connection.dialect.name
    for index in table.indexes:
        if "where" in index.info and dialect in ("sqlite", "postgresql"):
            index.dialect_options[dialect]["where"] = text(index.info["where"])


CASE_VERSION = Column("version", Integer, nullable=False, default=1)


class Case(SQLModel, table=True):
    """One application (依申请公开) as the event log leaves it."""

    __tablename__: ClassVar[str] = "foi_case"
    __table_args__ = (
        Index("ix_case_agency_state", "agency", "state"),
        Index("ix_case_agency_received", "agency", "received_on"),
        Index("ix_case_agency_decided", "agency", "decided_on"),
        # Covers the report's GROUP BY (services.report.table3_counts): an index-only scan.
        Index("ix_case_report", "agency", "received_on", "decided_on", "applicant_type", "outcome", "voided"),
        # Partial: a decided case has no deadline running, and the sweep looks only for dates.
        *(_not_null_index(f"ix_case_{c}", c) for c in DEADLINE_COLUMNS),
    )
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": CASE_VERSION}

    id: str = Field(primary_key=True, max_length=64)
    agency: str = Field(foreign_key="agency.code", max_length=32)
    state: str = Field(max_length=32)
    outcome: str | None = Field(default=None, max_length=64)
    applicant: str = Field(max_length=200)
    applicant_type: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    contact: str = Field(default="", max_length=400)
    phone: str = Field(default="", max_length=64)
    id_number: str = Field(default="", max_length=64)
    request: str = Field(default="")
    caseworker: str = Field(default="", max_length=100)
    received_on: date
    decided_on: date | None = None
    # Cached deadlines, recomputed from the log after every event (None when not running).
    reply_due: date | None = None
    reply_due_provisional: bool = False
    correction_notice_due: date | None = None  # receipt + 7 working days, until a correction is requested
    correction_due: date | None = None
    consultation_due: date | None = None
    fee_due: date | None = None
    extended_days: int = 0
    on_time: bool | None = None
    # Service (SPEC §15, migration 0007): the reply date that counts for the deadline, whether
    # it rests on a recorded service (else the decision date, 未记录送达), and the last days of
    # the remedy windows the delivered decision letter opened.
    replied_on: date | None = None
    served: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    review_until: date | None = None
    litigation_until: date | None = None
    carried_over_to: int | None = None  # the latest year this case was carried into (结转)
    # Its registration was voided (SPEC §11): in no list, count or report. Server default: 0005's.
    voided: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    last_event_on: date
    updated_at: datetime = _ts()
    version: int = Field(default=1, sa_column=CASE_VERSION)


# The table itself, for Core statements and bulk inserts: the one declaration of its columns.
CASE_TABLE: Table = Case.__table__  # type: ignore[attr-defined]


class Event(SQLModel, table=True):
    """One line of the append-only event log, for a case or an appeal."""

    __tablename__: ClassVar[str] = "event"
    __table_args__ = (
        Index("ix_event_case", "case_id", "seq"),
        _not_null_index("ix_event_appeal", "appeal_id", "seq"),  # case events have none
        Index("ix_event_on", "on"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    case_id: str | None = Field(default=None, foreign_key="foi_case.id", max_length=64)
    appeal_id: str | None = Field(default=None, foreign_key="appeal.id", max_length=64)
    event: str = Field(max_length=40)
    on: date  # the date it took effect
    by: str = Field(default="", max_length=100)
    recorded_at: datetime = _ts()
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    amend_reason: str | None = None  # given with --amend-closed-year


EVENT_TABLE: Table = Event.__table__  # type: ignore[attr-defined]


APPEAL_VERSION = Column("version", Integer, nullable=False, default=1)


class Appeal(SQLModel, table=True):
    """An administrative review or lawsuit about a disclosure decision (report table 4)."""

    __tablename__: ClassVar[str] = "appeal"
    __table_args__ = (Index("ix_appeal_agency_filed", "agency", "filed_on"),)
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": APPEAL_VERSION}

    id: str = Field(primary_key=True, max_length=64)
    agency: str = Field(foreign_key="agency.code", max_length=32)
    kind: str = Field(max_length=32)
    case_id: str | None = Field(default=None, foreign_key="foi_case.id", max_length=64)
    state: str = Field(max_length=16)
    filed_on: date
    concluded_on: date | None = None
    result: str | None = Field(default=None, max_length=16)
    # Its filing was voided (SPEC §11): not in report table 4. Server default: migration 0005's.
    voided: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    version: int = Field(default=1, sa_column=APPEAL_VERSION)


APPEAL_TABLE: Table = Appeal.__table__  # type: ignore[attr-defined]

VALID_LETTER = "status = 'valid'"


class Notice(SQLModel, table=True):
    """A letter (告知书) as issued: its document number, the event it answers and the rendered
    text, stored with the hash of its templates. The rows are the 发文登记簿 (SPEC §12): a row
    is never deleted, a letter that no longer stands changes `status`."""

    __tablename__: ClassVar[str] = "notice"
    __table_args__ = (
        Index("ix_notice_case", "case_id", "id"),
        # A 文号 is a legal identifier: unique for ever.
        UniqueConstraint("number", name="uq_notice_number"),
        # One standing letter per kind per answered event; a second is a reissue or a reprint.
        partial_index("uq_notice_valid_answer", "case_id", "kind", "answers", unique=True, where=VALID_LETTER),
        Index("ix_notice_dated", "dated"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="foi_case.id", max_length=64)
    kind: str = Field(max_length=32)
    number: str = Field(max_length=100)  # 文号
    seq: int  # the number's place in the agency's count of the year (the `counter` value it took)
    answers: int  # the ordinal of the event it answers within its case (1 = receive)
    dated: date
    addressee: str = Field(default="", max_length=400)
    status: str = Field(default="valid", max_length=16)  # LetterStatus
    replaces: str | None = Field(default=None, max_length=100)  # the number a reissue replaced
    reason: str | None = None  # why it was reissued
    amend_reason: str | None = None  # given with --amend-closed-year
    body_text: str
    body_html: str
    template_name: str = Field(max_length=200)
    template_hash: str = Field(max_length=64)
    by: str = Field(default="", max_length=100)
    created_at: datetime = _ts()


class ServiceProof(SQLModel, table=True):
    """A proof of delivery (送达回证, a postal delivery record, SPEC §15) as filed with a
    `delivered` event: the file itself, kept with the SHA-256 the event names."""

    __tablename__: ClassVar[str] = "service_proof"
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_service_proof"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="foi_case.id", max_length=64)
    letter: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    name: str = Field(default="", max_length=255)  # the file's name as filed
    content: bytes = Field(sa_type=LargeBinary)
    by: str = Field(default="", max_length=100)
    created_at: datetime = _ts()


class Outbox(SQLModel, table=True):
    """A mail to send. Written in the transaction that caused it, sent after the commit.

    `key` makes a reminder unique (case, rule, due date): the same key is never queued twice.
    """

    __tablename__: ClassVar[str] = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    agency: str = Field(max_length=32)
    case_id: str | None = Field(default=None, max_length=64)
    rule: str = Field(default="", max_length=64)
    to_addr: str = Field(default="", max_length=300)
    subject: str = Field(max_length=300)
    body: str
    status: str = Field(default="queued", max_length=16)  # queued | sending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = _ts(nullable=True)
    last_error: str = ""
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    # The server defaults are migration 0004's, which added these columns to rows already there.
    # What the last failure was: unreachable | temporary | permanent | refused_all | invalid |
    # no_address ("" none). Only `temporary` and `permanent` counted as an attempt.
    failure: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": text("''")})
    # deliveries in a row that found the server unreachable (its backoff)
    deferrals: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    reported_at: datetime | None = _ts(nullable=True)  # a failed mail listed in a digest


class YearClose(SQLModel, table=True):
    """The figures of a year frozen by `foi year close`."""

    __tablename__: ClassVar[str] = "year_close"

    agency: str = Field(primary_key=True, max_length=32)
    year: int = Field(primary_key=True)
    closed_on: date  # the date of the close, as `foi year close` recorded it (exported)
    closed_at: datetime = _ts()
    by: str = Field(default="", max_length=100)
    figures: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Counter(SQLModel, table=True):
    """Per-agency sequences (case ids, notice numbers), advanced inside the writing transaction."""

    __tablename__: ClassVar[str] = "counter"

    agency: str = Field(primary_key=True, max_length=32)
    name: str = Field(primary_key=True, max_length=64)  # e.g. "case:2024", "notice:2024"
    value: int = 0


class Person(SQLModel, table=True):
    """A person who works with the register on a shared PostgreSQL database (SPEC §13): their
    database login, name, mail and role. `foi admin user` keeps it; SQLite uses the config's
    `[caseworkers]` instead. A removed person keeps the row (`active` false): history names them."""

    __tablename__: ClassVar[str] = "person"

    login: str = Field(primary_key=True, max_length=63)  # PostgreSQL's NAMEDATALEN - 1
    name: str = Field(max_length=100)
    email: str = Field(default="", max_length=300)
    role: str = Field(max_length=16)  # Role: caseworker | approver | office | auditor
    active: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    created_at: datetime = _ts()


class Membership(SQLModel, table=True):
    """The agencies a person works for: the rows their login may see and change."""

    __tablename__: ClassVar[str] = "membership"

    login: str = Field(primary_key=True, foreign_key="person.login", max_length=63)
    agency: str = Field(primary_key=True, max_length=32)


def _lengths(table: Table) -> dict[str, int]:
    # sqlmodel's AutoString is a TypeDecorator over String: look at what it decorates.
    lengths: dict[str, int] = {}
    for column in table.columns:
        impl = getattr(column.type, "impl_instance", column.type)
        if isinstance(impl, String) and impl.length is not None:
            lengths[column.name] = impl.length
    return lengths


@cache
def column_limits() -> Limits:
    """The longest value each column above may hold (`max_length`), for the boundary checks of
    `domain.boundary`: SQLite would store a longer one, PostgreSQL would refuse it."""
    tables = SQLModel.metadata.tables
    return Limits(case=_lengths(tables["foi_case"]), event=_lengths(tables["event"]), appeal=_lengths(tables["appeal"]))
