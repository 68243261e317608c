"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the scheduler and outbox tests, and a config
file pointing the product at it."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    # Controller cannot bind port 0 (aiosmtpd issue #388): ask the OS for a free one first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    raw: bytes
    message: EmailMessage
    rcpt_tos: list[str]


@dataclass
class Inbox:
    """What the server received; `refuse_rcpt` / `refuse_data` return an SMTP reply to refuse with."""

    messages: list[Received] = field(default_factory=list)
    refuse_rcpt: Callable[[str], str | None] = lambda _addr: None
    refuse_data: Callable[[], str | None] = lambda: None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        reply = self.refuse_rcpt(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self.refuse_data()
        if reply:
            return reply
        raw = bytes(envelope.original_content or envelope.content)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(Received(raw, msg, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)


class SmtpServer:
    """An aiosmtpd server that can be started and stopped on a fixed port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


CONFIG = """\
default_agency = "default"

[agencies.default]
name = "某某市某某局"
short_name = "某公开"
mailbox = "gongkai@example.gov.cn"

[agencies.water]
name = "某某市水务局"
short_name = "水公开"
mailbox = ""

[caseworkers.zhangsan]
name = "张三"
email = "zhangsan@example.gov.cn"
agency = "default"

[caseworkers.lisi]
name = "李四"
email = ""
agency = "default"

[scheduler]
sweep_minutes = {sweep_minutes}
digest_time = "{digest_time}"

[smtp]
{smtp}
"""


def write_config(
    folder: Path,
    port: int | None,
    *,
    digest_time: str = "23:59",
    sweep_minutes: int = 5,
    max_attempts: int = 8,
    backoff_seconds: float = 60,
    mail_to: str = "",
) -> Path:
    """A config file; `port=None` leaves SMTP unconfigured."""
    smtp = ""
    if port is not None:
        smtp = (
            f'host = "127.0.0.1"\nport = {port}\ntls = "none"\nmail_from = "foi@example.gov.cn"\n'
            f'mail_to = "{mail_to}"\ntimeout_seconds = 5\nmax_attempts = {max_attempts}\n'
            f"backoff_seconds = {backoff_seconds}\n"
        )
    path = folder / "foi.toml"
    path.write_text(CONFIG.format(smtp=smtp, digest_time=digest_time, sweep_minutes=sweep_minutes), encoding="utf-8")
    return path
