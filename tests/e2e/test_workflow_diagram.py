"""`foi workflow diagram` draws the shared machine, and the README shows that very drawing."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import Foi

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_shows_the_diagram_the_command_draws(tmp_path: Path) -> None:
    foi = Foi(f"sqlite:///{tmp_path / 'never-opened.db'}", tmp_path)
    drawn = foi.ok("workflow", "diagram")
    (block,) = re.findall(r"```mermaid\n(.*?)```", README, flags=re.S)
    assert block == drawn
    assert "request_correction [correction_only_once & correction_period_positive]" in drawn
    assert not (tmp_path / "never-opened.db").exists()


def test_the_appeal_workflow_is_drawn_on_request(tmp_path: Path) -> None:
    foi = Foi(f"sqlite:///{tmp_path / 'never-opened.db'}", tmp_path)
    drawn = foi.ok("workflow", "diagram", "--workflow", "appeal", "--format", "mermaid")
    assert 'state "pending 尚未审结" as pending' in drawn and "pending --> concluded: conclude" in drawn
    result = foi("workflow", "diagram", "--format", "dot")
    assert result.exit_code == 2 and "dot" in result.stderr
