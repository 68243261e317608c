"""The maths of the annual report (SPEC §5): tables 3 and 4 assembled from aggregate rows,
the balance check per column, the JSON contract, the difference between live and frozen
figures, the timeliness figures. The check of a submitted report is `report_check`.

Pure: counts in, values out. The counting itself happens in the database
(`services.report`); this module only adds the rows up into the national layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from foi_workflow.domain.report_inputs import ReportInputs
from foi_workflow.domain.vocabulary import (
    COLUMN_LABELS,
    ROW_LABELS,
    TABLE3_COLUMNS,
    TABLE3_ROWS,
    TABLE4_COLUMN_LABELS,
    TABLE4_COLUMNS,
    TABLE4_KIND_LABELS,
    AppealKind,
    AppealResult,
    AppealState,
    ApplicantType,
    Outcome,
)
from foi_workflow.errors import InvalidInput

APPLICANT_TYPES: tuple[ApplicantType, ...] = tuple(ApplicantType)
OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)
APPEAL_KINDS: tuple[AppealKind, ...] = tuple(AppealKind)
OUTCOME_ROWS: tuple[str, ...] = tuple(o.value for o in Outcome)
PENDING = AppealState.PENDING.value

Row = tuple[int, ...]


@dataclass(frozen=True)
class Table3Count:
    """One aggregate row from the database: cases of one applicant type and one outcome (None:
    undecided), with how many of them count in each row. Only those decided in the year
    (`decided`) count under their outcome; a case decided after the year is carried out."""

    applicant_type: str
    outcome: str | None  # counted under only for the cases decided in the year
    decided: int  # cases decided in the year (with `outcome`)
    received: int
    carried_in: int
    carried_out: int


@dataclass(frozen=True)
class Table4Count:
    """Appeals of one kind counted in the year, by result (or `pending`)."""

    kind: str
    result: str  # upheld | corrected | other | pending
    count: int


@dataclass(frozen=True)
class Table3:
    """Table 3: every row of SPEC §5, each with the six applicant-type columns and the total."""

    rows: Mapping[str, Row]

    def cell(self, row: str, column: str) -> int:
        return self.rows[row][TABLE3_COLUMNS.index(column)]

    def imbalances(self) -> list[str]:
        """The columns where received + carried_in ≠ handled_total + carried_out."""
        bad = []
        for i, column in enumerate(TABLE3_COLUMNS):
            left = self.rows["received"][i] + self.rows["carried_in"][i]
            right = self.rows["handled_total"][i] + self.rows["carried_out"][i]
            if left != right:
                bad.append(column)
        return bad

    @property
    def balanced(self) -> bool:
        return not self.imbalances()


@dataclass(frozen=True)
class Table4:
    """Table 4: one row of five (upheld, corrected, other, pending, total) per appeal kind."""

    rows: Mapping[str, Row]


@dataclass(frozen=True)
class ReportFigures:
    """The derived figures of one year's report: what the JSON contract carries."""

    year: int
    agency: str | None  # None: all agencies summed
    table3: Table3
    table4: Table4

    @property
    def balanced(self) -> bool:
        return self.table3.balanced

    def to_json(self) -> dict[str, Any]:
        """SPEC §5's JSON shape, keys in the contract's order."""
        return {
            "year": self.year,
            "agency": self.agency,
            "table3": {
                "columns": list(TABLE3_COLUMNS),
                "rows": {row: list(self.table3.rows[row]) for row in TABLE3_ROWS},
            },
            "table4": {kind.value: list(self.table4.rows[kind.value]) for kind in APPEAL_KINDS},
            "balanced": self.balanced,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportFigures:
        """Read figures back from the JSON contract (a frozen year, a well-formed file)."""
        try:
            rows3 = data["table3"]["rows"]
            t3 = Table3({row: tuple(int(v) for v in rows3[row]) for row in TABLE3_ROWS})
            t4 = Table4({k.value: tuple(int(v) for v in data["table4"][k.value]) for k in APPEAL_KINDS})
            return cls(int(data["year"]), data.get("agency"), t3, t4)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"报告数据格式错误：{exc}") from None


def _with_total(values: Sequence[int]) -> Row:
    return (*values, sum(values))


def assemble_table3(counts: Iterable[Table3Count]) -> Table3:
    """Sum aggregate rows into table 3; row totals and handled_total are computed here."""
    width = len(APPLICANT_TYPES)
    index = {t.value: i for i, t in enumerate(APPLICANT_TYPES)}
    acc: dict[str, list[int]] = {row: [0] * width for row in TABLE3_ROWS}
    for c in counts:
        col = index.get(c.applicant_type)
        if col is None:
            raise InvalidInput(f"未知的申请人类型：{c.applicant_type!r}")
        acc["received"][col] += c.received
        acc["carried_in"][col] += c.carried_in
        acc["carried_out"][col] += c.carried_out
        if c.decided and c.outcome is not None:
            if c.outcome not in OUTCOME_ROWS:
                raise InvalidInput(f"未知的办理结果：{c.outcome!r}")
            acc[c.outcome][col] += c.decided
        # A decided case without an outcome fits no row: the column will not balance, and
        # the report is refused rather than printed wrong.
    acc["handled_total"] = [sum(acc[o][i] for o in OUTCOME_ROWS) for i in range(width)]
    return Table3({row: _with_total(values) for row, values in acc.items()})


def assemble_table4(counts: Iterable[Table4Count]) -> Table4:
    results = [*(r.value for r in AppealResult), PENDING]
    acc: dict[str, list[int]] = {k.value: [0] * len(results) for k in APPEAL_KINDS}
    for c in counts:
        if c.kind not in acc or c.result not in results:
            raise InvalidInput(f"未知的复议诉讼类别或结果：{c.kind!r} / {c.result!r}")
        acc[c.kind][results.index(c.result)] += c.count
    return Table4({kind: _with_total(values) for kind, values in acc.items()})


