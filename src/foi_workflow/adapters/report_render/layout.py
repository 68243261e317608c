"""The national layout shared by every renderer (国办公开办函〔2021〕30号): the label
columns of table 3, the headers of tables 2 and 4, and the report's section titles."""

from __future__ import annotations

from dataclasses import dataclass

from foi_workflow.domain.report_inputs import DocumentCounts, Table2
from foi_workflow.domain.vocabulary import (
    COLUMN_LABELS,
    OUTCOME_INFO,
    ROW_LABELS,
    TABLE4_COLUMN_LABELS,
    AppealKind,
    ApplicantType,
    Outcome,
)

SECTION_TITLES: tuple[str, ...] = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)
TIMELINESS_TITLE = "附：办理时效（不属于国家规定格式）"
DIFF_TITLE = "附：与年度结转时冻结数据的差异"
BALANCE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
APPLICANT_HEADER = "申请人情况"
LEGAL_PERSON_HEADER = "法人或其他组织"
TYPE_LABELS: tuple[str, ...] = tuple(t.label for t in ApplicantType)  # 自然人 … 其他
TOTAL = COLUMN_LABELS["total"]
TABLE4_REVIEW = AppealKind.REVIEW.label
TABLE4_LITIGATION = "行政诉讼"
TABLE4_SUBBLOCKS = (AppealKind.LITIGATION_DIRECT.label, AppealKind.LITIGATION_AFTER_REVIEW.label)
TABLE4_RESULTS: tuple[str, ...] = tuple(TABLE4_COLUMN_LABELS.values())


@dataclass(frozen=True)
class Table3Line:
    """One printed row of table 3: up to three label cells, and the row key of its figures."""

    level1: str
    level2: str
    level3: str
    key: str


def _table3_lines() -> tuple[Table3Line, ...]:
    lines = [
        Table3Line(ROW_LABELS["received"], "", "", "received"),
        Table3Line(ROW_LABELS["carried_in"], "", "", "carried_in"),
    ]
    seen: set[str] = set()
    for outcome in Outcome:
        info = OUTCOME_INFO[outcome]
        level1 = "三、本年度办理结果" if not lines[2:] else ""
        if info.item is None:
            lines.append(Table3Line(level1, f"{info.section} {info.label}", "", outcome.value))
        else:
            level2 = f"{info.section} {info.section_label}" if info.section not in seen else ""
            lines.append(Table3Line(level1, level2, f"{info.item}. {info.label}", outcome.value))
        seen.add(info.section)
    lines.append(Table3Line("", "(七) 总计", "", "handled_total"))
    lines.append(Table3Line(ROW_LABELS["carried_out"], "", "", "carried_out"))
    return tuple(lines)


TABLE3_LINES: tuple[Table3Line, ...] = _table3_lines()


def section_spans() -> list[tuple[int, int]]:
    """(first line index, number of lines) of each (三)–(六) block with items, for merging."""
    spans: list[tuple[int, int]] = []
    for i, line in enumerate(TABLE3_LINES):
        if line.level3 and line.level2:
            spans.append((i, 1))
        elif line.level3 and spans:
            first, n = spans[-1]
            spans[-1] = (first, n + 1)
    return spans


RESULT_BLOCK = (
    next(i for i, line in enumerate(TABLE3_LINES) if line.level1.startswith("三")),
    sum(1 for line in TABLE3_LINES if line.key not in ("received", "carried_in", "carried_out")),
)


@dataclass(frozen=True)
class Table2Block:
    """One block of table 2: the article, the column headers, and rows of (label, values)."""

    article: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]


def table2_blocks(t: Table2) -> tuple[Table2Block, ...]:
    def docs(label: str, c: DocumentCounts) -> tuple[str, tuple[str, ...]]:
        return label, (str(c.issued), str(c.repealed), str(c.in_force))

    return (
        Table2Block("第二十条第（一）项", ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"),
                    (docs("规章", t.regulations), docs("行政规范性文件", t.normative_documents))),
        Table2Block("第二十条第（五）项", ("信息内容", "本年处理决定数量"),
                    (("行政许可", (str(t.licensing),)),)),
        Table2Block("第二十条第（六）项", ("信息内容", "本年处理决定数量"),
                    (("行政处罚", (str(t.penalties),)), ("行政强制", (str(t.coercive_measures),)))),
        Table2Block("第二十条第（八）项", ("信息内容", "本年收费金额（单位：万元）"),
                    (("行政事业性收费", (t.fees_text,)),)),
    )


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
