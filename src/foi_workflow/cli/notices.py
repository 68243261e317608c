"""`foi notice ID KIND`: issue (or reprint) a letter; `foi fee quote`: the information processing fee."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import IDENTIFIER, AppContext, parse_date, pass_app, resolve_on
from foi_workflow.cli.service_text import METHOD_HELP, METHODS
from foi_workflow.domain.vocabulary import NoticeKind

KINDS = tuple(kind.value for kind in NoticeKind)
FORMATS = ("txt", "html", "pdf", "docx")


def _default_file(case_id: str, kind: str, fmt: str) -> Path:
    safe = re.sub(r"[^\w.-]+", "_", case_id).strip("._") or "notice"
    return Path(f"{safe}-{kind}.{fmt}")


@click.command(
    "notice",
    help=command_help(
        "notice",
        "生成并保存告知书（登记回执、补正、征求意见、延期、收费、答复；征求意见告知申请人、"
        "决定公开告知第三方、第三十五条说明理由与延迟答复），打印或写入文件。"
        "每个事件每种告知书只出具一次：重印用 --reprint（文号不变），"
        "重新出具用 --reissue --reason（新文号，原件标记为已替换）。\n\n"
        f"KIND：{'、'.join(KINDS)}。",
    ),
)
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="txt", show_default=True, help="输出格式")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写入文件（pdf、docx 默认写入 ID-KIND.格式）")
@click.option("--on", "on", default=None, help="告知书日期 YYYY-MM-DD（默认为所告知事件的生效日期）")
@click.option("--by", "by", default=None, help="出具人（默认当前登录名）")
@click.option("--reprint", is_flag=True, help="重印已出具的同类告知书，文号不变")
@click.option("--reissue", is_flag=True, help="重新出具（新文号），原告知书标记为已替换；须加 --reason")
@click.option("--reason", "reason", default=None, help="重新出具的理由")
@click.option("--amend-closed-year", "amend", default=None, metavar="REASON",
              help="告知书日期在已结转年度时须加，说明理由")
@click.option("--serve", "serve", type=click.Choice(METHODS), default=None,
              help="同时记录送达（送达日期为 --on，默认今天）：" + METHOD_HELP)
@pass_app
def notice_cmd(
    app_ctx: AppContext,
    case_id: str,
    kind: str,
    fmt: str,
    out: Path | None,
    on: str | None,
    by: str | None,
    reprint: bool,
    reissue: bool,
    reason: str | None,
    amend: str | None,
    serve: str | None,
) -> None:
    if reprint and serve is not None:
        raise click.UsageError("--reprint 不能与 --serve 同用：送达已出具的告知书请用 foi serve")
    if reprint and (on is not None or reissue or amend is not None):
        raise click.UsageError("--reprint 不能与 --on、--reissue、--amend-closed-year 同用：重印的告知书保持原样")
    if reissue != (reason is not None):
        raise click.UsageError("--reissue 与 --reason 须同时给出")
    if out is None and fmt in ("pdf", "docx"):
        out = _default_file(case_id, kind, fmt)
    if reprint:
        body, number = _reprint(app_ctx, case_id, kind, fmt, out)
        action = "重印"
    else:
        from foi_workflow.services.notices import issue_and_print

        by = app_ctx.recorder(by)
        dated = parse_date(on, "--on 日期") if on else None
        printed = issue_and_print(
            app_ctx.app, case_id, kind, fmt=fmt, out=out, by=by, on=dated, reissue_reason=reason, amend_reason=amend,
            also=_server(app_ctx, serve, dated or resolve_on(None), by, amend) if serve else None,
        )  # fmt: skip
        body, number = printed.body, printed.letter.number
        action = f"已出具（替换 {printed.letter.replaces}）" if printed.letter.replaces else "已出具"
    if out is None:
        click.echo(body.decode("utf-8"), nl=False)
        click.echo(f"{action}：{number}", err=True)
        return
    click.echo(f"{action} {number}，已写入 {out}")


def _server(app_ctx: AppContext, method: str, on: date, by: str, amend: str | None) -> Callable[[Any, Any], None]:
    """Record the new letter's service by `method` on `on`, in the letter's transaction."""

    def serve_it(session: Any, letter: Any) -> None:
        from foi_workflow.services.service import serve

        serve(app_ctx.app, letter.case_id, letter.number, method, on=on, by=by, amend_reason=amend, session=session)

    return serve_it


def _reprint(app_ctx: AppContext, case_id: str, kind: str, fmt: str, out: Path | None) -> tuple[bytes, str]:
    from sqlmodel import Session

    from foi_workflow.adapters.db import require_schema
    from foi_workflow.adapters.files import write_private
    from foi_workflow.domain.vocabulary import LetterStatus
    from foi_workflow.services.notices import latest_notice, render_stored

    app = app_ctx.app
    require_schema(app.engine)
    with Session(app.engine) as session:
        stored = latest_notice(session, case_id, kind)
    if stored.status != LetterStatus.VALID.value:
        click.echo(f"注意：{stored.number} {LetterStatus(stored.status).label}", err=True)
    body = render_stored(app, stored, fmt)
    if out is not None:
        write_private(out, body)
    return body, stored.number


@click.group("fee", help=command_help("fee"))
def fee_group() -> None:
    pass


@fee_group.command(
    "quote",
    help=(
        "按收费标准计算信息处理费（超额累进；按件计收累计申请人本自然月的件数，按量计收只计本次申请的页数）。"
        "第一行第一项为金额（元）。"
    ),
)
@click.option("--basis", type=click.Choice(["per_item", "per_page"]), required=True,
              help="计收方式：per_item 按件，per_page 按量（每件申请只能选一种）")
@click.option("--quantity", type=int, required=True, help="本次申请的数量（件或页）")
@click.option("--already-this-month", "already", type=int, default=0, show_default=True,
              help="按件计收：该申请人本自然月此前已计收的件数（按量计收不累计，不适用）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式")
def fee_quote_cmd(basis: str, quantity: int, already: int, fmt: str) -> None:
    from foi_workflow.domain.fees import quote

    result = quote(basis, quantity, already)
    if fmt == "json":
        payload = {
            "basis": result.basis.value,
            "quantity": result.quantity,
            "already_this_month": result.already_this_month,
            "amount": result.amount,
            "breakdown": [
                {
                    "first": p.bracket.first,
                    "last": p.bracket.last,
                    "unit_price": p.bracket.unit_price,
                    "quantity": p.quantity,
                    "amount": p.amount,
                }
                for p in result.breakdown
            ],
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    unit = result.unit
    head = f"{result.amount} 元（{result.basis_label}，本次 {result.quantity}{unit}"
    if result.already_this_month:
        head += f"，本月此前已计 {result.already_this_month}{unit}"
    click.echo(head + "）")
    for part in result.breakdown:
        span = (f"{part.bracket.first}{unit}起" if part.bracket.last is None
                else f"{part.bracket.first}—{part.bracket.last}{unit}")
        price = "免费" if part.bracket.unit_price == 0 else f"每{unit}{part.bracket.unit_price}元"
        click.echo(f"  {span}（{price}）：{part.quantity}{unit}，{part.amount} 元")
