"""A long-lived session (`foi shell`) copies SQLite's WAL back into the database file between
its commands, once the WAL has grown, rather than in the commit of whichever command takes it
past SQLite's own threshold; what it leaves is the same data, read by any other process."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from foi_workflow.adapters.db import (
    IDLE_CHECKPOINT_PAGES,
    checkpoint_between_commands,
    checkpoint_when_idle,
    open_engine,
)

PAGE = 4096


def session_engine(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path / 'foi.db'}")
    checkpoint_between_commands(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE page (n INTEGER PRIMARY KEY, body BLOB)"))
    return engine


def write_pages(engine: Engine, first: int, count: int) -> None:
    """One command's commit of `count` rows of about a page each."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO page VALUES (:n, randomblob(3900))"), [{"n": first + i} for i in range(count)])


def wal_size(tmp_path: Path) -> int:
    return os.path.getsize(tmp_path / "foi.db-wal")


def test_a_short_wal_is_left_alone_between_commands(tmp_path: Path) -> None:
    engine = session_engine(tmp_path)
    write_pages(engine, 0, 10)
    before = wal_size(tmp_path)
    assert not checkpoint_when_idle(engine)
    assert wal_size(tmp_path) == before
    engine.dispose()


def test_a_grown_wal_is_checkpointed_between_commands_and_then_starts_again_small(tmp_path: Path) -> None:
    engine = session_engine(tmp_path)
    write_pages(engine, 0, IDLE_CHECKPOINT_PAGES)  # under SQLite's own threshold: no checkpoint in the commit
    assert wal_size(tmp_path) >= IDLE_CHECKPOINT_PAGES * PAGE
    assert checkpoint_when_idle(engine)
    # Every page is in the database file now: another connection finds nothing left to copy.
    other = sqlite3.connect(tmp_path / "foi.db")
    busy, frames, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    other.close()
    assert busy == 0 and frames == copied
    # The next command's commit restarts the WAL from its beginning and cuts the file back.
    write_pages(engine, IDLE_CHECKPOINT_PAGES, 1)
    assert wal_size(tmp_path) < 10 * PAGE
    assert not checkpoint_when_idle(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM page")).scalar() == IDLE_CHECKPOINT_PAGES + 1
    engine.dispose()


def test_an_engine_not_made_ready_for_it_is_never_checkpointed_by_the_session(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'foi.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE page (n INTEGER PRIMARY KEY, body BLOB)"))
    write_pages(engine, 0, IDLE_CHECKPOINT_PAGES)
    assert not checkpoint_when_idle(engine)
    engine.dispose()
