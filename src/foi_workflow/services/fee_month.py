"""The fee a fee notice states, settled by the fee rules where an event enters the system
(`advance` and the import): per item counts the applicant's earlier items of the month, which
only the database (and the file being imported) know."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from foi_workflow.adapters.tables import Case, Event
from foi_workflow.domain import fees


def stored_month_quantity(
    session: Session,
    *,
    agency: str,
    applicant: str,
    case_id: str,
    on: date,
    basis: str,
    before_seq: int | None = None,
) -> int:
    """The applicant's quantity on `basis` in the stored fee notices of other cases from the
    first of `on`'s month up to `on` (that day's only up to `before_seq`, when given)."""
    if not fees.counted_over_the_month(basis):
        return 0
    rows = session.scalars(
        select(Event)
        .join(Case, col(Case.id) == col(Event.case_id))
        .where(
            col(Case.agency) == agency,
            col(Case.applicant) == applicant,
            col(Case.id) != case_id,
            col(Event.event) == "fee_notice",
            col(Event.on) >= on.replace(day=1),
            col(Event.on) <= on,
        )
    )
    # One recorded after this one the same day counts this request, not the other way round.
    earlier = (row for row in rows if before_seq is None or row.on < on or (row.seq or 0) < before_seq)
    return month_total((row.data or {} for row in earlier), basis)


def month_total(datas: Iterable[Any], basis: str) -> int:
    """The summed quantity of the fee notices (their data) on `basis`."""
    total = 0
    for data in datas:
        if isinstance(data, dict) and data.get("basis") == basis:
            quantity = data.get("quantity", 0)
            total += quantity if isinstance(quantity, int) else 0
    return total


def settle_amount(clean: MutableMapping[str, Any], already_this_month: int) -> None:
    """Check the notice's amount against the fee rules (refused: a free request, a wrong sum) and
    store the right one."""
    result = fees.notice_quote(clean["basis"], int(clean["quantity"]), already_this_month, clean.get("amount"))
    clean["amount"] = result.amount


class FileFees:
    """An import's fee check: per item also counts the applicant's fee notices earlier in the
    file (in file order, which only a serial replay follows)."""

    def __init__(self) -> None:
        # By (agency, applicant, year, month): (date, case, items) of the file's per-item notices.
        self.seen: dict[tuple[str, str, int, int], list[tuple[date, str, int]]] = {}

    def settle(
        self, session: Session, agency: str, applicant: str, case_id: str, on: date, clean: MutableMapping[str, Any]
    ) -> None:
        already = 0
        if fees.counted_over_the_month(clean["basis"]):
            already = stored_month_quantity(
                session, agency=agency, applicant=applicant, case_id=case_id, on=on, basis=clean["basis"]
            )
            earlier = self.seen.setdefault((agency, applicant, on.year, on.month), [])
            already += sum(quantity for day, other, quantity in earlier if day <= on and other != case_id)
            earlier.append((on, case_id, int(clean["quantity"])))
        settle_amount(clean, already)
