"""Mail: the Chinese texts of reminders and digests, the `EmailMessage` built from them, and
sending through `aiosmtplib` with each failure classified: the server unreachable (no mail was
tried), temporary (retry this mail later), permanent (this mail was refused) or a mail that
cannot be built at all."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import socket
import ssl
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from foi_workflow.config import SmtpSettings
from foi_workflow.domain.periods import CORRECTION_NOTICE_DAYS, EXTENSION_CAP
from foi_workflow.domain.vocabulary import Deadline, chinese_date
from foi_workflow.errors import ConfigError

WEEKDAYS = "一二三四五六日"


# What to do, per deadline (SPEC §3-§4; articles of the Regulation).
ADVICE: dict[str, str] = {
    "reply_due": (
        "请在期限届满前作出答复（foi decide）。确需延长答复期限的，应当经政府信息公开工作机构"
        f"负责人同意并告知申请人，延长的期限最长不得超过{EXTENSION_CAP}个工作日（《条例》第三十三条；foi extend）。"
    ),
    "correction_notice_due": (
        f"申请内容不明确的，应当在收到申请之日起{CORRECTION_NOTICE_DAYS}个工作日内一次性告知申请人作出补正，"
        "说明需要补正的事项和合理的补正期限（《条例》第三十条；foi request-correction）。"
    ),
    "correction_due": (
        "补正期限届满后申请人无正当理由仍未补正的，视为放弃申请，系统将自期限届满次日起"
        "自动记录“逾期未补正”。已收到补正的，请及时登记（foi receive-correction）。"
    ),
    "consultation_due": (
        "征求意见期限届满后未收到意见的，系统将自期限届满次日起按“未提出意见”记录并恢复计算"
        "答复期限（《条例》第三十二条、第三十四条）。已收到意见的，请及时登记（foi consultation-reply）。"
    ),
    "fee_due": (
        "缴费期限届满后申请人仍未缴费的，系统将自期限届满次日起自动记录“逾期未缴费”，不再处理"
        "该申请（《政府信息公开信息处理费管理办法》）。已缴费的，请及时登记（foi fee-paid）。"
    ),
}

OVERDUE_ADVICE = "该期限已届满，案件已逾期。请立即处理，并在案件记录中说明逾期原因。"

LAPSE_TEXTS: dict[str, tuple[str, str]] = {
    "lapse_correction": (
        "逾期未补正",
        "申请人在补正期限内未补正，视为放弃申请（《条例》第三十条），案件已办结，"
        "办理结果为“申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请”。"
        "请出具并送达答复告知书（foi notice ID decision）。",
    ),
    "lapse_fee": (
        "逾期未缴费",
        "申请人在缴费期限内未缴纳信息处理费，案件已办结，办理结果为“申请人逾期未按收费通知要求"
        "缴纳费用、行政机关不再处理其政府信息公开申请”。请出具并送达答复告知书（foi notice ID decision）。",
    ),
    "consultation_reply": (
        "征求意见期满未答复",
        "征求意见期限届满，被征求意见方未提出意见，已按“未提出意见”记录，答复期限恢复计算。"
        "请依照《条例》第三十二条、第三十四条决定是否公开。",
    ),
}

FOOTER = "——\n本邮件由政府信息公开申请办理系统（foi-workflow）自动发送，请勿直接回复。"


def chinese_date_weekday(d: date) -> str:
    return f"{chinese_date(d)}（星期{WEEKDAYS[d.weekday()]}）"


@dataclass(frozen=True)
class MailText:
    subject: str
    body: str


def reminder_text(
    *,
    case_id: str,
    deadline: str,
    due: date,
    remaining: int,
    greeting: str,
    provisional: bool = False,
) -> MailText:
    """A reminder that `deadline` of `case_id` falls on `due`; `remaining` working days left
    (0 = today, negative = overdue)."""
    label = Deadline.label_of(deadline)
    if remaining > 0:
        when = f"还有{remaining}个工作日到期"
    elif remaining == 0:
        when = "今日到期"
    else:
        when = "已逾期"
    subject = f"【依申请公开提醒】案件{case_id}{label}{when}（{chinese_date(due)}）"
    lines = [
        f"{greeting}：",
        "",
        f"案件 {case_id} 的{label}为 {chinese_date_weekday(due)}，{when}。",
    ]
    if provisional:
        lines.append("（该期限涉及尚未公布放假安排的年份，为暂定日期，公布后将重新计算。）")
    lines += ["", OVERDUE_ADVICE if remaining < 0 else ADVICE.get(deadline, ""), "", FOOTER]
    return MailText(subject, "\n".join(lines))


def lapse_text(*, case_id: str, event: str, on: date, due: date, greeting: str) -> MailText:
    """The notice that the sweep recorded an automatic transition for `case_id`."""
    title, advice = LAPSE_TEXTS[event]
    subject = f"【依申请公开提醒】案件{case_id}{title}（{chinese_date(on)}起）"
    body = "\n".join(
        [
            f"{greeting}：",
            "",
            f"案件 {case_id} 的期限已于 {chinese_date(due)} 届满，系统已记录“{title}”，自 {chinese_date(on)} 起生效。",
            "",
            advice.replace("ID", case_id),
            "",
            FOOTER,
        ]
    )
    return MailText(subject, body)


@dataclass(frozen=True)
class DigestLine:
    case_id: str
    deadline: str
    due: date
    remaining: int
    caseworker: str


DIGEST_FAILED_LINES = 100  # failed mails listed one by one in a digest; the rest are counted


@dataclass(frozen=True)
class FailedMail:
    """A mail that could not be delivered, as the digest reports it."""

    subject: str
    to_addr: str
    error: str


def digest_text(
    *,
    agency_name: str,
    today: date,
    lines: Sequence[DigestLine],
    failed: Sequence[FailedMail] = (),
    service: Sequence[str] = (),
) -> MailText:
    """The daily digest of one agency: overdue cases first, then deadlines coming up, then the
    mail that could not be delivered since the last digest, then the letters to serve or chase
    (`service`: lines written by `services.service_digest`)."""
    # The Art. 30 duty is no deadline of the case's answer but of a possible correction notice:
    # listed apart, as the applications no one has acted on yet (SPEC §7), never reminded alone.
    duty = [x for x in lines if x.deadline == Deadline.CORRECTION_NOTICE_DUE.value]
    overdue = [x for x in lines if x.remaining < 0 and x not in duty]
    upcoming = [x for x in lines if x.remaining >= 0 and x not in duty]
    subject = (
        f"【依申请公开每日汇总】{agency_name} {chinese_date(today)}：逾期{len(overdue)}件，即将到期{len(upcoming)}件"
    )
    if failed:
        subject += f"，{len(failed)}封提醒未能送达"
    if service:
        subject += "，有文书待送达或跟进"
    body = [f"{agency_name}：", "", f"截至 {chinese_date_weekday(today)}，依申请公开案件期限情况如下。", ""]
    sections = [
        (f"已逾期（{len(overdue)}件）", [_digest_row(x) for x in overdue]),
        (f"5个工作日内到期（{len(upcoming)}件）", [_digest_row(x) for x in upcoming]),
        (
            f"尚未告知补正的新申请（{len(duty)}件；申请内容不明确的，应在收到申请之日起"
            f"{CORRECTION_NOTICE_DAYS}个工作日内一次性告知补正，《条例》第三十条）",
            [_digest_row(x) for x in duty],
        ),
        (
            f"未能送达的提醒邮件（{len(failed)}封，请核对收件地址后用 foi outbox --retry 重新发送）",
            [f"  · {x.subject}　收件人 {x.to_addr or '（无）'}：{x.error}" for x in failed[:DIGEST_FAILED_LINES]]
            + [f"  · 另有 {n} 封，见 foi outbox --failed" for n in [len(failed) - DIGEST_FAILED_LINES] if n > 0],
        ),
        ("文书送达", list(service)),
    ]
    for number, (title, rows) in zip("一二三四", [s for s in sections if s[1]], strict=False):
        body += [f"{number}、{title}", *rows, ""]
    body += ["逾期或即将到期的案件请及时处理；期限推算过程可用 foi show 案件编号 查看。", "", FOOTER]
    return MailText(subject, "\n".join(body))


def _digest_row(x: DigestLine) -> str:
    label = Deadline.label_of(x.deadline)
    state = "已逾期" if x.remaining < 0 else ("今日到期" if x.remaining == 0 else f"剩{x.remaining}个工作日")
    who = f"，经办人 {x.caseworker}" if x.caseworker else ""
    return f"  · {x.case_id}　{label} {chinese_date(x.due)}（{state}{who}）"


# Characters that must never reach a header: controls (CR, LF, NUL, ...) and the separators
# `email` treats as line breaks when it folds a header (U+0085, U+2028, U+2029).
UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def header_safe(value: str) -> str:
    """`value` fit for one header line: controls and line breaks become spaces, lone
    surrogates (invalid text) become U+FFFD."""
    out = []
    for ch in value:
        category = unicodedata.category(ch)
        out.append(" " if category in UNSAFE_CATEGORIES else "\ufffd" if category == "Cs" else ch)
    return "".join(out).strip()


class UnsendableMail(ValueError):
    """A stored mail that no server could ever accept as it is (a broken address)."""


def build_message(
    settings: SmtpSettings, *, to_addr: str, subject: str, body: str, key: str, now: datetime
) -> EmailMessage:
    """The mail as sent: UTF-8 body, the Chinese subject encoded by `email` (RFC 2047).

    Every header value is made safe first: a case id with a line break in it (stored before
    ids were checked) must not add a header or break the message. An address that is not
    safe as it is would go to somebody else if repaired: `UnsendableMail`."""
    if not to_addr or header_safe(to_addr) != to_addr:
        raise UnsendableMail(f"收件地址无效：{to_addr!r}")
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to_addr
    msg["Subject"] = header_safe(subject)
    msg["Date"] = format_datetime(now)
    # Derived from the outbox key, so the rare second delivery after a crash between sending
    # and recording (at-least-once) carries the same Message-ID and mail clients drop it.
    domain = settings.mail_from.rpartition("@")[2] or "foi.invalid"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    msg["Message-ID"] = f"<{digest}@{domain}>"
    msg["X-FOI-Key"] = header_safe(key)
    msg.set_content(body.encode("utf-8", "replace").decode("utf-8"), charset="utf-8")
    return msg


@dataclass(frozen=True)
class SendReport:
    """What became of one send: `sent`; `retry` (a temporary failure of this mail); `failed`
    (the server refused this mail for good); `unreachable` (no connection could be made: the
    mail was not tried); `invalid` (the message could not be written out at all)."""

    status: str
    error: str = ""
    refused: tuple[str, ...] = ()  # recipients the server refused while accepting the others


def describe(exc: BaseException) -> str:
    """One line naming the failure, short enough for the outbox and the log."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]


