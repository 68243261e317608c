"""Setting up: `foi init` (create or migrate the database) and `foi config check` (what the
configuration lacks for letters that hold up: the review body of each agency)."""

from __future__ import annotations

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import AppContext, pass_app, placeholder_hint


def _warn(app_ctx: AppContext) -> list[str]:
    from foi_workflow.config import config_warnings

    warnings = config_warnings(app_ctx.config)
    for warning in warnings:
        click.echo(warning, err=True)
    return warnings


@click.command("init", help=command_help("init", "可重复运行"))
@pass_app
def init_cmd(app_ctx: AppContext) -> None:
    from foi_workflow.adapters.db import migrate

    migrate(app_ctx.engine)
    click.echo(f"数据库已就绪：{app_ctx.engine.url.render_as_string(hide_password=True)}")
    _warn(app_ctx)
    placeholder_hint(app_ctx)


@click.group("config", help=command_help("config"))
def config_group() -> None:
    pass


@config_group.command(
    "check", help="检查配置：读取无误，并列出告知书所需而缺少的设置（如行政复议机关）"
)
@pass_app
def config_check_cmd(app_ctx: AppContext) -> None:
    warnings = _warn(app_ctx)
    agencies = "、".join(app_ctx.config.agencies) or app_ctx.config.default_agency
    click.echo(f"配置可用（机关：{agencies}）" + (f"；{len(warnings)} 项提醒见上" if warnings else "；无提醒"))
