"""Alembic environment: runs against the engine handed in by `adapters.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import foi_workflow.adapters.tables  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
