"""`foi ledger import FILE` (SPEC §14): an agency's application ledger (登记台账, xlsx or CSV)
brought in as cases.

The file is read and every row checked first (header wordings, dates, result texts,
applicant types, duplicate numbers): any problem, all of them listed with row, column and
value, refuses the whole ledger. Then each row becomes its events, replayed through the same
`Importer` and in the same one transaction as `foi import`, so the workflow's rules hold
(答复日期 before 收到日期 is refused like any event before its predecessor), and the first
row the workflow refuses stops everything. `dry_run` does all of it, including the report's
table 3 of the years the ledger touches, and rolls back.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from foi_workflow.adapters.ledger_files import read_ledger_file
from foi_workflow.adapters.tables import column_limits
from foi_workflow.domain.ledger_columns import BY_KEY, HEADER_SEARCH_ROWS, HeaderMatch, find_header
from foi_workflow.domain.ledger_mapping import LedgerMapping, parse_mapping
from foi_workflow.domain.ledger_rows import LedgerCase, describe_problems, read_ledger
from foi_workflow.domain.report import ReportFigures
from foi_workflow.errors import AlreadyExists, ClosedYear, ConfigError, FoiError, LedgerRefused
from foi_workflow.services.app import App
from foi_workflow.services.case_store import new_case_id, transaction
from foi_workflow.services.report import compute_figures, resolve_scope
from foi_workflow.services.transfer import Importer

# The text columns the database keeps with a length limit (VARCHAR on PostgreSQL): a longer
# cell is refused with its row rather than by the database.
_LIMITED = ("case", "applicant", "contact", "phone", "caseworker")
_CASE_COLUMN = {"case": "id"}


@dataclass(frozen=True)
class ImportedCase:
    case_id: str
    ledger: LedgerCase
    events: tuple[tuple[str, date], ...]  # (event, the date it takes effect)


@dataclass(frozen=True)
class LedgerImportResult:
    sheet: str
    header_row: int  # 1-based
    cases: tuple[ImportedCase, ...]
    events: int
    figures: tuple[ReportFigures, ...]  # table 3 of each year the ledger touches, after the import
    dry_run: bool


def load_mapping(path: Path | None) -> LedgerMapping:
    if path is None:
        return LedgerMapping()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"无法读取映射文件 {path}：{exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"映射文件 {path} 不是有效的 TOML：{exc}") from None
    return parse_mapping(data, str(path))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def locate_header(rows: list[list[Any]], mapping: LedgerMapping) -> HeaderMatch:
    """The header row and its columns, or a refusal that says what was looked for."""
    given = mapping.header_row - 1 if mapping.header_row is not None else None
    search = rows[: (given + 1 if given is not None else HEADER_SEARCH_ROWS)]
    header = find_header([[_text(v) for v in row] for row in search], mapping.columns, given)
    if header is None:
        raise LedgerRefused(
            f"前 {HEADER_SEARCH_ROWS} 行中找不到表头：需要一行同时含有收到日期（或申请日期、受理日期、收文日期）"
            "和申请人类型（或申请人类别、性质）两列；列名不同的，请用 --mapping 映射文件的 [columns] 指定"
        )
    found = set(header.columns.values())
    missing = [f"{BY_KEY[key].header} = “{text}”" for key, text in mapping.columns.items() if key not in found]
    if missing:
        raise LedgerRefused(f"映射文件指定的列在第 {header.row + 1} 行表头中找不到：{'；'.join(missing)}")
    absent = [BY_KEY[key].header for key in ("received_on", "applicant_type") if key not in found]
    if absent:
        raise LedgerRefused(f"第 {header.row + 1} 行表头中没有必需的列：{'、'.join(absent)}")
    return header


def read_cases(path: Path, mapping: LedgerMapping) -> tuple[str, HeaderMatch, list[LedgerCase]]:
    """Every application of the ledger, read and checked; any problem refuses the whole file."""
    sheet = read_ledger_file(path, mapping.sheet)
    header = locate_header(sheet.rows, mapping)
    limits = {key: column_limits().case[_CASE_COLUMN.get(key, key)] for key in _LIMITED}
    cases, problems = read_ledger(sheet.rows, header, mapping.vocabularies, limits)
    if problems:
        raise LedgerRefused(f"台账有 {len(problems)} 处无法读取，整个台账未导入：{describe_problems(problems)}")
    if not cases:
        raise LedgerRefused(f"第 {header.row + 1} 行表头下没有申请记录")
    return sheet.name, header, cases


def _case_ids(session: Session, cases: list[LedgerCase], agency: str) -> Iterator[str]:
    """The ledger's 登记编号, or for a row without one the next number, as `foi intake` gives it
    (and never one the ledger uses)."""
    in_file = {c.case_id for c in cases if c.case_id}
    for case in cases:
        if case.case_id:
            yield case.case_id
            continue
        while (candidate := new_case_id(session, agency, case.received_on)) in in_file:
            pass
        yield candidate


def import_ledger(app: App, path: Path, *, by: str, mapping: LedgerMapping | None = None,
                  agency: str | None = None, dry_run: bool = False, amend_reason: str | None = None
                  ) -> LedgerImportResult:
    """Import a ledger, all or nothing (`dry_run`: everything but the commit; `amend_reason`:
    why events dated in a closed year are recorded, as `--amend-closed-year` gives it)."""
    mapping = mapping or LedgerMapping()
    sheet, header, cases = read_cases(path, mapping)
    code = app.config.agency(agency).code if agency else app.config.default_agency
    with transaction(app) as s:
        importer = Importer(app, s, by)
        imported: list[ImportedCase] = []
        for case, case_id in zip(cases, _case_ids(s, cases, code), strict=True):
            steps = _replay(importer, case, case_id, agency, amend_reason)
            imported.append(ImportedCase(case_id, case, tuple(steps)))
        result = importer.write()
        scope = resolve_scope(app.config, agency, False)
        figures = tuple(compute_figures(s.connection(), year, scope) for year in _years(cases))
        if not dry_run:  # a dry run keeps nothing: the unit of work rolls back what is not committed
            s.commit()
    return LedgerImportResult(sheet, header.row + 1, tuple(imported), result.events, figures, dry_run)


def _replay(importer: Importer, case: LedgerCase, case_id: str, agency: str | None, amend_reason: str | None
            ) -> Iterator[tuple[str, date]]:
    for event, on, data, key in case.events():
        line = {"case": case_id, "event": event, "on": on.isoformat(), **data}
        if event == "receive" and agency:
            line["agency"] = agency
        if amend_reason:
            line["amend_reason"] = amend_reason
        try:
            importer.case_line(line)
        except FoiError as exc:
            message = exc.message
            if isinstance(exc, AlreadyExists):
                key = "case"
            elif isinstance(exc, ClosedYear):  # the event file's advice does not fit a ledger
                message = f'{on.year} 年度已结转封存；如确需补录，请加 --amend-closed-year "理由"'
            where = case.columns.get(key) or BY_KEY[key].header
            value = case_id if key == "case" else _shown(on, data, key)
            raise LedgerRefused(f"第 {case.row} 行 {where}“{value}”：{message}（{exc.code}）；整个台账未导入") from None
        yield event, on


def _shown(on: date, data: dict[str, Any], key: str) -> str:
    return str(data["days"]) if key == "extended_days" else on.isoformat()


def _years(cases: list[LedgerCase]) -> list[int]:
    """The years whose report the ledger changes: from each case's receipt to its decision (the
    years between count it as carried in and out)."""
    years = {y for c in cases for y in range(c.received_on.year, (c.decided_on or c.received_on).year + 1)}
    return sorted(years)
