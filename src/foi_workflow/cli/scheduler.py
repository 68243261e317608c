"""`foi scheduler run [--once] [--now DATETIME]` and `foi outbox [--failed | --all | --retry [--id ID]]`."""

from __future__ import annotations

from datetime import datetime

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import SHANGHAI, AppContext, pass_app


@click.group("scheduler", help=command_help("scheduler"))
def scheduler_group() -> None:
    pass


@scheduler_group.command("run")
@click.option("--once", is_flag=True, help="只检查一次并发送邮件后退出（供 cron 与测试）")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="DATETIME",
    help="假定的当前时间，如 2024-03-04T09:00（北京时间）",
)
@pass_app
def run_cmd(ctx: AppContext, once: bool, now_text: str | None) -> None:
    """运行期限调度：到期自动办理、发送提醒与每日汇总"""
    from foi_workflow.adapters.db import require_schema
    from foi_workflow.adapters.mailer import check_settings
    from foi_workflow.scheduler import configure_logging, run_forever, run_once, scheduler_lock
    from foi_workflow.services.sweep import parse_now

    configure_logging()
    now = parse_now(now_text) if now_text else None
    app = ctx.app
    if app.config.smtp.configured:
        check_settings(app.config.smtp)  # before anything is swept: a refusal writes nothing
    require_schema(app.engine)
    with scheduler_lock(app) as lock:
        if once:
            result = run_once(app, now or datetime.now(SHANGHAI))
            for failure in result.sweep.failures:
                click.echo(f"跳过案件 {failure.case_id}（{failure.event}）：{failure.error}", err=True)
            click.echo(result.summary())
            return
        run_forever(app, lock, now, echo=click.echo)


@click.command(
    "outbox", help=command_help("outbox", "--retry 将发送失败的邮件重新排队")
)
@click.option("--failed", "failed_only", is_flag=True, help="只列出发送失败的邮件")
@click.option("--all", "include_sent", is_flag=True, help="包括已发送的邮件")
@click.option("--retry", is_flag=True, help="将发送失败的邮件重新排队")
@click.option(
    "--id", "mail_id", type=int, default=None, help="与 --retry 同用：只重发此编号的邮件"
)
@pass_app
def outbox_cmd(ctx: AppContext, failed_only: bool, include_sent: bool, retry: bool, mail_id: int | None) -> None:
    from foi_workflow.adapters.db import require_schema

    if mail_id is not None and not retry:
        raise click.UsageError("--id 只能与 --retry 一起使用")
    app = ctx.app
    require_schema(app.engine)
    if retry:
        _retry(ctx, mail_id)
        return
    _list(ctx, failed_only, include_sent)


def _retry(ctx: AppContext, mail_id: int | None) -> None:
    from foi_workflow.services.outbox import retry_failed

    done, stuck = retry_failed(ctx.app, datetime.now(SHANGHAI), mail_id)
    text = f"已将 {done} 封发送失败的邮件重新排队，调度进程下次检查时发送"
    if stuck:
        text += f"；{stuck} 封没有收件地址，无法重发（请在配置中填写地址）"
    click.echo(text)


def _list(ctx: AppContext, failed_only: bool, include_sent: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from foi_workflow.services.outbox import STATUS_LABELS, list_outbox

    entries = list_outbox(ctx.app, failed_only=failed_only, include_sent=include_sent)
    if not entries:
        click.echo("没有发送失败的邮件" if failed_only else "发件箱为空")
        return
    kinds = {
        "unreachable": "服务器无法连接",
        "temporary": "暂时失败",
        "permanent": "被拒收",
        "refused_all": "服务器全部拒收",
        "invalid": "邮件无效",
        "no_address": "无收件地址",
    }
    table = Table(show_lines=False)
    for title in ("编号", "状态", "尝试", "收件人", "主题", "下次尝试/发送时间", "错误"):
        table.add_column(title, overflow="fold")
    for e in entries:
        when = e.sent_at if e.status == "sent" else (e.next_attempt_at if e.status == "queued" else None)
        error = f"{kinds[e.failure]}：{e.last_error}" if e.failure in kinds and e.last_error else e.last_error
        table.add_row(
            str(e.id),
            STATUS_LABELS.get(e.status, e.status),
            str(e.attempts),
            escape(e.to_addr or "（无）"),  # text, not markup: a case id or name may hold "[/bold]"
            escape(e.subject),
            when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if when else "",
            escape(error),
        )
    console = Console(width=200, color_system=None, highlight=False)
    with console.capture() as captured:
        console.print(table)
    click.echo(captured.get().rstrip("\n"))
    click.echo(f"共 {len(entries)} 封")
