"""`foi shell`: one process in which every `foi` command can be typed, with history and tab
completion of command names, options and case ids.

Each line is run exactly as `foi LINE` would run it (`main`), against the session's config,
App and engine, so a command after the first finds everything imported, the workflow and
calendar loaded and its SQL compiled; what writing needs is loaded as the session starts
(`WarmUp`), so not even the first `intake` after a `show` pays the start-up. Each command
commits its own unit of work, as the separate command does; an error ends that command (its one
line on stderr), not the session.

When standard input is not a terminal the commands are read from it, one per line, with no
prompt: scripts and tests drive the same session. Blank lines and lines starting with `#` are
skipped; `help [CMD]` shows the help, `exit` or `quit` (or the end of input) ends the session.
The exit status at the end is 0 when every command succeeded, else 1.
"""

from __future__ import annotations

import cmd
import contextlib
import importlib
import os
import shlex
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import click

from foi_workflow.cli.commands import COMMANDS, command_help
from foi_workflow.cli.common import AppContext, pass_app

PROMPT = "foi> "
INTRO = "foi 交互式会话：输入命令（如 show 2024-00001），Tab 补全，help 查看命令，exit 或 Ctrl-D 退出"
LEAVE = frozenset({"exit", "quit"})
HISTORY_LENGTH = 1000


def split_line(line: str) -> list[str] | None:
    """The words of a typed line as `foi` would get them from the shell (a leading `foi` is
    dropped, as pasted from a script); None for a blank line or a `#` comment."""
    words = shlex.split(line, comments=True)
    if words and words[0] == "foi":
        words = words[1:]
    return words or None


def run_words(app_ctx: AppContext, words: list[str]) -> int:
    """Run one command line in this session; its exit status. Output and error lines are
    exactly those of `foi WORDS` (`main` prints them)."""
    from foi_workflow.cli.main import main

    try:
        main(words, obj=app_ctx)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:  # Ctrl-C ends the command; its transaction was rolled back
        click.echo("已取消", err=True)
        return 1
    return 0


def run_line(app_ctx: AppContext, line: str) -> int:
    """Run one typed line; a line that cannot be split (an open quote) is a usage error."""
    try:
        words = split_line(line)
    except ValueError:
        click.echo(f"错误[E-USAGE]：引号不成对：{line.strip()}", err=True)
        return 2
    if words and words[0] in ("help", "?"):  # `help` alone lists the commands, `help CMD` is CMD's
        words = [*words[1:], "--help"]
    return 0 if words is None else run_words(app_ctx, words)


def run_script(app_ctx: AppContext, lines: Iterable[str], warm: WarmUp | None = None) -> int:
    """Run every line; 1 if any command failed, else 0."""
    failed = False
    for line in lines:
        if line.strip() in LEAVE:
            break
        if warm is not None:
            warm.wait()
        failed |= run_line(app_ctx, line) != 0
    return 1 if failed else 0


class WarmUp:
    """What a command that writes needs, loaded in the background as the session starts (while
    the first line is typed): SQLModel and the tables, the event commands, the mappers, the
    database's dialect. A one-off `foi show` never pays for these; in a session
    the first `intake` would, so the session pays once, up front. Each line waits for it to end
    (`wait`) before it runs, so no command ever runs beside it. A failure here is left for the
    command that needs the same thing to report."""

    def __init__(self, db_url: str | None) -> None:
        self._thread = threading.Thread(target=self._run, args=(db_url,), name="foi-shell-warm-up", daemon=True)
        self._thread.start()

    @staticmethod
    def _run(db_url: str | None) -> None:
        with contextlib.suppress(Exception):
            # The event commands; the use cases with SQLModel and the tables.
            for module in ("foi_workflow.cli.cases", "foi_workflow.services.cases"):
                importlib.import_module(module)
            from sqlalchemy.engine import make_url
            from sqlalchemy.orm import configure_mappers

            configure_mappers()
            if db_url:
                make_url(db_url).get_dialect()

    def wait(self) -> None:
        self._thread.join()


def start_warm_up(app_ctx: AppContext) -> WarmUp:
    """Start loading the write path; the database URL is read from the config here, in the
    session's thread, so that the warm-up touches nothing of the session's."""
    try:
        db_url: str | None = app_ctx.config.db_url
    except Exception:  # a bad config: the first command reports it
        db_url = None
    return WarmUp(db_url)


