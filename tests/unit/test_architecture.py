"""`docs/architecture.md` names every module of the package, and no module that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "foi_workflow"


def module_map() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return text.split("```\n")[1]  # the first code block: the tree of the package


def modules() -> set[str]:
    return {
        path.stem
        for path in PACKAGE.rglob("*.py")
        if path.stem != "__init__" and "versions" not in path.parts  # migrations are listed by folder
    }


def test_the_architecture_notes_name_every_module() -> None:
    named = set(re.findall(r"[\w]+", module_map()))
    assert sorted(modules() - named) == []


def test_the_architecture_notes_name_no_module_that_does_not_exist() -> None:
    named = set(re.findall(r"(\w+)\.py\b", module_map()))
    assert sorted(named - modules()) == []
