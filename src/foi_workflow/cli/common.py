"""What every command shares: the lazily opened config and database, and the common options."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from foi_workflow.config import SHANGHAI
from foi_workflow.domain.boundary import BadValue, clean_id, clean_year
from foi_workflow.errors import InvalidInput
from foi_workflow.services.app import today_local

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from foi_workflow.config import Config
    from foi_workflow.services.app import App

__all__ = [
    "IDENTIFIER", "SHANGHAI", "YEAR", "AppContext", "event_options", "option_refusal", "options_named", "parse_date",
    "pass_app", "placeholder_hint", "resolve_on", "session_context", "today_local",
]  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])


def parse_date(value: str, what: str = "日期") -> date:
    """An ISO date, or a clear E-INPUT refusal."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what}格式错误：{value!r}，应为 YYYY-MM-DD") from None


@dataclass
class AppContext:
    """Global options, with the config, the App and its engine opened on first use."""

    db_url: str | None = None
    config_path: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _app: App | None = field(default=None, repr=False)
    hinted: bool = field(default=False, repr=False)  # the placeholder-agency hint was given

    @property
    def config(self) -> Config:
        if self._config is None:
            from foi_workflow.config import load_config

            self._config = load_config(self.config_path, db_url=self.db_url)
        return self._config

    @property
    def engine(self) -> Engine:
        """The App's engine: one per process, opened (and SQLAlchemy imported) on first use."""
        return self.app.engine

    @property
    def app(self) -> App:
        """The service-layer application object (config, calendar, workflow; the engine only
        when a command first needs it: `foi show` and `foi list` read without one)."""
        if self._app is None:
            from foi_workflow.services.app import App

            self._app = App(self.config)
        return self._app


    def recorder(self, by: str | None) -> str:
        """Who this command records as: `--by`, where allowed, or the login (SPEC §13)."""
        from foi_workflow.services.access import recorder

        return recorder(self.app, by)


pass_app = click.make_pass_decorator(AppContext)


def enum_choice(enum: Any) -> click.Choice[str]:
    """A click choice of an enum's values (the codes of SPEC §2)."""
    return click.Choice([m.value for m in enum])


def session_context(ctx: click.Context, db_url: str | None, config_path: str | None) -> AppContext:
    """The AppContext of a command: a new one, or in `foi shell` the session's (`ctx.obj`), so
    its config, App and engine serve every line; a line giving `--db` or `--config` itself
    gets its own, the session's other option kept."""
    session = ctx.obj
    if not isinstance(session, AppContext):
        return AppContext(db_url=db_url, config_path=config_path)
    typed = ParameterSource.COMMANDLINE
    given = {name for name in ("db_url", "config_path") if ctx.get_parameter_source(name) is typed}
    if not given:
        return session
    return AppContext(
        db_url=db_url if "db_url" in given else session.db_url,
        config_path=config_path if "config_path" in given else session.config_path,
    )


def event_options(func: F) -> F:
    """`--on` (the date the event took effect) and `--by` (who recorded it)."""
    func = click.option("--by", "by", default=None, metavar="NAME",
                        help="记录人（默认登录名；PostgreSQL 上仅所有者可指定）")(func)
    func = click.option("--on", "on", default=None, metavar="DATE",
                        help="生效日期 YYYY-MM-DD（默认今天，北京时间）")(func)
    return func


def placeholder_hint(app_ctx: AppContext) -> None:
    """Say, after a change, that no agency config was found: the letters would go out with the
    shipped placeholder name, address and phone."""
    if app_ctx.config.placeholder_agency and not app_ctx.hinted:
        app_ctx.hinted = True  # once per `foi shell` session too
        click.echo(
            "提示：未找到本机关的配置文件（当前文件夹的 config/foi.toml，或 --config / FOI_CONFIG），"
            "告知书将使用占位的机关名称、地址和电话（某某市某某局）；请复制 config/foi.toml 并填写本机关信息",
            err=True,
        )


def resolve_on(on: str | None) -> date:
    return parse_date(on, "--on 日期") if on else today_local()


# An event field's option is the field's name with `-` for `_` (SPEC §9); these are not.
OPTION_NAMES: dict[str, str] = {"case": "ID", "appeal": "APPEAL_ID", "amend_reason": "--amend-closed-year"}


def option_refusal(exc: BadValue, names: Mapping[str, str] | None = None) -> InvalidInput:
    """A value refused at the boundary, named as the command line gave it."""
    option = (names or {}).get(exc.field) or OPTION_NAMES.get(exc.field) or "--" + exc.field.replace("_", "-")
    kind = "选项" if option.startswith("-") else "参数"
    return InvalidInput(f"{kind} {option}：{exc.label}{exc.reason}")


@contextmanager
def options_named(**names: str) -> Iterator[None]:
    """Name a refused value by this command's option or argument (`case="--id"`)."""
    try:
        yield
    except BadValue as exc:
        raise option_refusal(exc, names) from None


class _Checked(click.ParamType[Any, Any]):
    """A value checked by a rule of the boundary when parsed: a refusal (exit 1) naming the
    argument or option, before anything is looked up."""

    def __init__(self, name: str, check: Callable[[str, str, Any], Any]) -> None:
        self.name = name
        self._check = check

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return self._check(self.name, "编号" if self.name == "id" else "年度", value)
        except BadValue as exc:
            if param is None:
                option = self.name.upper()
            else:
                option = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
            raise option_refusal(exc, {self.name: option}) from None


IDENTIFIER = _Checked("id", lambda name, label, value: clean_id(name, label, value, None))
YEAR = _Checked("year", clean_year)
