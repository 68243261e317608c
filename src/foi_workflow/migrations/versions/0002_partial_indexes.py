"""partial indexes on the columns that are mostly NULL

The cached deadlines of a case (`reply_due`, `correction_notice_due`, `correction_due`,
`consultation_due`, `fee_due`) are NULL once it is decided, which most cases are, and
`event.appeal_id` is NULL on every case event. Their indexes only ever serve lookups of
non-NULL values (the sweep's due-date ranges, an appeal's history), so they leave the NULL
rows out: a fraction of the size, and of the work of keeping or building them (a bulk import
rebuilds them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"

# index name -> (table, columns, the column that is mostly NULL)
PARTIAL = {
    "ix_case_reply_due": ("foi_case", ["reply_due"], "reply_due"),
    "ix_case_correction_notice_due": ("foi_case", ["correction_notice_due"], "correction_notice_due"),
    "ix_case_correction_due": ("foi_case", ["correction_due"], "correction_due"),
    "ix_case_consultation_due": ("foi_case", ["consultation_due"], "consultation_due"),
    "ix_case_fee_due": ("foi_case", ["fee_due"], "fee_due"),
    "ix_event_appeal": ("event", ["appeal_id", "seq"], "appeal_id"),
}


def upgrade() -> None:
    for name, (table, columns, column) in PARTIAL.items():
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, (table, columns, _) in PARTIAL.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