class Shell(cmd.Cmd):
    """The interactive session: readline's line editing, history and completion."""

    prompt = PROMPT
    intro = INTRO
    identchars = cmd.Cmd.identchars + "-"

    def __init__(self, app_ctx: AppContext, warm: WarmUp, stdout: IO[str] | None = None) -> None:
        super().__init__(stdout=stdout)
        self.app_ctx = app_ctx
        self.warm = warm
        self.failed = False

    # Every line goes to `foi`; `cmd`'s own do_* commands are only help and leaving.
    def onecmd(self, line: str) -> bool:
        if line.strip() in LEAVE or line == "EOF":
            if line == "EOF":
                self.stdout.write("\n")
            return True
        self.warm.wait()
        self.failed |= run_line(self.app_ctx, line) != 0
        return False

    def emptyline(self) -> bool:
        return False  # not `cmd`'s default of repeating the last command

    def completenames(self, text: str, *ignored: Any) -> list[str]:
        return [f"{name} " for name in (*COMMANDS, "help", *LEAVE) if name.startswith(text)]

    def completedefault(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        try:
            return self._complete(text, shlex.split(line[:begidx]))
        except Exception:  # an open quote, an unreadable database: offer nothing, quietly
            return []

    def _complete(self, text: str, words: list[str]) -> list[str]:
        if text.startswith("-"):
            return [f"{option} " for option in command_options(words) if option.startswith(text)]
        group = subcommands(words)
        if group:
            return [f"{name} " for name in group if name.startswith(text)]
        return [f"{case_id} " for case_id in self.case_ids(text)]

    def case_ids(self, prefix: str) -> list[str]:
        """Case ids starting with `prefix`, read from the database (none if it cannot be read)."""
        try:
            with self.app_ctx.app.reader() as reader:
                rows = reader.rows("SELECT id FROM foi_case WHERE id LIKE ? ORDER BY id LIMIT 200", (f"{prefix}%",))
        except Exception:
            return []
        return [str(row[0]) for row in rows]


def _command(words: list[str]) -> click.Command | None:
    """The (sub)command the typed words name, as far as they name one."""
    from foi_workflow.cli.main import cli

    command: click.Command = cli
    ctx = click.Context(cli)
    for word in words:
        if not isinstance(command, click.Group):
            break
        sub = command.get_command(ctx, word)
        if sub is None:
            if word.startswith("-"):
                continue
            break
        command = sub
    return None if command is cli else command


def command_options(words: list[str]) -> list[str]:
    command = _command(words)
    if command is None:
        return []
    return [opt for param in command.params if isinstance(param, click.Option) for opt in param.opts]


def subcommands(words: list[str]) -> list[str]:
    command = _command(words)
    if isinstance(command, click.Group):
        return list(command.list_commands(click.Context(command)))
    return [] if words else list(COMMANDS)


def history_path() -> Path:
    from foi_workflow.config import user_data_dir

    return user_data_dir() / "shell_history"


def interact(app_ctx: AppContext, warm: WarmUp) -> int:
    """The interactive loop, with readline history kept between sessions (where Python has
    readline; without it the session works, with no line editing)."""
    try:
        import readline  # only here: a script run (stdin not a terminal) needs no line editing
    except ImportError:
        readline = None  # type: ignore[assignment]
    path = history_path()
    if readline is not None:
        with contextlib.suppress(OSError):  # no history yet
            readline.read_history_file(path)
        readline.set_history_length(HISTORY_LENGTH)
        readline.set_completer_delims(" \t\n\"'=")
    shell = Shell(app_ctx, warm)
    while True:
        try:
            shell.cmdloop()
            break
        except KeyboardInterrupt:  # Ctrl-C at the prompt: a fresh prompt, as in bash
            shell.intro = ""
            click.echo("")
    if readline is not None:
        try:
            save_history(path, readline.write_history_file)
        except OSError:
            click.echo(f"提示：无法保存命令历史到 {path}", err=True)
    return 1 if shell.failed else 0


def save_history(path: Path, write: Callable[[Path], None]) -> None:
    """Write the history readable by its owner only: the lines typed name applicants and may
    carry their phone and identity numbers, as the database does."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)  # a file left by an earlier version with looser rights
    write(path)


@click.command(
    "shell",
    help=command_help(
        "shell",
        "每行一条命令，写法同 foi 之后的部分；出错只结束该条命令。标准输入不是终端时从中逐行读取命令；"
        "有任何命令失败则退出状态为 1。",
    ),
)
@pass_app
def shell_cmd(app_ctx: AppContext) -> None:
    global _ACTIVE
    if _ACTIVE:
        raise click.UsageError("已在 foi shell 中")
    _ACTIVE = True
    try:
        warm = start_warm_up(app_ctx)
        status = interact(app_ctx, warm) if sys.stdin.isatty() else run_script(app_ctx, sys.stdin, warm)
    finally:
        _ACTIVE = False
    if status:
        raise SystemExit(status)


# Whether a session is running in this process: `shell` typed inside one is refused.
_ACTIVE = False
