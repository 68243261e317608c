"""`foi report YEAR …`, `foi report check FILE` and `foi year close YEAR`: parse, call the
report service, print or write the result."""

from __future__ import annotations

from pathlib import Path

import click

from foi_workflow.adapters.report_render import FORMATS
from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import YEAR, AppContext, event_options, pass_app, resolve_on, today_local

BINARY_FORMATS = ("xlsx", "docx", "pdf")


class ReportGroup(click.Group):
    """`foi report 2023 …` renders a year; `foi report check FILE` checks a submitted report.

    A first argument that is not a subcommand is taken as the year (the hidden `render`
    command), so both forms live under one name.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["render", *args]
        return super().parse_args(ctx, args)


class _RenderCommand(click.Command):
    """The hidden `render`, spoken of as `foi report YEAR` (the form a person types)."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        parent = ctx.parent.command_path if ctx.parent is not None else "foi report"
        formatter.write_usage(parent, " ".join(self.collect_usage_pieces(ctx)))


@click.group(
    cls=ReportGroup,
    help=command_help(
        "report",
        "\b\n"
        "foi report YEAR [--format md|html|json|xlsx|docx|pdf] [--out FILE] [--agency CODE|--all-agencies]\n"
        "foi report check FILE          检查报告文件（json 或 xlsx）的每一处不一致",
    ),
)
def report_group() -> None:
    pass


@report_group.command("render", cls=_RenderCommand, hidden=True)
@click.argument("year", type=YEAR)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="输出格式")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写入文件（xlsx、docx、pdf 默认写入 年度报告-YEAR[-机关代码].格式）")
@click.option("--agency", default=None, help="机关代码")
@click.option("--all-agencies", is_flag=True, help="汇总全部机关")
@click.option("--as-of", "as_of", default=None, help="统计超期未办结案件的截止日期（默认今天）")
@pass_app
def render_cmd(ctx: AppContext, year: int, fmt: str, out: Path | None, agency: str | None,
               all_agencies: bool, as_of: str | None) -> None:
    """生成 YEAR 年度报告"""
    from foi_workflow.adapters.db import require_schema
    from foi_workflow.adapters.report_render import render
    from foi_workflow.services.report import build_report, resolve_scope

    require_schema(ctx.engine)
    scope = resolve_scope(ctx.config, agency, all_agencies)
    if fmt in BINARY_FORMATS and out is None:
        # A file a person can find and send on: the year, and the agency when one is chosen.
        out = Path(f"年度报告-{year}{'-' + scope if scope and agency else ''}.{fmt}")
    report = build_report(ctx.app, year, agency=scope, as_of=resolve_on(as_of) if as_of else today_local())
    data = render(report, fmt)
    if report.empty:
        click.echo(
            f"注意：{year}年没有任何申请、结转或复议诉讼记录，报告中的数字全部为 0；请确认年度和数据库是否正确",
            err=True,
        )
    for diff in report.frozen_differences:
        click.echo(f"注意：{year}年度已结转，{diff.line()}", err=True)
    if out is not None:
        from foi_workflow.adapters.files import write_private

        write_private(out, data)
        click.echo(f"已写入 {out}", err=True)
    else:
        assert isinstance(data, str)
        click.echo(data, nl=not data.endswith("\n"))


@report_group.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_cmd(file: Path) -> None:
    """检查报告文件（json 或本系统的 xlsx）的每一处不一致"""
    from foi_workflow.adapters.report_render.reading import read_submitted
    from foi_workflow.domain.report_check import check_report
    from foi_workflow.errors import InconsistentReport

    problems = check_report(read_submitted(file))
    if not problems:
        click.echo(f"{file}：未发现不一致")
        return
    for problem in problems:
        click.echo(problem.line())
    raise InconsistentReport(f"{file} 有 {len(problems)} 处不一致")


@click.group("year", help=command_help("year"))
def year_group() -> None:
    pass


@year_group.command("close")
@click.argument("year", type=YEAR)
@click.option("--agency", default=None, help="机关代码")
@click.option("--all-agencies", is_flag=True, help="结转全部机关")
@event_options
@pass_app
def close_cmd(ctx: AppContext, year: int, agency: str | None, all_agencies: bool,
              on: str | None, by: str | None) -> None:
    """冻结 YEAR 年度报告数据，并对未办结案件记录结转"""
    from foi_workflow.adapters.db import require_schema
    from foi_workflow.services.report import close_year, resolve_scope

    require_schema(ctx.engine)
    scope = resolve_scope(ctx.config, agency, all_agencies)
    result = close_year(ctx.app, year, by=ctx.recorder(by), on=resolve_on(on), agency=scope)
    t3 = result.figures.table3
    click.echo(
        f"{year} 年度已结转（{'、'.join(result.agencies) or '无机关'}）：新收 {t3.cell('received', 'total')} 件，"
        f"办结 {t3.cell('handled_total', 'total')} 件，结转下年度 {t3.cell('carried_out', 'total')} 件；"
        f"记录结转事件 {len(result.carried_over)} 件"
    )
