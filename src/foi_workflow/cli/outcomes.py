"""`foi outcomes`: the outcome codes with their report rows and legal bases (SPEC §2)."""

from __future__ import annotations

import json

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.domain.vocabulary import Outcome


@click.command(
    "outcomes",
    help=command_help("outcomes", "对应的年报行次与法律依据"),
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式")
def outcomes_cmd(fmt: str) -> None:
    if fmt == "json":
        rows = [
            {
                "code": o.value,
                "row": o.info.row,
                "label": o.info.label,
                "legal_basis": o.info.legal_basis,
                "by_hand": not o.is_lapse,
            }
            for o in Outcome
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for o in Outcome:
        auto = "（仅由期限届满自动产生）" if o.is_lapse else ""
        basis = f"  依据：条例{o.info.legal_basis}" if o.info.legal_basis.startswith("第") else (
            f"  依据：{o.info.legal_basis}" if o.info.legal_basis else "")  # fmt: skip
        click.echo(f"{o.value:<40} {o.info.row:<6} {o.info.section_label}：{o.info.label}{auto}{basis}")