def classify(exc: BaseException) -> SendReport:
    """Temporary: timeouts, a dropped connection, 4xx replies. Permanent: 5xx, anything else
    we do not understand (retrying would not help)."""
    text = describe(exc)
    if isinstance(
        exc,
        aiosmtplib.SMTPConnectError
        | aiosmtplib.SMTPTimeoutError
        | aiosmtplib.SMTPServerDisconnected
        | asyncio.TimeoutError
        | ConnectionError
        | ssl.SSLError,
    ):
        return SendReport("retry", text)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        temporary = bool(codes) and all(400 <= c < 500 for c in codes)
        return SendReport("retry" if temporary else "failed", text)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendReport("retry" if 400 <= exc.code < 500 else "failed", text)
    if isinstance(exc, aiosmtplib.SMTPException | OSError):
        # OSError covers refused or unreachable connections below aiosmtplib's own classes.
        return SendReport("retry", text)
    return SendReport("failed", text)


@functools.cache
def local_hostname(configured: str) -> str:
    """The name we greet the server with (EHLO). aiosmtplib would look it up with
    `socket.getfqdn()` on every connection, which can take a quarter of a second: once is enough."""
    return configured or socket.getfqdn() or "localhost"


class SmtpSession:
    """One SMTP connection reused for a batch of messages, as a real mail client does: opened
    on the first `send`, closed by `close` (or `async with`). After any failure the connection
    is dropped and the next `send` opens a fresh one, so each message meets a server in the
    same state as with a connection of its own."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(**connection_options(self.settings))
        await client.connect()
        return client

    async def open(self) -> SendReport | None:
        """Connect (greeting, TLS, login) unless connected; a failure is reported as
        `unreachable` whatever its cause (refused, timed out, wrong password, 421 greeting):
        it concerns the server, not any mail."""
        if self._client is not None:
            return None
        try:
            self._client = await self._connect()
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            return SendReport("unreachable", describe(exc))
        return None

    async def send(self, message: EmailMessage) -> SendReport:
        """Send one message; never raises for an SMTP or network failure, it reports it."""
        failed = await self.open()
        if failed is not None:
            return failed
        assert self._client is not None
        try:
            errors, _response = await self._client.send_message(message)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            await self.reset()
            return classify(exc)
        except (ValueError, UnicodeError, LookupError) as exc:
            # The message could not be written out (a header or address `email` refuses):
            # nothing of it reached the server, but the session state is unknown.
            await self.reset()
            return SendReport("invalid", describe(exc))
        return _sent(errors)

    async def reset(self) -> None:
        """Drop the connection without a word; the next `send` opens a fresh one."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        """Say QUIT; the mail already accepted stays sent whatever happens now."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await client.quit()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            client.close()


