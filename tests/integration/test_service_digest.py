"""The daily digest's service section (SPEC §15, §7): decision letters not served within 2
working days of the decision, posted letters without delivery after 10 working days, and
letters returned and not yet served again — each listed while it is so, and no longer after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import text

from foi_workflow.adapters.db import open_engine
from foi_workflow.config import load_config
from foi_workflow.services.app import App
from foi_workflow.services.sweep import SHANGHAI, queue_digests
from tests.conftest import Foi
from tests.smtp_helpers import write_config

INTAKE = "intake --applicant 王五 --applicant-type natural_person --channel online --request 某项目环评报告"
DECIDED = date(2024, 3, 20)  # a Wednesday


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[tuple[Foi, App]]:
    config_path = write_config(tmp_path, None, digest_time="08:00")
    foi = Foi(db_url, tmp_path, config=config_path)
    foi.ok("init")
    engine = open_engine(db_url)
    try:
        yield foi, App(load_config(config_path, db_url=db_url, env={}), engine)
    finally:
        engine.dispose()


def decided_with_letter(foi: Foi) -> tuple[str, str]:
    case_id = foi.ok(f"{INTAKE} --on 2024-03-01").strip()
    foi.ok(f"decide {case_id} --outcome granted --on {DECIDED}")
    number = foi("notice", case_id, "decision").stderr.strip().rsplit("：", 1)[1]
    return case_id, number


def digest_on(app: App, day: date) -> str:
    """The digest queued for `day` (empty when there is none)."""
    queue_digests(app, datetime.combine(day, time(9, 0), SHANGHAI))
    with app.engine.connect() as conn:
        found = conn.execute(text("SELECT body FROM outbox WHERE key = :k"), {"k": f"digest:default:{day}"}).all()
    return str(found[0][0]) if found else ""


def test_a_decision_letter_not_served_within_two_working_days_is_listed_until_it_is(world: tuple[Foi, App]) -> None:
    foi, app = world
    case_id, number = decided_with_letter(foi)
    cal = app.calendar
    assert case_id not in digest_on(app, cal.add_working_days(DECIDED, 2))  # still within the 2 days
    late = digest_on(app, cal.add_working_days(DECIDED, 3))
    assert "决定后2个工作日内未送达的答复告知书（1件）" in late and case_id in late
    served_on = cal.add_working_days(DECIDED, 3).isoformat()
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", served_on)
    assert case_id not in digest_on(app, cal.add_working_days(DECIDED, 4))


def test_a_decision_unserved_for_more_than_sixty_days_leaves_the_digest_not_the_list(world: tuple[Foi, App]) -> None:
    foi, app = world
    case_id, _ = decided_with_letter(foi)
    assert case_id in digest_on(app, date(2024, 5, 17))  # 58 days after the decision
    assert case_id not in digest_on(app, date(2024, 5, 20))  # 61 days
    assert case_id in foi.ok("list", "--unserved", "--format", "json")


def test_a_posted_letter_without_delivery_after_ten_working_days_is_chased(world: tuple[Foi, App]) -> None:
    foi, app = world
    case_id, number = decided_with_letter(foi)
    cal = app.calendar
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", DECIDED.isoformat(),
           "--tracking", "EMS9876543210CN")  # fmt: skip
    assert case_id not in digest_on(app, cal.add_working_days(DECIDED, 10))
    chased = digest_on(app, cal.add_working_days(DECIDED, 11))
    assert "邮寄10个工作日后仍无妥投记录的文书（1件）" in chased
    line = f"{case_id}　政府信息公开申请答复告知书 {number} 于 {DECIDED} 交邮，尚无妥投记录（邮件号 EMS9876543210CN）"
    assert line in chased
    foi.ok("delivered", case_id, "--letter", number, "--on", cal.add_working_days(DECIDED, 11).isoformat())
    assert case_id not in digest_on(app, cal.add_working_days(DECIDED, 12))


def test_every_returned_letter_is_listed_until_it_is_served_again(world: tuple[Foi, App]) -> None:
    foi, app = world
    case_id, number = decided_with_letter(foi)
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", DECIDED.isoformat())
    foi.ok("returned", case_id, "--letter", number, "--reason", "收件人拒收", "--on", "2024-03-22")
    body = digest_on(app, date(2024, 3, 22))
    assert "被退回的文书（1件）" in body and f"{number} 已退回（收件人拒收），请再次送达" in body
    foi.ok("serve", case_id, "--letter", number, "--method", "in_person", "--on", "2024-03-25")
    foi.ok("delivered", case_id, "--letter", number, "--on", "2024-03-25")
    assert "已退回" not in digest_on(app, date(2024, 3, 26))


def test_a_voided_service_is_read_through_the_replay(world: tuple[Foi, App]) -> None:
    foi, app = world
    case_id, number = decided_with_letter(foi)
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", DECIDED.isoformat())  # event 3
    foi.ok("returned", case_id, "--letter", number, "--reason", "地址不详", "--on", "2024-03-22")  # event 4
    assert "已退回（地址不详）" in digest_on(app, date(2024, 3, 22))
    foi.ok("void", case_id, "4", "--reason", "误记：该函已妥投")
    body = digest_on(app, date(2024, 3, 25))
    assert "已退回" not in body
