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
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from foi_workflow.domain.periods import CORRECTION_PERIOD_DAYS
from foi_workflow.domain.reminders import ReminderRule
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


DEFAULT_REMINDERS: tuple[ReminderRule, ...] = (
    ReminderRule("reply_due_5", "reply_due", 5),
    ReminderRule("reply_due_1", "reply_due", 1),
    ReminderRule("reply_overdue", "reply_due", -1),
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
    source: Path | None = None  # the file read, named in every refusal about it; None: built in

    @property
    def placeholder_agency(self) -> bool:
        """No file of the agency's own: letters would carry the shipped placeholder details."""
        return self.source is None or self.source.resolve() == (CONFIG_DIR / "foi.toml").resolve()

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
            where = f"配置文件 {self.source} " if self.source else "配置"
            known = "、".join(self.agencies) or "无"
            raise ConfigError(f"{where}中没有机关代码 {code}（[agencies] 中已有：{known}）")
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


def _names(cls: type, *, without: tuple[str, ...] = ()) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls)) - set(without)


# Every key a file may hold, per table: a key not here is a typing mistake (`reply_dyas`) that
# would otherwise be ignored without a word.
_TOP_KEYS = frozenset(
    {"default_agency", "db", "config_dir", "workflow", "agencies", "caseworkers", "reminders", "scheduler", "smtp"}
)
_WORKFLOW_KEYS = frozenset({"correction_period_days", "pause_clock_during_fee"})
_AGENCY_KEYS = _names(Agency, without=("code",))
_CASEWORKER_KEYS = _names(Caseworker, without=("login",))
_REMINDER_KEYS = _names(ReminderRule)
_SCHEDULER_KEYS = _names(SchedulerSettings)
_SMTP_KEYS = _names(SmtpSettings) | {"password"}  # password: refused with its own reason

_KINDS: dict[type, str] = {int: "整数", float: "数字", str: "文字", bool: "true 或 false"}


