"""The `foi` command: a click group whose subcommands are imported only when invoked,
so `foi --help` stays fast (heavy libraries load inside the command that needs them)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from foi_workflow.errors import FoiError

# command name -> "module:attribute" under foi_workflow.cli, with its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("cases:init_cmd", "创建或升级数据库 / create or migrate the database"),
    "intake": ("cases:intake_cmd", "登记申请（receive 事件），打印案件编号 / register an application"),
    "assign": ("cases:assign_cmd", "移交给其他经办人 / hand the case to another caseworker"),
    "request-correction": ("cases:request_correction_cmd", "告知补正 / ask the applicant to correct"),
    "receive-correction": ("cases:receive_correction_cmd", "收到补正，答复期限重新起算 / correction received"),
    "consult": ("cases:consult_cmd", "征求第三方或其他机关意见 / consult a third party"),
    "consultation-reply": ("cases:consultation_reply_cmd", "收到征求意见回复 / consultation reply"),
    "extend": ("cases:extend_cmd", "延长答复期限（须负责人同意）/ extend the reply period"),
    "set-reasonable-period": (
        "cases:set_reasonable_period_cmd",
        "确定延迟答复的合理期限（第三十五条）/ set a later due date",
    ),
    "fee-notice": ("cases:fee_notice_cmd", "发出收费通知 / send a fee notice"),
    "fee-paid": ("cases:fee_paid_cmd", "申请人已缴费 / the fee was paid"),
    "decide": ("cases:decide_cmd", "作出答复决定 / decide the case"),
    "withdraw": ("cases:withdraw_cmd", "申请人撤回申请 / the applicant withdrew"),
    "list": ("cases:list_cmd", "列出案件 / list cases"),
    "show": ("cases:show_cmd", "查看案件详情与期限推算 / show a case and its deadlines"),
    "outcomes": ("cases:outcomes_cmd", "办理结果代码一览 / the outcome codes"),
    "rebuild": ("cases:rebuild_cmd", "由事件日志重建案件表 / rebuild the case table from the log"),
    "appeal": ("appeals:appeal_group", "行政复议与行政诉讼 / appeals (review, litigation)"),
    "import": ("transfer:import_cmd", "导入事件文件（JSON Lines，全部或全不）/ import events"),
    "export": ("transfer:export_cmd", "导出全部事件日志 / export the event log"),
    "notice": ("notices:notice_cmd", "生成告知书 / render a notice letter"),
    "fee": ("notices:fee_group", "信息处理费 / information processing fees"),
    "report": ("report:report_group", "政府信息公开工作年度报告 / the annual report"),
    "year": ("report:year_group", "年度结转 / close a year"),
    "calendar": ("calendar:calendar_group", "工作日历 / the working-day calendar"),
    "scheduler": ("scheduler:scheduler_group", "期限调度与邮件提醒 / deadline scheduler"),
    "outbox": ("scheduler:outbox_cmd", "待发与失败邮件 / the mail outbox"),
    "demo": ("demo:demo_cmd", "生成一年的示例案件并演示全流程 / a year of sample cases, end to end"),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        module = importlib.import_module(f"foi_workflow.cli.{module_name}")
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table above, without importing every module.
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("命令 / Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="FOI_DB", help="数据库 SQLAlchemy URL（默认 sqlite:///foi.db）")
@click.option("--config", "config_path", envvar="FOI_CONFIG", help="配置文件（默认 config/foi.toml）")
@click.version_option(package_name="foi-workflow")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, config_path: str | None) -> None:
    """foi：政府信息公开依申请办理系统 / case management for government-information disclosure."""
    from foi_workflow.cli.common import AppContext

    ctx.obj = AppContext(db_url=db_url, config_path=config_path)


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: a `FoiError` becomes one line on stderr and exit status 1."""
    try:
        return cli.main(args=argv, prog_name="foi", standalone_mode=False)
    except FoiError as exc:
        click.echo(exc.line(), err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("已取消", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
