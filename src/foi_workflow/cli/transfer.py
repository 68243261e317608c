"""`foi import`, `foi export`, `foi backup`, `foi restore`: the whole record as JSON Lines (SPEC §9, §12)."""

from __future__ import annotations

import io
import sys
from functools import partial
from pathlib import Path

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import AppContext, options_named, pass_app
from foi_workflow.errors import InvalidInput


def _import(app_ctx: AppContext, file: str, by: str | None, workers: int | None, *, into_empty: bool) -> None:
    from foi_workflow.domain.boundary import utf8_lines
    from foi_workflow.services.transfer import import_lines

    run = partial(import_lines, app_ctx.app, by=app_ctx.recorder(by), workers=workers, into_empty=into_empty)
    with options_named():
        if file == "-":
            result = run(utf8_lines(sys.stdin.buffer))
        else:
            path = Path(file)
            if not path.is_file():
                raise InvalidInput(f"找不到文件 {file}")
            with path.open("rb") as handle:
                result = run(utf8_lines(handle))
    click.echo(
        f"已导入 {result.events} 条事件：新案件 {result.new_cases} 件，更新已有案件 {result.updated_cases} 件，"
        f"复议诉讼 {result.appeals} 件，告知书 {result.letters} 份，年度结转 {result.year_closes} 个"
    )


def _export(app_ctx: AppContext, out: str | None) -> None:
    from foi_workflow.services.export import export_to

    if out is None:
        export_to(app_ctx.app, sys.stdout)
        sys.stdout.flush()  # the stream may be a buffered wrapper that is not flushed at exit (tests, pipes)
        return
    from foi_workflow.adapters.files import private_output

    with private_output(out) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
        count = export_to(app_ctx.app, handle)
    click.echo(f"已导出 {count} 条记录到 {out}", err=True)


workers_option = click.option("--workers", type=click.IntRange(min=1), default=None,
                              help="并行重放的进程数（默认：大文件按CPU数，最多4个；1 = 不并行）")  # fmt: skip


@click.command(
    "import",
    help=command_help("import", "逐行按流程规则校验，全部成功才保存"),
)
@click.argument("file", metavar="FILE")
@click.option("--by", default=None, help="记录人（行内没有 by 字段时使用，默认当前登录名）")
@workers_option
@pass_app
def import_cmd(app_ctx: AppContext, file: str, by: str | None, workers: int | None) -> None:
    _import(app_ctx, file, by, workers, into_empty=False)


@click.command(
    "export", help=command_help("export", "事件、复议诉讼、告知书、年度结转")
)
@click.option("--out", default=None, help="输出文件（默认标准输出）")
@pass_app
def export_cmd(app_ctx: AppContext, out: str | None) -> None:
    _export(app_ctx, out)


@click.command("backup", help=command_help(
    "backup", "即 foi export 的全部记录，可用 foi restore 恢复到任一后端"))
@click.option("--out", required=True, help="备份文件")
@pass_app
def backup_cmd(app_ctx: AppContext, out: str) -> None:
    _export(app_ctx, out)


@click.command("restore", help=command_help(
    "restore", "先 foi init；目标不空则拒绝"))
@click.argument("file", metavar="FILE")
@workers_option
@pass_app
def restore_cmd(app_ctx: AppContext, file: str, workers: int | None) -> None:
    _import(app_ctx, file, None, workers, into_empty=True)
