"""`foi void` and `foi correct` (SPEC §11), and the same two under `foi appeal`.

`foi correct` takes the option names of the target event's own command (`--outcome`, `--items`,
`--applicant-type`, …), collected from those commands themselves so that the two never drift
apart; `--on` is the target's corrected date, `--reason` the reason for the correction, and
`--target-reason` the `reason` field of a corrected `withdraw` or `set-reasonable-period`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import AppContext, parse_date
from foi_workflow.domain.definition import FIELD_LABELS

# Options of the event commands that are not fields of the event: how it is recorded, not what.
# (`proof` names a file whose hash the event keeps: a proof is filed with a delivery, not corrected.)
NOT_FIELDS = frozenset({"on", "by", "amend_closed_year", "notice", "id", "agency", "reason", "proof"})
TARGET_REASON = "target_reason"  # --target-reason: the corrected event's own `reason` field

amend_closed_year_option = click.option(
    "--amend-closed-year", "amend", default=None, metavar="REASON",
    help="所涉事件的日期（更正前或更正后）在已结转年度时必填，说明理由",
)  # fmt: skip
by_option = click.option("--by", "by", default=None, help="记录人（默认当前登录名）")
reason_option = click.option("--reason", required=True, help="作废或更正的理由（记入事件日志）")


def field_name(param: click.Parameter) -> str:
    """The event field an option or argument of an event command sets (SPEC §9: the option
    name with `_` for `-`)."""
    if isinstance(param, click.Option):
        longest = max(param.opts, key=len)
        return longest.lstrip("-").replace("-", "_")
    return str(param.name)


def field_options(commands: Iterable[click.Command]) -> list[click.Option]:
    """Every field option of `commands` as an optional `--FIELD` (arguments such as `assign`'s
    NAME become options too), first declaration wins."""
    found: dict[str, click.Option] = {}
    for command in commands:
        for param in command.params:
            name = field_name(param)
            subject = isinstance(param, click.Argument) and name.endswith("_id")  # the case or appeal itself
            if name in NOT_FIELDS or name in found or subject:
                continue
            flag = "--" + name.replace("_", "-")
            help_text = getattr(param, "help", None) or f"更正后的{FIELD_LABELS.get(name, name)}"
            choice = param.type if isinstance(param.type, click.Choice) else None
            found[name] = click.Option([flag, name], default=None, type=choice or param.type, help=help_text)
    return list(found.values())


def changes_from(on: str | None, values: dict[str, Any]) -> dict[str, Any]:
    changes = {name: value for name, value in values.items() if value is not None}
    if TARGET_REASON in changes:
        changes["reason"] = changes.pop(TARGET_REASON)
    if on is not None:
        changes["on"] = parse_date(on, "--on 日期").isoformat()
    return changes


def _case_commands() -> list[click.Command]:
    """The commands that record a case event (those with `--on`)."""
    from foi_workflow.cli import cases, service

    return [
        obj
        for module in (cases, service)
        for obj in vars(module).values()
        if isinstance(obj, click.Command) and any(p.name == "on" for p in obj.params)
    ]


target_reason_option = click.Option(
    ["--target-reason", TARGET_REASON],
    default=None,
    help="被更正事件本身的理由字段（withdraw、set-reasonable-period）",
)


def _echo_case(amended: Any) -> None:
    from foi_workflow.domain.vocabulary import Outcome, State

    snap, target = amended.snapshot, amended.target
    what = "已作废" if amended.event.event == "void" else "已更正"
    head = f"案件 {amended.subject_id}：第 {target.no} 个事件（{target.event}，{target.on.isoformat()}）{what}"
    if snap.voided:
        click.echo(f"{head}；本案登记已作废，不再计入列表、统计和年报")
    else:
        parts = [head, f"状态：{State(snap.state).label}"]
        if snap.outcome:
            parts.append(f"结果：{Outcome(snap.outcome).info.label}")
        if snap.reply_due:
            parts.append(f"答复期限：{snap.reply_due.isoformat()}")
        click.echo("；".join(parts))
    if amended.voided_letters:
        click.echo(f"告知书 {'、'.join(amended.voided_letters)} 已作废（文号不再使用），可重新出具", err=True)
    if amended.dropped_reminders:
        click.echo(f"已撤下 {amended.dropped_reminders} 封针对已不存在期限的待发提醒", err=True)


def run_amendment(app_ctx: AppContext, subject_id: str, kind: str, event_no: int, reason: str, by: str | None,
         amend: str | None, changes: dict[str, Any] | None, appeal: bool) -> None:  # fmt: skip
    from foi_workflow.services.corrections import Request, amend_appeal, amend_case

    amend_fn = amend_appeal if appeal else amend_case
    amended = amend_fn(
        app_ctx.app, subject_id, Request(kind, event_no, reason, app_ctx.recorder(by), changes, amend)
    )
    if appeal:
        what = "已作废" if kind == "void" else "已更正"
        state = "，该复议诉讼已作废，不计入年报" if amended.snapshot.voided else ""
        click.echo(f"复议诉讼 {subject_id}：第 {event_no} 个事件（{amended.target.event}）{what}{state}")
    else:
        _echo_case(amended)


def amendment_commands(
    metavar: str, what: str, fields: list[click.Option], *, appeal: bool
) -> tuple[click.Command, click.Command]:
    """`void` and `correct` for cases (`appeal=False`) or appeals, `fields` the options of the
    events' own commands."""

    @click.pass_obj
    def void(app_ctx: AppContext, /, subject_id: str, event_no: int, reason: str, by: str | None,
             amend: str | None) -> None:  # fmt: skip
        run_amendment(app_ctx, subject_id, "void", event_no, reason, by, amend, None, appeal=appeal)

    @click.pass_obj
    def correct(app_ctx: AppContext, /, subject_id: str, event_no: int, on: str | None, reason: str,
                by: str | None, amend: str | None, **values: Any) -> None:  # fmt: skip
        run_amendment(app_ctx, subject_id, "correct", event_no, reason, by, amend, changes_from(on, values), appeal)

    commands = []
    void_help = f"作废{what}的第 EVENT_NO 个事件（foi show 中的序号；作废第 1 个即整个登记作废）"
    correct_help = (
        f"更正{what}的第 EVENT_NO 个事件：--on 为更正后的日期，其余为该事件命令本身的选项"
    )
    on_option = click.Option(["--on", "on"], default=None, help="更正后的生效日期 YYYY-MM-DD")
    for name, callback, help_text, extra in (
        ("void", void, void_help, []),
        ("correct", correct, correct_help, [on_option, *fields]),
    ):
        if not appeal:  # a top-level command: its one line from cli/commands.py, then the details
            help_text = command_help(name, help_text)
        cmd = click.command(name, help=help_text)(callback)
        cmd = amend_closed_year_option(by_option(reason_option(cmd)))
        cmd.params[:0] = [
            click.Argument(["subject_id"], metavar=metavar),
            click.Argument(["event_no"], metavar="EVENT_NO", type=click.IntRange(min=1)),
            *extra,
        ]
        commands.append(cmd)
    return commands[0], commands[1]


void_cmd, correct_cmd = amendment_commands("ID", "案件", [*field_options(_case_commands()), target_reason_option],
                                           appeal=False)  # fmt: skip
