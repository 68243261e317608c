"""The cache of parsed workflow files (`adapters.yaml_cache`): it gives exactly what parsing
gives, follows every edit of the file, and a cache it cannot use only costs the saving."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from foi_workflow.adapters.yaml_cache import read_cached
from foi_workflow.domain.workflow import load_workflows
from foi_workflow.domain.workflow_file import read_yaml
from foi_workflow.errors import ConfigError
from foi_workflow.resources import WORKFLOWS_DIR

FILES = sorted(WORKFLOWS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_cached_definition_is_what_parsing_gives_and_is_read_from_its_copy(path: Path, tmp_path: Path) -> None:
    assert read_cached(path, tmp_path) == read_yaml(path)
    (copy,) = tmp_path.glob("*.json")
    assert json.loads(copy.read_text(encoding="utf-8")) == read_yaml(path)
    copy.write_text('{"from": "the copy"}', encoding="utf-8")
    assert read_cached(path, tmp_path) == {"from": "the copy"}  # the second read parses nothing


def test_the_workflows_load_the_same_through_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    folder.mkdir()
    for path in FILES:
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    plain = load_workflows(folder)
    cached = load_workflows(folder, read=lambda p: read_cached(p, tmp_path / "cache"))
    assert cached is plain  # loaded once per process by folder and file times
    again = load_workflows(tmp_path / "workflows", read=lambda p: read_cached(p, tmp_path / "cache"))
    assert again.disclosure.events.keys() == plain.disclosure.events.keys()


def test_an_edited_file_is_parsed_afresh(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("name: a\n", encoding="utf-8")
    assert read_cached(path, tmp_path / "cache") == {"name": "a"}
    path.write_text("name: b\n", encoding="utf-8")
    assert read_cached(path, tmp_path / "cache") == {"name": "b"}


def test_a_damaged_copy_is_parsed_again_and_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("name: a\nstates: [x, y]\n", encoding="utf-8")
    read_cached(path, tmp_path / "cache")
    (copy,) = (tmp_path / "cache").glob("*.json")
    copy.write_text('{"name": "a", "sta', encoding="utf-8")
    assert read_cached(path, tmp_path / "cache") == {"name": "a", "states": ["x", "y"]}
    assert json.loads(copy.read_text(encoding="utf-8")) == {"name": "a", "states": ["x", "y"]}
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [copy.name]  # no hidden file left


def test_a_cache_folder_that_cannot_be_written_only_costs_the_saving(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("name: a\n", encoding="utf-8")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    assert read_cached(path, blocked / "cache") == {"name": "a"}


def test_data_json_would_not_give_back_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("since: 2024-03-01\n1: one\n", encoding="utf-8")
    assert read_cached(path, tmp_path / "cache") == {"since": date(2024, 3, 1), 1: "one"}
    assert not (tmp_path / "cache").exists()


def test_a_file_that_is_not_yaml_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"flow\.yaml"):
        read_cached(path, tmp_path / "cache")
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        read_cached(tmp_path / "missing.yaml", tmp_path / "cache")
