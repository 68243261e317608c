"""The SQLModel classes the use cases query and build rows with, each mapped onto its table
as `adapters.tables` declares it (`__table__`). A class lists its columns' names with their
Python types; the column itself (type, length, nullability, default, indexes) is declared in
`adapters.tables` only, and each field takes it from there (`OverTable`).
`tests/integration/test_schema.py` holds the annotations to the columns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Integer
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelMetaclass

from foi_workflow.adapters import tables

DEFAULT: Any = object()
"""A field's value when not given: its column's default (None for a nullable column or a
serial key). Written where the column has one, so that type checkers see which fields a new
row may leave out; `mapped` takes the default itself from the column."""


def mapped(column: Column[Any]) -> Any:
    """The field of `column`: required, or with the column's own default."""
    default = column.default
    if default is None:
        serial = column.primary_key and isinstance(column.type, Integer) and len(column.table.primary_key) == 1
        return Field(default=None, sa_column=column) if column.nullable or serial else Field(sa_column=column)
    arg: Any = getattr(default, "arg", None)
    if getattr(default, "is_callable", False):
        # SQLAlchemy wraps a default callable to take the execution context, which it ignores.
        return Field(default_factory=lambda: arg(None), sa_column=column)
    return Field(default=arg, sa_column=column)


class OverTable(SQLModelMetaclass):
    """Gives each annotated field of a model over a declared `__table__` its column's field, and
    a table with a `version` column its check by the ORM (a flush from a stale read fails)."""

    def __new__(cls, name: str, bases: tuple[type[Any], ...], class_dict: dict[str, Any], **kwargs: Any) -> Any:
        table = class_dict.get("__table__")
        if table is not None:
            if "version" in table.c:
                class_dict["__mapper_args__"] = {"version_id_col": table.c.version}
            for field in class_dict.get("__annotations__", {}):
                if not field.startswith("_") and class_dict.get(field, DEFAULT) is DEFAULT:
                    class_dict[field] = mapped(table.c[field])
        return super().__new__(cls, name, bases, class_dict, **kwargs)


class Model(SQLModel, metaclass=OverTable, registry=registry(metadata=tables.METADATA)):
    """A row of a table of `adapters.tables` (`Model.metadata` is theirs)."""


class Agency(Model, table=True):
    __table__ = tables.AGENCY

    code: str
    name: str = DEFAULT
    created_at: datetime = DEFAULT


class Case(Model, table=True):
    """One application (依申请公开) as the event log leaves it."""

    __table__ = tables.CASE_TABLE

    id: str
    agency: str
    state: str
    outcome: str | None = DEFAULT
    applicant: str
    applicant_type: str
    channel: str
    contact: str = DEFAULT
    phone: str = DEFAULT
    id_number: str = DEFAULT
    request: str = DEFAULT
    caseworker: str = DEFAULT
    received_on: date
    decided_on: date | None = DEFAULT
    reply_due: date | None = DEFAULT
    reply_due_provisional: bool = DEFAULT
    correction_notice_due: date | None = DEFAULT
    correction_due: date | None = DEFAULT
    consultation_due: date | None = DEFAULT
    fee_due: date | None = DEFAULT
    extended_days: int = DEFAULT
    on_time: bool | None = DEFAULT
    replied_on: date | None = DEFAULT
    served: bool = DEFAULT
    review_until: date | None = DEFAULT
    litigation_until: date | None = DEFAULT
    carried_over_to: int | None = DEFAULT
    voided: bool = DEFAULT
    last_event_on: date
    updated_at: datetime = DEFAULT
    version: int = DEFAULT


class Event(Model, table=True):
    """One line of the append-only event log, for a case or an appeal."""

    __table__ = tables.EVENT_TABLE

    seq: int | None = DEFAULT
    case_id: str | None = DEFAULT
    appeal_id: str | None = DEFAULT
    event: str
    on: date  # the date it took effect
    by: str = DEFAULT
    recorded_at: datetime = DEFAULT
    data: dict[str, Any] = DEFAULT
    amend_reason: str | None = DEFAULT


class Appeal(Model, table=True):
    """An administrative review or lawsuit about a disclosure decision (report table 4)."""

    __table__ = tables.APPEAL_TABLE

    id: str
    agency: str
    kind: str
    case_id: str | None = DEFAULT
    state: str
    filed_on: date
    concluded_on: date | None = DEFAULT
    result: str | None = DEFAULT
    voided: bool = DEFAULT
    version: int = DEFAULT


class Notice(Model, table=True):
    """A letter (告知书) as issued: its document number, the event it answers and the rendered
    text, stored with the hash of its templates. The rows are the 发文登记簿 (SPEC §12): a row
    is never deleted, a letter that no longer stands changes `status`."""

    __table__ = tables.NOTICE

    id: int | None = DEFAULT
    case_id: str
    kind: str
    number: str
    seq: int  # the number's place in the agency's count of the year (the `counter` value it took)
    answers: int  # the ordinal of the event it answers within its case (1
    dated: date
    addressee: str = DEFAULT
    status: str = DEFAULT
    replaces: str | None = DEFAULT
    reason: str | None = DEFAULT
    amend_reason: str | None = DEFAULT
    body_text: str
    body_html: str
    template_name: str
    template_hash: str
    by: str = DEFAULT
    created_at: datetime = DEFAULT


class ServiceProof(Model, table=True):
    """A proof of delivery (送达回证, a postal delivery record, SPEC §15) as filed with a
    `delivered` event: the file itself, kept with the SHA-256 the event names."""

    __table__ = tables.SERVICE_PROOF

    id: int | None = DEFAULT
    case_id: str
    letter: str
    sha256: str
    name: str = DEFAULT
    content: bytes
    by: str = DEFAULT
    created_at: datetime = DEFAULT


class YearClose(Model, table=True):
    """The figures of a year frozen by `foi year close`."""

    __table__ = tables.YEAR_CLOSE

    agency: str
    year: int
    closed_on: date  # the date of the close, as `foi year close` recorded it (exported)
    closed_at: datetime = DEFAULT
    by: str = DEFAULT
    figures: dict[str, Any] = DEFAULT
