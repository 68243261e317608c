"""The database tables, declared once as SQLAlchemy Core `Table`s: the append-only event log,
the case projection, appeals, notices, proofs of service, the mail outbox, frozen year figures,
counters and the people of a shared deployment.

The event log is the source of truth; `foi_case` and `appeal` are cached projections of it
that `services` keep in step inside the same transaction and can rebuild. Dates of legal
effect are plain `date`s; timestamps are UTC-aware. States and outcomes are stored as short
strings (no native PostgreSQL ENUM), checked by the domain layer.

Core, not the ORM, on purpose: an event command writes through these tables alone, and
importing them costs a few milliseconds where building the SQLModel classes costs a tenth of
a second (#16). The SQLModel classes the other use cases query with (`adapters.models`) are
mapped onto these very `Table` objects, so each column is declared here and nowhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
    false,
    text,
    true,
)

from foi_workflow.domain.boundary import Limits
from foi_workflow.domain.reminders import DEADLINE_COLUMNS

METADATA = MetaData()


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(name: str, nullable: bool = False) -> Column[Any]:
    """A UTC-aware timestamp; one that must be set defaults to now."""
    return Column(name, DateTime(timezone=True), nullable=nullable, default=None if nullable else utcnow)


def _text(name: str, length: int | None = None, *, default: str | None = None, nullable: bool = False) -> Column[Any]:
    return Column(name, String(length), nullable=nullable, default=default)


def _ref(name: str, target: str, length: int, *, nullable: bool = False) -> Column[Any]:
    """A text column referring to another table's key."""
    return Column(name, String(length), ForeignKey(target), nullable=nullable)


def _flag(name: str, default: bool, server: Any = None) -> Column[Any]:
    return Column(name, Boolean, nullable=False, default=default, server_default=server)


def _date(name: str, nullable: bool = True) -> Column[Any]:
    return Column(name, Date, nullable=nullable)


def _int(name: str, default: int | None = None, *, nullable: bool = False, **kw: Any) -> Column[Any]:
    return Column(name, Integer, nullable=nullable, default=default, **kw)


def _serial(name: str = "id") -> Column[Any]:
    return Column(name, Integer, primary_key=True)


def _subject(name: str, *columns_and_indexes: Any) -> Table:
    """The table of a subject of the event log (a case, an appeal): its id (the same length for
    both: an event names one or the other), its agency, and last the `version` every write of
    the row checks and advances, so that a write from a stale read changes nothing."""
    key = (Column("id", String(64), primary_key=True), _ref("agency", "agency.code", 32))
    return Table(name, METADATA, *key, *columns_and_indexes, _int("version", 1))


def _case_record(name: str, *columns_and_indexes: Any) -> Table:
    """A table of records kept for a case (its letters, its proofs of service): a serial id,
    the case, and last who filed the record and when."""
    key = (_serial(), _ref("case_id", "foi_case.id", 64))
    return Table(name, METADATA, *key, *columns_and_indexes, _text("by", 100, default=""), _ts("created_at"))


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


AGENCY = Table(
    "agency",
    METADATA,
    Column("code", String(32), primary_key=True),
    _text("name", 200, default=""),
    _ts("created_at"),
)

