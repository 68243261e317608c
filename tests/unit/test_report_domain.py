"""The report maths: assembly of tables 3 and 4 from aggregate rows, the JSON contract, the
check of a submitted report, live-vs-frozen differences, and the report inputs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from foi_workflow.domain.report import (
    ReportFigures,
    Table3Count,
    Table4Count,
    assemble_table3,
    assemble_table4,
    diff_figures,
    sum_figures,
    weighted_median,
)
from foi_workflow.domain.report_check import SubmittedReport, check_report
from foi_workflow.domain.report_inputs import fill, parse_report_inputs
from foi_workflow.domain.vocabulary import TABLE3_COLUMNS, TABLE3_ROWS
from foi_workflow.errors import ConfigError, InvalidInput


def figures() -> ReportFigures:
    t3 = assemble_table3([
        Table3Count("natural_person", "granted", 2, 1, 1, 0),
        Table3Count("natural_person", None, 0, 1, 0, 1),
        Table3Count("commercial", "withheld.state_secret", 1, 0, 1, 0),
        Table3Count("other", "other.other", 1, 1, 0, 0),
    ])
    t4 = assemble_table4([Table4Count("review", "upheld", 2), Table4Count("review", "pending", 1),
                          Table4Count("litigation_after_review", "corrected", 1)])
    return ReportFigures(2024, None, t3, t4)


def test_table3_adds_rows_columns_and_handled_total() -> None:
    t3 = figures().table3
    assert t3.rows["received"] == (2, 0, 0, 0, 0, 1, 3)
    assert t3.rows["carried_in"] == (1, 1, 0, 0, 0, 0, 2)
    assert t3.rows["granted"] == (2, 0, 0, 0, 0, 0, 2)
    assert t3.rows["handled_total"] == (2, 1, 0, 0, 0, 1, 4)
    assert t3.rows["carried_out"] == (1, 0, 0, 0, 0, 0, 1)
    assert t3.balanced


def test_table4_rows_end_with_their_total() -> None:
    t4 = figures().table4
    assert t4.rows["review"] == (2, 0, 0, 1, 3)
    assert t4.rows["litigation_direct"] == (0, 0, 0, 0, 0)
    assert t4.rows["litigation_after_review"] == (0, 1, 0, 0, 1)


def test_an_unbalanced_column_is_named() -> None:
    t3 = assemble_table3([Table3Count("research", "granted", 1, 0, 0, 0)])
    assert t3.imbalances() == ["research", "total"]
    assert not t3.balanced


def test_a_decided_case_without_outcome_unbalances_its_column() -> None:
    t3 = assemble_table3([Table3Count("commercial", None, 1, 1, 0, 0)])
    assert t3.imbalances() == ["commercial", "total"]


def test_unknown_codes_in_aggregate_rows_are_refused() -> None:
    with pytest.raises(InvalidInput):
        assemble_table3([Table3Count("alien", None, 0, 1, 0, 1)])
    with pytest.raises(InvalidInput):
        assemble_table3([Table3Count("other", "carried_out", 1, 1, 0, 0)])
    with pytest.raises(InvalidInput):
        assemble_table4([Table4Count("appeal", "upheld", 1)])


def test_json_follows_the_contract_key_order() -> None:
    data = figures().to_json()
    assert list(data) == ["year", "agency", "table3", "table4", "balanced"]
    assert data["table3"]["columns"] == list(TABLE3_COLUMNS)
    assert list(data["table3"]["rows"]) == list(TABLE3_ROWS)
    assert list(data["table4"]) == ["review", "litigation_direct", "litigation_after_review"]
    assert ReportFigures.from_json(data) == figures()


def test_sum_of_agencies_adds_cell_by_cell() -> None:
    total = sum_figures(2024, [figures(), figures()])
    assert total.table3.rows["received"] == (4, 0, 0, 0, 0, 2, 6)
    assert total.table4.rows["review"] == (4, 0, 0, 2, 6)
    assert total.agency is None


def test_a_consistent_report_has_no_inconsistencies() -> None:
    assert check_report(SubmittedReport.from_json(figures().to_json())) == []


def planted() -> dict[str, Any]:
    data = copy.deepcopy(figures().to_json())
    rows = data["table3"]["rows"]
    rows["received"][6] = 5  # row total wrong
    rows["granted"][1] = 1  # handled_total of commercial no longer the sum; commercial unbalanced
    rows["partially_granted"][2] = "x"  # not a number
    del rows["carried_out"]  # missing row
    data["table4"]["review"][4] = 9  # block total wrong
    return data


def test_check_lists_every_planted_inconsistency_by_cell() -> None:
    problems = check_report(SubmittedReport.from_json(planted()))
    cells = [p.cell for p in problems]
    assert "table3.received.total" in cells
    assert "table3.handled_total.commercial" in cells
    assert "table3.partially_granted.research" in cells
    assert "table3.carried_out" in cells
    assert "table4.review.total" in cells
    assert all(p.message for p in problems)


def test_check_finds_an_unbalanced_column_and_a_false_balanced_flag() -> None:
    data = copy.deepcopy(figures().to_json())
    data["table3"]["rows"]["carried_out"][0] += 1
    data["table3"]["rows"]["carried_out"][6] += 1
    cells = [p.cell for p in check_report(SubmittedReport.from_json(data))]
    assert cells == ["table3.*.natural_person", "table3.*.total", "balanced"]


def test_diff_lists_only_cells_that_moved() -> None:
    live = figures()
    frozen_json = live.to_json()
    frozen_json["table3"]["rows"]["granted"][0] = 1
    diffs = diff_figures(live, ReportFigures.from_json(frozen_json), "default")
    assert [(d.cell, d.frozen, d.live) for d in diffs] == [("table3.granted.natural_person", 1, 2)]
    assert "予以公开" in diffs[0].line() and "自然人" in diffs[0].line()


def test_weighted_median_of_counted_values() -> None:
    assert weighted_median([]) is None
    assert weighted_median([(5, 3)]) == 5
    assert weighted_median([(1, 1), (10, 1)]) == 5.5
    assert weighted_median([(3, 2), (1, 1), (20, 1)]) == 3


def test_report_inputs_are_read_and_checked() -> None:
    inputs = parse_report_inputs({
        "title": "{agency} {year} 年报告", "overview": "收到申请{received}件。",
        "table2": {"regulations": {"issued": 1, "repealed": 0, "in_force": 3}, "licensing": 4, "fees": 1.25},
    })
    assert inputs.table2.regulations.in_force == 3
    assert inputs.table2.fees_text == "1.25"
    assert fill(inputs.overview, {"received": "7"}) == "收到申请7件。"
    assert fill("{{不是占位符}}", {}) == "{不是占位符}"


@pytest.mark.parametrize("data", [
    {"overveiw": "typo"},
    {"table2": {"licencing": 1}},
    {"table2": {"regulations": {"issued": -1}}},
    {"overview": "收到{recieved}件"},
    {"table2": {"fees": "很多"}},
])
def test_mistakes_in_report_inputs_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_report_inputs(data, source="reports/2024.toml")


def test_the_commented_template_in_config_reports_is_valid() -> None:
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "config" / "reports" / "example.toml"
    inputs = parse_report_inputs(tomllib.loads(path.read_text(encoding="utf-8")), source=str(path))
    assert "{received}" in inputs.overview
