"""`foi shell` driven through standard input: the same commands, output and errors as separate
`foi` commands, each committed on its own; an error ends that command, not the session."""

from __future__ import annotations

import os
import pty
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.cli_helpers import INTAKE, database_state, show
from tests.conftest import Foi


def test_a_script_records_events_as_the_separate_commands_would(foi: Foi) -> None:
    script = "\n".join(
        [
            f"{INTAKE} --on 2024-03-01 --id SH-1",
            "assign SH-1 李四 --on 2024-03-04",
            "decide SH-1 --outcome granted --on 2024-03-05",
            "show SH-1",
        ]
    )
    result = foi("shell", input=script + "\n")
    assert result.exit_code == 0, result.stderr
    assert _errors(result.stderr) == []  # stderr holds only what a person reads (the reply due date)
    detail = show(foi, "SH-1")
    assert [e["event"] for e in detail["events"]] == ["receive", "assign", "decide"]
    assert detail["outcome"] == "granted"
    # The output is that of each command in turn: the id intake prints, then each event line.
    lines = result.stdout.splitlines()
    assert lines[0] == "SH-1"
    assert lines[1].startswith("案件 SH-1：已记录 assign（2024-03-04）")
    assert lines[2].startswith("案件 SH-1：已记录 decide（2024-03-05）")
    assert result.stdout.endswith(foi.ok("show SH-1"))


def test_an_error_ends_that_command_and_the_session_goes_on(foi: Foi) -> None:
    alone = foi("show NOSUCH-1")
    before = database_state(foi)
    script = f"show NOSUCH-1\ndecide NOSUCH-1 --outcome granted\n{INTAKE} --on 2024-03-01 --id SH-2\n"
    result = foi("shell", input=script)
    assert result.exit_code == 1  # a command failed
    errors = _errors(result.stderr)
    assert errors[0] == alone.stderr.strip()
    assert errors[1].startswith("错误[E-NOT-FOUND]：")
    assert len(errors) == 2
    assert result.stdout == "SH-2\n"  # the command after the errors ran, and was committed
    assert show(foi, "SH-2")["state"] == "received"
    assert database_state(foi) != before


def test_a_refused_command_in_the_shell_leaves_the_database_as_it_was(foi: Foi) -> None:
    foi.ok(f"{INTAKE} --on 2024-03-01 --id SH-3")
    before = database_state(foi)
    result = foi("shell", input="decide SH-3 --outcome bogus --on 2024-03-02\nextend SH-3 --days 99 --approved-by 王\n")
    assert result.exit_code == 1
    assert [line.split("：")[0] for line in result.stderr.splitlines()] == ["错误[E-INPUT]", "错误[E-RULE]"]
    assert database_state(foi) == before


def test_a_usage_error_prints_what_the_separate_command_prints(foi: Foi) -> None:
    alone = [foi("list --state"), foi("nosuch-command")]
    assert [r.exit_code for r in alone] == [2, 2]
    result = foi("shell", input="list --state\nnosuch-command\n")
    assert result.exit_code == 1
    assert result.stderr == "".join(r.stderr for r in alone)


def test_blank_lines_comments_and_a_leading_foi_are_skipped(foi: Foi) -> None:
    script = (
        f"# the morning's post\n\n   \nfoi {INTAKE} --on 2024-03-01 --id SH-4\n"
        "  assign SH-4 王五 --on 2024-03-01  # by phone\n"
    )
    result = foi("shell", input=script)
    assert result.exit_code == 0, result.stderr
    assert show(foi, "SH-4")["events"][-1]["data"] == {"caseworker": "王五"}


def test_an_open_quote_is_a_usage_error_of_that_line_only(foi: Foi) -> None:
    result = foi("shell", input=f'assign SH-5 "李 四\n{INTAKE} --on 2024-03-01 --id SH-5\n')
    assert result.exit_code == 1
    assert result.stderr.startswith("错误[E-USAGE]：")
    assert len(_errors(result.stderr)) == 1
    assert result.stdout == "SH-5\n"


