"""The check of a report submitted as a file (`foi report check`, SPEC §5): every malformed
or missing cell, every row and section total that does not add up, every column out of
balance, each located by its cell (and its spreadsheet address when read from xlsx).

Pure: the file is read by `adapters.report_render.reading`; this module judges the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from foi_workflow.domain.report import APPEAL_KINDS, APPLICANT_TYPES, OUTCOME_ROWS, cell_label
from foi_workflow.domain.vocabulary import COLUMN_LABELS, TABLE3_COLUMNS, TABLE3_ROWS, TABLE4_COLUMNS
from foi_workflow.errors import InvalidInput


@dataclass(frozen=True)
class Inconsistency:
    """One problem found in a submitted report, located by cell."""

    cell: str  # e.g. "table3.handled_total.commercial"
    message: str
    where: str = ""  # the spreadsheet cell (e.g. "E21") when checking an xlsx

    def line(self) -> str:
        at = f"{self.where} " if self.where else ""
        return f"{at}{self.cell}：{self.message}"


@dataclass
class SubmittedReport:
    """A report read from a file, cells possibly missing or malformed; `where` maps a cell
    path (table.row.column) to its place in the file (a spreadsheet address)."""

    year: Any = None
    balanced: Any = None
    table3: dict[str, list[Any]] = field(default_factory=dict)
    table4: dict[str, list[Any]] = field(default_factory=dict)
    columns: list[Any] | None = None
    where: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> SubmittedReport:
        if not isinstance(data, Mapping):
            raise InvalidInput("报告文件应为 JSON 对象")
        t3 = data.get("table3") if isinstance(data.get("table3"), Mapping) else {}
        assert isinstance(t3, Mapping)
        rows = t3.get("rows") if isinstance(t3.get("rows"), Mapping) else {}
        assert isinstance(rows, Mapping)
        t4 = data.get("table4") if isinstance(data.get("table4"), Mapping) else {}
        assert isinstance(t4, Mapping)
        return cls(
            year=data.get("year"),
            balanced=data.get("balanced"),
            table3={str(k): v if isinstance(v, list) else [v] for k, v in rows.items()},
            table4={str(k): v if isinstance(v, list) else [v] for k, v in t4.items()},
            columns=t3.get("columns") if isinstance(t3.get("columns"), list) else None,
        )


def check_report(report: SubmittedReport) -> list[Inconsistency]:
    """Every inconsistency of a submitted report: malformed or missing cells, row totals,
    section totals (七、总计 and each table-4 block), and the balance of every column."""
    problems: list[Inconsistency] = []

    def add(table: str, row: str, column: str, message: str) -> None:
        path = f"{table}.{row}.{column}" if column else f"{table}.{row}"
        problems.append(Inconsistency(path, f"{cell_label(table, row, column)}：{message}",
                                      report.where.get(path, "")))

    if not isinstance(report.year, int) or isinstance(report.year, bool):
        problems.append(Inconsistency("year", f"年度缺失或格式错误：{report.year!r}"))
    if report.columns is not None and list(report.columns) != list(TABLE3_COLUMNS):
        problems.append(Inconsistency("table3.columns", f"列应为 {list(TABLE3_COLUMNS)}"))

    def read(table: str, data: Mapping[str, list[Any]], keys: Sequence[str], columns: Sequence[str]
             ) -> dict[str, list[int | None]]:
        out: dict[str, list[int | None]] = {}
        for key in keys:
            raw = data.get(key)
            if raw is None:
                add(table, key, "", "缺少此行")
                out[key] = [None] * len(columns)
                continue
            if len(raw) != len(columns):
                add(table, key, "", f"应有 {len(columns)} 列，实有 {len(raw)} 列")
            values: list[int | None] = []
            for i, column in enumerate(columns):
                v = raw[i] if i < len(raw) else None
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    if i < len(raw):
                        add(table, key, column, f"应为非负整数，实为 {v!r}")
                    values.append(None)
                else:
                    values.append(v)
            out[key] = values
        for key in data:
            if key not in keys:
                add(table, key, "", "多余的行")
        return out

    t3 = read("table3", report.table3, TABLE3_ROWS, TABLE3_COLUMNS)
    t4 = read("table4", report.table4, [k.value for k in APPEAL_KINDS], TABLE4_COLUMNS)

    def known(values: Iterable[int | None]) -> list[int] | None:
        vs = list(values)
        return None if any(v is None for v in vs) else [v for v in vs if v is not None]

    ntypes = len(APPLICANT_TYPES)
    for row in TABLE3_ROWS:  # row totals: 总计 = the six applicant types
        parts = known(t3[row][:ntypes])
        total = t3[row][ntypes]
        if parts is not None and total is not None and sum(parts) != total:
            add("table3", row, "total", f"总计应为各类申请人之和 {sum(parts)}，实为 {total}")
    for i, column in enumerate(TABLE3_COLUMNS):  # section total: (七) 总计 = the outcome rows
        parts = known(t3[o][i] for o in OUTCOME_ROWS)
        total = t3["handled_total"][i]
        if parts is not None and total is not None and sum(parts) != total:
            add("table3", "handled_total", column, f"应为各办理结果之和 {sum(parts)}，实为 {total}")
    unbalanced = False
    for i, column in enumerate(TABLE3_COLUMNS):  # the balance of each column
        vals = known(t3[r][i] for r in ("received", "carried_in", "handled_total", "carried_out"))
        if vals is None:
            continue
        received, carried_in, handled, carried_out = vals
        if received + carried_in != handled + carried_out:
            unbalanced = True
            problems.append(Inconsistency(
                f"table3.*.{column}",
                f"表三「{COLUMN_LABELS[column]}」列不平衡：第一项加第二项之和 {received + carried_in}"
                f" ≠ 第三项加第四项之和 {handled + carried_out}",
                report.where.get(f"table3.balance.{column}", ""),
            ))
    nresults = len(TABLE4_COLUMNS) - 1
    for kind in APPEAL_KINDS:  # each block of table 4: 总计 = the four results
        parts = known(t4[kind.value][:nresults])
        total = t4[kind.value][nresults]
        if parts is not None and total is not None and sum(parts) != total:
            add("table4", kind.value, "total", f"总计应为各结果之和 {sum(parts)}，实为 {total}")
    if report.balanced is not None and report.balanced is not (not unbalanced):
        problems.append(Inconsistency("balanced", f"balanced 应为 {str(not unbalanced).lower()}"))
    return problems
