"""The pure rules of the input boundary (`domain.boundary`) and the facts they are given:
limits derived from the table declarations, the schema revisions this foi knows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import String

from foi_workflow.adapters.models import Appeal, Case, Event
from foi_workflow.adapters.schema import VERSIONS_DIR, known_revisions
from foi_workflow.adapters.tables import column_limits
from foi_workflow.domain.boundary import (
    MAX_AMOUNT,
    MAX_INT,
    BadValue,
    clean_amount,
    clean_id,
    clean_int,
    clean_text,
    json_depth_ok,
    spreadsheet_text,
)


def test_the_limits_are_the_lengths_the_tables_declare() -> None:
    limits = column_limits()
    for model, derived in ((Case, limits.case), (Event, limits.event), (Appeal, limits.appeal)):
        declared = {
            c.name: c.type.length for c in model.__table__.columns if isinstance(c.type, String) and c.type.length
        }
        assert derived == declared and declared
    assert limits.case["id"] == 64 == limits.appeal["id"]


def test_every_shipped_migration_is_a_known_revision() -> None:
    files = [p for p in VERSIONS_DIR.glob("*.py") if not p.name.startswith("_")]
    assert len(known_revisions()) == len(files) and "0001" in known_revisions()


@pytest.mark.parametrize("char", ["\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u202e", "\ud800"])
def test_a_name_refuses_line_breaks_controls_and_lone_surrogates(char: str) -> None:
    with pytest.raises(BadValue):
        clean_text("applicant", "申请人", f"张{char}三", "line")


def test_free_text_keeps_its_lines_but_not_nul() -> None:
    assert clean_text("request", "申请内容", " 第一行\n第二行\t（表） ") == "第一行\n第二行\t（表）"
    with pytest.raises(BadValue, match="U\\+0000"):
        clean_text("request", "申请内容", "a\x00b")


@pytest.mark.parametrize("value", ["A B", "A\u200bB", "\ufeffA", " A"])
def test_an_id_has_no_whitespace_or_invisible_characters(value: str) -> None:
    with pytest.raises(BadValue):
        clean_id("case", "案件编号", value, 64)


@given(st.integers())
def test_a_whole_number_is_accepted_exactly_when_it_is_within_bounds(number: int) -> None:
    if -MAX_INT <= number <= MAX_INT:
        assert clean_int("days", "延长天数", number) == number
    else:
        with pytest.raises(BadValue, match="超出范围"):
            clean_int("days", "延长天数", number)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e400, 5.5, True, "5.0", "٥", "1_0", [5], None])
def test_what_is_not_a_whole_number_is_refused(value: object) -> None:
    with pytest.raises(BadValue):
        clean_int("days", "延长天数", value)


@pytest.mark.parametrize("value", ["Infinity", "NaN", "1e308", 1e308, "-1", "0.001", MAX_AMOUNT + 1, True, {}])
def test_an_amount_is_finite_bounded_and_in_cents(value: object) -> None:
    with pytest.raises(BadValue):
        clean_amount("amount", "金额", value if not isinstance(value, Decimal) else str(value))


def test_an_amount_keeps_its_cents() -> None:
    assert clean_amount("amount", "金额", "12.50") == 12.5
    assert clean_amount("amount", "金额", 30) == 30


def test_nesting_is_measured_outside_strings() -> None:
    assert json_depth_ok('{"a": "' + "[" * 500 + '"}')
    assert not json_depth_ok("[" * 65 + "]" * 65)
    assert json_depth_ok("[" * 64 + "]" * 64)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_that_would_start_a_formula_becomes_text(value: str) -> None:
    assert spreadsheet_text(value) == "'" + value


def test_other_cells_are_left_alone() -> None:
    assert spreadsheet_text("张三") == "张三" and spreadsheet_text(-1) == -1 and spreadsheet_text(None) is None
