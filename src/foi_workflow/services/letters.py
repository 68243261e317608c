"""The record of letters (SPEC §12): the 发文登记簿 of a year, a letter's status as later events
change it (作废 when the event it answered is voided or corrected), and letters and year closes
as the records of a complete export.

Issuing and printing a letter is `services.notices`; this module is what the record says
about letters once they exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select, update
from sqlmodel import Session, col

from foi_workflow.adapters.models import Case, Notice, YearClose
from foi_workflow.adapters.tables import COUNTER
from foi_workflow.adapters.tables import NOTICE as NOTICE_TABLE
from foi_workflow.domain.report import ReportFigures
from foi_workflow.domain.vocabulary import LetterStatus, NoticeKind
from foi_workflow.errors import InvalidInput

if TYPE_CHECKING:
    from foi_workflow.services.app import App

NOTICE = NOTICE_TABLE.c


def counter_name(year: int) -> str:
    """The `counter` row a letter dated in `year` takes its number from (per agency)."""
    return f"notice:{year}"


# --------------------------------------------------------------------------- status


def void_letters_answering(session: Session, case_id: str, ordinal: int | None) -> list[str]:
    """Mark 作废 every standing letter that answered event `ordinal` (1 = `receive`; None: any
    event) of the case, inside the caller's transaction (the void or correct that undoes the
    event, SPEC §11). Their numbers are never used again; a new letter for the event can then
    be issued. Returns the numbers marked."""
    query = select(col(Notice.number)).where(
        col(Notice.case_id) == case_id, col(Notice.status) == LetterStatus.VALID.value
    )
    if ordinal is not None:
        query = query.where(col(Notice.answers) == ordinal)
    numbers = [str(n) for n in session.scalars(query.order_by(col(Notice.id)))]
    if numbers:
        session.execute(
            update(NOTICE_TABLE)
            .where(NOTICE.number.in_(numbers))
            .values(status=LetterStatus.VOID.value)
        )
    return numbers


def void_letters_undone(session: Session, case_id: str, kind: str, target: int) -> list[str]:
    """The letters a `void` or `correct` (`kind`) of event `target` makes 作废: those answering
    that event; a void of `receive` voids the whole registration, and with it every letter."""
    return void_letters_answering(session, case_id, None if kind == "void" and target == 1 else target)


def raise_counter(session: Session, agency: str, name: str, at_least: int) -> None:
    """Make the counter `name` of `agency` at least `at_least`: numbering continues after it."""
    from foi_workflow.services.case_store import insert_if_absent

    insert_if_absent(session, COUNTER, {"agency": agency, "name": name, "value": 0})
    session.execute(
        update(COUNTER)
        .where(COUNTER.c.agency == agency, COUNTER.c.name == name)
        .values(value=case((COUNTER.c.value < at_least, at_least), else_=COUNTER.c.value))
    )


# --------------------------------------------------------------------------- the register


@dataclass(frozen=True)
class RegisterEntry:
    """One line of the 发文登记簿."""

    number: str
    on: date
    kind: str
    case: str
    addressee: str
    status: LetterStatus
    by: str
    note: str  # what replaced what, and why; a closed year's amendment

    def as_json(self) -> dict[str, Any]:
        """SPEC §12's JSON object (exactly these keys)."""
        return {
            "number": self.number,
            "on": self.on.isoformat(),
            "kind": self.kind,
            "case": self.case,
            "addressee": self.addressee,
            "status": self.status.value,
            "by": self.by,
        }


def _note(letter: Notice, replaced_by: dict[str, str]) -> str:
    parts: list[str] = []
    if letter.replaces:
        parts.append(f"替换 {letter.replaces}" + (f"（{letter.reason}）" if letter.reason else ""))
    if letter.number in replaced_by:
        parts.append(f"已由 {replaced_by[letter.number]} 替换")
    if letter.amend_reason:
        parts.append(f"已结转年度补发：{letter.amend_reason}")
    return "；".join(parts)


def register_entries(session: Session, year: int, agency: str | None) -> list[RegisterEntry]:
    """The letters dated in `year` (of one agency, or all with `agency=None`), in the order of
    their numbers: per agency, as the count of the year gave them out."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    query = (
        select(Notice)
        .join(Case, col(Case.id) == col(Notice.case_id))
        .where(col(Notice.dated) >= start, col(Notice.dated) <= end)
        .order_by(col(Case.agency), col(Notice.seq), col(Notice.id))
    )
    if agency is not None:
        query = query.where(col(Case.agency) == agency)
    letters = list(session.scalars(query))
    replaced_by = {letter.replaces: letter.number for letter in letters if letter.replaces}
    return [
        RegisterEntry(
            number=letter.number,
            on=letter.dated,
            kind=letter.kind,
            case=letter.case_id,
            addressee=letter.addressee,
            status=LetterStatus(letter.status),
            by=letter.by,
            note=_note(letter, replaced_by),
        )
        for letter in letters
    ]


def register(app: App, year: int, *, agency: str | None, all_agencies: bool) -> tuple[list[RegisterEntry], str]:
    """`foi register YEAR`: the entries, and the name of the agency (or agencies) they are of;
    the scope is the annual report's (`--agency`, `--all-agencies`, else the configured one)."""
    from foi_workflow.adapters.db import require_schema
    from foi_workflow.services.report import agency_name, resolve_scope

    scope = resolve_scope(app.config, agency, all_agencies)
    require_schema(app.engine)
    with Session(app.engine) as session:
        entries = register_entries(session, year, scope)
    return entries, agency_name(app.config, scope)


