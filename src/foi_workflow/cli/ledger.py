"""`foi ledger export YEAR` and `foi ledger import FILE`: the application ledger (登记台账) as
agencies keep it in Excel (SPEC §14)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import AppContext, pass_app
from foi_workflow.errors import InvalidInput

if TYPE_CHECKING:
    from foi_workflow.domain.report import ReportFigures
    from foi_workflow.services.ledger_import import LedgerImportResult

FORMATS = ("xlsx", "csv")
# The events a ledger row becomes, as the dry run lists them.
EVENT_WORDS = {
    "receive": "收到", "extend": "延期", "request_correction": "告知补正", "receive_correction": "收到补正",
    "fee_notice": "收费通知", "fee_paid": "缴费", "decide": "答复", "withdraw": "撤回",
    "lapse_correction": "逾期未补正", "lapse_fee": "逾期未缴费",
}  # fmt: skip


@click.group(
    "ledger",
    help=command_help(
        "ledger",
        "按年导出台账（xlsx / csv），或把机关现有的台账导入为案件。\n\n"
        "\b\n"
        "foi ledger export YEAR [--format xlsx|csv] [--out FILE]\n"
        "foi ledger import FILE [--mapping MAPPING.toml] [--dry-run]",
    ),
)
def ledger_group() -> None:
    pass


@ledger_group.command("export")
@click.argument("year", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="xlsx（默认；或按 --out 的扩展名）或 csv（UTF-8 带 BOM）")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出文件（默认：xlsx 写入 登记台账-YEAR.xlsx，csv 写到标准输出）")
@click.option("--agency", default=None, help="机关代码")
@pass_app
def export_cmd(ctx: AppContext, year: int, fmt: str | None, out: Path | None, agency: str | None) -> None:
    """导出 YEAR 年度的登记台账：本年新收及上年结转的每件申请一行"""
    from foi_workflow.services.ledger_export import build_ledger, render_ledger

    if not 1990 <= year <= 2100:
        raise InvalidInput(f"年度超出范围：{year}")
    if fmt is None:
        fmt = "csv" if out is not None and out.suffix.lower() == ".csv" else "xlsx"
    ledger = build_ledger(ctx.app, year, agency)
    data = render_ledger(ledger, fmt)
    if out is None and fmt == "csv":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = out or Path(f"登记台账-{year}.xlsx")
    part = target.with_name(target.name + ".part")
    try:
        part.write_bytes(data)
        part.replace(target)
    except OSError as exc:
        raise InvalidInput(f"无法写入 {target}：{exc.strerror}") from None
    click.echo(f"已导出 {year} 年度登记台账 {len(ledger.rows)} 件到 {target}", err=True)


@ledger_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="映射文件（TOML）：列名不同的列、本机关对处理结果和申请人类型的叫法")
@click.option("--dry-run", is_flag=True, help="只检查并显示将新建的案件和表三，不保存")
@click.option("--agency", default=None, help="导入到该机关（默认：配置中的默认机关）")
@click.option("--by", default=None, help="记录人（默认当前登录名）")
@click.option("--amend-closed-year", "amend_reason", default=None, metavar="理由",
              help="台账中有已结转年度的事件时，说明补录的理由")
@pass_app
def import_cmd(ctx: AppContext, file: Path, mapping: Path | None, dry_run: bool, agency: str | None,
               by: str | None, amend_reason: str | None) -> None:
    """导入登记台账（xlsx 或 csv）：每行一件申请，按流程规则校验，全部成功才保存"""
    from foi_workflow.adapters.db import require_schema
    from foi_workflow.services.ledger_import import import_ledger, load_mapping

    require_schema(ctx.engine)
    result = import_ledger(ctx.app, file, by=ctx.recorder(by), mapping=load_mapping(mapping),
                           agency=agency, dry_run=dry_run, amend_reason=amend_reason)
    _print_result(file, result)


def _print_result(file: Path, result: LedgerImportResult) -> None:
    from foi_workflow.domain.vocabulary import OUTCOME_INFO, ApplicantType, Outcome

    verb = "将新建" if result.dry_run else "已新建"
    click.echo(f"台账 {file.name}（工作表“{result.sheet}”，表头在第 {result.header_row} 行）：{verb} "
               f"{len(result.cases)} 件案件、{result.events} 条事件" + ("（试运行，未保存）" if result.dry_run else ""))
    if result.dry_run:
        for case in result.cases:
            row = case.ledger
            steps = " → ".join(f"{EVENT_WORDS.get(event, event)} {on}" for event, on in case.events)
            done = OUTCOME_INFO[Outcome(row.outcome)].row if row.outcome else "未办结"
            kind = ApplicantType(row.applicant_type).label
            click.echo(f"  第 {row.row} 行  {case.case_id}  {row.applicant}（{kind}）  {steps}  [{done}]")
    for figures in result.figures:
        click.echo(_table3_text(figures, "导入后将为" if result.dry_run else "导入后"))


def _table3_text(figures: ReportFigures, when: str) -> str:
    """Table 3 as aligned text: the rows that are not zero, and always the four balance rows."""
    from foi_workflow.domain.vocabulary import COLUMN_LABELS, ROW_LABELS, TABLE3_COLUMNS, TABLE3_ROWS

    always = ("received", "carried_in", "handled_total", "carried_out")
    header = "\t".join(["", *(COLUMN_LABELS[c] for c in TABLE3_COLUMNS)])
    lines = [f"{figures.year} 年度表三（{when}）：", f"  {header}"]
    for key in TABLE3_ROWS:
        cells = figures.table3.rows[key]
        if key in always or any(cells):
            lines.append("  " + "\t".join([ROW_LABELS[key], *(str(v) for v in cells)]))
    return "\n".join(lines)
