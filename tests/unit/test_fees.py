"""The information processing fee (国办函〔2020〕109号): brackets, monthly accumulation, one basis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foi_workflow.domain.fees import notice_quote, quote, standard_lines
from foi_workflow.domain.vocabulary import FeeBasis
from foi_workflow.errors import InvalidInput, RuleViolation


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [(1, 0), (10, 0), (11, 100), (30, 2_000), (31, 2_200), (40, 4_000), (41, 4_300), (45, 5_500), (50, 7_000)],
)
def test_per_item_fees_follow_the_brackets(quantity: int, amount: int) -> None:
    assert quote(FeeBasis.PER_ITEM, quantity).amount == amount


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [(1, 0), (30, 0), (31, 10), (100, 700), (101, 720), (200, 2_700), (201, 2_740), (2_219, 83_460)],
)
def test_per_page_fees_follow_the_brackets(quantity: int, amount: int) -> None:
    assert quote(FeeBasis.PER_PAGE, quantity).amount == amount


def test_the_reported_case_of_2219_pages_costs_83460_yuan_bracket_by_bracket() -> None:
    result = quote("per_page", 2_219)
    assert result.amount == 83_460
    assert [(p.bracket.first, p.bracket.last, p.quantity, p.amount) for p in result.breakdown] == [
        (1, 30, 30, 0),
        (31, 100, 70, 700),
        (101, 200, 100, 2_000),
        (201, None, 2_019, 80_760),
    ]


def test_each_further_block_of_ten_items_costs_one_hundred_yuan_more_per_item() -> None:
    prices = [p.bracket.unit_price for p in quote("per_item", 75).breakdown]
    assert prices == [0, 100, 200, 300, 400, 500, 600]


def test_earlier_requests_of_the_month_push_a_request_into_higher_brackets() -> None:
    alone = quote("per_item", 5)
    after_eight = quote("per_item", 5, already_this_month=8)
    assert alone.amount == 0
    assert after_eight.amount == 300  # items 11, 12, 13 of the month
    assert [(p.bracket.first, p.quantity) for p in after_eight.breakdown] == [(1, 2), (11, 3)]


def test_a_quote_for_nothing_is_free_and_has_no_breakdown() -> None:
    result = quote("per_page", 0)
    assert result.amount == 0
    assert result.breakdown == ()


@pytest.mark.parametrize(
    ("basis", "quantity", "already"),
    [("per_volume", 3, 0), ("per_item,per_page", 3, 0), ("per_item", -1, 0), ("per_page", 5, -2)],
)
def test_a_bad_basis_or_negative_quantity_is_refused(basis: str, quantity: int, already: int) -> None:
    with pytest.raises(InvalidInput):
        quote(basis, quantity, already)


def test_the_published_standard_is_worded_for_the_notice() -> None:
    assert standard_lines(FeeBasis.PER_PAGE) == [
        "1—30页：免费",
        "31—100页：每页10元",
        "101—200页：每页20元",
        "201页及以上：每页40元",
    ]
    item_lines = standard_lines(FeeBasis.PER_ITEM)
    assert item_lines[:3] == ["1—10件：免费", "11—30件：每件100元", "31—40件：每件200元"]
    assert "每增加10件" in item_lines[-1]


def _unit_price(basis: FeeBasis, n: int) -> int:
    """The price of the n-th unit of the month, straight from the rule's words."""
    if basis is FeeBasis.PER_PAGE:
        return 0 if n <= 30 else 10 if n <= 100 else 20 if n <= 200 else 40
    if n <= 10:
        return 0
    if n <= 30:
        return 100
    return 100 * ((n - 31) // 10 + 2)


bases = st.sampled_from(list(FeeBasis))
quantities = st.integers(min_value=0, max_value=600)


@settings(max_examples=200, deadline=None)
@given(bases, quantities, quantities)
def test_the_fee_is_the_sum_of_the_unit_prices_of_the_units_it_counts(basis: FeeBasis, q: int, already: int) -> None:
    counted_before = already if basis is FeeBasis.PER_ITEM else 0  # pages count within one request
    expected = sum(_unit_price(basis, n) for n in range(counted_before + 1, counted_before + q + 1))
    result = quote(basis, q, already)
    assert result.amount == expected
    assert sum(p.amount for p in result.breakdown) == expected
    assert sum(p.quantity for p in result.breakdown) == q


@settings(max_examples=200, deadline=None)
@given(bases, quantities, st.integers(min_value=0, max_value=100), quantities)
def test_the_fee_never_falls_when_the_quantity_grows(basis: FeeBasis, q: int, more: int, already: int) -> None:
    assert quote(basis, q + more, already).amount >= quote(basis, q, already).amount


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=8))
def test_splitting_a_months_items_over_requests_costs_the_same(parts: list[int]) -> None:
    total, already = 0, 0
    for q in parts:
        total += quote(FeeBasis.PER_ITEM, q, already).amount
        already += q
    assert total == quote(FeeBasis.PER_ITEM, sum(parts)).amount


@settings(max_examples=100, deadline=None)
@given(quantities, quantities)
def test_earlier_pages_of_the_month_never_raise_a_per_page_fee(q: int, already: int) -> None:
    assert quote(FeeBasis.PER_PAGE, q, already).amount == quote(FeeBasis.PER_PAGE, q).amount


def test_a_fee_notice_must_state_the_fee_and_a_free_request_gets_none() -> None:
    assert notice_quote("per_item", 12, 0).amount == 200
    assert notice_quote("per_item", 12, 0, "200.00").amount == 200
    with pytest.raises(RuleViolation, match="应为 300 元"):
        notice_quote("per_item", 3, 10, 100)
    with pytest.raises(RuleViolation, match="不收取"):
        notice_quote("per_page", 30, 500)
