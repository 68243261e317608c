"""Shared checks for refusals: one Chinese line with its code on stderr, exit status 1, and
every table exactly as it was."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import Result

TABLES = ("agency", "counter", "foi_case", "event", "appeal", "notice", "outbox", "year_close")
ONE_LINE = re.compile(r"^错误\[(E-[A-Z-]+)\]：[^\n]*[\u4e00-\u9fff][^\n]*$")


def snapshot(db_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {
                name: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2"))] for name in TABLES
            }
    finally:
        engine.dispose()


def refusal_code(result: Result) -> str:
    """The code of a proper refusal (exit 1, exactly one line in Chinese, no traceback)."""
    assert result.exit_code == 1, f"expected exit 1, got {result.exit_code}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1, f"expected one stderr line, got: {result.stderr!r}"
    match = ONE_LINE.match(lines[0])
    assert match is not None, lines[0]
    assert match.group(1) != "E-INTERNAL", lines[0]
    return match.group(1)
