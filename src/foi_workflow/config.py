"""The configuration, read once at start-up into one frozen object and passed down.

Sources, later wins: built-in defaults, the TOML file (`--config` / `FOI_CONFIG`, else
`config/foi.toml` in the working directory if present, else the project's own
`config/foi.toml`), then the environment for mail settings (SPEC §7). Nothing else in the
code reads `os.environ`.
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from foi_workflow.domain.periods import CORRECTION_PERIOD_DAYS
from foi_workflow.errors import ConfigError
from foi_workflow.resources import CONFIG_DIR

DEFAULT_DB_URL = "sqlite:///foi.db"
TIMEZONE = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TIMEZONE)  # every date of legal effect is a date in this zone


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    short_name: str = ""  # used in document numbers, e.g. 乐融
    address: str = ""
    phone: str = ""
    postcode: str = ""
    mailbox: str = ""  # the agency mailbox for reminders of cases without a caseworker address
    # Document number pattern for notices; fields: short, year, seq, kind. Agencies write
    # 乐融公开〔2024〕3号, without 第 (GB/T 9704 发文字号).
    number_pattern: str = "{short}公开〔{year}〕{seq}号"
    # Where administrative review of its decisions goes, named in every decision letter: since
    # 2024 the people's government at the agency's level (行政复议法 Art. 24), the higher
    # department for a vertically managed agency (Art. 27). Unnamed, the 60 days may not start.
    review_body: str = ""
    folder: Path | None = None  # the agency's own folder: notices/ overrides, reports/YYYY.toml


@dataclass(frozen=True)
class Caseworker:
    login: str
    name: str
    email: str = ""
    agency: str = ""


@dataclass(frozen=True)
class ReminderRule:
    """One reminder rule: mail when `deadline` is `days_before` working days away (0 = due today,
    negative = overdue by that many)."""

    name: str
    deadline: str  # reply_due | correction_notice_due | correction_due | consultation_due | fee_due
    days_before: int
    to: str = "caseworker"  # caseworker | agency


DEFAULT_REMINDERS: tuple[ReminderRule, ...] = (
    ReminderRule("reply_due_5", "reply_due", 5),
    ReminderRule("reply_due_1", "reply_due", 1),
    ReminderRule("reply_overdue", "reply_due", -1),
    ReminderRule("correction_notice_duty", "correction_notice_due", 2),
    ReminderRule("correction_period_ending", "correction_due", 1),
    ReminderRule("consultation_ending", "consultation_due", 1),
    ReminderRule("fee_period_ending", "fee_due", 1),
)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    user: str = ""
    password: str = field(default="", repr=False)
    tls: str = "starttls"  # starttls | ssl | none
    mail_from: str = ""
    mail_to: str = ""  # the agency mailbox fallback
    timeout_seconds: float = 10.0
    max_attempts: int = 8
    backoff_seconds: float = 60.0
    local_hostname: str = ""  # the EHLO name; default: this machine's FQDN, looked up once

    @property
    def configured(self) -> bool:
        return bool(self.host and self.mail_from)


@dataclass(frozen=True)
class SchedulerSettings:
    sweep_minutes: int = 5
    digest_time: str = "08:30"  # local time of the daily digest


@dataclass(frozen=True)
class Config:
    """Everything the program needs to know, read once."""

    db_url: str = DEFAULT_DB_URL
    config_dir: Path = CONFIG_DIR  # holds calendar/ and reports/
    default_agency: str = "default"
    agencies: Mapping[str, Agency] = field(default_factory=dict)
    caseworkers: Mapping[str, Caseworker] = field(default_factory=dict)
    correction_period_days: int = CORRECTION_PERIOD_DAYS
    pause_clock_during_fee: bool = True
    reminders: tuple[ReminderRule, ...] = DEFAULT_REMINDERS
    smtp: SmtpSettings = SmtpSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    user: str = "caseworker"  # default --by

    @property
    def calendar_dir(self) -> Path:
        return self.config_dir / "calendar"

    @property
    def reports_dir(self) -> Path:
        return self.config_dir / "reports"

    def agency(self, code: str | None = None) -> Agency:
        code = code or self.default_agency
        found = self.agencies.get(code)
        if found is None:
            if code == self.default_agency:
                return Agency(code=code, name=code)
            raise ConfigError(f"配置中没有机关代码 {code}")
        return found


def config_warnings(config: Config) -> list[str]:
    """What in the configuration makes letters weaker than the law lets them be (not errors:
    a first try runs without them)."""
    agencies = list(config.agencies.values()) or [config.agency()]
    return [
        f"注意：机关 {a.code} 未配置行政复议机关（review_body），答复告知书将只写“有管辖权的行政复议机关”；"
        "告知书未写明复议机关的，复议期限可能不起算（行政复议法第二十条第三款）"
        for a in agencies
        if not a.review_body.strip()
    ]


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"配置项 [{key}] 应为表")
    return value


def _smtp(data: Mapping[str, Any], env: Mapping[str, str]) -> SmtpSettings:
    if "password" in data:
        raise ConfigError("SMTP 密码只能通过环境变量 FOI_SMTP_PASSWORD 提供，不得写入配置文件")
    base = SmtpSettings()
    try:
        return SmtpSettings(
            host=env.get("FOI_SMTP_HOST", str(data.get("host", base.host))),
            port=int(env.get("FOI_SMTP_PORT", data.get("port", base.port))),
            user=env.get("FOI_SMTP_USER", str(data.get("user", base.user))),
            password=env.get("FOI_SMTP_PASSWORD", ""),
            tls=env.get("FOI_SMTP_TLS", str(data.get("tls", base.tls))),
            mail_from=env.get("FOI_MAIL_FROM", str(data.get("mail_from", base.mail_from))),
            mail_to=env.get("FOI_MAIL_TO", str(data.get("mail_to", base.mail_to))),
            timeout_seconds=float(data.get("timeout_seconds", base.timeout_seconds)),
            max_attempts=int(data.get("max_attempts", base.max_attempts)),
            backoff_seconds=float(data.get("backoff_seconds", base.backoff_seconds)),
            local_hostname=str(data.get("local_hostname", base.local_hostname)),
        )
    except ValueError as exc:
        raise ConfigError(f"SMTP 设置有误：{exc}") from exc


def parse_config(
    data: Mapping[str, Any],
    *,
    base_dir: Path,
    env: Mapping[str, str],
    db_url: str | None = None,
) -> Config:
    """Build a `Config` from parsed TOML; `base_dir` is the folder of the file (for relative paths)."""
    try:
        agencies: dict[str, Agency] = {}
        for code, raw in _table(data, "agencies").items():
            folder = raw.get("folder")
            agencies[code] = Agency(
                code=code,
                name=str(raw.get("name", code)),
                short_name=str(raw.get("short_name", "")),
                address=str(raw.get("address", "")),
                phone=str(raw.get("phone", "")),
                postcode=str(raw.get("postcode", "")),
                mailbox=str(raw.get("mailbox", "")),
                number_pattern=str(raw.get("number_pattern", Agency.number_pattern)),
                review_body=str(raw.get("review_body", "")),
                folder=(base_dir / folder).resolve() if folder else None,
            )
        caseworkers = {
            login: Caseworker(
                login=login,
                name=str(raw.get("name", login)),
                email=str(raw.get("email", "")),
                agency=str(raw.get("agency", "")),
            )
            for login, raw in _table(data, "caseworkers").items()
        }
        workflow = _table(data, "workflow")
        rules_raw = data.get("reminders")
        reminders = (
            tuple(
                ReminderRule(
                    name=str(r["name"]),
                    deadline=str(r["deadline"]),
                    days_before=int(r["days_before"]),
                    to=str(r.get("to", "caseworker")),
                )
                for r in rules_raw
            )
            if rules_raw is not None
            else DEFAULT_REMINDERS
        )
        sched = _table(data, "scheduler")
        config_dir_raw = data.get("config_dir")
        default_agency = str(data.get("default_agency", next(iter(agencies), "default")))
        return Config(
            db_url=db_url or env.get("FOI_DB") or _file_db_url(str(data.get("db", DEFAULT_DB_URL)), base_dir, data),
            config_dir=(base_dir / config_dir_raw).resolve() if config_dir_raw else base_dir,
            default_agency=default_agency,
            agencies=agencies,
            caseworkers=caseworkers,
            correction_period_days=int(workflow.get("correction_period_days", CORRECTION_PERIOD_DAYS)),
            pause_clock_during_fee=bool(workflow.get("pause_clock_during_fee", True)),
            reminders=reminders,
            smtp=_smtp(_table(data, "smtp"), env),
            scheduler=SchedulerSettings(
                sweep_minutes=int(sched.get("sweep_minutes", 5)),
                digest_time=str(sched.get("digest_time", "08:30")),
            ),
            user=env.get("FOI_USER") or _login(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"配置文件有误：{exc}") from exc


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "caseworker"


_SQLITE_URL = re.compile(r"^(sqlite(?:\+\w+)?:///)([^?]*)(\?.*)?$")


def _file_db_url(url: str, base_dir: Path, data: Mapping[str, Any]) -> str:
    """A relative SQLite path written in the file is relative to the file's folder (as every
    path in it), not to wherever `foi` is run from."""
    match = _SQLITE_URL.match(url)
    if "db" not in data or match is None:
        return url
    prefix, path, query = match.group(1), match.group(2), match.group(3) or ""
    if not path or path == ":memory:" or Path(path).is_absolute():
        return url
    return f"{prefix}{(base_dir / path).resolve()}{query}"


def load_config(
    path: str | Path | None = None,
    *,
    db_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read the configuration file named, or the default one, plus the environment."""
    env = os.environ if env is None else env
    chosen = path or env.get("FOI_CONFIG")
    if chosen:
        file = Path(chosen)
        if not file.is_file():
            raise ConfigError(f"找不到配置文件 {file}")
    else:
        local = Path("config/foi.toml")
        file = local if local.is_file() else CONFIG_DIR / "foi.toml"
    if not file.is_file():
        return parse_config({}, base_dir=CONFIG_DIR, env=env, db_url=db_url)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"无法读取配置文件 {file}：{exc}") from exc
    return parse_config(data, base_dir=file.parent.resolve(), env=env, db_url=db_url)


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's own data folder for foi (`foi shell`'s history): `$XDG_DATA_HOME/foi-workflow`,
    by default `~/.local/share/foi-workflow`."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "foi-workflow"


def user_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's cache folder for foi (parsed workflow definitions): `$XDG_CACHE_HOME/foi-workflow`,
    by default `~/.cache/foi-workflow`. Anything in it may be deleted at any time."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "foi-workflow"
