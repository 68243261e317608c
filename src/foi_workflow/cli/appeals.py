"""`foi appeal file`, `conclude`, `void` and `correct`: reviews and lawsuits (report table 4)."""

from __future__ import annotations

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import IDENTIFIER, AppContext, event_options, options_named, pass_app, resolve_on
from foi_workflow.cli.corrections import amendment_commands, field_options
from foi_workflow.domain.vocabulary import AppealKind, AppealResult

amend_option = click.option(
    "--amend-closed-year", "amend", default=None, metavar="REASON", help="更正已结转年度的记录，须说明理由"
)


@click.group("appeal", help=command_help("appeal"))
def appeal_group() -> None:
    pass


@appeal_group.command("file")
@click.option(
    "--kind",
    required=True,
    type=click.Choice([k.value for k in AppealKind]),
    help="review 行政复议 / litigation_direct 未经复议直接起诉 / litigation_after_review 复议后起诉",
)
@click.option("--case", "case_id", type=IDENTIFIER, default=None, help="关联的申请案件编号")
@click.option("--id", "appeal_id", type=IDENTIFIER, default=None, help="编号（默认自动编号）")
@click.option("--agency", default=None, help="机关代码（默认为关联案件的机关或配置中的机关）")
@click.option("--note", default=None, help="说明")
@event_options
@amend_option
@pass_app
def file_cmd(app_ctx: AppContext, kind: str, case_id: str | None, appeal_id: str | None, agency: str | None,
             note: str | None, on: str | None, by: str | None, amend: str | None) -> None:  # fmt: skip
    """登记行政复议或行政诉讼，打印编号"""
    from foi_workflow.services.appeals import file

    data = {"kind": kind, "case": case_id, "agency": agency, "note": note}
    with options_named(case="--case", id="--id"):
        row = file(
            app_ctx.app,
            on=resolve_on(on),
            by=app_ctx.recorder(by),
            data={k: v for k, v in data.items() if v},
            appeal_id=appeal_id,
            amend_reason=amend,
        )
    click.echo(row.id)
    click.echo(f"已登记{AppealKind(row.kind).label}（{row.filed_on.isoformat()}），尚未审结", err=True)


@appeal_group.command("conclude")
@click.argument("appeal_id", metavar="APPEAL_ID", type=IDENTIFIER)
@click.option("--result", required=True, type=click.Choice([r.value for r in AppealResult]),
              help="upheld 结果维持 / corrected 结果纠正 / other 其他结果")  # fmt: skip
@click.option("--note", default=None, help="说明")
@event_options
@amend_option
@pass_app
def conclude_cmd(app_ctx: AppContext, appeal_id: str, result: str, note: str | None, on: str | None,
                 by: str | None, amend: str | None) -> None:  # fmt: skip
    """记录复议或诉讼结果"""
    from foi_workflow.services.appeals import conclude

    data = {"result": result, "note": note}
    row = conclude(
        app_ctx.app,
        appeal_id,
        on=resolve_on(on),
        by=app_ctx.recorder(by),
        data={k: v for k, v in data.items() if v},
        amend_reason=amend,
    )
    click.echo(f"复议诉讼 {row.id}：{AppealResult(result).label}（{on or row.concluded_on}）")


appeal_void_cmd, appeal_correct_cmd = amendment_commands(
    "APPEAL_ID", "复议诉讼", field_options([file_cmd, conclude_cmd]), appeal=True
)
appeal_group.add_command(appeal_void_cmd)
appeal_group.add_command(appeal_correct_cmd)