class _File:
    """The file being read, to name it and the key in every refusal."""

    def __init__(self, source: Path | None) -> None:
        self.where = f"配置文件 {source}" if source else "配置"

    def refuse(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}：{key} {problem}")

    def table(self, data: Mapping[str, Any], key: str, known: frozenset[str] | None = None) -> Mapping[str, Any]:
        return self.check_table(data.get(key, {}), key, known)

    def check_table(self, value: Any, key: str, known: frozenset[str] | None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.refuse(f"[{key}]", "应为表")
        if known is not None:
            self.known(value, known, f"[{key}]")
        return value

    def known(self, data: Mapping[str, Any], known: frozenset[str], where: str) -> None:
        unknown = sorted(set(data) - known)
        if unknown:
            place = f"{where} 中" if where else ""
            raise ConfigError(
                f"{self.where}：{place}有未知的配置项 {'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）"
            )

    def value(self, data: Mapping[str, Any], key: str, default: Any, kind: type, where: str = "") -> Any:
        """`data[key]` of type `kind` (an int is a number too), or `default` when absent."""
        if key not in data:
            return default
        value = data[key]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            name = f"{where} {key}" if where else key
            raise self.refuse(name, f"应为{_KINDS[kind]}，而不是 {value!r}")
        return value


def _smtp(data: Mapping[str, Any], env: Mapping[str, str], file: _File) -> SmtpSettings:
    if "password" in data:
        raise ConfigError("SMTP 密码只能通过环境变量 FOI_SMTP_PASSWORD 提供，不得写入配置文件")
    base = SmtpSettings()

    def text(key: str, variable: str) -> str:
        return env.get(variable) or str(file.value(data, key, getattr(base, key), str, "[smtp]"))

    port_env = env.get("FOI_SMTP_PORT")
    if port_env is not None and not port_env.strip().isdigit():
        raise ConfigError(f"环境变量 FOI_SMTP_PORT 应为整数，而不是 {port_env!r}")
    return SmtpSettings(
        host=text("host", "FOI_SMTP_HOST"),
        port=int(port_env) if port_env is not None else file.value(data, "port", base.port, int, "[smtp]"),
        user=text("user", "FOI_SMTP_USER"),
        password=env.get("FOI_SMTP_PASSWORD", ""),
        tls=text("tls", "FOI_SMTP_TLS"),
        mail_from=text("mail_from", "FOI_MAIL_FROM"),
        mail_to=text("mail_to", "FOI_MAIL_TO"),
        timeout_seconds=file.value(data, "timeout_seconds", base.timeout_seconds, float, "[smtp]"),
        max_attempts=file.value(data, "max_attempts", base.max_attempts, int, "[smtp]"),
        backoff_seconds=file.value(data, "backoff_seconds", base.backoff_seconds, float, "[smtp]"),
        local_hostname=file.value(data, "local_hostname", base.local_hostname, str, "[smtp]"),
    )


def parse_config(
    data: Mapping[str, Any],
    *,
    base_dir: Path,
    env: Mapping[str, str],
    db_url: str | None = None,
    source: Path | None = None,
) -> Config:
    """Build a `Config` from parsed TOML; `base_dir` is the folder of the file (for relative
    paths), `source` the file itself (named in a refusal: the key, its table and the file)."""
    file = _File(source)
    file.known(data, _TOP_KEYS, "")
    agencies: dict[str, Agency] = {}
    for code, raw in file.table(data, "agencies").items():
        where = f"[agencies.{code}]"
        file.check_table(raw, f"agencies.{code}", _AGENCY_KEYS)

        def text(key: str, default: str, raw: Mapping[str, Any] = raw, where: str = where) -> str:
            return str(file.value(raw, key, default, str, where))

        folder = text("folder", "")
        agencies[code] = Agency(
            code=code,
            name=text("name", code),
            short_name=text("short_name", ""),
            address=text("address", ""),
            phone=text("phone", ""),
            postcode=text("postcode", ""),
            mailbox=text("mailbox", ""),
            number_pattern=text("number_pattern", Agency.number_pattern),
            review_body=text("review_body", ""),
            folder=(base_dir / folder).resolve() if folder else None,
        )
    caseworkers = {}
    for login, raw in file.table(data, "caseworkers").items():
        where = f"[caseworkers.{login}]"
        file.check_table(raw, f"caseworkers.{login}", _CASEWORKER_KEYS)
        caseworkers[login] = Caseworker(
            login=login,
            name=str(file.value(raw, "name", login, str, where)),
            email=str(file.value(raw, "email", "", str, where)),
            agency=str(file.value(raw, "agency", "", str, where)),
        )
    workflow = file.table(data, "workflow", _WORKFLOW_KEYS)
    sched = file.table(data, "scheduler", _SCHEDULER_KEYS)
    smtp = file.table(data, "smtp", _SMTP_KEYS)
    default_agency = str(file.value(data, "default_agency", next(iter(agencies), "default"), str))
    if agencies and default_agency not in agencies:
        known = "、".join(agencies) or "无"
        raise file.refuse("default_agency", f"= {default_agency!r} 不是 [agencies] 中的机关（已有：{known}）")
    config_dir_raw = file.value(data, "config_dir", "", str)
    db = str(file.value(data, "db", DEFAULT_DB_URL, str))
    return Config(
        db_url=db_url or env.get("FOI_DB") or _file_db_url(db, base_dir, data),
        config_dir=(base_dir / config_dir_raw).resolve() if config_dir_raw else base_dir,
        default_agency=default_agency,
        agencies=agencies,
        caseworkers=caseworkers,
        correction_period_days=file.value(
            workflow, "correction_period_days", CORRECTION_PERIOD_DAYS, int, "[workflow]"
        ),
        pause_clock_during_fee=file.value(workflow, "pause_clock_during_fee", True, bool, "[workflow]"),
        reminders=_reminders(data, file),
        smtp=_smtp(smtp, env, file),
        scheduler=SchedulerSettings(
            sweep_minutes=file.value(sched, "sweep_minutes", 5, int, "[scheduler]"),
            digest_time=file.value(sched, "digest_time", "08:30", str, "[scheduler]"),
        ),
        user=env.get("FOI_USER") or _login(),
        source=source,
    )


def _reminders(data: Mapping[str, Any], file: _File) -> tuple[ReminderRule, ...]:
    rules_raw = data.get("reminders")
    if rules_raw is None:
        return DEFAULT_REMINDERS
    if not isinstance(rules_raw, list):
        raise file.refuse("[[reminders]]", "应为表的数组")
    rules = []
    for n, raw in enumerate(rules_raw, 1):
        where = f"第 {n} 个 [[reminders]]"
        file.check_table(raw, f"reminders #{n}", _REMINDER_KEYS)
        for key in ("name", "deadline", "days_before"):
            if key not in raw:
                raise file.refuse(f"{where} {key}", "必须给出")
        rules.append(ReminderRule(
            name=file.value(raw, "name", "", str, where),
            deadline=file.value(raw, "deadline", "", str, where),
            days_before=file.value(raw, "days_before", 0, int, where),
            to=file.value(raw, "to", "caseworker", str, where),
        ))  # fmt: skip
    return tuple(rules)


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
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"无法读取配置文件 {file}：{exc}") from exc
    return parse_config(data, base_dir=file.parent.resolve(), env=env, db_url=db_url, source=file)


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
