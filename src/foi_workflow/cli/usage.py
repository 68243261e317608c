"""A command line Click could not parse, as one Chinese line with the code E-USAGE (exit 2).

Click builds its messages in English from the exception's fields; this reads the same fields
(the parameter, its type, the value, the command) and says it in Chinese. Imported only when a
command line is refused, so it costs nothing on the way of a good one.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import click

from foi_workflow.errors import UsageRefused


def usage_refusal(exc: click.UsageError) -> UsageRefused:
    """The refusal of a command line Click could not parse, naming the command's help."""
    ctx = exc.ctx
    message = _message(exc)
    while ctx is not None and ctx.command.hidden and ctx.parent is not None:
        ctx = ctx.parent  # `foi report 2024 …` runs the hidden `render`: name what was typed
    if ctx is not None:
        message += f"；用法见 {ctx.command_path} --help"
    return UsageRefused(message)


def _message(exc: click.UsageError) -> str:
    if isinstance(exc, click.MissingParameter):
        return _missing(exc)
    if isinstance(exc, click.BadParameter):
        return _bad_value(exc)
    if isinstance(exc, click.NoSuchOption):
        guess = f"，是否指 {' 或 '.join(exc.possibilities)}" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{guess}"
    if isinstance(exc, click.exceptions.NoSuchCommand):
        return _no_such_command(exc)
    if isinstance(exc, click.BadOptionUsage) and "requires" in exc.message:
        return f"选项 {exc.option_name} 后须给出值"
    extra = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", exc.message)
    if extra:
        return f"多余的参数：{extra.group(1)}"
    if exc.message == "Missing command.":
        return "缺少子命令"
    return exc.message  # our own refusals, already in Chinese


def _name(param: click.Parameter | None, hint: str | None) -> str:
    if isinstance(param, click.Option):
        return f"选项 {param.opts[0]}"
    if param is not None:
        return f"参数 {param.human_readable_name}"
    return hint or "参数"


def _missing(exc: click.MissingParameter) -> str:
    param = exc.param
    what = _name(param, exc.param_hint if isinstance(exc.param_hint, str) else None)
    label = f"（{param.help}）" if isinstance(param, click.Option) and param.help else ""
    return f"缺少必填的{what}{label}"


def _bad_value(exc: click.BadParameter) -> str:
    param, what = exc.param, _name(exc.param, exc.param_hint if isinstance(exc.param_hint, str) else None)
    kind = param.type if param is not None else None
    value = _quoted(exc.message)
    if isinstance(kind, click.Choice):
        return f"{what} 的值 {value} 无效，可选：{'、'.join(str(c) for c in kind.choices)}"
    if isinstance(kind, click.types._NumberRangeBase):
        return f"{what} 的值 {value} 超出范围（{_range(kind)}）"
    if isinstance(kind, click.types.IntParamType):
        return f"{what} 应为整数，而不是 {value}"
    if isinstance(kind, click.types.FloatParamType):
        return f"{what} 应为数字，而不是 {value}"
    if isinstance(kind, click.DateTime):
        return f"{what} 应为日期时间，如 2024-03-04T09:00，而不是 {value}"
    if isinstance(kind, click.Path):
        return f"{what}：{_path_problem(exc.message)}"
    return f"{what} 的值无效：{exc.message}"


_PATH_PROBLEMS = {
    "does not exist": "不存在", "is a directory": "是文件夹，应为文件", "is a file": "是文件，应为文件夹",
    "is not readable": "无权读取", "is not writable": "无权写入", "is not executable": "不可执行",
}  # fmt: skip


def _path_problem(message: str) -> str:
    """Click's "File 'x' is a directory." as 'x' 是文件夹."""
    match = re.search(r"('.*')\s+(does not exist|is a directory|is a file|is not \w+)", message)
    if match is None:
        return f"路径无效：{message}"
    return f"{match.group(1)} {_PATH_PROBLEMS.get(match.group(2), match.group(2))}"


def _quoted(message: str) -> str:
    """The value Click quoted at the start of its message ('x' is not one of …)."""
    match = re.match(r"('[^']*'|\"[^\"]*\"|\S+)", message)
    return match.group(1) if match else message


def _range(kind: click.types._NumberRangeBase[Any, Any]) -> str:
    low = f"不小于 {kind.min}" if kind.min is not None else ""
    high = f"不大于 {kind.max}" if kind.max is not None else ""
    return "，".join(part for part in (low, high) if part)


def _no_such_command(exc: click.exceptions.NoSuchCommand) -> str:
    names = _offered(exc.ctx)
    guess = difflib.get_close_matches(exc.command_name, names, n=2)
    hint = f"，是否指 {' 或 '.join(guess)}" if guess else ""
    return f"没有命令 {exc.command_name}{hint}"


def _offered(ctx: click.Context | None) -> list[str]:
    """The commands a person is offered at this level: never the hidden ones."""
    if ctx is None or not isinstance(ctx.command, click.Group):
        return []
    group = ctx.command
    if group.commands:
        return [name for name, sub in group.commands.items() if not sub.hidden]
    return group.list_commands(ctx)  # the lazy top level: its table lists only visible ones
