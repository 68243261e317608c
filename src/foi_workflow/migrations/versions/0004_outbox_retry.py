"""outbox: the kind of the last failure, the server's backoff, failures reported in a digest

`failure` says what the last failure of a mail was (server unreachable, a temporary or a
permanent refusal, every mail refused at once, a mail that cannot be built, no address);
only a temporary or permanent refusal of the mail itself counts as an attempt. `deferrals`
counts the deliveries in a row that could not reach the server: the backoff of an outage.
`reported_at` marks a failed mail once a daily digest has listed it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("deferrals", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
        batch_op.drop_column("deferrals")
        batch_op.drop_column("failure")
