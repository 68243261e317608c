"""Every shell command in the README works: `foi` commands are run in order in a sandbox
(the walkthrough builds on itself); commands that install, run CI or need a remote server
are checked for existence and help instead."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import Foi

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_has_a_two_line_quick_start() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", quick, flags=re.S)
    assert len(block) == 1
    lines = [line for line in block[0].splitlines() if line.strip()]
    assert lines == ["scripts/install && .venv/bin/foi demo", "bash .ci/run"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/install --test" in ci and "pytest" in ci


def test_every_foi_command_in_the_readme_runs(tmp_path: Path, db_url: str) -> None:
    foi = Foi(db_url, tmp_path)
    ran = 0
    for command in shell_commands():
        words = shlex.split(command)
        if words[0] != "foi":
            continue
        result = foi(*words[1:])
        assert result.exit_code == 0, f"{command}: {result.stderr}{result.stdout}"
        ran += 1
    assert ran >= 15
    shown = json.loads(foi.ok("show", "2024-00001", "--format", "json"))
    assert shown["outcome"] == "partially_granted"
    assert shown["extended_days"] == 10
    assert (tmp_path / "2024-00001-decision.pdf").read_bytes().startswith(b"%PDF")


def test_every_other_command_in_the_readme_exists_and_has_help() -> None:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    others = [c for c in shell_commands() if not c.startswith("foi ")]
    assert others, "the README shows install, CI and benchmark commands"
    for command in others:
        for part in (p.strip() for p in command.split("&&")):
            words = shlex.split(part)
            if words[0] == "export":
                assert re.fullmatch(r"FOI_DB=postgresql\+psycopg://\S+", words[1])
                continue
            if words[0] == "bash":
                assert (ROOT / words[1]).is_file()
                continue
            program = words[0].replace(".venv/bin/", "")
            target = [str(ROOT / program)] if program.startswith(("scripts/", "benchmarks/")) else [program]
            if words[0].endswith("python"):
                target = [sys.executable, str(ROOT / words[1])]
                words = words[1:]
            args = [*target, *words[1:2], "--help"] if program == "foi" else [*target, "--help"]
            done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"{part}: {done.stderr}"
            assert done.stdout.strip()
