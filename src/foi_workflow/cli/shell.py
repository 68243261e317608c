"""`foi shell`: one process in which every `foi` command can be typed, with history and tab
completion of command names, options and case ids.

Each line is run exactly as `foi LINE` would run it (`main`), against the session's config,
App and engine, so a command after the first finds everything imported, the workflow and
calendar loaded and its SQL compiled; what writing needs is loaded as the session starts
(`warm_up`), so not even the first `intake` after a `show` pays the start-up; what would make
one command slower than the others (a checkpoint of the WAL, the garbage collector walking
everything loaded) is done between lines or not at all. Each command commits its own unit of
work, as the separate command does; an error ends that command (its one line on stderr), not
the session.

When standard input is not a terminal the commands are read from it, one per line, with no
prompt: scripts and tests drive the same session. Blank lines and lines starting with `#` are
skipped; `help [CMD]` shows the help, `exit` or `quit` (or the end of input) ends the session.
The exit status at the end is 0 when every command succeeded, else 1.
"""

from __future__ import annotations

import cmd
import contextlib
import gc
import importlib
import os
import shlex
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from foi_workflow.cli.commands import COMMANDS, command_help
from foi_workflow.cli.common import AppContext, pass_app

if TYPE_CHECKING:
    from foi_workflow.services.app import App

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


def run_script(app_ctx: AppContext, lines: Iterable[str], between: Between | None = None) -> int:
    """Run every line; 1 if any command failed, else 0."""
    between = between or Between()
    failed = False
    for line in lines:
        if line.strip() in LEAVE:
            break
        failed |= run_session_line(app_ctx, line, between) != 0
    between.wait()
    return 1 if failed else 0


def run_session_line(app_ctx: AppContext, line: str, between: Between) -> int:
    """One line of a session: it waits for the work between lines to end, runs, and leaves
    the session's upkeep to run after it (while the next line is typed)."""
    between.wait()
    status = run_line(app_ctx, line)
    between.start(upkeep, app_ctx)
    return status


class Between:
    """Work a session does between its lines, in the background: the warm-up as it starts
    (while the first line is typed), the upkeep after each line. Each line waits for it to end
    (`wait`), so no command ever runs beside it. A failure here is left for the command that
    needs the same thing to report."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None

    def start(self, work: Callable[[AppContext], None], app_ctx: AppContext) -> None:
        self.wait()
        self._thread = threading.Thread(target=_quietly, args=(work, app_ctx), name="foi-shell-between", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _quietly(work: Callable[[AppContext], None], app_ctx: AppContext) -> None:
    with contextlib.suppress(Exception):
        work(app_ctx)


def start_warm_up(app_ctx: AppContext) -> Between:
    """Start the session's warm-up in the background (`warm_up`); the config is read here, in
    the session's thread (a bad one is left for the first command to report)."""
    with contextlib.suppress(Exception):
        _ = app_ctx.app
    between = Between()
    between.start(warm_up, app_ctx)
    return between


def warm_up(app_ctx: AppContext) -> None:
    """What the day's commands need, loaded before the first line runs, so that no line after
    the first pays for a first use: the commands and use cases with the tables, the workflow
    and the calendar; the session's engine with its first
    connection and the reads every event command starts with (compiled once, then cached);
    then the long-lived heap frozen (`freeze_heap`). A one-off `foi show` never pays for these;
    nothing here writes. (The few statements that write are compiled by the first command
    that runs them.)"""
    try:
        for module in FIRST_USE:
            importlib.import_module(module)
        app = app_ctx.app
        _ = app.workflow, app.calendar
        if _database_exists(app_ctx):
            _warm_reads(app)
    finally:
        freeze_heap()


# The modules the day's commands import on first use: the event commands and their use cases,
# `show` and `list` (with rich, which draws the list's table), the state machine's library.
FIRST_USE = ("foi_workflow.cli.main", "foi_workflow.cli.cases", "foi_workflow.services.cases",
             "foi_workflow.services.access", "foi_workflow.services.outbox", "foi_workflow.cli.views",
             "foi_workflow.services.views", "foi_workflow.adapters.reader", "rich.console", "rich.table",
             "transitions")  # fmt: skip