def test_a_shell_inside_the_shell_is_refused(foi: Foi, tmp_path: Path) -> None:
    result = foi("shell", input=f"shell\n--db sqlite:///{tmp_path / 'x.db'} shell\noutcomes\n")
    assert result.exit_code == 1
    assert result.stderr.count("已在 foi shell 中") == 2  # a usage error each, the session goes on
    assert "granted" in result.stdout


def test_a_line_with_its_own_db_uses_that_database_for_that_line_only(foi: Foi, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    foi.ok(f"{INTAKE} --on 2024-03-01 --id SH-6")
    script = f"--db sqlite:///{other} init\n--db sqlite:///{other} list --format json\nshow SH-6 --format json\n"
    result = foi("shell", input=script)
    assert result.exit_code == 0, result.stderr
    assert "[]" in result.stdout  # the other database is empty
    assert '"id": "SH-6"' in result.stdout  # the next line is back on the session's database


def test_help_shows_a_commands_help_and_exit_ends_the_session(foi: Foi) -> None:
    result = foi("shell", input="help assign\nexit\nshow NOSUCH-1\n")
    assert (result.exit_code, result.stderr) == (0, "")  # the line after exit never ran
    assert result.stdout == foi.ok("assign --help")


def test_an_empty_script_succeeds(foi: Foi) -> None:
    result = foi("shell", input="")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 60.0) -> bytes:
    """Read the terminal until `wanted` has appeared (after what was seen already)."""
    start = len(seen)
    deadline = time.monotonic() + timeout
    while wanted not in seen[start:]:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {wanted!r} on the terminal; it shows: {bytes(seen)!r}")
        try:
            seen += os.read(fd, 4096)
        except OSError:  # the session ended
            raise AssertionError(f"the session ended before {wanted!r}: {bytes(seen)!r}") from None
    return bytes(seen[start:])


def test_at_a_terminal_tab_completes_commands_and_case_ids_and_history_is_kept(foi: Foi, tmp_path: Path) -> None:
    foi.ok(f"{INTAKE} --on 2024-03-01 --id TERM-7")
    data_home = tmp_path / "data"
    env = {**os.environ, "XDG_DATA_HOME": str(data_home), "TERM": "dumb", "FOI_DB": foi.db_url}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "foi"), "shell"],
        stdin=secondary, stdout=secondary, stderr=secondary, cwd=tmp_path, env=env, close_fds=True,
    )  # fmt: skip
    os.close(secondary)
    seen = bytearray()
    try:
        _read_until(primary, b"foi> ", seen)
        os.write(primary, b"sho\t")  # a command name
        assert b"show " in _read_until(primary, b"show ", seen)
        os.write(primary, b"TERM\t")  # a case id from the database
        _read_until(primary, b"TERM-7 ", seen)
        os.write(primary, b"\r")
        assert "案件 TERM-7（default）".encode() in _read_until(primary, b"foi> ", seen)
        os.write(primary, b"show NOSUCH-1\r")
        assert "错误[E-NOT-FOUND]".encode() in _read_until(primary, b"foi> ", seen)
        os.write(primary, b"exit\r")
        assert process.wait(timeout=60) == 1  # one command failed
    finally:
        process.kill()
        os.close(primary)
    history = data_home / "foi-workflow" / "shell_history"
    text = history.read_text(encoding="utf-8")
    assert "show TERM-7" in text and "show NOSUCH-1" in text
    assert stat.S_IMODE(history.stat().st_mode) == 0o600  # it names applicants, as the database does


def _errors(stderr: str) -> list[str]:
    """The refusals among the lines on stderr (intake's reply due date and hints are not)."""
    return [line for line in stderr.splitlines() if line.startswith("错误[")]


def test_the_warm_up_as_a_session_starts_writes_nothing(foi: Foi, tmp_path: Path) -> None:
    foi.ok(f"{INTAKE} --on 2024-03-01 --id SH-8")
    before = database_state(foi)
    assert foi("shell", input="exit\n").exit_code == 0
    assert database_state(foi) == before
    missing = tmp_path / "not-yet.db"  # a SQLite file not created yet is left for `init` to create
    result = foi("--db", f"sqlite:///{missing}", "shell", input="exit\n")
    assert result.exit_code == 0, result.stderr
    assert not missing.exists()
