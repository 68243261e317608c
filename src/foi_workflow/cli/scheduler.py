"""`foi scheduler run [--once] [--now DATETIME]` and `foi outbox [--failed]`."""

from __future__ import annotations

import logging
from datetime import datetime

import click

from foi_workflow.cli.common import SHANGHAI, AppContext, pass_app


@click.group("scheduler")
def scheduler_group() -> None:
    """期限调度与邮件提醒 / the deadline scheduler and mail reminders."""


@scheduler_group.command("run")
@click.option("--once", is_flag=True, help="只检查一次并发送邮件后退出（供 cron 与测试）/ one sweep, then exit")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="DATETIME",
    help="假定的当前时间，如 2024-03-04T09:00（北京时间）/ pretend the time",
)
@pass_app
def run_cmd(ctx: AppContext, once: bool, now_text: str | None) -> None:
    """运行期限调度：到期自动办理、发送提醒与每日汇总 / run the scheduler."""
    from foi_workflow.adapters.db import require_schema
    from foi_workflow.scheduler import run_forever, run_once, scheduler_lock
    from foi_workflow.services.sweep import parse_now

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    now = parse_now(now_text) if now_text else None
    app = ctx.app
    require_schema(app.engine)
    with scheduler_lock(app):
        if once:
            result = run_once(app, now or datetime.now(SHANGHAI))
            for failure in result.sweep.failures:
                click.echo(f"跳过案件 {failure.case_id}（{failure.event}）：{failure.error}", err=True)
            click.echo(result.summary())
            return
        run_forever(app, now, echo=click.echo)


@click.command("outbox")
@click.option("--failed", "failed_only", is_flag=True, help="只列出发送失败的邮件 / failed mail only")
@click.option("--all", "include_sent", is_flag=True, help="包括已发送的邮件 / include sent mail")
@pass_app
def outbox_cmd(ctx: AppContext, failed_only: bool, include_sent: bool) -> None:
    """待发与失败邮件 / the mail outbox (queued, sending, failed)."""
    from rich.console import Console
    from rich.table import Table

    from foi_workflow.adapters.db import require_schema
    from foi_workflow.services.outbox import list_outbox

    app = ctx.app
    require_schema(app.engine)
    entries = list_outbox(app, failed_only=failed_only, include_sent=include_sent)
    if not entries:
        click.echo("没有发送失败的邮件" if failed_only else "发件箱为空")
        return
    labels = {"queued": "待发", "sending": "发送中", "sent": "已发送", "failed": "失败"}
    table = Table(show_lines=False)
    for title in ("编号", "状态", "尝试", "收件人", "主题", "下次尝试/发送时间", "错误"):
        table.add_column(title, overflow="fold")
    for e in entries:
        when = e.sent_at if e.status == "sent" else (e.next_attempt_at if e.status == "queued" else None)
        table.add_row(
            str(e.id),
            labels.get(e.status, e.status),
            str(e.attempts),
            e.to_addr or "（无）",
            e.subject,
            when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if when else "",
            e.last_error,
        )
    console = Console(width=200, color_system=None, highlight=False)
    with console.capture() as captured:
        console.print(table)
    click.echo(captured.get().rstrip("\n"))
    click.echo(f"共 {len(entries)} 封")