# --------------------------------------------------------------------------- export / import records


def letter_record(letter: Notice) -> dict[str, Any]:
    """A letter as a line of `foi export` (SPEC §12), with what else rebuilding it needs: its
    place in the year's count, addressee, issuer, template name, and any reissue or
    closed-year reason."""
    record: dict[str, Any] = {
        "letter": letter.number,
        "case": letter.case_id,
        "kind": letter.kind,
        "answers": letter.answers,
        "on": letter.dated.isoformat(),
        "status": letter.status,
        "seq": letter.seq,
        "addressee": letter.addressee,
        "by": letter.by,
        "template": letter.template_name,
        "template_hash": letter.template_hash,
    }
    for key in ("replaces", "reason", "amend_reason"):
        value = getattr(letter, key)
        if value:
            record[key] = value
    record["text"] = letter.body_text
    record["html"] = letter.body_html
    return record


def year_close_record(close: YearClose) -> dict[str, Any]:
    """A year close as a line of `foi export`: the frozen figures as stored (the report's JSON
    shape, written by `foi year close` or an import, which both check it)."""
    return {"year_close": close.year, "on": close.closed_on.isoformat(), "by": close.by, "frozen": close.figures}


def export_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every letter (in the order issued), then every year close (by year and agency)."""
    for letter in session.scalars(select(Notice).order_by(col(Notice.id))):
        yield letter_record(letter)
    for close in session.scalars(select(YearClose).order_by(col(YearClose.year), col(YearClose.agency))):
        yield year_close_record(close)


def _text(obj: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"字段 {key} 应为非空文本")
    return value


def _positive(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput(f"字段 {key} 应为正整数")
    return value


def _date(obj: dict[str, Any], key: str = "on") -> date:
    try:
        return date.fromisoformat(str(obj.get(key)))
    except ValueError:
        raise InvalidInput(f"字段 {key} 应为 YYYY-MM-DD 日期：{obj.get(key)!r}") from None


LETTER_KEYS = frozenset({"letter", "case", "kind", "answers", "on", "status", "seq", "addressee", "by", "template",
                         "template_hash", "replaces", "reason", "amend_reason", "text", "html"})  # fmt: skip


def letter_row(obj: dict[str, Any]) -> dict[str, Any]:
    """The letter table's values from an export line, every field checked (not its case)."""
    unknown = sorted(set(obj) - LETTER_KEYS)
    if unknown:
        raise InvalidInput(f"告知书记录有未知字段：{'、'.join(unknown)}")
    kind = _text(obj, "kind")
    if kind not in NoticeKind.__members__.values():
        raise InvalidInput(f"告知书种类 {kind!r} 无效")
    status = obj.get("status")
    if status not in LetterStatus.__members__.values():
        raise InvalidInput(f"告知书状态 {status!r} 无效，可选：{'、'.join(s.value for s in LetterStatus)}")
    return {
        "case_id": _text(obj, "case"),
        "kind": kind,
        "number": _text(obj, "letter"),
        "seq": _positive(obj, "seq"),
        "answers": _positive(obj, "answers"),
        "dated": _date(obj),
        "addressee": _text(obj, "addressee", required=False) or "",
        "status": status,
        "replaces": _text(obj, "replaces", required=False),
        "reason": _text(obj, "reason", required=False),
        "amend_reason": _text(obj, "amend_reason", required=False),
        "body_text": _text(obj, "text", required=False) or "",
        "body_html": _text(obj, "html", required=False) or "",
        "template_name": (_text(obj, "template", required=False) or "")[:200],
        "template_hash": _text(obj, "template_hash"),
        "by": _text(obj, "by", required=False) or "",
    }


def year_close_row(obj: dict[str, Any], default_agency: str) -> dict[str, Any]:
    """The year_close table's values from an export line (the frozen figures checked)."""
    year = obj.get("year_close")
    if not isinstance(year, int) or isinstance(year, bool):
        raise InvalidInput("字段 year_close 应为年度（整数）")
    frozen = obj.get("frozen")
    if not isinstance(frozen, dict):
        raise InvalidInput("字段 frozen 应为年报 JSON 对象")
    figures = ReportFigures.from_json(frozen)
    if figures.year != year:
        raise InvalidInput(f"封存数据的年度 {figures.year} 与 year_close {year} 不一致")
    agency = figures.agency or default_agency
    return {
        "agency": agency,
        "year": year,
        "closed_on": _date(obj),
        "by": _text(obj, "by", required=False) or "",
        "figures": ReportFigures(year, agency, figures.table3, figures.table4).to_json(),
    }
