"""service of letters (SPEC §15)

The case row caches the reply date that counts for the deadline (`replied_on`), whether it
rests on a recorded service (`served`), and the last days of the remedy windows the delivered
decision letter opened (`review_until`, `litigation_until`). Proofs of delivery (送达回证) are
kept in `service_proof` with their SHA-256.

A database from before this migration has no service events: every decided case's reply
date is its decision date, unserved, and no window is open. On PostgreSQL with access control
(0006), the proofs get the row-level security of the letters: a caseworker sees and files only
those of their agencies' cases.

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"

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
    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and _access_control(conn):
        for statement in _access_statements(_schema(conn)):
            op.execute(statement)


# Access control (SPEC §13, migration 0006, when this database has it): a proof belongs to its
# case's agency, as the case's letters do. Frozen here, as every migration's SQL is.
def _access_control(conn: sa.Connection) -> bool:
    return conn.execute(sa.text("SELECT to_regprocedure(current_schema() || '.foi_agencies()')")).scalar() is not None


def _schema(conn: sa.Connection) -> str:
    return str(conn.dialect.identifier_preparer.quote(conn.execute(sa.text("SELECT current_schema()")).scalar_one()))


def _access_statements(schema: str) -> list[str]:
    mine = f"c.agency IN (SELECT {schema}.foi_agencies())"
    case_of_mine = f"EXISTS (SELECT 1 FROM {schema}.foi_case c WHERE c.id = case_id AND {mine})"
    return [
        f"GRANT SELECT ON {schema}.service_proof TO foi_caseworker, foi_office, foi_auditor",
        f"GRANT INSERT ON {schema}.service_proof TO foi_caseworker",
        f"GRANT USAGE, SELECT ON SEQUENCE {schema}.service_proof_id_seq TO foi_caseworker",
        f"ALTER TABLE {schema}.service_proof ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY foi_read_all ON {schema}.service_proof FOR SELECT TO foi_office, foi_auditor USING (true)",
        f"""CREATE POLICY foi_own_agency ON {schema}.service_proof FOR ALL TO foi_caseworker
            USING ({case_of_mine}) WITH CHECK ({case_of_mine})""",
    ]


def downgrade() -> None:
    op.drop_table("service_proof")
    for column in COLUMNS:
        # SQLite (3.35+) drops a column in place (as 0005 does).
        op.execute(f"ALTER TABLE foi_case DROP COLUMN {column}")