def _sent(errors: dict[str, Any]) -> SendReport:
    refused = tuple(sorted(errors))
    if refused:
        return SendReport("sent", "部分收件人被拒收：" + "；".join(f"{a} {errors[a]}" for a in refused), refused)
    return SendReport("sent")


TLS_MODES = ("starttls", "ssl", "none")


def check_settings(settings: SmtpSettings) -> None:
    """Refuse settings that cannot work or would expose the password (`ConfigError`)."""
    tls = settings.tls.lower()
    if tls not in TLS_MODES:
        raise ConfigError(f"FOI_SMTP_TLS / smtp.tls 应为 starttls、ssl 或 none，而不是 {settings.tls!r}")
    if header_safe(settings.mail_from) != settings.mail_from:
        raise ConfigError(f"FOI_MAIL_FROM / smtp.mail_from 含有换行或控制字符：{settings.mail_from!r}")
    if tls == "none" and settings.password and not is_loopback(settings.host):
        raise ConfigError(
            f"FOI_SMTP_TLS=none 时密码将以明文发往 {settings.host}：请改用 starttls 或 ssl，"
            "不加密只适用于本机（127.0.0.1、localhost）上的转发服务"
        )


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (no DNS lookup: a name is trusted only if it is localhost)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def connection_options(settings: SmtpSettings) -> dict[str, Any]:
    """How to reach the SMTP server, for one message or a session of many."""
    tls = settings.tls.lower()
    return {
        "hostname": settings.host,
        "port": settings.port,
        "username": settings.user or None,
        "password": settings.password or None,
        "use_tls": tls == "ssl",
        "start_tls": tls == "starttls",
        "timeout": settings.timeout_seconds,
        "local_hostname": local_hostname(settings.local_hostname),
    }
