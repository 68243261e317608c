"""Caseworker commands: intake, every workflow event, rebuild (list and show: cli/views.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import (
    IDENTIFIER,
    AppContext,
    enum_choice,
    event_options,
    options_named,
    parse_date,
    pass_app,
    placeholder_hint,
    resolve_on,
)
from foi_workflow.domain.periods import FEE_DAYS
from foi_workflow.domain.vocabulary import (
    ApplicantType,
    Channel,
    ConsultationKind,
    FeeBasis,
    Opinion,
    Outcome,
)

amend_option = click.option(
    "--amend-closed-year", "amend", default=None, metavar="REASON", help="更正已结转年度的事件，须说明理由"
)
notice_option = click.option("--notice", "notice", is_flag=True, help="同时生成相应的告知书")


def echo_change(change: Any, letter: Any = None) -> None:
    from foi_workflow.domain.vocabulary import Deadline
    from foi_workflow.domain.vocabulary import State as S

    row = change.case
    parts = [
        f"案件 {row.id}：已记录 {change.event.event}（{change.event.on.isoformat()}）",
        f"状态：{S(row.state).label}",
    ]
    if row.outcome:
        parts.append(f"结果：{Outcome(row.outcome).info.label}")
    if row.reply_due:
        provisional = "（暂定）" if row.reply_due_provisional else ""
        parts.append(f"{Deadline.REPLY_DUE.label}：{row.reply_due.isoformat()}{provisional}")
    for deadline in (Deadline.CORRECTION_DUE, Deadline.CONSULTATION_DUE, Deadline.FEE_DUE):
        value = getattr(row, deadline.value)
        if value:
            parts.append(f"{deadline.label}：{value.isoformat()}")
    click.echo("；".join(parts))
    for warning in change.warnings:
        click.echo(warning, err=True)
    _echo_letter(row.id, letter)


def _reply_due_line(row: Any) -> str:
    from foi_workflow.domain.vocabulary import Deadline

    provisional = "（暂定：所依据的年度节假日安排尚未公布）" if row.reply_due_provisional else ""
    return f"案件 {row.id}：{Deadline.REPLY_DUE.label} {row.reply_due.isoformat()}{provisional}"


def _echo_letter(case_id: str, letter: Any) -> None:
    if letter is not None:
        click.echo(f"已生成告知书：{letter.number}（foi notice {case_id} {letter.kind} --reprint --format pdf 可打印）")


def with_letter(app_ctx: AppContext, event: str, notice: bool, amend: str | None,
                 record: Callable[[Any], Any]) -> tuple[Any, Any]:  # fmt: skip
    """Record an event (`record(session)`), and with `--notice` its letter in the same
    transaction: a letter that cannot be issued leaves the event unrecorded too."""
    if not notice:
        return record(None), None
    from foi_workflow.errors import InvalidInput
    from foi_workflow.services.case_store import transaction
    from foi_workflow.services.notice_context import EVENT_NOTICE
    from foi_workflow.services.notices import issue_notice

    kind = EVENT_NOTICE.get(event)
    if kind is None:
        raise InvalidInput(f"{event} 事件没有对应的告知书，不能加 --notice")
    with transaction(app_ctx.app) as session:
        change = record(session)
        letter = issue_notice(app_ctx.app, change.case.id, kind, by=change.event.by, amend_reason=amend,
                              session=session)  # fmt: skip
        session.commit()
    return change, letter


def _record(
    app_ctx: AppContext,
    case_id: str,
    event: str,
    on: str | None,
    by: str | None,
    data: dict[str, Any],
    amend: str | None = None,
    notice: bool = False,
) -> None:
    from foi_workflow.services.cases import advance

    with options_named(caseworker="NAME" if event == "assign" else ""):
        change, letter = with_letter(app_ctx, event, notice, amend, lambda session: advance(
            app_ctx.app,
            case_id,
            event,
            on=resolve_on(on),
            by=app_ctx.recorder(by),
            data={k: v for k, v in data.items() if v is not None},
            amend_reason=amend,
            session=session,
        ))
    echo_change(change, letter)
    placeholder_hint(app_ctx)


def _event_command(name: str, details: str = "") -> Callable[[Callable[..., Any]], click.Command]:
    """Decorate a function returning the event's data into a full event command (`foi fee-paid`
    records the event `fee_paid`)."""
    event = name.replace("-", "_")

    def wrap(func: Callable[..., dict[str, Any]]) -> click.Command:
        @click.pass_obj
        def callback(app_ctx: AppContext, /, case_id: str, on: str | None, by: str | None,
                     amend: str | None, notice: bool, **kwargs: Any) -> None:  # fmt: skip
            _record(app_ctx, case_id, event, on, by, func(**kwargs), amend, notice)

        cmd = click.command(name, help=command_help(name, details))(callback)
        cmd = click.argument("case_id", metavar="ID", type=IDENTIFIER)(cmd)
        for param in reversed(getattr(func, "__click_params__", [])):
            cmd.params.append(param)
        cmd = event_options(cmd)
        cmd = amend_option(cmd)
        cmd = notice_option(cmd)
        return cmd

    return wrap


@click.command("intake", help=command_help("intake", "标准输出只打印新案件的编号（便于脚本使用），答复期限另行显示"))
@click.option("--applicant", required=True, help="申请人姓名或名称")
@click.option("--applicant-type", required=True, type=enum_choice(ApplicantType), help="申请人类型")
@click.option("--channel", required=True, type=enum_choice(Channel),
              help="提交渠道（决定收到申请之日，条例第三十一条）")  # fmt: skip
@click.option("--request", "request_text", required=True, help="申请公开的内容")
@click.option("--id", "case_id", type=IDENTIFIER, default=None, help="案件编号（默认自动编号）")
@click.option("--contact", default=None, help="联系方式（地址、邮箱）")
@click.option("--phone", default=None, help="联系电话")
@click.option("--id-number", default=None, help="身份证件号码")
@click.option("--agency", default=None, help="机关代码（默认配置中的机关）")
@click.option("--e-service", "e_service", default=None, metavar="ADDRESS", help="申请人同意电子送达的地址")
@event_options
@amend_option
@notice_option
@pass_app
def intake_cmd(
    app_ctx: AppContext,
    applicant: str,
    applicant_type: str,
    channel: str,
    request_text: str,
    case_id: str | None,
    contact: str | None,
    phone: str | None,
    id_number: str | None,
    agency: str | None,
    e_service: str | None,
    on: str | None,
    by: str | None,
    amend: str | None,
    notice: bool,
) -> None:
    from foi_workflow.services.cases import intake

    by = app_ctx.recorder(by)
    data = {
        "applicant": applicant, "applicant_type": applicant_type, "channel": channel,
        "request": request_text, "contact": contact, "phone": phone, "id_number": id_number,
        "agency": agency, "caseworker": by, "e_service": e_service,
    }  # fmt: skip
    with options_named(case="--id"):
        change, letter = with_letter(app_ctx, "receive", notice, amend, lambda session: intake(
            app_ctx.app,
            on=resolve_on(on),
            by=by,
            data={k: v for k, v in data.items() if v is not None},
            case_id=case_id,
            amend_reason=amend,
            session=session,
        ))
    # The id alone on standard output (`id=$(foi intake …)`); what a person reads on stderr.
    click.echo(change.case.id)
    if change.case.reply_due:
        click.echo(_reply_due_line(change.case), err=True)
    for warning in change.warnings:
        click.echo(warning, err=True)
    _echo_letter(change.case.id, letter)
    placeholder_hint(app_ctx)


@click.command(
    "assign",
    help=command_help("assign", "此后的提醒发给新经办人"),
)
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@click.argument("caseworker", metavar="NAME")
@event_options
@amend_option
@pass_app
def assign_cmd(app_ctx: AppContext, case_id: str, caseworker: str, on: str | None, by: str | None,
               amend: str | None) -> None:  # fmt: skip
    _record(app_ctx, case_id, "assign", on, by, {"caseworker": caseworker}, amend)


@_event_command("request-correction")
@click.option("--items", required=True, help="需要补正的事项")
@click.option("--period", type=int, default=None, help="补正期限（工作日，默认见配置）")
def request_correction_cmd(items: str, period: int | None) -> dict[str, Any]:
    return {"items": items, "period": period}


@_event_command("receive-correction", "答复期限自收到补正之日起重新计算")
def receive_correction_cmd() -> dict[str, Any]:
    return {}


@_event_command("consult", "第三方：条例第三十二条；其他机关：第三十四条")
@click.option("--party", required=True, help="被征求意见的第三方或机关")
@click.option("--kind", type=enum_choice(ConsultationKind), default=ConsultationKind.THIRD_PARTY.value,
              show_default=True, help="third_party 第三方 / co_producer 共同制作机关")  # fmt: skip
def consult_cmd(party: str, kind: str) -> dict[str, Any]:
    return {"party": party, "kind": kind}


@_event_command("consultation-reply")
@click.option("--opinion", required=True, type=enum_choice(Opinion),
              help="agree 同意 / object 不同意 / none 逾期未答复")  # fmt: skip
@click.option("--party", default=None, help="答复方（同时征求多方意见时必填）")
def consultation_reply_cmd(opinion: str, party: str | None) -> dict[str, Any]:
    return {"opinion": opinion, "party": party}


@_event_command("set-reasonable-period", "条例第三十五条：申请数量、频次明显超过合理范围")
@click.option("--due", required=True, help="新的答复期限 YYYY-MM-DD")
@click.option("--reason", required=True, help="理由")
def set_reasonable_period_cmd(due: str, reason: str) -> dict[str, Any]:
    return {"due": parse_date(due, "--due 日期").isoformat(), "reason": reason}


@_event_command("fee-notice", f"申请人应在{FEE_DAYS}个工作日内缴费")
@click.option("--amount", default=None, help="金额（元）；省略时按收费标准计算，填写时须与之相符")
@click.option("--basis", required=True, type=enum_choice(FeeBasis), help="per_item 按件 / per_page 按量")
@click.option("--quantity", required=True, type=int, help="件数或页数")
def fee_notice_cmd(amount: str | None, basis: str, quantity: int) -> dict[str, Any]:
    return {"amount": amount, "basis": basis, "quantity": quantity}


@_event_command("fee-paid")
def fee_paid_cmd() -> dict[str, Any]:
    return {}


@_event_command("decide", "结果代码见 foi outcomes")
@click.option("--outcome", required=True, help="办理结果代码（foi outcomes 查看）")
@click.option("--note", default=None, help="理由或告知内容（部分公开、不予公开、其他须填写）")
@click.option("--refer-to", default=None, help="not_held：负责公开该信息的机关名称及联系方式（第三十六条第五项）")
@click.option("--published-at", default=None, help="granted：已主动公开信息的获取途径（第三十六条第一项）")
@click.option("--override-reason", default=None, help="第三方不同意仍决定公开的理由（第三十二条）")
@click.option("--disclose-on", default=None, help="第三方不同意仍决定公开的公开日期 YYYY-MM-DD")
def decide_cmd(outcome: str, note: str | None, refer_to: str | None, published_at: str | None,
               override_reason: str | None, disclose_on: str | None) -> dict[str, Any]:  # fmt: skip
    return {"outcome": outcome, "note": note, "refer_to": refer_to, "published_at": published_at,
            "override_reason": override_reason, "disclose_on": disclose_on}  # fmt: skip


@_event_command("withdraw", "计入年报“其他”")
@click.option("--reason", default=None, help="撤回理由")
def withdraw_cmd(reason: str | None) -> dict[str, Any]:
    return {"reason": reason}


@click.command("rebuild", help=command_help("rebuild", "并报告差异"))
@click.option("--check", "check_only", is_flag=True, help="只比较，不改写")
@pass_app
def rebuild_cmd(app_ctx: AppContext, check_only: bool) -> None:
    from foi_workflow.services.cases import rebuild

    differences = rebuild(app_ctx.app, check_only=check_only)
    for line in differences:
        click.echo(line)
    if check_only and differences:
        raise SystemExit(1)
    click.echo("案件表与事件日志一致" if not differences else f"已按事件日志改写 {len(differences)} 处差异")
