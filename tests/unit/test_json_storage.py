"""JSON on the way in and out of the event log: import lines read by orjson with the stdlib
deciding whatever orjson refuses, and SQLite's JSON columns written as compact UTF-8."""

from __future__ import annotations

import json

import pytest

from foi_workflow.adapters.db import json_text
from foi_workflow.errors import InvalidInput
from foi_workflow.services.import_format import parse_line


def test_json_columns_are_compact_utf8_and_read_back_equal() -> None:
    value = {"applicant": "张三", "days": 5, "amount": 100.5, "items": ["第一项", None, True]}
    text = json_text(value)
    assert text == '{"applicant":"张三","days":5,"amount":100.5,"items":["第一项",null,true]}'
    assert json.loads(text) == value


def test_an_integer_beyond_64_bits_is_written_by_the_stdlib_in_the_same_form() -> None:
    assert json_text({"quantity": 2**70, "名": "x"}) == '{"quantity":1180591620717411303424,"名":"x"}'


def test_import_lines_read_what_the_stdlib_reads() -> None:
    line = '{"case": "A-1", "event": "receive", "on": "2024-03-01", "quantity": 1180591620717411303424}'
    assert parse_line(1, line)["quantity"] == 2**70  # beyond orjson: read by json


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('\ufeff{"case": "A-1", "event": "receive", "on": "2024-03-01"}', "Unexpected UTF-8 BOM"),
        ('{"case": "A-1", "event": ', "Expecting value"),
        ("[1, 2]", "每行应为一个 JSON 对象"),
        ('{"case": "A-1", "on": "2024-03-01"}', "缺少字段 event"),
    ],
)
def test_bad_import_lines_are_refused_with_the_stdlib_reason(line: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_line(1, line)
    assert reason in refused.value.message