def _database_exists(app_ctx: AppContext) -> bool:
    """Whether the session's database is there to be opened: a SQLite file that does not exist
    yet is left for `init` (or the first command's refusal) to create or name."""
    from sqlalchemy.engine import make_url

    url = make_url(app_ctx.config.db_url)
    if url.get_backend_name() != "sqlite":
        return True
    return bool(url.database) and "uri" not in url.query and os.path.exists(url.database or "")


def _warm_reads(app: App) -> None:
    from foi_workflow.adapters.db import checkpoint_between_commands, require_schema
    from foi_workflow.errors import NotFound
    from foi_workflow.services.case_store import case_events, closed_years, get_case

    checkpoint_between_commands(app.engine)  # before the engine's first connection
    require_schema(app.engine)
    _ = app.actor
    with app.engine.connect() as conn:  # a case that does not exist, read; rolled back
        case_events(conn, "")
        for lock in (False, True):
            with contextlib.suppress(NotFound):
                get_case(conn, "", lock=lock)
        closed_years(conn, "")


def freeze_heap() -> None:
    """Move what the session has loaded (modules, mappers, compiled statements, templates:
    tens of thousands of objects that live as long as it does) out of the cyclic garbage
    collector's reach, its garbage collected first. Unfrozen, a full collection walks them all
    (about 53,000 objects after the warm-up: 55 ms of CPU, measured on a busy machine) in
    whichever command it falls."""
    gc.collect()
    gc.freeze()


# Objects in the collector's oldest generation past which the upkeep freezes them too (a
# command such as `report` or a letter loads thousands that stay: fonts, templates).
REFREEZE_OBJECTS = 20_000


def upkeep(app_ctx: AppContext) -> None:
    """After a line: what has come to stay frozen too (`freeze_heap`) once there is much of
    it; a SQLite database's WAL checkpointed when it has grown (instead of in the commit of
    whichever command takes it past SQLite's threshold)."""
    if len(gc.get_objects(generation=2)) > REFREEZE_OBJECTS:
        freeze_heap()
    engine = app_ctx.app.opened_engine  # none opened here: a session of `show`s reads without one
    if engine is not None:
        from foi_workflow.adapters.db import checkpoint_when_idle

        checkpoint_when_idle(engine)


class Shell(cmd.Cmd):
    """The interactive session: readline's line editing, history and completion."""

    prompt = PROMPT
    intro = INTRO
    identchars = cmd.Cmd.identchars + "-"

    def __init__(self, app_ctx: AppContext, between: Between, stdout: IO[str] | None = None) -> None:
        super().__init__(stdout=stdout)
        self.app_ctx = app_ctx
        self.between = between
        self.failed = False

    # Every line goes to `foi`; `cmd`'s own do_* commands are only help and leaving.
    def onecmd(self, line: str) -> bool:
        if line.strip() in LEAVE or line == "EOF":
            if line == "EOF":
                self.stdout.write("\n")
            return True
        self.failed |= run_session_line(self.app_ctx, line, self.between) != 0
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


def interact(app_ctx: AppContext, between: Between) -> int:
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
    shell = Shell(app_ctx, between)
    while True:
        try:
            shell.cmdloop()
            break
        except KeyboardInterrupt:  # Ctrl-C at the prompt: a fresh prompt, as in bash
            shell.intro = ""
            click.echo("")
    between.wait()
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
    between = start_warm_up(app_ctx)
    try:
        status = interact(app_ctx, between) if sys.stdin.isatty() else run_script(app_ctx, sys.stdin, between)
    finally:
        between.wait()
        gc.unfreeze()  # what the session froze is the collector's again (when foi runs in another program)
        _ACTIVE = False
    if status:
        raise SystemExit(status)


# Whether a session is running in this process: `shell` typed inside one is refused.
_ACTIVE = False