# One application (依申请公开) as the event log leaves it.
CASE_TABLE = _subject(
    "foi_case",
    _text("state", 32),
    _text("outcome", 64, nullable=True),
    _text("applicant", 200),
    _text("applicant_type", 32),
    _text("channel", 16),
    _text("contact", 400, default=""),
    _text("phone", 64, default=""),
    _text("id_number", 64, default=""),
    _text("request", default=""),
    _text("caseworker", 100, default=""),
    _date("received_on", nullable=False),
    _date("decided_on"),
    # Cached deadlines, recomputed from the log after every event (None when not running).
    _date("reply_due"),
    _flag("reply_due_provisional", False),
    _date("correction_notice_due"),  # receipt + 7 working days, until a correction is requested
    _date("correction_due"),
    _date("consultation_due"),
    _date("fee_due"),
    _int("extended_days", 0),
    Column("on_time", Boolean, nullable=True),
    # Service (SPEC §15, migration 0007): the reply date that counts for the deadline, whether
    # it rests on a recorded service (else the decision date, 未记录送达), and the last days of
    # the remedy windows the delivered decision letter opened.
    _date("replied_on"),
    _flag("served", False, false()),
    _date("review_until"),
    _date("litigation_until"),
    _int("carried_over_to", nullable=True),  # the latest year this case was carried into (结转)
    # Its registration was voided (SPEC §11): in no list, count or report. Server default: 0005's.
    _flag("voided", False, false()),
    _date("last_event_on", nullable=False),
    _ts("updated_at"),
    Index("ix_case_agency_state", "agency", "state"),
    Index("ix_case_agency_received", "agency", "received_on"),
    Index("ix_case_agency_decided", "agency", "decided_on"),
    # Covers the report's GROUP BY (services.report.table3_counts): an index-only scan.
    Index("ix_case_report", "agency", "received_on", "decided_on", "applicant_type", "outcome", "voided"),
    # Partial: a decided case has no deadline running, and the sweep looks only for dates.
    *(_not_null_index(f"ix_case_{c}", c) for c in DEADLINE_COLUMNS),
)

# One line of the append-only event log, for a case or an appeal.
EVENT_TABLE = Table(
    "event",
    METADATA,
    _serial("seq"),
    _ref("case_id", "foi_case.id", 64, nullable=True),
    _ref("appeal_id", "appeal.id", 64, nullable=True),
    _text("event", 40),
    _date("on", nullable=False),  # the date it took effect
    _text("by", 100, default=""),
    _ts("recorded_at"),
    Column("data", JSON, nullable=False, default=dict),
    _text("amend_reason", nullable=True),  # given with --amend-closed-year
    Index("ix_event_case", "case_id", "seq"),
    _not_null_index("ix_event_appeal", "appeal_id", "seq"),  # case events have none
    Index("ix_event_on", "on"),
)

# An administrative review or lawsuit about a disclosure decision (report table 4).
APPEAL_TABLE = _subject(
    "appeal",
    _text("kind", 32),
    _ref("case_id", "foi_case.id", 64, nullable=True),
    _text("state", 16),
    _date("filed_on", nullable=False),
    _date("concluded_on"),
    _text("result", 16, nullable=True),
    # Its filing was voided (SPEC §11): not in report table 4. Server default: migration 0005's.
    _flag("voided", False, false()),
    Index("ix_appeal_agency_filed", "agency", "filed_on"),
)

VALID_LETTER = "status = 'valid'"

# A letter (告知书) as issued: its document number, the event it answers and the rendered text,
# stored with the hash of its templates. The rows are the 发文登记簿 (SPEC §12): a row is never
# deleted, a letter that no longer stands changes `status`.
NOTICE = _case_record(
    "notice",
    _text("kind", 32),
    _text("number", 100),  # 文号
    _int("seq"),  # the number's place in the agency's count of the year (the `counter` value it took)
    _int("answers"),  # the ordinal of the event it answers within its case (1 = receive)
    _date("dated", nullable=False),
    _text("addressee", 400, default=""),
    _text("status", 16, default="valid"),  # LetterStatus
    _text("replaces", 100, nullable=True),  # the number a reissue replaced
    _text("reason", nullable=True),  # why it was reissued
    _text("amend_reason", nullable=True),  # given with --amend-closed-year
    _text("body_text"),
    _text("body_html"),
    _text("template_name", 200),
    _text("template_hash", 64),
    Index("ix_notice_case", "case_id", "id"),
    # A 文号 is a legal identifier: unique for ever.
    UniqueConstraint("number", name="uq_notice_number"),
    # One standing letter per kind per answered event; a second is a reissue or a reprint.
    partial_index("uq_notice_valid_answer", "case_id", "kind", "answers", unique=True, where=VALID_LETTER),
    Index("ix_notice_dated", "dated"),
)

