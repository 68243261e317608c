"""The `foi` command: a click group whose subcommands are imported only when invoked,
so `foi --help` stays fast (heavy libraries load inside the command that needs them)."""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

import click

from foi_workflow.cli.commands import COMMANDS
from foi_workflow.cli.help_format import FoiContext, prepare
from foi_workflow.errors import FoiError


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    context_class = FoiContext

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
        return prepare(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The one-line help from the table, without importing every module.
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("命令"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="FOI_DB", metavar="URL",
              help="数据库地址（默认 sqlite:///foi.db；也可写在子命令之后）")
@click.option("--config", "config_path", envvar="FOI_CONFIG", metavar="PATH",
              help="配置文件（默认 config/foi.toml；也可写在子命令之后）")
@click.version_option(package_name="foi-workflow", message="%(prog)s %(version)s", help="显示版本并退出")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, config_path: str | None) -> None:
    """foi：政府信息公开依申请办理系统（依申请公开案件的登记、期限、告知书与年度报告）。"""
    from foi_workflow.cli.common import session_context

    ctx.obj = session_context(ctx, db_url, config_path)


def main(argv: list[str] | None = None, obj: Any = None) -> Any:
    """Console entry point: a refusal becomes one line on stderr and exit status 1, and so does
    anything else that goes wrong (a database or file error): never a traceback. `foi shell`
    runs each line through here with its session's AppContext as `obj`."""
    try:
        return cli.main(args=argv, prog_name="foi", standalone_mode=False, obj=obj)
    except FoiError as exc:
        from foi_workflow.domain.boundary import BadValue

        if isinstance(exc, BadValue):
            from foi_workflow.cli.common import option_refusal

            exc = option_refusal(exc)
        click.echo(_one_line(exc.line()), err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("已取消", err=True)
        sys.exit(1)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message())  # `foi appeal` alone: its help, as `foi appeal --help`
        sys.exit(0)
    except click.UsageError as exc:
        from foi_workflow.cli.usage import usage_refusal

        click.echo(_one_line(usage_refusal(exc).line()), err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        from foi_workflow.adapters.failures import refusal_for

        click.echo(_one_line(refusal_for(exc).line()), err=True)
        sys.exit(1)


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _one_line(line: str) -> str:
    """A refusal as exactly one printable line, whatever value it quotes: a line break, a
    control character or a lone surrogate (which stderr could not even encode) as its escape."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], line)
