"""What the daily digest says about service of letters (SPEC §15): decision letters not served
within 2 working days of the decision (of the last 60 days), posted letters without delivery
after 10 working days, and letters returned and not yet served again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import false, select

from foi_workflow.adapters.tables import CASE_TABLE, EVENT_TABLE
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.replay import REPLAY_TODAY, replay_case
from foi_workflow.domain.service import POST, ServiceLog
from foi_workflow.domain.vocabulary import NoticeKind, State

if TYPE_CHECKING:
    from foi_workflow.services.app import App

SERVE_WITHIN = 2  # working days after the decision
DELIVERY_WITHIN = 10  # working days after posting
LISTED = 50  # lines per kind in one digest; the rest are counted (`foi list --unserved` has them all)
# How far back the digest looks: a decision older than this is no longer chased by mail (a
# database from before service was recorded would otherwise list every old decision each day;
# `foi list --unserved` still has them), nor a case without an event for longer.
UNSERVED_DAYS = 60
QUIET_DAYS = 400

CASES = CASE_TABLE
EVENTS = EVENT_TABLE
SERVICE_EVENTS = ("serve", "delivered", "returned")
AMENDING = ("void", "correct")


def service_reminders(conn: Any, app: App, agencies: list[str], today: date) -> dict[str, list[str]]:
    """Per agency, the digest's lines about service (empty when there is nothing to say)."""
    cal = app.calendar
    unserved: dict[str, list[str]] = {a: [] for a in agencies}
    late_dates: dict[date, date] = {}
    for case_id, agency, decided_on in conn.execute(
        select(CASES.c.id, CASES.c.agency, CASES.c.decided_on)
        .where(CASES.c.agency.in_(agencies), CASES.c.state == State.DECIDED.value,
               CASES.c.decided_on >= today - timedelta(days=UNSERVED_DAYS),
               CASES.c.served == false(), CASES.c.voided == false())
        .order_by(CASES.c.decided_on, CASES.c.id)
    ):  # fmt: skip
        due = late_dates.setdefault(decided_on, cal.add_working_days(decided_on, SERVE_WITHIN))
        if today > due:
            unserved[agency].append(f"  · {case_id}　{decided_on.isoformat()} 作出答复，答复告知书尚未送达")
    posted: dict[str, list[str]] = {a: [] for a in agencies}
    returned: dict[str, list[str]] = {a: [] for a in agencies}
    for agency, case_id, log in _service_logs(conn, app, agencies, today - timedelta(days=QUIET_DAYS)):
        for entry in log.letters:
            last, kind = entry.latest, NoticeKind.label_of(entry.kind)
            if last.returned is not None:
                returned[agency].append(f"  · {case_id}　{kind} {entry.letter} 已退回（{last.returned}），请再次送达")
            elif last.method == POST and last.pending and today > _chase_from(cal, sent := last.sent_on or last.on):
                posted[agency].append(
                    f"  · {case_id}　{kind} {entry.letter} 于 {sent.isoformat()} 交邮，尚无妥投记录"
                    + (f"（邮件号 {last.tracking}）" if last.tracking else "")
                )
    out: dict[str, list[str]] = {}
    for agency in agencies:
        lines: list[str] = []
        for title, rows in (
            (f"决定后{SERVE_WITHIN}个工作日内未送达的答复告知书", unserved[agency]),
            (f"邮寄{DELIVERY_WITHIN}个工作日后仍无妥投记录的文书", posted[agency]),
            ("被退回的文书", returned[agency]),
        ):
            if rows:
                lines.append(f"{title}（{len(rows)}件）：")
                lines += rows[:LISTED]
                if len(rows) > LISTED:
                    lines.append(f"  · 另有 {len(rows) - LISTED} 件，见 foi list --unserved 或 foi show")
        out[agency] = lines
    return out


def _chase_from(cal: WorkCalendar, sent_on: date) -> date:
    """The last day a posted letter may still be on its way."""
    return cal.add_working_days(sent_on, DELIVERY_WITHIN)


def _service_logs(conn: Any, app: App, agencies: list[str], since: date) -> Iterable[tuple[str, str, ServiceLog]]:
    """The service log of every case of `agencies` with an event since `since` that has served a
    letter: folded from its service events, or, for a case whose log was amended (void /
    correct), from its replay."""
    rows = conn.execute(
        select(EVENTS.c.case_id, CASES.c.agency, EVENTS.c.event, EVENTS.c.on, EVENTS.c.data)
        .join(CASES, CASES.c.id == EVENTS.c.case_id)
        .where(CASES.c.agency.in_(agencies), CASES.c.voided == false(), CASES.c.last_event_on >= since,
               EVENTS.c.event.in_((*SERVICE_EVENTS, *AMENDING)))
        .order_by(EVENTS.c.seq)
    ).all()  # fmt: skip
    logs: dict[str, tuple[str, ServiceLog]] = {}
    amended: set[str] = set()
    for case_id, agency, event, on, data in rows:
        if event in AMENDING:
            amended.add(case_id)
            continue
        _, log = logs.get(case_id, (agency, ServiceLog()))
        logs[case_id] = (agency, log.apply(event, on, data or {}))
    for case_id, (agency, log) in logs.items():
        if case_id in amended:
            log = _replayed(conn, app, case_id)
        yield agency, case_id, log


def _replayed(conn: Any, app: App, case_id: str) -> ServiceLog:
    from foi_workflow.services.app import apply_context

    events = conn.execute(
        select(EVENTS.c.event, EVENTS.c.on, EVENTS.c.data, EVENTS.c.by)
        .where(EVENTS.c.case_id == case_id)
        .order_by(EVENTS.c.seq)
    ).all()
    return replay_case(app.workflow, case_id, events, apply_context(app, REPLAY_TODAY)).service
