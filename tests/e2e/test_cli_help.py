"""Every command and subcommand of `foi` explains itself: `--help` exits 0 and prints help text."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import click
import pytest

from foi_workflow.cli.main import COMMANDS
from tests.conftest import Foi


def _command(name: str) -> click.Command:
    module_name, attr = COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(f"foi_workflow.cli.{module_name}"), attr)
    assert isinstance(command, click.Command)
    return command


def _every_path() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []

    def walk(prefix: tuple[str, ...], command: click.Command) -> None:
        paths.append(prefix)
        if isinstance(command, click.Group):
            for sub_name, sub in command.commands.items():
                walk((*prefix, sub_name), sub)

    for name in COMMANDS:
        walk((name,), _command(name))
    return paths


@pytest.fixture
def cli(tmp_path: Path) -> Foi:
    return Foi(f"sqlite:///{tmp_path / 'never-opened.db'}", tmp_path)


def test_the_top_level_help_lists_every_command(cli: Foi, tmp_path: Path) -> None:
    out = cli.ok("--help")
    for name, (_, short_help) in COMMANDS.items():
        assert name in out and short_help in out
    assert not (tmp_path / "never-opened.db").exists()


def test_every_command_module_imports_and_every_command_has_a_help_text() -> None:
    for path in _every_path():
        command = _command(path[0])
        for sub in path[1:]:
            assert isinstance(command, click.Group)
            command = command.commands[sub]
        assert (command.help or "").strip(), f"foi {' '.join(path)} has no help text"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert (param.help or "").strip() or param.is_flag, (
                    f"foi {' '.join(path)} {param.opts[0]} has no help text"
                )


@pytest.mark.parametrize("path", _every_path(), ids=lambda p: " ".join(p))
def test_help_exits_zero(cli: Foi, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("用法：foi ") and len(result.stdout.strip().splitlines()) >= 3
    assert not re.search(r"Usage|Options|Show this message|\[required\]|\[default:", result.stdout)
