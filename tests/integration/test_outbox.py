"""Delivery through the outbox against a real SMTP server: mail waits while the server is
down (no attempt spent), is delivered once when it returns, temporary refusals are retried
with backoff, permanent failures kept visible."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foi_workflow.adapters.db import open_engine, unit_of_work
from foi_workflow.config import load_config
from foi_workflow.services.app import App
from foi_workflow.services.delivery import MAX_BACKOFF, backoff, deliver_outbox
from foi_workflow.services.outbox import QueuedMail, list_outbox, queue_mails
from foi_workflow.services.sweep import SHANGHAI, sweep
from tests.conftest import Foi
from tests.smtp_helpers import SmtpServer, free_port, write_config

NOW = datetime(2024, 3, 22, 9, 0, tzinfo=SHANGHAI)


@dataclass
class Setup:
    foi: Foi
    app: App
    server: SmtpServer


def make(db_url: str, tmp_path: Path, port: int | None, **config: object) -> Setup:
    path = write_config(tmp_path, port, **config)  # type: ignore[arg-type]
    foi = Foi(db_url, tmp_path, config=path)
    foi.ok("init")
    app = App(load_config(path, db_url=db_url, env={}), open_engine(db_url))
    return Setup(foi, app, SmtpServer(port or free_port()))


@pytest.fixture
def setup(db_url: str, tmp_path: Path) -> Iterator[Setup]:
    s = make(db_url, tmp_path, free_port(), backoff_seconds=60, max_attempts=3)
    try:
        yield s
    finally:
        s.server.stop()
        s.app.engine.dispose()


def queue(app: App, *keys: str, to: str = "zhangsan@example.gov.cn") -> None:
    with unit_of_work(app.engine) as session:
        queue_mails(
            session.connection(),
            [QueuedMail(k, "default", None, "test", to, f"提醒 {k}", f"正文 {k}") for k in keys],
            NOW,
        )
        session.commit()


def test_with_the_server_down_mail_stays_queued_and_is_delivered_once_when_it_returns(setup: Setup) -> None:
    setup.foi.ok("intake --applicant 王五 --applicant-type natural_person --channel online "
                 "--request 某文件 --on 2024-03-01 --by zhangsan")  # fmt: skip
    swept = sweep(setup.app, NOW)  # 2024-03-22: five working days before the reply is due
    assert swept.reminders == 1
    down = deliver_outbox(setup.app, NOW)
    assert (down.sent, down.retrying, down.waiting) == (0, 0, 1) and down.unreachable
    [row] = list_outbox(setup.app)
    assert row.status == "queued" and row.attempts == 0 and row.failure == "unreachable" and row.last_error
    assert row.next_attempt_at == NOW.astimezone(UTC) + timedelta(seconds=60)

    setup.server.start()
    early = deliver_outbox(setup.app, NOW + timedelta(seconds=30))  # backoff not over yet
    assert early.sent == 0 and setup.server.inbox.messages == []
    back = deliver_outbox(setup.app, NOW + timedelta(seconds=61))
    assert back.sent == 1
    again = deliver_outbox(setup.app, NOW + timedelta(hours=1))
    assert again.sent == 0
    assert len(setup.server.inbox.messages) == 1
    assert list_outbox(setup.app) == []
    [sent] = list_outbox(setup.app, include_sent=True)
    assert sent.status == "sent" and sent.attempts == 1


def test_while_the_server_is_down_no_mail_is_tried(setup: Setup) -> None:
    queue(setup.app, "a", "b", "c")
    result = deliver_outbox(setup.app, NOW)
    assert result.retrying == 0 and result.waiting == 3 and result.unreachable
    assert "无法连接 SMTP 服务器" in result.summary()
    assert [r.attempts for r in list_outbox(setup.app)] == [0, 0, 0]
    setup.server.start()
    assert deliver_outbox(setup.app, NOW + timedelta(minutes=2)).sent == 3


def test_temporary_refusals_are_retried_with_backoff_and_then_given_up(setup: Setup) -> None:
    setup.server.inbox.refuse_data = lambda: "451 Requested action aborted: local error"
    setup.server.start()
    queue(setup.app, "k")
    at = NOW
    for attempt in (1, 2):
        assert deliver_outbox(setup.app, at).retrying == 1
        [row] = list_outbox(setup.app)
        assert row.attempts == attempt and "451" in row.last_error
        at = row.next_attempt_at or at
    assert at - NOW == timedelta(seconds=60 + 120)
    final = deliver_outbox(setup.app, at)
    assert final.failed == 1
    [row] = list_outbox(setup.app, failed_only=True)
    assert row.attempts == 3


def test_a_permanent_refusal_is_failed_at_once_and_listed_by_foi_outbox_failed(setup: Setup) -> None:
    setup.server.inbox.refuse_rcpt = lambda addr: "550 No such user" if addr.startswith("nobody") else None
    setup.server.start()
    queue(setup.app, "bad", to="nobody@example.gov.cn")
    queue(setup.app, "good")
    result = deliver_outbox(setup.app, NOW)
    assert (result.sent, result.failed) == (1, 1)
    listing = setup.foi.ok("outbox", "--failed")
    assert "nobody@example.gov.cn" in listing and "550" in listing and "失败" in listing
    assert "提醒 good" not in listing


def test_without_smtp_settings_mail_stays_queued_and_the_result_says_so(db_url: str, tmp_path: Path) -> None:
    s = make(db_url, tmp_path, None)
    queue(s.app, "x")
    result = deliver_outbox(s.app, NOW)
    assert not result.configured and result.waiting == 1
    assert "未配置 SMTP" in result.summary()
    [row] = list_outbox(s.app)
    assert row.status == "queued" and row.attempts == 0


def test_the_same_key_is_never_queued_twice(setup: Setup) -> None:
    queue(setup.app, "same", "same")
    queue(setup.app, "same")
    assert len(list_outbox(setup.app)) == 1


def test_two_deliveries_at_once_never_send_the_same_mail_twice(setup: Setup) -> None:
    setup.server.start()
    queue(setup.app, *(f"m{i}" for i in range(40)))
    results = []

    def run() -> None:
        results.append(deliver_outbox(setup.app, NOW))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in results) == 40
    keys = [m.message["X-FOI-Key"] for m in setup.server.inbox.messages]
    assert sorted(keys) == sorted(f"m{i}" for i in range(40))


@given(base=st.floats(min_value=1, max_value=3600), attempts=st.integers(min_value=1, max_value=60))
def test_backoff_grows_with_each_attempt_and_is_capped(base: float, attempts: int) -> None:
    assert backoff(base, attempts) <= backoff(base, attempts + 1) <= MAX_BACKOFF
    assert backoff(base, 1) == min(timedelta(seconds=base), MAX_BACKOFF)


def test_the_outbox_keeps_utc_timestamps_whatever_zone_now_is_given_in(setup: Setup) -> None:
    queue(setup.app, "tz")
    [row] = list_outbox(setup.app)
    assert row.next_attempt_at == datetime.combine(date(2024, 3, 22), time(1, 0), UTC)


def test_a_batch_of_mail_goes_out_over_one_smtp_connection(setup: Setup) -> None:
    peers: list[object] = []
    inbox = setup.server.inbox
    original = inbox.handle_DATA

    async def handle_data(server: object, session: Any, envelope: object) -> str:
        peers.append(session.peer)
        return await original(server, session, envelope)

    inbox.handle_DATA = handle_data  # type: ignore[method-assign]
    setup.server.start()
    queue(setup.app, "a", "b", "c")
    assert deliver_outbox(setup.app, NOW).sent == 3
    assert len(peers) == 3 and len(set(peers)) == 1
    assert sorted(m.message["X-FOI-Key"] for m in inbox.messages) == ["a", "b", "c"]
