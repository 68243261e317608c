"""The fee a fee notice states, settled by the fee rules where an event enters the system
(`advance` and the import): per item counts the applicant's earlier items of the month, which
only the database (and the file being imported) know."""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from foi_workflow.adapters.tables import CASE_TABLE, EVENT_TABLE
from foi_workflow.domain import fees
from foi_workflow.domain.vocabulary import FeeBasis

if TYPE_CHECKING:
    from foi_workflow.services.case_store import Db


def stored_month_quantity(
    db: Db,
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
    case, ev = CASE_TABLE.c, EVENT_TABLE.c
    rows = db.execute(
        select(ev.on, ev.seq, ev.data)
        .join_from(EVENT_TABLE, CASE_TABLE, case.id == ev.case_id)
        .where(
            case.agency == agency,
            case.applicant == applicant,
            case.id != case_id,
            ev.event == "fee_notice",
            ev.on >= on.replace(day=1),
            ev.on <= on,
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
        # For a parallel replay, worked out in file order beforehand: line index -> earlier items.
        self.planned: dict[int, int] = {}

    def settle(
        self, session: Db, agency: str, applicant: str, case_id: str, on: date, clean: MutableMapping[str, Any]
    ) -> None:
        already = 0
        if fees.counted_over_the_month(clean["basis"]):
            already = self.earlier(session, agency, applicant, case_id, on, int(clean["quantity"]))
        settle_amount(clean, already)

    def earlier(self, session: Db, agency: str, applicant: str, case_id: str, on: date, quantity: int) -> int:
        """The applicant's items of the month before this notice (stored, then earlier in the file)."""
        already = stored_month_quantity(
            session, agency=agency, applicant=applicant, case_id=case_id, on=on, basis=FeeBasis.PER_ITEM.value
        )
        seen = self.seen.setdefault((agency, applicant, on.year, on.month), [])
        already += sum(items for day, other, items in seen if day <= on and other != case_id)
        seen.append((on, case_id, quantity))
        return already

    def plan(self, session: Db, lines: Sequence[str], default_agency: str) -> None:
        """Each per-item fee notice's earlier items of the month, worked out in file order."""
        parsed = [
            (i, obj)
            for i, line in enumerate(lines)
            if '"fee_notice"' in line and '"per_item"' in line and isinstance(obj := json.loads(line), dict)
        ]
        if not parsed:
            return
        wanted = {case for _, obj in parsed if isinstance(case := obj.get("case"), str)}
        who: dict[str, tuple[str, str]] = {}
        for line in lines:
            if '"receive"' in line:
                obj = json.loads(line)
                if isinstance(obj, dict) and obj.get("event") == "receive" and obj.get("case") in wanted:
                    who[obj["case"]] = (str(obj.get("agency") or default_agency), str(obj.get("applicant")))
        c = CASE_TABLE.c
        for missing in wanted - who.keys():
            stored = session.execute(select(c.agency, c.applicant).where(c.id == missing)).one_or_none()
            if stored is not None:
                who[missing] = (stored.agency, stored.applicant)
        for index, obj in parsed:
            case, quantity, on = obj.get("case"), obj.get("quantity"), obj.get("on")
            if obj.get("event") != "fee_notice" or not isinstance(case, str) or case not in who:
                continue  # the replay refuses the line or falls back to the serial replay
            if not isinstance(quantity, int) or not isinstance(on, str):
                continue
            agency, applicant = who[case]
            self.planned[index] = self.earlier(session, agency, applicant, case, date.fromisoformat(on), quantity)
