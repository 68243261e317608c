"""The sweep against a real database and a real SMTP server: reminders by rule, automatic
transitions dated the day after their period, isolation of a failing case, the daily digest."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.header import decode_header
from pathlib import Path

import pytest
from sqlalchemy import update

from foi_workflow.adapters.db import open_engine
from foi_workflow.adapters.mailer import chinese_date
from foi_workflow.adapters.models import Case
from foi_workflow.config import load_config
from foi_workflow.services.app import App
from foi_workflow.services.delivery import deliver_outbox
from foi_workflow.services.outbox import list_outbox
from foi_workflow.services.sweep import SHANGHAI, sweep
from tests.conftest import Foi
from tests.smtp_helpers import SmtpServer, write_config

INTAKE = "intake --applicant 王五 --applicant-type natural_person --channel online --request 某项目环评报告"


@dataclass
class World:
    foi: Foi
    app: App
    smtp: SmtpServer

    def intake(self, on: date, by: str = "zhangsan") -> str:
        return self.foi.ok(f"{INTAKE} --on {on.isoformat()} --by {by}").strip()

    def show(self, case_id: str) -> dict[str, object]:
        data = json.loads(self.foi.ok("show", case_id, "--format", "json"))
        assert isinstance(data, dict)
        return data

    def cycle(self, day: date, at: time = time(9, 0)) -> int:
        """Sweep and deliver at `day` `at` (Shanghai); returns how many new reminders were queued."""
        now = datetime.combine(day, at, SHANGHAI)
        result = sweep(self.app, now)
        deliver_outbox(self.app, now)
        return result.reminders

    def due_minus(self, due: date, n: int) -> date:
        """The working day on which exactly `n` working days remain until `due`."""
        d = due - timedelta(days=1)
        while not (self.app.calendar.is_working_day(d) and self.app.calendar.working_days_between(d, due) == n):
            d -= timedelta(days=1)
        return d


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    server = SmtpServer().start()
    config_path = write_config(tmp_path, server.port, digest_time="18:00")
    foi = Foi(db_url, tmp_path, config=config_path)
    foi.ok("init")
    engine = open_engine(db_url)
    app = App(load_config(config_path, db_url=db_url, env={}), engine)
    try:
        yield World(foi, app, server)
    finally:
        server.stop()
        engine.dispose()


def subject_of(msg: object) -> str:
    from email.message import EmailMessage

    assert isinstance(msg, EmailMessage)
    return str(msg["Subject"])


def test_a_reminder_arrives_naming_the_case_and_its_due_date(world: World) -> None:
    case_id = world.intake(date(2024, 3, 1))
    due = date.fromisoformat(str(world.show(case_id)["reply_due"]))
    world.cycle(world.due_minus(due, 5))
    [mail] = world.smtp.inbox.messages
    assert mail.rcpt_tos == ["zhangsan@example.gov.cn"]
    assert case_id in subject_of(mail.message)
    assert chinese_date(due) in subject_of(mail.message)
    body = mail.message.get_content()
    assert f"案件 {case_id} 的答复期限为 {chinese_date(due)}" in body
    assert "还有5个工作日" in body and "foi decide" in body


def test_the_mail_has_a_properly_encoded_chinese_subject(world: World) -> None:
    case_id = world.intake(date(2024, 3, 1))
    due = date.fromisoformat(str(world.show(case_id)["reply_due"]))
    world.cycle(world.due_minus(due, 1))
    [mail] = world.smtp.inbox.messages
    raw_subject = next(line for line in mail.raw.split(b"\r\n") if line.startswith(b"Subject:"))
    raw_subject.decode("ascii")  # headers on the wire are 7-bit: RFC 2047 encoded words
    assert b"=?utf-8?" in raw_subject.lower()
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in decode_header(subject_of(mail.message))
    )
    assert decoded.startswith("【依申请公开提醒】") and "还有1个工作日到期" in decoded
    assert mail.message.get_content_charset() == "utf-8"


def test_a_second_sweep_sends_nothing_new(world: World) -> None:
    case_id = world.intake(date(2024, 3, 1))
    due = date.fromisoformat(str(world.show(case_id)["reply_due"]))
    day = world.due_minus(due, 5)
    assert world.cycle(day) == 1
    assert world.cycle(day, time(9, 5)) == 0
    assert world.cycle(day + timedelta(days=1)) == 0  # still inside the same rule's window
    assert len(world.smtp.inbox.messages) == 1


def test_an_extension_moves_the_deadline_and_earns_a_new_reminder(world: World) -> None:
    case_id = world.intake(date(2024, 3, 1))
    due = date.fromisoformat(str(world.show(case_id)["reply_due"]))
    day = world.due_minus(due, 1)
    world.cycle(day)
    world.foi.ok("extend", case_id, "--days", "5", "--approved-by", "赵局长", "--on", day.isoformat())
    new_due = date.fromisoformat(str(world.show(case_id)["reply_due"]))
    assert new_due > due
    assert world.cycle(day, time(10, 0)) == 0  # six working days left now: no rule applies yet
    assert world.cycle(world.due_minus(new_due, 5)) == 1
    subjects = [subject_of(m.message) for m in world.smtp.inbox.messages]
    assert len(subjects) == 2
    assert chinese_date(due) in subjects[0] and chinese_date(new_due) in subjects[1]


def test_a_case_without_a_caseworker_address_is_reminded_through_the_agency_mailbox(world: World) -> None:
    case_id = world.intake(date(2024, 3, 1), by="lisi")
    due = date.fromisoformat(str(world.show(case_id)["reply_due"]))
    world.cycle(world.due_minus(due, 5))
    [mail] = world.smtp.inbox.messages
    assert mail.rcpt_tos == ["gongkai@example.gov.cn"]
    assert mail.message.get_content().startswith("某某市某某局：")


def test_an_overdue_reply_is_reminded_once(world: World) -> None:
    case_id = world.intake(date(2024, 3, 1))
    due = date.fromisoformat(str(world.show(case_id)["reply_due"]))
    world.cycle(due + timedelta(days=3))
    world.cycle(due + timedelta(days=4))
    overdue = [m for m in world.smtp.inbox.messages if "已逾期" in subject_of(m.message)]
    assert len(overdue) == 1 and case_id in subject_of(overdue[0].message)


@pytest.mark.parametrize(
    ("setup", "due_field", "event", "state", "outcome"),
    [
        (["request-correction", "{id}", "--items", "请明确项目名称", "--period", "15"],
         "correction_due", "lapse_correction", "decided", "other.correction_lapsed"),
        (["fee-notice", "{id}", "--amount", "100", "--basis", "per_item", "--quantity", "11"],
         "fee_due", "lapse_fee", "decided", "other.fee_unpaid"),
        (["consult", "{id}", "--party", "某某公司"],
         "consultation_due", "consultation_reply", "received", None),
    ],
)  # fmt: skip
def test_an_automatic_transition_is_dated_the_day_after_its_period_even_when_the_sweep_runs_late(
    world: World, setup: list[str], due_field: str, event: str, state: str, outcome: str | None
) -> None:
    case_id = world.intake(date(2024, 11, 1))
    world.foi.ok(*[a.format(id=case_id) for a in setup], "--on", "2024-11-05")
    due = date.fromisoformat(str(world.show(case_id)[due_field]))
    late = due + timedelta(days=40)  # the scheduler was down for weeks, into the next year
    assert late.year == due.year + 1
    result = sweep(world.app, datetime.combine(late, time(9, 0), SHANGHAI))
    assert [(t.case_id, t.event, t.on) for t in result.transitions] == [(case_id, event, due + timedelta(days=1))]
    shown = world.show(case_id)
    assert shown["state"] == state and shown["outcome"] == outcome
    last = shown["events"][-1]  # type: ignore[index]
    assert last["event"] == event and last["on"] == (due + timedelta(days=1)).isoformat()
    if outcome is not None:
        assert shown["decided_on"] == (due + timedelta(days=1)).isoformat()
    # and the sweep is idempotent
    assert sweep(world.app, datetime.combine(late, time(9, 5), SHANGHAI)).transitions == []


def test_a_lapse_tells_the_caseworker_to_send_the_decision_notice(world: World) -> None:
    case_id = world.intake(date(2024, 3, 1))
    world.foi.ok("request-correction", case_id, "--items", "请明确年份", "--on", "2024-03-04")
    due = date.fromisoformat(str(world.show(case_id)["correction_due"]))
    world.cycle(due + timedelta(days=2))
    lapse = [m for m in world.smtp.inbox.messages if "逾期未补正" in subject_of(m.message)]
    assert len(lapse) == 1
    assert chinese_date(due + timedelta(days=1)) in lapse[0].message.get_content()


def test_the_sweep_survives_a_failing_case(world: World, caplog: pytest.LogCaptureFixture) -> None:
    good = world.intake(date(2024, 3, 1))
    bad = world.intake(date(2024, 3, 1))
    world.foi.ok("request-correction", good, "--items", "请明确年份", "--on", "2024-03-04")
    world.foi.ok("request-correction", bad, "--items", "请明确年份", "--on", "2024-03-04")
    due = date.fromisoformat(str(world.show(good)["correction_due"]))
    # Corrupt one case: its cached row says the period ended earlier than its log allows.
    with world.app.engine.begin() as conn:
        conn.execute(update(Case).where(Case.id == bad).values(correction_due=date(2024, 3, 1)))  # type: ignore[arg-type]
    caplog.set_level(logging.ERROR, logger="foi_workflow.services.sweep")
    result = sweep(world.app, datetime.combine(due + timedelta(days=3), time(9, 0), SHANGHAI))
    assert [f.case_id for f in result.failures] == [bad]
    assert [t.case_id for t in result.transitions] == [good]
    assert world.show(good)["state"] == "decided"
    assert world.show(bad)["state"] == "correction_requested"
    assert any(bad in r.getMessage() for r in caplog.records)


def test_the_daily_digest_lists_the_agencys_deadlines_once_a_day(world: World) -> None:
    first = world.intake(date(2024, 3, 1))
    second = world.intake(date(2024, 3, 4))
    due = date.fromisoformat(str(world.show(first)["reply_due"]))
    day = world.due_minus(due, 2)
    world.cycle(day, time(17, 0))
    assert not any("每日汇总" in subject_of(m.message) for m in world.smtp.inbox.messages)
    world.cycle(day, time(18, 0))
    world.cycle(day, time(18, 30))
    digests = [m for m in world.smtp.inbox.messages if "每日汇总" in subject_of(m.message)]
    assert len(digests) == 1
    assert digests[0].rcpt_tos == ["gongkai@example.gov.cn"]
    body = digests[0].message.get_content()
    assert first in body and second in body and chinese_date(due) in body


def test_a_reminder_with_nobody_to_send_to_is_kept_as_failed(world: World) -> None:
    world.foi.ok(f"{INTAKE} --on 2024-03-01 --by lisi --agency water")
    row = list_outbox(world.app)
    assert row == []
    due = world.app.calendar.add_working_days(date(2024, 3, 1), 20)
    result = sweep(world.app, datetime.combine(world.due_minus(due, 5), time(9, 0), SHANGHAI))
    assert result.unaddressed == 1
    [failed] = list_outbox(world.app, failed_only=True)
    assert failed.to_addr == "" and "没有收件地址" in failed.last_error


def _digests(world: World) -> list[object]:
    return [m for m in world.smtp.inbox.messages if "每日汇总" in subject_of(m.message)]


def test_the_digest_goes_out_on_working_days_only(world: World) -> None:
    world.intake(date(2024, 3, 1))
    world.cycle(date(2024, 3, 9), time(18, 30))  # a Saturday
    world.cycle(date(2024, 4, 4), time(18, 30))  # 清明节
    assert _digests(world) == []
    world.cycle(date(2024, 3, 11), time(18, 30))  # the Monday after
    assert len(_digests(world)) == 1


def test_the_correction_notice_duty_is_listed_in_the_digest_and_never_reminded_alone(world: World) -> None:
    case = world.intake(date(2024, 3, 1))
    notice_due = date.fromisoformat(str(world.show(case)["correction_notice_due"]))
    for day in (date(2024, 3, 4), date(2024, 3, 7)):
        world.cycle(day, time(9, 0))
    world.cycle(date(2024, 3, 7), time(18, 30))
    world.cycle(notice_due, time(9, 0))
    assert not any("补正" in subject_of(m.message) for m in world.smtp.inbox.messages)
    [digest] = _digests(world)
    body = digest.message.get_content()  # type: ignore[attr-defined]
    assert "尚未告知补正的新申请（1件" in body and "第三十条" in body and case in body


def test_a_reminder_rule_for_the_correction_notice_duty_is_refused(world: World, tmp_path: Path) -> None:
    from dataclasses import replace

    from foi_workflow.domain.reminders import ReminderRule
    from foi_workflow.errors import ConfigError

    rules = (*world.app.config.reminders, ReminderRule("duty", "correction_notice_due", 2))
    app = App(replace(world.app.config, reminders=rules), world.app.engine)
    with pytest.raises(ConfigError, match="只列入每日汇总"):
        sweep(app, datetime(2024, 3, 4, 9, 0, tzinfo=SHANGHAI))


def test_scheduler_log_lines_are_one_line_in_beijing_time() -> None:
    from foi_workflow.scheduler import BeijingFormatter, log_line

    record = logging.LogRecord("foi", logging.ERROR, __file__, 1, "每日汇总失败：\n第二行", None, None)
    record.created = datetime(2024, 3, 4, 1, 0, 5, tzinfo=SHANGHAI).timestamp() + 8 * 3600  # 09:00:05 Beijing
    assert BeijingFormatter().format(record) == "2024-03-04 09:00:05 错误 每日汇总失败： 第二行"
    at = datetime(2024, 3, 4, 1, 0, 0, tzinfo=SHANGHAI).astimezone(SHANGHAI)
    assert log_line("调度进程已启动", at) == "2024-03-04 01:00:00 信息 调度进程已启动"