# A proof of delivery (送达回证, a postal delivery record, SPEC §15) as filed with a `delivered`
# event: the file itself, kept with the SHA-256 the event names.
SERVICE_PROOF = _case_record(
    "service_proof",
    _text("letter", 100),
    _text("sha256", 64),
    _text("name", 255, default=""),  # the file's name as filed
    Column("content", LargeBinary, nullable=False),
    UniqueConstraint("case_id", "sha256", name="uq_service_proof"),
)

# A mail to send, written in the transaction that caused it and sent after the commit. `key`
# makes a reminder unique (case, rule, due date): the same key is never queued twice.
OUTBOX = Table(
    "outbox",
    METADATA,
    _serial(),
    _text("key", 300),
    _text("agency", 32),
    _text("case_id", 64, nullable=True),
    _text("rule", 64, default=""),
    _text("to_addr", 300, default=""),
    _text("subject", 300),
    _text("body"),
    _text("status", 16, default="queued"),  # queued | sending | sent | failed
    _int("attempts", 0),
    _ts("next_attempt_at"),
    _text("claimed_by", 100, nullable=True),
    _ts("claimed_at", nullable=True),
    _text("last_error", default=""),
    _ts("created_at"),
    _ts("sent_at", nullable=True),
    # The server defaults are migration 0004's, which added these columns to rows already there.
    # What the last failure was: unreachable | temporary | permanent | refused_all | invalid |
    # no_address ("" none). Only `temporary` and `permanent` counted as an attempt.
    Column("failure", String(16), nullable=False, default="", server_default=text("''")),
    _int("deferrals", 0, server_default="0"),  # deliveries in a row that found the server unreachable
    _ts("reported_at", nullable=True),  # a failed mail listed in a digest
    UniqueConstraint("key", name="uq_outbox_key"),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

# The figures of a year frozen by `foi year close`.
YEAR_CLOSE = Table(
    "year_close",
    METADATA,
    Column("agency", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    _date("closed_on", nullable=False),  # the date of the close, as `foi year close` recorded it
    _ts("closed_at"),
    _text("by", 100, default=""),
    Column("figures", JSON, nullable=False, default=dict),
)

# Per-agency sequences (case ids, notice numbers), advanced inside the writing transaction.
COUNTER = Table(
    "counter",
    METADATA,
    Column("agency", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),  # e.g. "case:2024", "notice:2024"
    _int("value", 0),
)

# A person who works with the register on a shared PostgreSQL database (SPEC §13): their
# database login, name, mail and role. `foi admin user` keeps it; SQLite uses the config's
# `[caseworkers]` instead. A removed person keeps the row (`active` false): history names them.
PERSON = Table(
    "person",
    METADATA,
    Column("login", String(63), primary_key=True),  # PostgreSQL's NAMEDATALEN - 1
    _text("name", 100),
    _text("email", 300, default=""),
    _text("role", 16),  # Role: caseworker | approver | office | auditor
    _flag("active", True, true()),
    _ts("created_at"),
)

# The agencies a person works for: the rows their login may see and change.
MEMBERSHIP = Table(
    "membership",
    METADATA,
    Column("login", String(63), ForeignKey("person.login"), primary_key=True),
    Column("agency", String(32), primary_key=True),
)


def _lengths(table: Table) -> dict[str, int]:
    return {c.name: c.type.length for c in table.columns if isinstance(c.type, String) and c.type.length is not None}


@cache
def column_limits() -> Limits:
    """The longest value each column above may hold, for the boundary checks of
    `domain.boundary`: SQLite would store a longer one, PostgreSQL would refuse it."""
    return Limits(case=_lengths(CASE_TABLE), event=_lengths(EVENT_TABLE), appeal=_lengths(APPEAL_TABLE))
