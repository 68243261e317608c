"""The scheduler's one idempotent sweep (SPEC §7): fire the automatic transitions whose period
has ended, queue the reminders due by rule, and queue each agency's daily digest.

Everything is found through range queries on the indexed, cached due-date columns of
`foi_case`; the sweep never reads every open case. Each automatic transition runs in its own
transaction, so one bad case is logged and skipped while the rest go on. Running the sweep
twice changes nothing the second time: transitions move the case out of its period, and every
mail carries a unique key (case, rule, due date).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, cast, exists, func, literal, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from foi_workflow.adapters.db import unit_of_work
from foi_workflow.adapters.failures import refusal_for
from foi_workflow.adapters.tables import AGENCY, CASE_TABLE, OUTBOX, PERSON
from foi_workflow.config import SHANGHAI, Config
from foi_workflow.domain.reminders import (
    DEADLINE_COLUMNS,
    remaining_working_days,
    reminder_windows,
)
from foi_workflow.domain.vocabulary import Deadline, tally
from foi_workflow.errors import ConfigError, FoiError, InvalidInput
from foi_workflow.services.outbox import QueuedMail, existing_keys, queue_mails, utc

if TYPE_CHECKING:
    from foi_workflow.adapters.mailer import FailedMail
    from foi_workflow.services.app import App

log = logging.getLogger(__name__)

SCHEDULER_USER = "scheduler"
CASES = CASE_TABLE
CASE_MARK = "\x00CASE\x00"  # stands for the case id in a mail rendered once per due date
DIGEST_DAYS = 5  # the digest lists deadlines within this many working days

@dataclass(frozen=True)
class AutoTransition:
    case_id: str
    event: str
    on: date


@dataclass(frozen=True)
class SweepFailure:
    case_id: str
    event: str
    error: str


@dataclass
class SweepResult:
    today: date
    transitions: list[AutoTransition] = field(default_factory=list)
    failures: list[SweepFailure] = field(default_factory=list)
    reminders: int = 0  # new reminder mails queued
    digests: int = 0
    unaddressed: int = 0  # mails with nobody to send to (stored as failed)

    def summary(self) -> str:
        return tally(
            f"{self.today.isoformat()}：自动办理 {len(self.transitions)} 件，"
            f"新提醒 {self.reminders} 封，每日汇总 {self.digests} 封",
            (len(self.failures), f"{len(self.failures)} 件出错已跳过（见日志）"),
            (self.unaddressed, f"{self.unaddressed} 封没有收件地址（见 foi outbox --failed）"),
        )


def local_now(now: datetime) -> datetime:
    """`now` in Asia/Shanghai; a naive value is taken as Shanghai time."""
    return now.replace(tzinfo=SHANGHAI) if now.tzinfo is None else now.astimezone(SHANGHAI)


def sweep(app: App, now: datetime) -> SweepResult:
    """One pass at `now`: automatic transitions, then reminders, then the digest if it is time."""
    local = local_now(now)
    today = local.date()
    _check_rules(app.config)
    result = SweepResult(today=today)
    # The automatic events and their periods, as workflows/disclosure.yaml declares them.
    for event, auto in app.workflow.disclosure.automatic_events():
        _fire_automatic(app, auto.after.value, event, auto.data, today, now, result)
    _queue_reminders(app, today, now, result)
    if local.time() >= digest_time(app.config):
        result.digests = queue_digests(app, now)
    log.info(result.summary())
    return result


def _check_rules(config: Config) -> None:
    for rule in config.reminders:
        if rule.deadline == Deadline.CORRECTION_NOTICE_DUE.value:
            raise ConfigError(
                f"提醒规则 {rule.name}：补正告知期限（correction_notice_due）只列入每日汇总，不单独发提醒，请删除该规则"
            )
        if rule.deadline not in DEADLINE_COLUMNS:
            raise ConfigError(f"提醒规则 {rule.name} 的期限 {rule.deadline!r} 无效，应为 {'、'.join(DEADLINE_COLUMNS)}")
        if rule.to not in ("caseworker", "agency"):
            raise ConfigError(f"提醒规则 {rule.name} 的收件人 {rule.to!r} 无效，应为 caseworker 或 agency")


def digest_time(config: Config) -> time:
    try:
        return time.fromisoformat(config.scheduler.digest_time)
    except ValueError:
        raise ConfigError(f"scheduler.digest_time 应为 HH:MM，而不是 {config.scheduler.digest_time!r}") from None


# --------------------------------------------------------------------------- transitions


def _fire_automatic(
    app: App,
    column: str,
    event: str,
    data: Mapping[str, Any] | None,
    today: date,
    now: datetime,
    result: SweepResult,
) -> None:
    from foi_workflow.adapters.mailer import lapse_text
    from foi_workflow.services.cases import advance

    due_col = CASES.c[column]
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(CASES.c.id, CASES.c.agency, CASES.c.caseworker, due_col.label("due"))
            .where(due_col < today)
            .order_by(due_col, CASES.c.id)
        ).all()
    for row in rows:
        # The period ended with its due date: the transition takes effect the next day, however
        # late the sweep runs, so it never lands in a later report year.
        on = row.due + timedelta(days=1)
        try:
            with unit_of_work(app.engine) as session:
                advance(app, row.id, event, on=on, by=SCHEDULER_USER, data=data, today=today, session=session)
                to_addr, greeting = recipient(app.config, row.agency, row.caseworker, "caseworker")
                text = lapse_text(case_id=row.id, event=event, on=on, due=row.due, greeting=greeting)
                mail = QueuedMail(
                    key=f"{row.id}:{event}:{row.due.isoformat()}",
                    agency=row.agency,
                    case_id=row.id,
                    rule=event,
                    to_addr=to_addr,
                    subject=text.subject,
                    body=text.body,
                )
                queue_mails(session.connection(), [mail], now)
                session.commit()
        except Exception as exc:  # one bad case must not stop the sweep: log it, go on
            if database_unavailable(exc):
                raise  # not this case: every other one would fail the same way
            log.error("自动办理失败：案件 %s，事件 %s：%s", row.id, event, describe_failure(exc))
            result.failures.append(SweepFailure(row.id, event, describe_failure(exc)))
            continue
        result.transitions.append(AutoTransition(row.id, event, on))


def describe_failure(exc: BaseException) -> str:
    """One line for the log: a refusal's own line, a database error without its SQL, or the
    exception's name and text. Never a traceback: one failure, one line."""
    if isinstance(exc, FoiError):
        return exc.line()
    if isinstance(exc, DBAPIError):
        # What it means, not the driver's text: that may quote a refused value (an identity number).
        return "数据库错误：" + refusal_for(exc).message
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be used now (server gone, connection cut, file
    not writable), as opposed to a problem with one case."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


