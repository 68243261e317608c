"""Alembic environment: runs against the engine handed in by `adapters.db.migrate`."""

from __future__ import annotations

from alembic import context

from foi_workflow.adapters.tables import METADATA

config = context.config
target_metadata = METADATA


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
