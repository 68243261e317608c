"""How `foi … --help` is laid out: Click's own words in Chinese, usage lines that wrap between
words (never inside `add-working-days` or a `{a|b}` list), and every command's options in one
order (its own, then agency, date and recorder, closed-year and letter flags, output).

Only click is imported here: it runs on every command's start path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import click

# Click's fixed English phrases as they reach the help page, and ours.
_HEADINGS = {"Options": "选项", "Commands": "命令", "Positional arguments": "参数"}
_PHRASES = (
    ("Show this message and exit.", "显示本帮助并退出"),
    ("Show the version and exit.", "显示版本并退出"),
    ("[required]", "[必填]"),
    ("[default: ", "[默认："),
    ("default: ", "默认："),
    ("env var: ", "环境变量："),
)

# The rank of an option in every command's help (stable: an option keeps its place within its
# rank). Unlisted options are the command's own and come first.
_RANKS = {
    "--agency": 1, "--all-agencies": 1,
    "--on": 2, "--by": 2,
    "--amend-closed-year": 3, "--notice": 3,
    "--format": 4, "--out": 4, "--reveal": 4,
    "--help": 9,
}  # fmt: skip


class FoiHelpFormatter(click.HelpFormatter):
    """Click's help formatter, in Chinese, wrapping usage lines only between words."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        import textwrap  # only when a help page is printed

        prefix = "用法：" if prefix is None else prefix
        head = f"{prefix}{prog} "
        width = max(self.width - self.current_indent, len(head) + 20)
        lines = textwrap.wrap(
            args, width, initial_indent=head, subsequent_indent=" " * len(head),
            break_long_words=False, break_on_hyphens=False,
        ) or [head.rstrip()]  # fmt: skip
        for line in lines:
            self.write(f"{'':>{self.current_indent}}{line}\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, _chinese(text)) for term, text in rows], col_max, col_spacing)


def _chinese(text: str) -> str:
    for english, chinese in _PHRASES:
        text = text.replace(english, chinese)
    return text


class FoiContext(click.Context):
    formatter_class = FoiHelpFormatter


def _rank(param: click.Parameter) -> int:
    if not isinstance(param, click.Option):
        return 0
    return min((_RANKS.get(opt, 0) for opt in param.opts), default=0)


def _global_option(name: str, attr: str) -> click.Option:
    """`--db` / `--config` after the subcommand (`foi list --db …`), as if given before it."""

    def remember(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        holder = ctx.find_root().obj  # the AppContext the `foi` group made
        if value is None or holder is None or getattr(holder, attr) == value:
            return
        # A fresh context for this command (in `foi shell` the session's stays as it was), in
        # every context that holds the old one.
        fresh = replace(holder, **{attr: value, "_config": None, "_app": None})
        node: click.Context | None = ctx
        while node is not None:
            if node.obj is holder:
                node.obj = fresh
            node = node.parent

    return click.Option([name], hidden=True, expose_value=False, is_eager=True, callback=remember)


def prepare(command: click.Command) -> click.Command:
    """Give `command` (and a group's subcommands) the Chinese help layout, the one option order
    and the global options. Arguments keep their order (rank 0, stable sort); parsing does not
    depend on it."""
    command.context_class = FoiContext
    if not any(param.name == "db" for param in command.params):
        command.params += [_global_option("--db", "db_url"), _global_option("--config", "config_path")]
    command.params.sort(key=_rank)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            prepare(sub)
    return command
