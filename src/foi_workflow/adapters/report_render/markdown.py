"""The report as Markdown, in the national layout of the reference report (sections 一…六,
tables 2–4 as pipe tables whose empty cells stand for the paper form's merged cells)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from foi_workflow.adapters.report_render.layout import (
    APPLICANT_HEADER,
    BALANCE_NOTE,
    DIFF_TITLE,
    LEGAL_PERSON_HEADER,
    SECTION_TITLES,
    TABLE3_LINES,
    TABLE4_LITIGATION,
    TABLE4_RESULTS,
    TABLE4_REVIEW,
    TABLE4_SUBBLOCKS,
    TIMELINESS_TITLE,
    TOTAL,
    TYPE_LABELS,
    number,
    percent,
    table2_blocks,
)
from foi_workflow.domain.report import AnnualReport
from foi_workflow.domain.report_inputs import fill
from foi_workflow.domain.vocabulary import AppealKind, chinese_date

MONTHS = tuple(f"{m}月" for m in range(1, 13))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def pipe_table(rows: Sequence[Sequence[str]]) -> str:
    """A pipe table whose first row is the header row."""
    width = max(len(r) for r in rows)
    padded = [[*r, *[""] * (width - len(r))] for r in rows]
    lines = ["| " + " | ".join(_cell(c) for c in padded[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in padded[1:]]
    return "\n".join(lines)


def section_text(report: AnnualReport, key: str) -> str:
    """The agency's text for `preface`, `overview`, `problems` or `other_matters`, with the
    derived figures filled in; a reminder when no reports/YYYY.toml was found."""
    text = str(getattr(report.inputs, key))
    if not report.inputs.source and key != "preface":
        return f"（未填写：本节内容请在 reports/{report.year}.toml 中提供，见 docs/report-config.md）"
    return fill(text, report.placeholders())


def title(report: AnnualReport) -> str:
    values = report.placeholders()
    if report.inputs.title:
        return fill(report.inputs.title, values)
    return f"{report.agency_name}{report.year}年政府信息公开工作年度报告"


def table2_rows(report: AnnualReport) -> list[list[str]]:
    rows: list[list[str]] = []
    for block in table2_blocks(report.inputs.table2):
        rows.append([block.article])
        rows.append(list(block.headers))
        rows += [[label, *values] for label, values in block.rows]
    return rows


def table3_rows(report: AnnualReport) -> list[list[str]]:
    t3 = report.figures.table3
    rows = [
        [BALANCE_NOTE, "", "", APPLICANT_HEADER],
        ["", "", "", TYPE_LABELS[0], LEGAL_PERSON_HEADER, "", "", "", "", TOTAL],
        ["", "", "", "", *TYPE_LABELS[1:], ""],
    ]
    for line in TABLE3_LINES:
        rows.append([line.level1, line.level2, line.level3, *(str(v) for v in t3.rows[line.key])])
    return rows


def table4_rows(report: AnnualReport) -> list[list[str]]:
    t4 = report.figures.table4
    figures = [str(v) for kind in AppealKind for v in t4.rows[kind.value]]
    return [
        [TABLE4_REVIEW, "", "", "", "", TABLE4_LITIGATION],
        ["", "", "", "", "", TABLE4_SUBBLOCKS[0], "", "", "", "", TABLE4_SUBBLOCKS[1]],
        [*TABLE4_RESULTS, *TABLE4_RESULTS, *TABLE4_RESULTS],
        figures,
    ]


def timeliness_lines(report: AnnualReport) -> list[str]:
    t = report.timeliness
    return [
        f"本年办结{t.decided}件，其中按期答复{t.on_time}件，按期答复率{percent(t.on_time_rate)}；",
        f"答复日期以送达记录为准的{t.served}件，未记录送达（以决定日期计）的{t.unserved}件；",
        f"从收到申请到作出答复的工作日数中位数：{number(t.median_working_days)}；",
        f"本年超期答复{t.decided_late}件；截至{chinese_date(report.as_of)}，"
        f"已超过答复期限仍未办结{t.overdue_open}件。",
    ]


def month_rows(report: AnnualReport) -> list[list[str]]:
    t = report.timeliness
    return [
        ["月份", *MONTHS],
        ["新收", *(str(v) for v in t.received_by_month)],
        ["办结", *(str(v) for v in t.decided_by_month)],
    ]


def _paragraphs(text: str) -> Iterable[str]:
    if text:
        yield text
        yield ""


def render_markdown(report: AnnualReport) -> str:
    out: list[str] = [f"# {title(report)}", ""]
    out += _paragraphs(section_text(report, "preface"))
    out += [f"## {SECTION_TITLES[0]}", "", *_paragraphs(section_text(report, "overview"))]
    out += [f"## {SECTION_TITLES[1]}", "", pipe_table(table2_rows(report)), ""]
    out += [f"## {SECTION_TITLES[2]}", "", pipe_table(table3_rows(report)), ""]
    out += [f"## {SECTION_TITLES[3]}", "", pipe_table(table4_rows(report)), ""]
    out += [f"## {SECTION_TITLES[4]}", "", *_paragraphs(section_text(report, "problems"))]
    out += [f"## {SECTION_TITLES[5]}", "", *_paragraphs(section_text(report, "other_matters"))]
    out += [f"## {TIMELINESS_TITLE}", ""]
    out += [f"- {line}" for line in timeliness_lines(report)]
    out += ["", pipe_table(month_rows(report)), ""]
    if report.frozen_differences:
        out += [f"## {DIFF_TITLE}", ""]
        out += [f"- {d.line()}" for d in report.frozen_differences]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
