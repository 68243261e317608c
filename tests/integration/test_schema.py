"""One declaration of each table (`adapters.tables`): the migrations build exactly it, and the
other lists of its columns (the views' record, the bulk import's rows, the projection) are
derived from it or held to it here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import UnionType
from typing import get_args, get_origin, get_type_hints

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, inspect

from foi_workflow.adapters.db import migrate, open_engine
from foi_workflow.adapters.models import (
    Agency,
    Appeal,
    Case,
    Event,
    Notice,
    ServiceProof,
    YearClose,
)
from foi_workflow.adapters.tables import APPEAL_TABLE, CASE_TABLE, METADATA
from foi_workflow.domain.reminders import DEADLINE_COLUMNS
from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.services import transfer, views
from foi_workflow.services.case_store import projection_dict

BOOKKEEPING = ("updated_at", "version")  # written by the use case, not taken from the events


def test_the_migrated_schema_is_exactly_the_table_declarations(db_url: str) -> None:
    engine = open_engine(db_url)
    migrate(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, METADATA)
        declared = {table.name: {index.name for index in table.indexes} for table in METADATA.sorted_tables}
        # PostgreSQL reports a unique constraint's own index too: that one is the constraint.
        found = {
            name: {i["name"] for i in inspect(conn).get_indexes(name) if not i.get("duplicates_constraint")}
            for name in declared
        }
    engine.dispose()
    assert differences == []
    assert found == declared


def test_a_new_case_row_of_the_import_has_the_columns_of_the_table_in_its_order() -> None:
    assert tuple(CASE_TABLE.c.keys()) == transfer.CASE_COLUMNS
    nothing = CaseSnapshot("", "", "", "", "", "", "", date.min, date.min)
    assert ("id", *projection_dict(nothing), *BOOKKEEPING) == transfer.CASE_COLUMNS


def test_the_views_read_columns_the_table_declares_with_the_same_types() -> None:
    hints, declared = get_type_hints(views.CaseRow), get_type_hints(Case)
    assert list(hints) == [column.name for column in CASE_TABLE.c if column.name in hints]  # columns, in table order
    assert {name: hints[name] for name in hints} == {name: declared[name] for name in hints}
    assert all((type(None) in get_args(hints[name])) == CASE_TABLE.c[name].nullable for name in hints)
    assert ", ".join(hints) == views.CASE_COLUMNS


def test_each_model_has_a_field_of_each_column_of_its_table_with_its_python_type() -> None:
    for model in (Agency, Case, Event, Appeal, Notice, ServiceProof, YearClose):
        table, hints = model.__table__, get_type_hints(model)
        fields = {name: hints[name] for name in model.model_fields}
        assert list(fields) == list(table.c.keys()), model
        for column in table.c:
            declared = fields[column.name]
            union = isinstance(declared, UnionType)
            kinds = set(get_args(declared)) if union else {get_origin(declared) or declared}
            expected = dict if isinstance(column.type, JSON) else column.type.python_type
            assert expected in kinds, (model, column.name)
            serial = column.primary_key and len(table.primary_key) == 1 and column.type.python_type is int
            assert (type(None) in kinds) == (column.nullable or serial), (model, column.name)
            # a field a new row may leave out is one whose column has a default, or may be null
            required = model.model_fields[column.name].is_required()
            assert required == (column.default is None and not column.nullable and not serial), (model, column.name)


def test_every_cached_deadline_is_a_date_column_with_its_partial_index() -> None:
    indexed = {tuple(index.columns.keys()) for index in CASE_TABLE.indexes}
    for name in DEADLINE_COLUMNS:
        assert CASE_TABLE.c[name].type.python_type is date and CASE_TABLE.c[name].nullable
        assert (name,) in indexed


def test_an_appeal_row_is_its_snapshot_plus_the_version() -> None:
    from foi_workflow.domain.workflow import AppealSnapshot
    from foi_workflow.services.appeals import COLUMNS

    assert (*COLUMNS, "version") == tuple(column.name for column in APPEAL_TABLE.c)
    assert set(COLUMNS) <= set(get_type_hints(AppealSnapshot))


def _partial_conditions(db_url: str) -> dict[str, str]:
    """Each partial index of the database and its condition, as the database reports it."""
    engine = open_engine(db_url)
    with engine.connect() as conn:
        inspector = inspect(conn)
        found = {
            index["name"]: " ".join(str(where).split())
            for table in inspector.get_table_names()
            for index in inspector.get_indexes(table)
            for key, where in index.get("dialect_options", {}).items()
            if key.endswith("_where")
        }
    engine.dispose()
    return found


def test_the_declarations_create_the_partial_indexes_the_migrations_create(make_db_url: Callable[[], str]) -> None:
    declared, migrated = make_db_url(), make_db_url()
    engine = open_engine(declared)
    METADATA.create_all(engine)
    engine.dispose()
    engine = open_engine(migrated)
    migrate(engine)
    engine.dispose()
    conditions = _partial_conditions(declared)
    assert conditions == _partial_conditions(migrated)
    assert {*(f"ix_case_{c}" for c in DEADLINE_COLUMNS), "ix_event_appeal", "uq_notice_valid_answer"} == set(conditions)
