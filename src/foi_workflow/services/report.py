"""The annual report use cases (SPEC §5): the aggregate queries behind tables 3 and 4, the
timeliness figures, the report inputs (table 2 and narrative), and `foi year close`.

Counting happens in the database: one GROUP BY for table 3, one for table 4, a few for the
timeliness section. Python only adds the resulting rows into the national layout
(`domain.report`), never loops over cases.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, case, extract, false, func, literal_column, or_, select, true, union
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from foi_workflow.adapters.models import Agency, YearClose
from foi_workflow.adapters.tables import APPEAL_TABLE, CASE_TABLE
from foi_workflow.domain.report import (
    PENDING,
    AnnualReport,
    CellDiff,
    ReportFigures,
    Table3Count,
    Table4Count,
    Timeliness,
    assemble_table3,
    assemble_table4,
    diff_figures,
    sum_figures,
    weighted_median,
)
from foi_workflow.domain.report_inputs import ReportInputs, parse_report_inputs
from foi_workflow.domain.vocabulary import COLUMN_LABELS, State
from foi_workflow.errors import AlreadyExists, ConfigError, InvalidInput, RuleViolation, UnbalancedReport

if TYPE_CHECKING:
    from foi_workflow.config import Config
    from foi_workflow.domain.calendar import WorkCalendar
    from foi_workflow.services.app import App

CASE = CASE_TABLE.c
APPEAL = APPEAL_TABLE.c


# A voided registration (SPEC §11) is in no count: every query over cases says so.
COUNTED = CASE.voided == false()


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def resolve_scope(config: Config, agency: str | None, all_agencies: bool) -> str | None:
    """The agency a report (or a year close) is about; None means all agencies summed.

    Without `--agency`, an installation with one agency reports that agency, which is the
    same as all of them: the scope is then "all" (JSON `agency: null`), so a single-agency
    database never hides a case filed under another code. With several agencies configured,
    the default agency is meant unless `--all-agencies` is given.
    """
    if agency and all_agencies:
        raise InvalidInput("--agency 与 --all-agencies 不能同时使用")
    if all_agencies:
        return None
    if agency:
        config.agency(agency)  # refuses an unknown code
        return agency
    if len(config.agencies) <= 1:
        return None
    return config.default_agency


# ---------------------------------------------------------------- the aggregate queries


def table3_counts(conn: Connection, year: int, agency: str | None) -> list[tuple[str, Table3Count]]:
    """One GROUP BY over the cases that matter in `year`: received by its end and not decided
    before its start. Each of them is in exactly one of received / carried_in, and in exactly
    one of (decided in the year, with its outcome) / carried_out (SPEC §5)."""
    start, end = year_bounds(year)
    one: ColumnElement[int] = literal_column("1", Integer)
    zero: ColumnElement[int] = literal_column("0", Integer)
    decided_in_year = CASE.decided_on <= end  # within the filter below, also >= start
    # Grouped by the stored outcome, not by "the outcome if decided in the year": only
    # `decided` is counted under the outcome (assemble_table3), and the other counts are summed
    # per applicant type, so the figures are the same. The planner knows how many distinct
    # values the plain columns hold (a hash table of ~130 groups), not those of a CASE over them:
    # PostgreSQL then guessed 10^5 groups and sorted the year's cases on disk instead.
    # For one agency the agency is not grouped by (nor selected): fewer columns to group.
    agency_col: Any = CASE.agency if agency is None else literal_column("''").label("agency")
    stmt = (
        select(
            agency_col,
            CASE.applicant_type,
            CASE.outcome,
            func.sum(case((decided_in_year, one), else_=zero)),
            func.sum(case((CASE.received_on >= start, one), else_=zero)),
            func.sum(case((CASE.received_on < start, one), else_=zero)),
            func.sum(case((or_(CASE.decided_on.is_(None), CASE.decided_on > end), one), else_=zero)),
        )
        .where(CASE.received_on <= end, or_(CASE.decided_on.is_(None), CASE.decided_on >= start), COUNTED)
        .group_by(CASE.applicant_type, CASE.outcome)
    )
    stmt = stmt.group_by(CASE.agency) if agency is None else stmt.where(CASE.agency == agency)
    return [
        (agency or ag, Table3Count(t, o, int(d or 0), int(r or 0), int(ci or 0), int(co or 0)))
        for ag, t, o, d, r, ci, co in conn.execute(stmt)
    ]


def table4_counts(conn: Connection, year: int, agency: str | None) -> list[tuple[str, Table4Count]]:
    """Appeals filed in the year or still pending on 1 January, by result when concluded in
    the year, else `pending`."""
    start, end = year_bounds(year)
    concluded_in_year = and_(APPEAL.concluded_on.is_not(None), APPEAL.concluded_on <= end)
    flags = select(
        APPEAL.agency.label("agency"),
        APPEAL.kind.label("kind"),
        case((concluded_in_year, APPEAL.result), else_=PENDING).label("result"),
    ).where(
        APPEAL.filed_on <= end,
        or_(APPEAL.concluded_on.is_(None), APPEAL.concluded_on >= start),
        APPEAL.voided == false(),
    )
    if agency is not None:
        flags = flags.where(APPEAL.agency == agency)
    sub = flags.subquery()
    stmt = select(sub.c.agency, sub.c.kind, sub.c.result, func.count()).group_by(
        sub.c.agency, sub.c.kind, sub.c.result
    )
    return [(ag, Table4Count(k, r, int(n))) for ag, k, r, n in conn.execute(stmt)]


def figures_by_agency(conn: Connection, year: int, agency: str | None) -> dict[str, ReportFigures]:
    """The figures of every agency in scope that has anything to count in the year."""
    t3: dict[str, list[Table3Count]] = {}
    t4: dict[str, list[Table4Count]] = {}
    for ag, c3 in table3_counts(conn, year, agency):
        t3.setdefault(ag, []).append(c3)
    for ag, c4 in table4_counts(conn, year, agency):
        t4.setdefault(ag, []).append(c4)
    return {
        ag: ReportFigures(year, ag, assemble_table3(t3.get(ag, [])), assemble_table4(t4.get(ag, [])))
        for ag in sorted({*t3, *t4})
    }


def compute_figures(conn: Connection, year: int, agency: str | None) -> ReportFigures:
    """Tables 3 and 4 of one agency, or of all agencies summed (`agency=None`)."""
    per_agency = figures_by_agency(conn, year, agency)
    total = sum_figures(year, list(per_agency.values()))
    return ReportFigures(year, agency, total.table3, total.table4)


def report_figures(app: App, year: int, agency: str | None) -> ReportFigures:
    with app.engine.connect() as conn:
        return compute_figures(conn, year, agency)


def _agency_filter(column: Any, agency: str | None) -> Any:
    return true() if agency is None else column == agency


def compute_timeliness(
    conn: Connection, calendar: WorkCalendar, year: int, agency: str | None, as_of: date
) -> Timeliness:
    """On-time rate (by the reply date that counts, SPEC §15), median working days from receipt
    to decision, late replies, overdue open cases, how many replies rest on recorded service and
    the month-by-month counts, from three aggregate queries."""
    start, end = year_bounds(year)
    scope = and_(_agency_filter(CASE.agency, agency), COUNTED)
    # The decided cases of the year, counted per distinct (received, decided) pair: working
    # days depend on the calendar, which is applied to the pairs, not to single cases.
    pairs = conn.execute(
        select(
            CASE.received_on,
            CASE.decided_on,
            func.count(),
            func.count(CASE.on_time),
            func.sum(case((CASE.on_time == true(), 1), else_=0)),
            func.sum(case((CASE.on_time == false(), 1), else_=0)),
            func.sum(case((CASE.served == true(), 1), else_=0)),
        )
        .where(scope, CASE.decided_on >= start, CASE.decided_on <= end)
        .group_by(CASE.received_on, CASE.decided_on)
    ).all()
    decided_by_month = [0] * 12
    for _, decided_on, n, *_rest in pairs:
        decided_by_month[decided_on.month - 1] += int(n)
    median = weighted_median((calendar.working_days_between(r, d), int(n)) for r, d, n, *_rest in pairs)
    overdue = conn.execute(
        select(func.count()).where(
            scope, CASE.decided_on.is_(None), CASE.received_on <= end, CASE.reply_due < as_of
        )
    ).scalar_one()
    month = extract("month", CASE.received_on).cast(Integer).label("month")
    received_by_month = [0] * 12
    for m, n in conn.execute(
        select(month, func.count())
        .where(scope, CASE.received_on >= start, CASE.received_on <= end)
        .group_by(literal_column("month"))
    ):
        received_by_month[int(m) - 1] = int(n)
    return Timeliness(
        decided=sum(int(p[2]) for p in pairs),
        with_due_date=sum(int(p[3]) for p in pairs),
        on_time=sum(int(p[4] or 0) for p in pairs),
        median_working_days=median,
        decided_late=sum(int(p[5] or 0) for p in pairs),
        overdue_open=int(overdue),
        received_by_month=tuple(received_by_month),
        decided_by_month=tuple(decided_by_month),
        served=sum(int(p[6] or 0) for p in pairs),
    )


# ---------------------------------------------------------------- inputs (table 2, narrative)


def inputs_path(config: Config, year: int, agency: str | None) -> Path | None:
    """The agency folder's `reports/YYYY.toml`, else the config's `reports/YYYY.toml`."""
    candidates: list[Path] = []
    code = agency or (config.default_agency if len(config.agencies) <= 1 else None)
    if code is not None:
        folder = config.agencies[code].folder if code in config.agencies else None
        if folder is not None:
            candidates.append(folder / "reports" / f"{year}.toml")
    candidates.append(config.reports_dir / f"{year}.toml")
    return next((p for p in candidates if p.is_file()), None)


def load_inputs(config: Config, year: int, agency: str | None) -> ReportInputs:
    path = inputs_path(config, year, agency)
    if path is None:
        return ReportInputs()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"无法读取年度报告配置 {path}：{exc}") from None
    return parse_report_inputs(data, source=str(path))


def agency_name(config: Config, agency: str | None) -> str:
    if agency is not None:
        return config.agency(agency).name
    if len(config.agencies) <= 1:
        return config.agency(None).name
    return "全部机关（汇总）"


# ---------------------------------------------------------------- the whole report


def frozen_rows(conn: Connection, year: int, agency: str | None) -> dict[str, ReportFigures]:
    stmt = select(YearClose.agency, YearClose.figures).where(YearClose.year == year)  # type: ignore[call-overload]
    if agency is not None:
        stmt = stmt.where(YearClose.agency == agency)
    return {ag: ReportFigures.from_json(figs) for ag, figs in conn.execute(stmt)}


def build_report(app: App, year: int, *, agency: str | None, as_of: date, require_balance: bool = True
                 ) -> AnnualReport:
    """The report of `year` for one agency (or all, `agency=None`), refusing an unbalanced
    table 3; for a closed year, with the cells whose live value differs from the frozen one."""
    with app.engine.connect() as conn:
        per_agency = figures_by_agency(conn, year, agency)
        total = sum_figures(year, list(per_agency.values()))
        figures = ReportFigures(year, agency, total.table3, total.table4)
        timeliness = compute_timeliness(conn, app.calendar, year, agency, as_of)
        frozen = frozen_rows(conn, year, agency)
    if require_balance and not figures.balanced:
        columns = "、".join(COLUMN_LABELS[c] for c in figures.table3.imbalances())
        raise UnbalancedReport(f"{year} 年度表三不平衡（列：{columns}），报告不予生成；请运行 foi rebuild 核对")
    diffs: list[CellDiff] = []
    empty = sum_figures(year, [])
    for ag, frozen_figs in sorted(frozen.items()):
        live = per_agency.get(ag, empty)
        diffs.extend(diff_figures(live, frozen_figs, ag))
    return AnnualReport(
        figures=figures,
        inputs=load_inputs(app.config, year, agency),
        agency_name=agency_name(app.config, agency),
        agency_code=agency or (app.config.default_agency if len(app.config.agencies) <= 1 else ""),
        timeliness=timeliness,
        as_of=as_of,
        closed=bool(frozen),
        frozen_differences=tuple(diffs),
    )


# ---------------------------------------------------------------- year close


@dataclass(frozen=True)
class CloseResult:
    year: int
    agencies: tuple[str, ...]
    carried_over: tuple[str, ...]  # ids of the cases marked 结转
    figures: ReportFigures  # summed over `agencies`


def _agencies_in_scope(conn: Connection, agency: str | None) -> list[str]:
    if agency is not None:
        return [agency]
    codes = union(select(Agency.code), select(CASE.agency), select(APPEAL.agency))  # type: ignore[call-overload]
    return sorted(str(c) for (c,) in conn.execute(codes))


def close_year(app: App, year: int, *, by: str, on: date, agency: str | None = None) -> CloseResult:
    """Freeze `year` (SPEC §5): store each agency's figures in `year_close` and record
    `carry_over` on every case still open at the year's end, all in one transaction."""
    from foi_workflow.adapters.db import unit_of_work
    from foi_workflow.services.case_store import ensure_agency
    from foi_workflow.services.cases import advance

    _, end = year_bounds(year)
    if on <= end:
        raise RuleViolation(f"{year} 年度尚未结束，不能结转（结转日期 {on.isoformat()} 应在 {year + 1} 年）")
    with unit_of_work(app.engine) as session:
        conn = session.connection()
        agencies = _agencies_in_scope(conn, agency)
        already = sorted(set(frozen_rows(conn, year, agency)) & set(agencies))
        if already:
            raise AlreadyExists(f"{year} 年度已结转（机关：{'、'.join(already)}）")
        per_agency = figures_by_agency(conn, year, agency)
        empty = sum_figures(year, [])
        for ag in agencies:
            figs = per_agency.get(ag, empty)
            if not figs.balanced:
                raise UnbalancedReport(f"{ag} 的 {year} 年度表三不平衡，不能结转；请先运行 foi rebuild 核对")
        open_stmt = select(CASE.id).where(
            CASE.received_on <= end,
            or_(CASE.decided_on.is_(None), CASE.decided_on > end),
            CASE.state != State.DECIDED.value,
            COUNTED,
        )
        if agency is not None:
            open_stmt = open_stmt.where(CASE.agency == agency)
        open_ids = [str(i) for (i,) in conn.execute(open_stmt.order_by(CASE.id))]
        # One event per case (the log must say which cases were carried), dated the year's last
        # day, when they were carried, not the day the close ran.
        for case_id in open_ids:
            advance(app, case_id, "carry_over", on=end, by=by, data={"year": year + 1}, session=session)
        for ag in agencies:
            if ag in app.config.agencies or ag == app.config.default_agency:
                ensure_agency(session, app, ag)
            figs = per_agency.get(ag, empty)
            session.add(YearClose(agency=ag, year=year, closed_on=on, by=by,
                                  figures=ReportFigures(year, ag, figs.table3, figs.table4).to_json()))
        session.commit()
        total = sum_figures(year, [per_agency.get(ag, empty) for ag in agencies])
    return CloseResult(year, tuple(agencies), tuple(open_ids), ReportFigures(year, agency, total.table3,
                                                                              total.table4))
