"""What a caseworker reads: `foi list` and `foi show` (SPEC §8), printed from services.views."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import IDENTIFIER, YEAR, AppContext, enum_choice, pass_app
from foi_workflow.cli.service_text import service_lines
from foi_workflow.domain.service import UNSERVED_FLAG
from foi_workflow.domain.vocabulary import LetterStatus, State


@click.command("list", help=command_help("list"))
@click.option("--state", type=enum_choice(State), default=None, help="按状态筛选")
@click.option("--overdue", is_flag=True, help="只列出已超过答复期限的案件")
@click.option("--due-within", type=click.IntRange(min=0), default=None, metavar="N",
              help="正在计算的期限（答复、补正、征求意见、缴费）在今天起 N 个工作日内届满的案件，不含已逾期的")
@click.option("--year", type=YEAR, default=None, help="按收到申请的年度筛选")
@click.option("--caseworker", default=None, metavar="NAME", help="按经办人筛选（登录名或配置中的姓名）")
@click.option("--applicant", default=None, metavar="TEXT", help="按申请人姓名或名称筛选（包含该文字即可）")
@click.option("--final", is_flag=True, help="只列出已生效的决定（救济期限届满且未复议、诉讼）")
@click.option("--unserved", is_flag=True, help="只列出答复未记录送达的已办结案件")
@click.option("--agency", default=None, help="机关代码（默认配置中的机关）")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="输出格式")
@click.option("--reveal", is_flag=True, help="显示完整的电话和身份证件号码（默认遮蔽）")
@pass_app
def list_cmd(app_ctx: AppContext, state: str | None, overdue: bool, due_within: int | None, year: int | None,
             caseworker: str | None, applicant: str | None, final: bool, unserved: bool, agency: str | None,
             fmt: str, reveal: bool) -> None:  # fmt: skip
    from foi_workflow.services.views import list_cases

    rows = list_cases(app_ctx.app, state=state, overdue=overdue, due_within=due_within, year=year, agency=agency,
                      caseworker=caseworker, applicant=applicant, final=final, unserved=unserved,
                      reveal=reveal)  # fmt: skip
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    columns = ["id", "state", "applicant", "applicant_type", "received_on", "reply_due", "decided_on", "outcome",
               "caseworker", "overdue"]  # fmt: skip
    if fmt == "csv":
        from foi_workflow.domain.boundary import spreadsheet_text

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: spreadsheet_text(value) for key, value in row.items()} for row in rows)
        click.echo(buf.getvalue(), nl=False)
        return
    _print_table(rows)


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"案件 {len(rows)} 件", show_lines=False)
    for header in ("编号", "状态", "申请人", "类型", "收到", "期限", "办结", "结果", "经办人"):
        table.add_column(header)
    for r in rows:
        due = ""
        if r["due"]:
            provisional = r["provisional"] and r["due_kind"] == "reply_due"
            due = f"{r['due_label']} {r['due']}" + ("（暂定）" if provisional else "")
        if r["overdue"]:
            due = f"[bold red]{due} 已逾期[/]"
        elif r["due_passed"]:  # a correction, consultation or fee period the sweep has yet to close
            due = f"[yellow]{due} 已届满[/]"
        decided = (r["decided_on"] or "") + (f" {UNSERVED_FLAG}" if r["served"] is False else "") + (
            " 已生效" if r["final"] else "")  # fmt: skip
        # Every value as text, never as markup: a name may contain "[/bold]".
        table.add_row(
            *map(escape, (r["id"], r["state_label"], r["applicant"], r["applicant_type_label"], r["received_on"])),
            due, *map(escape, (decided, r["outcome_short"] or "", r["caseworker_name"])),
        )  # fmt: skip
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@click.command(
    "show",
    help=command_help("show", "事件时间线与每个期限的推算过程"),
)
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式")
@click.option("--reveal", is_flag=True, help="显示完整的电话和身份证件号码（默认遮蔽）")
@pass_app
def show_cmd(app_ctx: AppContext, case_id: str, fmt: str, reveal: bool) -> None:
    from foi_workflow.domain.vocabulary import Deadline
    from foi_workflow.services.views import show_case

    detail = show_case(app_ctx.app, case_id, reveal=reveal)
    if fmt == "json":
        click.echo(json.dumps(detail.as_json(), ensure_ascii=False, indent=1))
        return
    s = detail.summary
    state = "已作废（登记作废，不计入列表和年报）" if s["voided"] else s["state_label"]
    lines = [
        f"案件 {s['id']}（{s['agency']}）  状态：{state}"
        + (f"  结果：{s['outcome_label']}" if s["outcome"] else ""),
        f"申请人：{s['applicant']}（{s['applicant_type_label']}）  渠道：{s['channel_label']}"
        f"  经办人：{s['caseworker_name']}"
        + (f"（{s['caseworker']}）" if s["caseworker_name"] != s["caseworker"] else ""),
        f"申请内容：{detail.request}",
        f"收到申请：{s['received_on']}" + (f"  办结：{s['decided_on']}" if s["decided_on"] else ""),
    ]  # fmt: skip
    if s["reply_due"]:
        provisional = "（暂定，该年度尚无官方节假日安排）" if s["provisional"] else ""
        overdue = "  已逾期" if s["overdue"] else ""
        lines.append(f"{Deadline.REPLY_DUE.label}：{s['reply_due']}{provisional}{overdue}")
    for deadline in Deadline:
        if deadline is not Deadline.REPLY_DUE and s[deadline.value]:
            lines.append(f"{deadline.label}：{s[deadline.value]}")
    if s["on_time"] is not None:
        lines.append("按期答复：" + ("是" if s["on_time"] else "否（逾期）"))
    if s["extended_days"]:
        lines.append(f"已延长：{s['extended_days']} 个工作日")
    lines.extend(service_lines(s, detail.service))
    lines.append("")
    lines.append("事件：")
    for ev in detail.events:
        lines.append(f"  {ev['no']:>3}  {ev['on']}  {ev['event']:<20} {ev['by']}  {_fields(ev['data'])}{_marks(ev)}")
    if detail.explanation:
        lines.append("")
        lines.append("期限推算：")
        lines.extend(f"  {line}" for line in detail.explanation)
    if detail.notices:
        lines.append("")
        lines.append("告知书：")
        for n in detail.notices:
            status = "" if n["status"] == LetterStatus.VALID else f"  {LetterStatus(n['status']).label}"
            lines.append(
                f"  {n['dated']}  {n['kind']}  {n['number']}{status}  模板 {n['template']} ({n['template_hash'][:12]})"
            )
    click.echo("\n".join(lines))


def _fields(data: dict[str, Any]) -> str:
    return "，".join(f"{k}={_fields(v) if isinstance(v, dict) else v}" for k, v in data.items())


def _marks(ev: dict[str, Any]) -> str:
    """已作废 / 已更正 with who, when and why (SPEC §11)."""
    marks = []
    if ev["voided"]:
        v = ev["voided"]
        marks.append(f"【已作废：第 {v['no']} 号事件，{v['by']} {v['on']}，理由：{v['reason']}】")
    for c in ev["corrected_by"]:
        to = _fields(c["set"])
        marks.append(f"【已更正：第 {c['no']} 号事件，{c['by']} {c['on']}，理由：{c['reason']}；更正为 {to}】")
    return "  " + "".join(marks) if marks else ""
