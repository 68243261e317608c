"""The information processing fee (《政府信息公开信息处理费管理办法》, 国办函〔2020〕109号).

Charged progressively by bracket (超额累进), on one basis only: per item (按件) or per page
(按量). Per item is counted over the applicant's requests in one natural month: a request's
fee is the charge for the items (already, already + quantity] of the month, so splitting a
month's items over several requests costs exactly what one request for all would. Per page is
counted within the one request only: earlier pages of the month never raise it.

Amounts are whole yuan: every unit price is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from foi_workflow.domain.vocabulary import FeeBasis
from foi_workflow.errors import InvalidInput, RuleViolation

# Far beyond any real request; keeps a typo from walking millions of item brackets.
MAX_QUANTITY = 1_000_000

BASIS_LABELS: dict[FeeBasis, str] = {
    FeeBasis.PER_ITEM: "按件计收",
    FeeBasis.PER_PAGE: "按量计收",
}
UNIT_LABELS: dict[FeeBasis, str] = {FeeBasis.PER_ITEM: "件", FeeBasis.PER_PAGE: "页"}


@dataclass(frozen=True)
class Bracket:
    """Units `first`..`last` of the month (inclusive; `last` None = no upper end) at `unit_price` yuan."""

    first: int
    last: int | None
    unit_price: int

    def label(self, unit: str) -> str:
        span = f"{self.first}{unit}及以上" if self.last is None else f"{self.first}—{self.last}{unit}"
        price = "免费" if self.unit_price == 0 else f"每{unit}{self.unit_price}元"
        return f"{span}：{price}"


@dataclass(frozen=True)
class BracketCharge:
    """The part of a request that falls in one bracket."""

    bracket: Bracket
    quantity: int

    @property
    def amount(self) -> int:
        return self.quantity * self.bracket.unit_price


@dataclass(frozen=True)
class FeeQuote:
    basis: FeeBasis
    quantity: int
    already_this_month: int
    amount: int  # yuan
    breakdown: tuple[BracketCharge, ...]  # only the brackets this request touches, in order

    @property
    def basis_label(self) -> str:
        return BASIS_LABELS[self.basis]

    @property
    def unit(self) -> str:
        return UNIT_LABELS[self.basis]


def brackets(basis: FeeBasis) -> Iterator[Bracket]:
    """The brackets of `basis` in order; per item they never end (each block of 10 costs ¥100 more)."""
    if basis is FeeBasis.PER_PAGE:
        yield Bracket(1, 30, 0)
        yield Bracket(31, 100, 10)
        yield Bracket(101, 200, 20)
        yield Bracket(201, None, 40)
        return
    yield Bracket(1, 10, 0)
    yield Bracket(11, 30, 100)
    first, price = 31, 200
    while True:
        yield Bracket(first, first + 9, price)
        first, price = first + 10, price + 100


def standard_lines(basis: FeeBasis, *, item_blocks: int = 3) -> list[str]:
    """The published standard in words, for the fee notice (per item: the first blocks, then the rule)."""
    unit = UNIT_LABELS[basis]
    if basis is FeeBasis.PER_PAGE:
        return [b.label(unit) for b in brackets(basis)]
    shown: list[str] = []
    for index, bracket in enumerate(brackets(basis)):
        if index >= 2 + item_blocks:
            break
        shown.append(bracket.label(unit))
    shown.append("此后每增加10件，每件收费标准提高100元")
    return shown


def _parse_basis(basis: FeeBasis | str) -> FeeBasis:
    try:
        return FeeBasis(basis)
    except ValueError:
        choices = "、".join(b.value for b in FeeBasis)
        raise InvalidInput(f"收费方式 {basis!r} 无效，应为 {choices} 之一（每件申请只能选一种）") from None


def _check_quantity(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what}应为整数：{value!r}")
    if value < 0:
        raise InvalidInput(f"{what}不能为负数：{value}")
    if value > MAX_QUANTITY:
        raise InvalidInput(f"{what}过大：{value}（上限 {MAX_QUANTITY}）")


def counted_over_the_month(basis: FeeBasis | str) -> bool:
    """Whether the applicant's earlier requests of the month count (per item only)."""
    return _parse_basis(basis) is FeeBasis.PER_ITEM


def quote(basis: FeeBasis | str, quantity: int, already_this_month: int = 0) -> FeeQuote:
    """The fee for `quantity` units on `basis`, given the applicant's earlier units this month
    (ignored per page: pages are counted within the one request)."""
    chosen = _parse_basis(basis)
    _check_quantity(quantity, "数量")
    _check_quantity(already_this_month, "本月此前已计数量")
    if chosen is FeeBasis.PER_PAGE:
        already_this_month = 0
    start, end = already_this_month + 1, already_this_month + quantity  # units charged now
    parts: list[BracketCharge] = []
    if quantity:
        for bracket in brackets(chosen):
            if bracket.first > end:
                break
            top = end if bracket.last is None else min(end, bracket.last)
            low = max(start, bracket.first)
            if top >= low:
                parts.append(BracketCharge(bracket, top - low + 1))
    return FeeQuote(
        basis=chosen,
        quantity=quantity,
        already_this_month=already_this_month,
        amount=sum(p.amount for p in parts),
        breakdown=tuple(parts),
    )


def notice_quote(basis: FeeBasis | str, quantity: int, already_this_month: int, amount: object = None) -> FeeQuote:
    """The fee a fee notice must state; refused when the request costs nothing (no notice is
    sent then) or when a stated `amount` differs from it."""
    result = quote(basis, quantity, already_this_month)
    unit = result.unit
    counted = f"本次{quantity}{unit}"
    if result.already_this_month:
        counted += f"，该申请人本月此前已计{result.already_this_month}{unit}"
    if result.amount == 0:
        raise RuleViolation(f"{result.basis_label}（{counted}）不收取信息处理费，不应发出收费通知")
    if amount is not None and _yuan(amount) != result.amount:
        raise RuleViolation(
            f"收费金额应为 {result.amount} 元（{result.basis_label}，{counted}），而不是 {amount} 元"
        )
    return result


def _yuan(amount: object) -> Decimal | None:
    try:
        return Decimal(str(amount))
    except InvalidOperation:
        return None
