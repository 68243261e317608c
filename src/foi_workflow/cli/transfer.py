"""`foi import` and `foi export`: the event log as JSON Lines (SPEC §9)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import AppContext, options_named, pass_app
from foi_workflow.errors import InvalidInput


@click.command(
    "import",
    help=command_help("import", "逐行按流程规则校验，全部成功才保存 / each line checked by the rules; all or nothing."),
)
@click.argument("file", metavar="FILE")
@click.option("--by", default=None, help="记录人（行内没有 by 字段时使用，默认当前登录名）")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="并行重放的进程数（默认：大文件按CPU数，最多4个；1 = 不并行）")  # fmt: skip
@pass_app
def import_cmd(app_ctx: AppContext, file: str, by: str | None, workers: int | None) -> None:
    from foi_workflow.domain.boundary import utf8_lines
    from foi_workflow.services.transfer import import_lines

    with options_named():
        if file == "-":
            result = import_lines(app_ctx.app, utf8_lines(sys.stdin.buffer), by=by or app_ctx.config.user,
                                  workers=workers)  # fmt: skip
        else:
            path = Path(file)
            if not path.is_file():
                raise InvalidInput(f"找不到文件 {file}")
            with path.open("rb") as handle:
                result = import_lines(app_ctx.app, utf8_lines(handle), by=by or app_ctx.config.user, workers=workers)
    click.echo(
        f"已导入 {result.events} 条事件：新案件 {result.new_cases} 件，更新已有案件 {result.updated_cases} 件，"
        f"复议诉讼 {result.appeals} 件"
    )


@click.command("export", help=command_help("export"))
@click.option("--out", default=None, help="输出文件（默认标准输出）")
@pass_app
def export_cmd(app_ctx: AppContext, out: str | None) -> None:
    from foi_workflow.services.transfer import export_to

    if out is None:
        export_to(app_ctx.app, sys.stdout)
        sys.stdout.flush()  # the stream may be a buffered wrapper that is not flushed at exit (tests, pipes)
        return
    from foi_workflow.adapters.files import private_output

    with private_output(out) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
        count = export_to(app_ctx.app, handle)
    click.echo(f"已导出 {count} 条事件到 {out}", err=True)
