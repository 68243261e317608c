"""`foi scheduler run` and `foi outbox` as a user runs them, against a real SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from foi_workflow.adapters.db import open_engine
from foi_workflow.config import load_config
from foi_workflow.scheduler import scheduler_lock
from foi_workflow.services.app import App
from tests.conftest import Foi
from tests.smtp_helpers import SmtpServer, write_config

INTAKE = ("intake --applicant 王五 --applicant-type natural_person --channel online "
          "--request 某项目环评报告 --on 2024-03-01 --by zhangsan")  # fmt: skip
FIVE_DAYS_BEFORE = "2024-03-22T09:00"  # the reply of a case received 2024-03-01 is due 2024-03-29


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    s = SmtpServer().start()
    yield s
    s.stop()


def cli(db_url: str, tmp_path: Path, port: int | None, **config: object) -> Foi:
    foi = Foi(db_url, tmp_path, config=write_config(tmp_path, port, **config))  # type: ignore[arg-type]
    foi.ok("init")
    return foi


def test_scheduler_run_once_sends_the_due_reminder_and_says_what_it_did(
    db_url: str, tmp_path: Path, server: SmtpServer
) -> None:
    foi = cli(db_url, tmp_path, server.port)
    case_id = foi.ok(INTAKE).strip()
    out = foi.ok("scheduler", "run", "--once", "--now", FIVE_DAYS_BEFORE)
    assert "新提醒 1 封" in out and "已发送 1 封" in out
    [mail] = server.inbox.messages
    assert case_id in str(mail.message["Subject"]) and "2024年3月29日" in str(mail.message["Subject"])
    again = foi.ok("scheduler", "run", "--once", "--now", "2024-03-22T09:05")
    assert "新提醒 0 封" in again and len(server.inbox.messages) == 1


def test_without_smtp_settings_the_command_says_mail_stays_queued(db_url: str, tmp_path: Path) -> None:
    foi = cli(db_url, tmp_path, None)
    foi.ok(INTAKE)
    out = foi.ok("scheduler", "run", "--once", "--now", FIVE_DAYS_BEFORE)
    assert "未配置 SMTP" in out and "1 封邮件留在发件箱中" in out
    listing = foi.ok("outbox")
    assert "待发" in listing and "zhangsan@example.gov.cn" in listing and "共 1 封" in listing
    assert "没有发送失败的邮件" in foi.ok("outbox", "--failed")


def test_a_second_scheduler_on_the_same_database_refuses_to_start(db_url: str, tmp_path: Path) -> None:
    foi = cli(db_url, tmp_path, None)
    config = load_config(foi.config, db_url=db_url, env={})
    app = App(config, open_engine(db_url))
    with scheduler_lock(app):
        result = foi("scheduler", "run", "--once")
    assert result.exit_code == 1
    assert "错误[E-SCHEDULER]" in result.stderr and "已有一个调度进程" in result.stderr
    assert foi("scheduler", "run", "--once").exit_code == 0  # free again once the first one stops
    app.engine.dispose()


def test_a_bad_now_is_a_clear_input_error(db_url: str, tmp_path: Path) -> None:
    foi = cli(db_url, tmp_path, None)
    result = foi("scheduler", "run", "--once", "--now", "next tuesday")
    assert result.exit_code == 1 and "错误[E-INPUT]" in result.stderr


@pytest.mark.slow
def test_the_long_running_scheduler_sweeps_at_once_and_stops_cleanly_on_sigterm(
    db_url: str, tmp_path: Path, server: SmtpServer
) -> None:
    foi = cli(db_url, tmp_path, server.port, sweep_minutes=1)
    foi.ok(INTAKE)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("FOI_SMTP_HOST", "FOI_SMTP_PORT", "FOI_SMTP_TLS", "FOI_MAIL_FROM", "FOI_MAIL_TO"):
        env.pop(name, None)
    argv = [sys.executable, "-c", "from foi_workflow.cli.main import main; main()",
            "--db", db_url, "--config", str(foi.config), "scheduler", "run", "--now", FIVE_DAYS_BEFORE]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        server.inbox.wait_for(1, timeout=30)
        assert len(server.inbox.messages) == 1
        # While it runs, nobody else may start a scheduler on this database.
        refused = foi("scheduler", "run", "--once")
        assert refused.exit_code == 1 and "E-SCHEDULER" in refused.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "调度进程已启动" in out and "调度进程已停止" in out