# --------------------------------------------------------------------------- reminders


def recipient(config: Config, agency: str, caseworker: str, to: str,
              people: Mapping[str, tuple[str, str]] | None = None) -> tuple[str, str]:  # fmt: skip
    """(address, greeting) for a mail about a case: the caseworker's address when the rule
    says so and one is configured (or, on a shared database, registered with `foi admin
    user`: `people`, login -> (address, name)), else the agency mailbox, else FOI_MAIL_TO."""
    if to == "caseworker":
        worker = config.caseworkers.get(caseworker)
        if worker is not None and worker.email:
            return worker.email, worker.name
        if people and caseworker in people:
            return people[caseworker]
    found = config.agencies.get(agency)
    name = found.name if found is not None else agency
    if found is not None and found.mailbox:
        return found.mailbox, name
    return config.smtp.mail_to, name


def _people(conn: Any) -> dict[str, tuple[str, str]]:
    """Login -> (address, name) of the people registered with a mail address (SPEC §13)."""
    person = PERSON
    rows = conn.execute(select(person.c.login, person.c.email, person.c.name)
                        .where(person.c.active, person.c.email != "")).all()  # fmt: skip
    return {r.login: (r.email, r.name) for r in rows}


def _key_expr(dialect: str, case_id: Any, rule: str, due_col: Any) -> Any:
    """The outbox key `case:rule:YYYY-MM-DD` computed in SQL, to skip reminders already queued."""
    due_text = func.to_char(due_col, "YYYY-MM-DD") if dialect == "postgresql" else cast(due_col, String)
    return case_id + literal(f":{rule}:") + due_text


def _queue_reminders(app: App, today: date, now: datetime, result: SweepResult) -> None:
    from foi_workflow.adapters.mailer import MailText, reminder_text

    config = app.config
    calendar = app.calendar
    rules = {r.name: r for r in config.reminders}
    windows = reminder_windows(config.reminders, today, calendar)
    mails: list[QueuedMail] = []
    templates: dict[tuple[str, date, str, bool], MailText] = {}
    with app.engine.connect() as conn:
        dialect = conn.dialect.name
        people = _people(conn)
        for window in windows:
            rule = rules[window.rule]
            due_col = CASES.c[window.deadline]
            # An index range on the due column, minus the keys already in the outbox (unique index).
            already = exists().where(OUTBOX.c.key == _key_expr(dialect, CASES.c.id, rule.name, due_col))
            rows = conn.execute(
                select(
                    CASES.c.id,
                    CASES.c.agency,
                    CASES.c.caseworker,
                    CASES.c.reply_due_provisional,
                    due_col.label("due"),
                ).where(due_col >= window.low, due_col < window.high, ~already)
            ).all()
            for r in rows:
                try:
                    to_addr, greeting = recipient(config, r.agency, r.caseworker, rule.to, people)
                    provisional = window.deadline == "reply_due" and bool(r.reply_due_provisional)
                    # Mails differ only by case id for one (due date, recipient): render once.
                    shape = (window.deadline, r.due, greeting, provisional)
                    template = templates.get(shape)
                    if template is None:
                        template = templates[shape] = reminder_text(
                            case_id=CASE_MARK,
                            deadline=window.deadline,
                            due=r.due,
                            remaining=remaining_working_days(calendar, today, r.due),
                            greeting=greeting,
                            provisional=provisional,
                        )
                    subject = template.subject.replace(CASE_MARK, r.id)
                    body = template.body.replace(CASE_MARK, r.id)
                except Exception as exc:  # a malformed row: skip it, keep the others
                    log.error("提醒生成失败：案件 %s，规则 %s：%s", r.id, rule.name, describe_failure(exc))
                    result.failures.append(SweepFailure(r.id, f"reminder:{rule.name}", describe_failure(exc)))
                    continue
                key = f"{r.id}:{rule.name}:{r.due.isoformat()}"
                mails.append(QueuedMail(key, r.agency, r.id, rule.name, to_addr, subject, body))
    if mails:
        with unit_of_work(app.engine) as session:
            result.reminders = queue_mails(session.connection(), mails, now, checked=True)
            session.commit()
        result.unaddressed = sum(1 for m in mails if not m.to_addr)