def sum_figures(year: int, parts: Sequence[ReportFigures]) -> ReportFigures:
    """The consolidated figures of several agencies (`--all-agencies`): cell-wise sums."""

    def add(rows: Sequence[Mapping[str, Row]], keys: Iterable[str], width: int) -> dict[str, Row]:
        return {k: tuple(sum(r[k][i] for r in rows) for i in range(width)) for k in keys}

    t3 = add([p.table3.rows for p in parts], TABLE3_ROWS, len(TABLE3_COLUMNS))
    t4 = add([p.table4.rows for p in parts], [k.value for k in APPEAL_KINDS], len(TABLE4_COLUMNS))
    return ReportFigures(year, None, Table3(t3), Table4(t4))


# ---------------------------------------------------------------- differences and checks


@dataclass(frozen=True)
class CellDiff:
    """A cell whose live value differs from the one frozen at year close."""

    cell: str  # e.g. "table3.received.natural_person"
    label: str  # the cell in the form's words
    frozen: int
    live: int
    agency: str | None = None

    def line(self) -> str:
        where = f"[{self.agency}] " if self.agency else ""
        return f"{where}{self.label}（{self.cell}）：结转时 {self.frozen}，现为 {self.live}"


def cell_label(table: str, row: str, column: str) -> str:
    if table == "table3":
        return f"表三 {ROW_LABELS.get(row, row)} / {COLUMN_LABELS.get(column, column)}"
    return f"表四 {TABLE4_KIND_LABELS.get(row, row)} / {TABLE4_COLUMN_LABELS.get(column, column)}"


def _cells(f: ReportFigures) -> Iterable[tuple[str, str, str, int]]:
    for row in TABLE3_ROWS:
        for i, column in enumerate(TABLE3_COLUMNS):
            yield "table3", row, column, f.table3.rows[row][i]
    for kind in APPEAL_KINDS:
        for i, column in enumerate(TABLE4_COLUMNS):
            yield "table4", kind.value, column, f.table4.rows[kind.value][i]


def diff_figures(live: ReportFigures, frozen: ReportFigures, agency: str | None = None) -> list[CellDiff]:
    """Every cell where the live figures differ from the frozen ones, in form order."""
    frozen_cells = {(t, r, c): v for t, r, c, v in _cells(frozen)}
    return [
        CellDiff(f"{t}.{r}.{c}", cell_label(t, r, c), frozen_cells[(t, r, c)], v, agency)
        for t, r, c, v in _cells(live)
        if frozen_cells[(t, r, c)] != v
    ]


# ---------------------------------------------------------------- timeliness (not national format)


@dataclass(frozen=True)
class Timeliness:
    """The timeliness figures shown after the national tables (SPEC §4 "Timeliness")."""

    decided: int  # decided in the year
    with_due_date: int  # of those, the ones with a known on-time flag
    on_time: int
    median_working_days: float | None
    decided_late: int
    overdue_open: int  # open at the report date, received by year end, past their reply due
    received_by_month: tuple[int, ...]
    decided_by_month: tuple[int, ...]
    # Of the decided, the replies whose date rests on a recorded service (SPEC §15); the rest
    # count from the decision date (未记录送达).
    served: int

    @property
    def unserved(self) -> int:
        return self.decided - self.served

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.with_due_date if self.with_due_date else None


def weighted_median(pairs: Iterable[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many times) pairs."""
    items = sorted((v, n) for v, n in pairs if n > 0)
    total = sum(n for _, n in items)
    if total == 0:
        return None

    def nth(k: int) -> int:  # the k-th smallest value, 0-based
        seen = 0
        for v, n in items:
            seen += n
            if k < seen:
                return v
        raise AssertionError("unreachable")

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


# ---------------------------------------------------------------- the whole report


@dataclass(frozen=True)
class AnnualReport:
    """Everything a renderer needs for one year's report."""

    figures: ReportFigures
    inputs: ReportInputs
    agency_name: str
    timeliness: Timeliness
    as_of: date
    closed: bool = False  # the year was frozen by `foi year close` (for every agency in scope)
    agency_code: str = ""  # whose report: the code, also of a one-agency installation; "" for a sum of several
    frozen_differences: Sequence[CellDiff] = field(default_factory=tuple)

    @property
    def year(self) -> int:
        return self.figures.year

    @property
    def empty(self) -> bool:
        """Nothing at all to count in the year: no application, none carried, no appeal."""
        t3, t4 = self.figures.table3, self.figures.table4
        return not any(any(row) for row in t3.rows.values()) and not any(any(row) for row in t4.rows.values())

    def placeholders(self) -> dict[str, str]:
        t3, t4 = self.figures.table3, self.figures.table4
        return {
            "year": str(self.year),
            "next_year": str(self.year + 1),
            "agency": self.agency_name,
            "received": str(t3.cell("received", "total")),
            "carried_in": str(t3.cell("carried_in", "total")),
            "handled": str(t3.cell("handled_total", "total")),
            "carried_out": str(t3.cell("carried_out", "total")),
            "granted": str(t3.cell("granted", "total")),
            "review": str(t4.rows["review"][-1]),
            "litigation": str(t4.rows["litigation_direct"][-1] + t4.rows["litigation_after_review"][-1]),
        }

    def to_json(self) -> dict[str, Any]:
        """SPEC §5's JSON; a closed year whose live figures moved gets `frozen_differences`."""
        data = self.figures.to_json()
        if self.frozen_differences:
            data["frozen_differences"] = [
                {"cell": d.cell, "agency": d.agency, "frozen": d.frozen, "live": d.live}
                for d in self.frozen_differences
            ]
        return data
