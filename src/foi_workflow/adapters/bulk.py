"""Inserting many rows at once: the import's cases and events, the sweep's reminders.

On SQLite the rows go to the driver's `executemany` as tuples of stored values: SQLAlchemy's
per-row parameter bookkeeping cost more than the insert itself. What each value becomes is
what SQLAlchemy's column type would make of it (`stored_form` asks the type's bind processor),
so the stored bytes are the same either way. Other databases take the Core insert (psycopg
batches it). `bulk_load` prepares a SQLite connection for a load that may dwarf the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, cast

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Table, insert
from sqlalchemy.engine import Connection

from foi_workflow.adapters.db import json_text

Convert = Callable[[Any], Any]

_PROBE_DATE = date(2024, 3, 1)
_BULK_CACHE_KIB = -65536  # PRAGMA cache_size for a bulk insert: 64 MiB (negative: in KiB)


def _iso_or_none(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _int_or_none(value: bool | None) -> int | None:
    return None if value is None else int(value)


def stored_form(dialect: Any, column: Column[Any]) -> Convert | None:
    """What a Core insert does to one value of `column` on `dialect` (None: nothing), with the
    per-call overhead taken out where the result is known to be the same."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    if isinstance(column.type, Date) and process(_PROBE_DATE) == _PROBE_DATE.isoformat():
        # SQLite's DATE storage format is ISO 8601: the same text from the C method.
        return _iso_or_none if column.nullable else date.isoformat
    if isinstance(column.type, JSON):
        return _json_processor(dialect, column.type) or process
    if isinstance(column.type, Boolean) and type(process(True)) is int:
        # True and False as the same 1 and 0, without the type's strictness check per value
        # (the rows hold real bools): the C function itself for a flag that is never None.
        return _int_or_none if column.nullable else int
    return cast(Convert, process)


def _json_processor(dialect: Any, json_type: Any) -> Convert | None:
    """The engine's JSON serializer itself, when that is all the column's bind processor adds
    (no string processing); else None (use the processor). `_str_impl` is SQLAlchemy's own
    string type inside `JSON`: private, so anything unexpected falls back to the processor."""
    str_impl = getattr(json_type, "_str_impl", None)
    if getattr(dialect, "_json_serializer", None) is not json_text or str_impl is None:
        return None
    return json_text if str_impl.bind_processor(dialect) is None else None


def stored_forms(conn: Connection, table: Table, names: Sequence[str]) -> list[Convert | None] | None:
    """On SQLite, for each column of `names`, what turns a value into its stored form (None: the
    value as it is), for rows built as tuples (`insert_rows`); None on other databases, whose
    rows go as dicts of Python values."""
    if conn.dialect.name != "sqlite":
        return None
    return [stored_form(conn.dialect, table.c[name]) for name in names]


def stored_value(dialect: Any, column: Column[Any], value: Any) -> Any:
    """`value` as `column` stores it on `dialect`'s database (a timestamp is text on SQLite)."""
    process = stored_form(dialect, column)
    return value if process is None else process(value)


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[Any],
    names: Sequence[str] = (),
    *,
    skip_duplicate: str | None = None,
) -> None:
    """Insert many rows of one shape in one executemany: dicts of Python values (any database),
    or on SQLite tuples of stored values in `names` order (see `stored_forms`).

    `skip_duplicate`: a uniquely indexed column; a row whose value is already there is left out
    (`ON CONFLICT DO NOTHING`: another writer may insert the same key meanwhile)."""
    dialect = conn.dialect
    if dialect.name != "sqlite":
        statement: Any = insert(table)
        if skip_duplicate is not None and dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(table).on_conflict_do_nothing(index_elements=[skip_duplicate])
        # Core, not the ORM bulk path: that would reset a version column to 1.
        conn.execute(statement, list(rows))
        return
    if rows and isinstance(rows[0], dict):
        names = list(rows[0])
        rows = _as_stored_tuples(dialect, table, rows, names)
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(table.c[n].name) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    if skip_duplicate is not None:
        sql += f" ON CONFLICT ({quote(table.c[skip_duplicate].name)}) DO NOTHING"
    conn.exec_driver_sql(sql, rows)


def _as_stored_tuples(dialect: Any, table: Table, rows: Sequence[Any], names: list[str]) -> list[tuple[Any, ...]]:
    # Column by column: one tight loop per column instead of a processor call per cell.
    converted: list[list[Any]] = []
    for name in names:
        values = [row[name] for row in rows]
        process = stored_form(dialect, table.c[name])
        if process is None:
            pass
        elif isinstance(table.c[name].type, DateTime):
            # Usually one instant for the whole load: convert each distinct value once.
            done = {v: process(v) for v in set(values)}
            values = [done[v] for v in values]
        else:
            values = list(map(process, values))
        converted.append(values)
    return list(zip(*converted, strict=True))


@contextmanager
def bulk_load(conn: Connection, incoming: Mapping[Table, int]) -> Iterator[None]:
    """Prepare a connection for a bulk load into `incoming` (table -> rows to come).

    On PostgreSQL the tables a load changes much are analyzed after it (`_analyzed_after`).

    On SQLite a bulk load inserts into every index of a table in key order of its own: a page cache
    bigger than SQLite's default 2 MB keeps those B-trees in memory (a connection setting, put
    back afterwards). And when a load brings at least as many rows as a table holds (a first
    migration into a new database), its secondary indexes are dropped for the load and built
    again from sorted keys afterwards, which is cheaper than keeping them up to date row by
    row. Both inside the caller's one transaction (SQLite's DDL is transactional): a failed
    load rolls the indexes back with everything else, and readers keep seeing the old state."""
    if conn.dialect.name == "postgresql":
        with _analyzed_after(conn, incoming):
            yield
        return
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        # pysqlite opens its transaction only before DML: DDL would commit on its own.
        conn.exec_driver_sql("BEGIN")
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size={_BULK_CACHE_KIB}")
    rebuild: list[str] = []
    for table, count in incoming.items():
        held = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table.name}").scalar() or 0
        if count and count >= held:
            indexes = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table.name,),
            ).all()
            for name, create in indexes:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
                rebuild.append(create)
    try:
        yield
        for create in rebuild:
            conn.exec_driver_sql(create)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous) if previous is not None else -2000}")


# autovacuum's default analyze threshold: 50 rows plus a tenth of the table.
_ANALYZE_BASE, _ANALYZE_SCALE = 50, 0.1


@contextmanager
def _analyzed_after(conn: Connection, incoming: Mapping[Table, int]) -> Iterator[None]:
    """On PostgreSQL, `ANALYZE` each table that the load changes by as much as makes autovacuum
    analyze it, in the load's own transaction. Autovacuum would do so within a minute or so; until
    then the planner has no (or stale) statistics, and a report run right after a large import
    got a plan several times slower (a sort to disk instead of a hash). Inside the transaction,
    the statistics are committed with the rows they describe. A role that may not analyze a
    table (not its owner) gets PostgreSQL's warning, not an error: the load stands either way."""
    sizes = {
        table: conn.exec_driver_sql(
            "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = to_regclass(%(name)s)", {"name": table.name}
        ).scalar()
        or 0
        for table, count in incoming.items()
        if count
    }
    yield
    quote = conn.dialect.identifier_preparer.quote
    for table, held in sizes.items():
        if incoming[table] >= _ANALYZE_BASE + _ANALYZE_SCALE * float(held):
            conn.exec_driver_sql(f"ANALYZE {quote(table.name)}")