# --------------------------------------------------------------------------- digest


def queue_digests(app: App, now: datetime) -> int:
    """Queue today's digest for every agency that has overdue or upcoming deadlines, letters to
    serve or chase (SPEC §15), or mail that could not be delivered since its last digest, and
    has no digest yet today (key
    `digest:AGENCY:DATE`). Returns how many were queued."""
    from foi_workflow.adapters.mailer import DigestLine, digest_text
    from foi_workflow.services.service_digest import service_reminders

    today = local_now(now).date()
    if not app.calendar.is_working_day(today):
        # No one reads it on a Sunday or a holiday: the next working day's digest lists what
        # fell due meanwhile (overdue replies stay listed; the other periods have lapsed).
        return 0
    config = app.config
    with app.engine.connect() as conn:
        agencies = list(conn.execute(select(AGENCY.c.code)).scalars())
        keys = {a: f"digest:{a}:{today.isoformat()}" for a in agencies}
        done = existing_keys(conn, keys.values())
        pending = [a for a in agencies if keys[a] not in done]
        if not pending:
            return 0
        horizon = app.calendar.add_working_days(today, DIGEST_DAYS + 1)
        lines: dict[str, list[DigestLine]] = {a: [] for a in pending}
        for column in DEADLINE_COLUMNS:
            due_col = CASES.c[column]
            # Only an unanswered reply is "overdue"; the other periods end in a transition
            # (or, for the correction notice duty, simply expire).
            low = due_col.is_not(None) if column == "reply_due" else due_col >= today
            rows = conn.execute(
                select(CASES.c.id, CASES.c.agency, CASES.c.caseworker, due_col.label("due"))
                .where(low, due_col < horizon, CASES.c.agency.in_(pending))
                .order_by(due_col, CASES.c.id)
            ).all()
            for r in rows:
                worker = config.caseworkers.get(r.caseworker)
                lines[r.agency].append(
                    DigestLine(
                        case_id=r.id,
                        deadline=column,
                        due=r.due,
                        remaining=remaining_working_days(app.calendar, today, r.due),
                        caseworker=worker.name if worker is not None else r.caseworker,
                    )
                )
        failed, reported = _failed_mail(conn, pending)
        service = service_reminders(conn, app, pending, today)
    mails: list[QueuedMail] = []
    for agency in pending:
        if not lines[agency] and not failed[agency] and not service[agency]:
            continue
        entries = sorted(lines[agency], key=lambda x: (x.due, x.case_id, x.deadline))
        to_addr, name = recipient(config, agency, "", "agency")
        text = digest_text(agency_name=name, today=today, lines=entries, failed=failed[agency],
                           service=service[agency])  # fmt: skip
        mails.append(QueuedMail(keys[agency], agency, None, "digest", to_addr, text.subject, text.body))
    if not mails:
        return 0
    with unit_of_work(app.engine) as session:
        queued = queue_mails(session.connection(), mails, now)
        for i in range(0, len(reported), 500):
            session.connection().execute(
                update(OUTBOX).where(OUTBOX.c.id.in_(reported[i : i + 500])).values(reported_at=utc(now))
            )
        session.commit()
        return queued


def _failed_mail(conn: Any, agencies: list[str]) -> tuple[dict[str, list[FailedMail]], list[int]]:
    """Per agency, the failed mail no digest has reported yet; and the ids of those mails."""
    from foi_workflow.adapters.mailer import FailedMail

    found: dict[str, list[FailedMail]] = {a: [] for a in agencies}
    rows = conn.execute(
        select(OUTBOX.c.id, OUTBOX.c.agency, OUTBOX.c.subject, OUTBOX.c.to_addr, OUTBOX.c.last_error)
        .where(OUTBOX.c.status == "failed", OUTBOX.c.reported_at.is_(None), OUTBOX.c.agency.in_(agencies))
        .order_by(OUTBOX.c.id)
    ).all()
    for r in rows:
        found[r.agency].append(FailedMail(r.subject, r.to_addr, r.last_error))
    return found, [r.id for r in rows]


def parse_now(value: str) -> datetime:
    """`--now`: an ISO date-time (naive = Asia/Shanghai) or a date (its midnight, Shanghai)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--now 格式错误：{value!r}，应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM") from None
    return local_now(parsed)
