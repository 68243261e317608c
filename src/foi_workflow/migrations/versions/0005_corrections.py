"""corrections: voided cases and appeals

A `void` of a case's `receive` (or an appeal's `file`) event voids the whole registration
(SPEC §11): the row stays, for `foi show`, but leaves every list, count and report. The report
index gains the flag so that the report's GROUP BY stays an index-only scan.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"

REPORT_COLUMNS = ["agency", "received_on", "decided_on", "applicant_type", "outcome"]


def upgrade() -> None:
    for table in ("foi_case", "appeal"):
        op.add_column(table, sa.Column("voided", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.drop_index("ix_case_report", table_name="foi_case")
    op.create_index("ix_case_report", "foi_case", [*REPORT_COLUMNS, "voided"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_report", table_name="foi_case")
    op.create_index("ix_case_report", "foi_case", REPORT_COLUMNS, unique=False)
    for table in ("foi_case", "appeal"):
        # SQLite (3.35+) drops a column in place: a batch copy of foi_case would have to drop a
        # table that others reference while foreign keys are enforced.
        op.execute(f"ALTER TABLE {table} DROP COLUMN voided")
