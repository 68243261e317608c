"""Mail is never lost (issue 17), against a real SMTP server (aiosmtpd on 127.0.0.1): a mail
that cannot be built fails alone, a five-hour outage spends no attempt and every mail goes out
when the server returns, a burst of refusals is a server problem, failed mail comes back with
`foi outbox --retry` and is reported in the next digest, and AUTH is never sent in clear text
to another machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from foi_workflow.adapters.db import unit_of_work
from foi_workflow.adapters.mailer import is_loopback
from foi_workflow.config import load_config
from foi_workflow.services.app import App
from foi_workflow.services.delivery import MAX_OUTAGE_BACKOFF, REFUSAL_BURST, deliver_outbox
from foi_workflow.services.outbox import OUTBOX, QueuedMail, list_outbox, queue_mails
from foi_workflow.services.sweep import SHANGHAI, queue_digests
from foi_workflow.services.transfer import import_lines
from tests.conftest import Foi
from tests.smtp_helpers import SmtpServer, free_port, write_config

NOW = datetime(2024, 3, 22, 9, 0, tzinfo=SHANGHAI)
INTAKE = (
    "intake --applicant 王五 --applicant-type natural_person --channel online --request 某文件 "
    "--on 2024-03-01 --by zhangsan"
)  # fmt: skip


@dataclass
class Mailroom:
    foi: Foi
    app: App
    server: SmtpServer


@pytest.fixture
def room(db_url: str, tmp_path: Path) -> Iterator[Mailroom]:
    port = free_port()
    config = write_config(tmp_path, port, backoff_seconds=60, max_attempts=3)
    foi = Foi(db_url, tmp_path, config=config)
    foi.ok("init")
    app = App(load_config(config, db_url=db_url, env={}))
    room = Mailroom(foi, app, SmtpServer(port))
    try:
        yield room
    finally:
        room.server.stop()
        app.engine.dispose()


def queue(app: App, *mails: QueuedMail) -> None:
    with unit_of_work(app.engine) as session:
        queue_mails(session.connection(), list(mails), NOW)
        session.commit()


def mail(key: str, *, to: str = "zhangsan@example.gov.cn", subject: str = "", case_id: str | None = None) -> QueuedMail:
    return QueuedMail(key, "default", case_id, "test", to, subject or f"提醒 {key}", f"正文 {key}")


def received_keys(server: SmtpServer) -> list[str]:
    return sorted(str(m.message["X-FOI-Key"]) for m in server.inbox.messages)


# --------------------------------------------------------------------------- one bad row


def test_a_mail_that_cannot_be_built_fails_alone_and_the_others_go_out(room: Mailroom) -> None:
    # Rows stored before ids were checked: a case id with a line break in the key and the
    # subject (made safe and sent), and an address with one (failed with its reason).
    evil = "2024-0001\nBcc: victim@example.com"
    queue(
        room.app,
        mail("good-1"),
        mail(f"{evil}:reply_due_5:2024-03-29", subject=f"【提醒】案件{evil}答复期限", case_id=evil),
        mail("broken-address", to="zhangsan@example.gov.cn\r\nBcc: victim@example.com"),
        mail("separators", subject="案件\u2028X\x1bY\x85提醒"),
        mail("good-2"),
    )
    room.server.start()
    result = deliver_outbox(room.app, NOW)
    assert (result.sent, result.failed) == (4, 1)
    [failed] = list_outbox(room.app, failed_only=True)
    assert failed.key == "broken-address" and failed.failure == "invalid" and "收件地址无效" in failed.last_error
    assert len(received_keys(room.server)) == 4
    for received in room.server.inbox.messages:
        assert received.rcpt_tos == ["zhangsan@example.gov.cn"]
        assert received.message["Bcc"] is None
        assert "\n" not in str(received.message["Subject"]) and "\n" not in str(received.message["X-FOI-Key"])
    subjects = {str(m.message["Subject"]) for m in room.server.inbox.messages}
    assert "【提醒】案件2024-0001 Bcc: victim@example.com答复期限" in subjects
    assert "案件 X Y 提醒" in subjects


# --------------------------------------------------------------------------- five-hour outage


def seed_cases(app: App) -> None:
    """Two cases whose reply is due in 5 working days on 2024-03-22 (reminders), and two whose
    correction period ended on 2024-03-11 (lapsed by the sweep, a lapse notice each)."""
    lines = []
    for n in range(4):
        lines.append(
            json.dumps(
                {"case": f"O-{n}", "event": "receive", "on": "2024-03-01", "applicant": "某人",
                 "applicant_type": "natural_person", "channel": "online", "request": "某文件",
                 "caseworker": "zhangsan"},
                ensure_ascii=False,
            )
        )  # fmt: skip
    for n in (2, 3):
        lines.append(
            json.dumps(
                {"case": f"O-{n}", "event": "request_correction", "on": "2024-03-04", "items": "请补正", "period": 5},
                ensure_ascii=False,
            )
        )
    import_lines(app, lines, by="seed")


def test_a_five_hour_outage_spends_no_attempt_and_every_mail_goes_out_when_the_server_returns(
    room: Mailroom,
) -> None:
    seed_cases(room.app)
    sweeps = 0
    at = NOW
    while at <= NOW + timedelta(hours=5):  # the server is down: a sweep every ten minutes
        out = room.foi.ok("scheduler", "run", "--once", "--now", at.strftime("%Y-%m-%dT%H:%M"))
        sweeps += 1
        assert "封邮件留在发件箱中" in out or "已发送 0 封" in out
        rows = list_outbox(room.app, include_sent=True)
        assert {r.status for r in rows} == {"queued"} and {r.attempts for r in rows} == {0}
        at += timedelta(minutes=10)
    rows = list_outbox(room.app)
    assert len(rows) == 4 and {r.failure for r in rows} == {"unreachable"}
    assert sum(r.key.split(":")[1] == "lapse_correction" for r in rows) == 2
    with room.app.engine.connect() as conn:
        tries = conn.execute(select(func.max(OUTBOX.c.deferrals))).scalar_one()
    assert 5 < tries < sweeps  # the server was tried again and again, with a backoff
    last = NOW + timedelta(hours=5)
    assert all(r.next_attempt_at and r.next_attempt_at <= last + MAX_OUTAGE_BACKOFF for r in rows)

    room.server.start()
    back = last + MAX_OUTAGE_BACKOFF
    out = room.foi.ok("scheduler", "run", "--once", "--now", back.strftime("%Y-%m-%dT%H:%M"))
    assert "已发送 4 封" in out
    assert received_keys(room.server) == sorted(r.key for r in rows)
    assert {r.attempts for r in list_outbox(room.app, include_sent=True)} == {1}


# --------------------------------------------------------------------------- 550 burst and --retry


def test_a_burst_of_refusals_is_a_server_problem_and_no_mail_is_marked_failed(room: Mailroom) -> None:
    room.server.inbox.refuse_rcpt = lambda _addr: "550 5.7.1 Sending quota exceeded"
    room.server.start()
    queue(room.app, *(mail(f"m{i:02d}", to=f"worker{i % 3}@example.gov.cn") for i in range(12)))
    result = deliver_outbox(room.app, NOW)
    assert (result.sent, result.failed, result.held) == (0, 0, REFUSAL_BURST)
    assert "按服务器故障处理" in result.summary()
    rows = list_outbox(room.app)
    assert len(rows) == 12 and {r.status for r in rows} == {"queued"} and {r.attempts for r in rows} == {0}
    held = [r for r in rows if r.failure == "refused_all"]
    assert len(held) == REFUSAL_BURST and all("550" in r.last_error for r in held)
    assert all(r.failure == "" and r.next_attempt_at == NOW for r in rows if r not in held)  # tried first next time

    room.server.inbox.refuse_rcpt = lambda _addr: None  # the account is unblocked
    later = deliver_outbox(room.app, NOW + MAX_OUTAGE_BACKOFF)
    assert later.sent == 12
    assert received_keys(room.server) == [f"m{i:02d}" for i in range(12)]


def test_refusals_among_accepted_mail_fail_only_the_refused_ones(room: Mailroom) -> None:
    room.server.inbox.refuse_rcpt = lambda addr: "550 No such user" if addr.startswith("nobody") else None
    room.server.start()
    bad = [mail(f"bad{i}", to="nobody@example.gov.cn") for i in range(REFUSAL_BURST - 1)]
    queue(room.app, *bad, mail("good"), mail("bad-last", to="nobody@example.gov.cn"))
    result = deliver_outbox(room.app, NOW)
    assert (result.sent, result.failed, result.held) == (1, REFUSAL_BURST, 0)
    failed = list_outbox(room.app, failed_only=True)
    assert {r.failure for r in failed} == {"permanent"} and {r.attempts for r in failed} == {1}


def test_one_address_refused_again_and_again_is_that_address_not_the_server(room: Mailroom) -> None:
    room.server.inbox.refuse_rcpt = lambda addr: "550 No such user" if addr.startswith("nobody") else None
    room.server.start()
    queue(room.app, *(mail(f"typo{i}", to="nobody@example.gov.cn") for i in range(2 * REFUSAL_BURST)))
    result = deliver_outbox(room.app, NOW)
    assert (result.failed, result.held) == (2 * REFUSAL_BURST, 0)


def test_mail_held_by_a_burst_never_holds_up_good_mail(room: Mailroom) -> None:
    room.server.inbox.refuse_rcpt = lambda addr: "550 No such user" if addr.startswith("nobody") else None
    room.server.start()
    bad = [mail(f"bad{i}", to=f"nobody{i}@example.gov.cn") for i in range(REFUSAL_BURST)]
    queue(room.app, *bad, mail("good"))
    first = deliver_outbox(room.app, NOW)
    assert (first.sent, first.held) == (0, REFUSAL_BURST)
    second = deliver_outbox(room.app, NOW + timedelta(minutes=5))  # the held ones wait longer
    assert second.sent == 1 and received_keys(room.server) == ["good"]


def test_foi_outbox_retry_requeues_one_failed_mail_or_every_one(room: Mailroom) -> None:
    room.server.inbox.refuse_rcpt = lambda _addr: "550 No such user"
    room.server.start()
    queue(room.app, mail("a"), mail("b"), mail("c"), mail("nobody", to=""))
    assert deliver_outbox(room.app, NOW).failed == 3
    failed = {r.key: r.id for r in list_outbox(room.app, failed_only=True)}
    assert set(failed) == {"a", "b", "c", "nobody"}

    out = room.foi.ok("outbox", "--retry", "--id", str(failed["b"]))
    assert "已将 1 封" in out
    assert {r.key for r in list_outbox(room.app, failed_only=True)} == {"a", "c", "nobody"}
    out = room.foi.ok("outbox", "--retry")
    assert "已将 2 封" in out and "1 封没有收件地址" in out
    requeued = [r for r in list_outbox(room.app) if r.status == "queued"]
    assert {r.key for r in requeued} == {"a", "b", "c"} and {r.attempts for r in requeued} == {0}

    room.server.inbox.refuse_rcpt = lambda _addr: None  # the addresses were fixed on the server
    assert deliver_outbox(room.app, datetime.now(SHANGHAI) + timedelta(seconds=1)).sent == 3
    assert received_keys(room.server) == ["a", "b", "c"]


def test_foi_outbox_retry_refuses_what_it_cannot_retry(room: Mailroom) -> None:
    queue(room.app, mail("queued"), mail("nobody", to=""))
    ids = {r.key: r.id for r in list_outbox(room.app)}
    for args, code, prefix in (
        (("--retry", "--id", "999"), 1, "错误[E-NOT-FOUND]"),
        (("--retry", "--id", str(ids["queued"])), 1, "错误[E-STATE]"),
        (("--retry", "--id", str(ids["nobody"])), 1, "错误[E-STATE]"),
    ):
        result = room.foi("outbox", *args)
        assert result.exit_code == code and result.stderr.startswith(prefix), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert room.foi("outbox", "--id", "1").exit_code == 2  # --id belongs to --retry
    assert {r.status for r in list_outbox(room.app)} == {"queued", "failed"}


def test_failed_mail_is_reported_once_in_the_next_digest(room: Mailroom) -> None:
    room.foi.ok(INTAKE)  # a case of the agency, due in 5 working days: the digest lists it too
    room.server.inbox.refuse_rcpt = lambda addr: "550 No such user" if addr.startswith("nobody") else None
    room.server.start()
    queue(room.app, mail("lost", to="nobody@example.gov.cn", subject="【依申请公开提醒】案件2024-0007答复期限"))
    assert deliver_outbox(room.app, NOW).failed == 1
    assert queue_digests(room.app, NOW) == 1
    today = digest_body(room.app, "2024-03-22")
    assert "未能送达的提醒邮件（1封" in today and "案件2024-0007答复期限" in today and "nobody@example.gov.cn" in today
    assert queue_digests(room.app, NOW + timedelta(days=3)) == 1  # Monday: the case is still due
    assert "未能送达" not in digest_body(room.app, "2024-03-25")  # reported once


def digest_body(app: App, day: str) -> str:
    with app.engine.connect() as conn:
        row = conn.execute(select(OUTBOX.c.subject, OUTBOX.c.body).where(OUTBOX.c.key == f"digest:default:{day}")).one()
    return f"{row.subject}\n{row.body}"


# --------------------------------------------------------------------------- clear-text AUTH


def test_a_password_without_tls_is_refused_unless_the_server_is_this_machine(db_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port())
    foi = Foi(db_url, tmp_path, config=config)
    foi.ok("init")
    foi.env = {"FOI_SMTP_HOST": "smtp.example.gov.cn", "FOI_SMTP_PASSWORD": "secret", "FOI_SMTP_USER": "foi"}
    foi.ok(INTAKE)
    refused = foi("scheduler", "run", "--once", "--now", "2024-03-22T09:00")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("错误[E-CONFIG]：FOI_SMTP_TLS=none") and len(refused.stderr.splitlines()) == 1
    assert "secret" not in refused.stderr
    assert foi.ok("outbox") == "发件箱为空\n"  # nothing was swept
    foi.env["FOI_MAIL_FROM"] = "foi@example.gov.cn\r\nBcc: victim@example.com"
    assert foi("scheduler", "run", "--once").stderr.startswith("错误[E-CONFIG]：FOI_MAIL_FROM")
    del foi.env["FOI_MAIL_FROM"]
    foi.env["FOI_SMTP_HOST"] = "127.0.0.1"  # a local relay: allowed
    assert foi("scheduler", "run", "--once", "--now", "2024-03-22T09:00").exit_code == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.53", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("LOCALHOST.", True), ("smtp.example.gov.cn", False), ("127.0.0.1.example.com", False),
     ("10.0.0.1", False), ("", False)],
)  # fmt: skip
def test_only_this_machine_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
