"""Service of letters (SPEC §15): `foi serve`, `foi delivered`, `foi returned`, `foi consent`
(what `foi show` says of service: `cli.service_text`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from foi_workflow.cli.cases import amend_option
from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import (
    IDENTIFIER,
    AppContext,
    event_options,
    options_named,
    parse_date,
    pass_app,
    resolve_on,
)
from foi_workflow.cli.service_text import METHOD_HELP, METHODS

letter_option = click.option("--letter", "letter", required=True, metavar="NO", help="告知书文号")


def _echo(change: Any) -> None:
    row, ev = change.case, change.event
    line = f"案件 {row.id}：已记录 {ev.event}（{ev.on.isoformat()}），文书 {ev.data.get('letter', '')}"
    if row.replied_on is not None and row.served:
        timely = {True: "（按期）", False: "（逾期）"}.get(row.on_time, "")
        line += f"；答复以 {row.replied_on.isoformat()} 计{timely}"
    if row.review_until is not None:
        line += f"；申请行政复议至 {row.review_until.isoformat()}，提起行政诉讼至 {row.litigation_until.isoformat()}"
    click.echo(line)


@click.command("serve", help=command_help("serve", "邮寄送达以交邮之日计算是否按期 / post counts from the day posted."))
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@letter_option
@click.option("--method", required=True, type=click.Choice(METHODS), help=METHOD_HELP)
@click.option("--sent-on", default=None, help="交邮日期 YYYY-MM-DD（邮寄送达；默认为 --on）")
@click.option("--tracking", default=None, help="邮件号（如 EMS 单号）")
@event_options
@amend_option
@pass_app
def serve_cmd(app_ctx: AppContext, case_id: str, letter: str, method: str, sent_on: str | None,
              tracking: str | None, on: str | None, by: str | None, amend: str | None) -> None:  # fmt: skip
    from foi_workflow.services.service import serve

    with options_named(letter="--letter"):
        change = serve(app_ctx.app, case_id, letter, method, on=resolve_on(on), by=app_ctx.recorder(by),
                       sent_on=parse_date(sent_on, "--sent-on 日期") if sent_on else None, tracking=tracking,
                       amend_reason=amend)  # fmt: skip
    _echo(change)


@click.command("delivered", help=command_help("delivered", "救济期限自送达次日起算 / remedies run from delivery."))
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@letter_option
@click.option("--proof", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="送达回证或投递记录的扫描件（连同其 SHA-256 保存）")  # fmt: skip
@event_options
@amend_option
@pass_app
def delivered_cmd(app_ctx: AppContext, case_id: str, letter: str, proof: Path | None, on: str | None,
                  by: str | None, amend: str | None) -> None:  # fmt: skip
    from foi_workflow.services.service import Proof, delivered

    filed = Proof.read(proof) if proof is not None else None
    with options_named(letter="--letter"):
        change = delivered(app_ctx.app, case_id, letter, on=resolve_on(on), by=app_ctx.recorder(by),
                           proof=filed, amend_reason=amend)  # fmt: skip
    _echo(change)
    if filed is not None:
        click.echo(f"送达凭证已保存：{filed.name}（SHA-256 {filed.sha256}）")


@click.command("returned", help=command_help("returned", "退回后可再次送达 / the letter may then be served again."))
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@letter_option
@click.option("--reason", required=True, help="退回原因（如：地址不详、拒收、无人签收）")
@event_options
@amend_option
@pass_app
def returned_cmd(app_ctx: AppContext, case_id: str, letter: str, reason: str, on: str | None, by: str | None,
                 amend: str | None) -> None:  # fmt: skip
    from foi_workflow.services.service import returned

    with options_named(letter="--letter"):
        change = returned(app_ctx.app, case_id, letter, on=resolve_on(on), by=app_ctx.recorder(by),
                          reason=reason, amend_reason=amend)  # fmt: skip
    _echo(change)


@click.command("consent", help=command_help("consent"))
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@click.option("--e-service", "e_service", required=True, metavar="ADDRESS", help="申请人同意接收电子送达的地址")
@event_options
@amend_option
@pass_app
def consent_cmd(app_ctx: AppContext, case_id: str, e_service: str, on: str | None, by: str | None,
                amend: str | None) -> None:  # fmt: skip
    from foi_workflow.services.cases import advance

    change = advance(app_ctx.app, case_id, "consent", on=resolve_on(on), by=app_ctx.recorder(by),
                     data={"e_service": e_service}, amend_reason=amend)  # fmt: skip
    click.echo(f"案件 {change.case.id}：已记录申请人同意电子送达（{e_service}）")
