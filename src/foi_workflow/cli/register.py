"""`foi register YEAR`: the 发文登记簿, every letter dated in the year with its status."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from foi_workflow.adapters.register_render import FORMATS
from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import YEAR, AppContext, pass_app


@click.command("register", help=command_help(
    "register", "该年度出具的全部告知书（文号、日期、种类、案件、收件人、状态、出具人）"))
@click.argument("year", type=YEAR)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True, help="输出格式")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写入文件（xlsx 必须指定）")
@click.option("--agency", default=None, help="机关代码（默认配置中的机关）")
@click.option("--all-agencies", "all_agencies", is_flag=True, help="全部机关")
@pass_app
def register_cmd(app_ctx: AppContext, year: int, fmt: str, out: Path | None, agency: str | None,
                 all_agencies: bool) -> None:  # fmt: skip
    from foi_workflow.adapters.files import write_private
    from foi_workflow.adapters.register_render import render_register
    from foi_workflow.errors import InvalidInput
    from foi_workflow.services.letters import register

    if fmt == "xlsx" and out is None:
        raise InvalidInput("xlsx 格式须用 --out 指定输出文件")
    entries, agency_name = register(app_ctx.app, year, agency=agency, all_agencies=all_agencies)
    data = render_register(entries, fmt, year=year, agency_name=agency_name)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_private(out, data)
    click.echo(f"已写入 {out}（{len(entries)} 份告知书）", err=True)
