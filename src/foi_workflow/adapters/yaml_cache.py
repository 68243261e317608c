"""The workflow definitions' parsed data, kept as JSON in the user's cache folder under the
hash of each file's text, so that a short command reads JSON instead of importing PyYAML and
parsing (together ~5 % of an event command's start-up, measured in `benchmarks/`).

The key is the SHA-256 of the file's text: an edited file has another key and is parsed
afresh; a copy that cannot be read or written is only a missed saving, never an error. Data
that JSON would not give back exactly (a date, a non-string key) is not cached."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from foi_workflow.domain.workflow_file import DataReader, parse_yaml, read_text

FORMAT = "1"  # part of the key: a change to what is stored makes every old copy unused


def cached_reader(cache_dir: Path) -> DataReader:
    """A reader for `load_workflows` that keeps its copies in `cache_dir`."""

    def read(path: Path) -> Any:
        return read_cached(path, cache_dir)

    return read


def read_cached(path: Path, cache_dir: Path) -> Any:
    text = read_text(path)
    key = hashlib.sha256(f"{FORMAT}\n{text}".encode()).hexdigest()
    copy = cache_dir / f"{key}.json"
    try:
        return json.loads(copy.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass  # not cached yet, or a damaged copy: parse, and write it again
    data = parse_yaml(text, path)
    try:
        stored = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        return data
    if json.loads(stored) == data:
        _write(copy, stored)
    return data


def _write(copy: Path, stored: str) -> None:
    """Write the copy whole (a hidden file, then a rename), or not at all."""
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        fd, hidden = tempfile.mkstemp(dir=copy.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(stored)
            os.replace(hidden, copy)
        except BaseException:
            os.unlink(hidden)
            raise
    except OSError:
        pass  # a read-only or full cache folder: the next command parses again
