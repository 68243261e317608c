"""service of letters (SPEC §15)

The case row caches the reply date that counts for the deadline (`replied_on`), whether it
rests on a recorded service (`served`), and the last days of the remedy windows the delivered
decision letter opened (`review_until`, `litigation_until`). Proofs of delivery (送达回证) are
kept in `service_proof` with their SHA-256.

A database from before this migration has no service events: every decided case's reply
date is its decision date, unserved, and no window is open.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("replied_on", "served", "review_until", "litigation_until")


def upgrade() -> None:
    op.add_column("foi_case", sa.Column("replied_on", sa.Date(), nullable=True))
    op.add_column("foi_case", sa.Column("served", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("foi_case", sa.Column("review_until", sa.Date(), nullable=True))
    op.add_column("foi_case", sa.Column("litigation_until", sa.Date(), nullable=True))
    op.execute("UPDATE foi_case SET replied_on = decided_on WHERE state = 'decided'")
    op.create_table(
        "service_proof",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(length=64), sa.ForeignKey("foi_case.id"), nullable=False),
        sa.Column("letter", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "sha256", name="uq_service_proof"),
    )


def downgrade() -> None:
    op.drop_table("service_proof")
    for column in COLUMNS:
        # SQLite (3.35+) drops a column in place (as 0005 does).
        op.execute(f"ALTER TABLE foi_case DROP COLUMN {column}")
