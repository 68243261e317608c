"""Each command's one-line help is written once (`cli/commands.py`): `foi --help` lists it and
the command's own `--help` opens with it."""

from __future__ import annotations

import importlib

import click

from foi_workflow.cli.commands import COMMANDS


def test_each_command_opens_its_own_help_with_the_line_foi_help_lists() -> None:
    for name, (target, line) in COMMANDS.items():
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(f"foi_workflow.cli.{module_name}"), attr)
        assert isinstance(command, click.Command)
        assert (command.help or "").split("\n\n")[0] == line, name
        assert command.get_short_help_str(limit=200) == line.rstrip("."), name
