"""the record of letters (SPEC §12)

A letter row learns which event it answers (`answers`, the event's ordinal in its case), its
place in the agency's count of the year (`seq`), its addressee and its status in the
发文登记簿 (`valid` / `void` / `replaced`, with the number a reissue replaced and why, and the
reason given for a letter dated in a closed year). Document numbers become unique, and only
one standing letter per kind may answer an event. A year close records the date it was made.

Existing rows are filled in from what the database already holds: the answered event is the
latest event of the letter's kind recorded before the letter; `seq` is the letter's place in
its agency's letters of the year (numbers were taken one by one and a failed letter took none
back then, so the count is exact); of two standing letters for one event the older is marked
`replaced`, as a reissue would have done.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0005"

VALID = sa.text("status = 'valid'")
SHANGHAI = timezone(timedelta(hours=8))  # no daylight saving since 1991: a fixed offset is exact
# Frozen here (not imported): a migration must mean the same thing whatever the code becomes.
KIND_EVENTS = {
    "acknowledgement": {"receive"},
    "correction": {"request_correction"},
    "consultation": {"consult"},
    "extension": {"extend"},
    "fee": {"fee_notice"},
    "decision": {"decide", "withdraw", "lapse_correction", "lapse_fee"},
}


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _letter_values(conn: sa.Connection) -> list[dict[str, Any]]:
    letters = conn.execute(sa.text(
        "SELECT n.id, n.case_id, n.kind, n.dated, n.created_at, c.agency, c.applicant "
        "FROM notice n JOIN foi_case c ON c.id = n.case_id ORDER BY n.id"
    )).all()
    events: dict[str, list[Any]] = {}
    for case_id in sorted({row.case_id for row in letters}):
        events[case_id] = list(conn.execute(sa.text(
            'SELECT event, recorded_at, data FROM event WHERE case_id = :c ORDER BY seq'), {"c": case_id}).all())
    seqs: dict[tuple[str, int], int] = {}
    standing: dict[tuple[str, str, int], int] = {}
    values: list[dict[str, Any]] = []
    for row in letters:
        created = _aware(row.created_at)
        answers, addressee = 0, row.applicant
        for ordinal, ev in enumerate(events[row.case_id], start=1):
            if _aware(ev.recorded_at) > created:
                break
            if ev.event in KIND_EVENTS.get(row.kind, set()):
                answers = ordinal
                if row.kind == "consultation":
                    addressee = str(_json(ev.data).get("party") or row.applicant)
        key = (row.agency, _as_date(row.dated).year)
        seqs[key] = seqs.get(key, 0) + 1
        values.append({"id": row.id, "answers": answers, "seq": seqs[key], "addressee": addressee,
                       "status": "valid"})
        earlier = standing.get((row.case_id, row.kind, answers))
        if earlier is not None:
            values[earlier]["status"] = "replaced"
        standing[(row.case_id, row.kind, answers)] = len(values) - 1
    return values


def _json(value: Any) -> dict[str, Any]:
    import json

    if isinstance(value, dict):
        return value
    loaded = json.loads(value) if value else {}
    return loaded if isinstance(loaded, dict) else {}


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("notice") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("answers", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("addressee", sa.String(length=400), nullable=False, server_default=""))
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="valid"))
        batch.add_column(sa.Column("replaces", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(), nullable=True))
        batch.add_column(sa.Column("amend_reason", sa.String(), nullable=True))
    update = sa.text("UPDATE notice SET answers = :answers, seq = :seq, addressee = :addressee, status = :status "
                     "WHERE id = :id")
    for values in _letter_values(conn):
        conn.execute(update, values)
    with op.batch_alter_table("notice") as batch:
        batch.alter_column("seq", server_default=None)
        batch.alter_column("answers", server_default=None)
        batch.alter_column("addressee", server_default=None)
        batch.alter_column("status", server_default=None)
        batch.create_unique_constraint("uq_notice_number", ["number"])
    op.create_index("uq_notice_valid_answer", "notice", ["case_id", "kind", "answers"], unique=True,
                    sqlite_where=VALID, postgresql_where=VALID)
    op.create_index("ix_notice_dated", "notice", ["dated"])

    with op.batch_alter_table("year_close") as batch:
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
    for agency, year, closed_at in conn.execute(sa.text("SELECT agency, year, closed_at FROM year_close")).all():
        closed_on = _aware(closed_at).astimezone(SHANGHAI).date()
        conn.execute(sa.text("UPDATE year_close SET closed_on = :d WHERE agency = :a AND year = :y"),
                     {"d": closed_on, "a": agency, "y": year})
    with op.batch_alter_table("year_close") as batch:
        batch.alter_column("closed_on", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("year_close") as batch:
        batch.drop_column("closed_on")
    op.drop_index("ix_notice_dated", table_name="notice")
    op.drop_index("uq_notice_valid_answer", table_name="notice")
    with op.batch_alter_table("notice") as batch:
        batch.drop_constraint("uq_notice_number", type_="unique")
        for column in ("amend_reason", "reason", "replaces", "status", "addressee", "answers", "seq"):
            batch.drop_column(column)
