"""`foi demo`: a year of realistic cases, end to end, with progress bars."""

from __future__ import annotations

from pathlib import Path

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import YEAR, today_local


@click.command("demo", help=command_help("demo"))
@click.option("--dir", "folder", default="foi-demo", show_default=True, help="示例机关的文件夹（SQLite 数据库等）")
@click.option("--year", type=YEAR, default=None, help="模拟的年度（默认上一年）")
@click.option("--cases", type=click.IntRange(min=1, max=20000), default=240, show_default=True, help="案件数")
@click.option("--seed", type=int, default=20250101, show_default=True, help="随机种子（同一种子结果相同）")
def demo_cmd(folder: str, year: int | None, cases: int, seed: int) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from foi_workflow.demo.play import run_demo

    chosen_year = year or today_local().year - 1
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def tick(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        result = run_demo(Path(folder), year=chosen_year, cases=cases, seed=seed, progress=tick)
    click.echo(
        f"示例完成：{result.year} 年 {result.cases} 件申请，{result.events} 次办理操作，"
        f"调度器自动办理 {result.automatic} 次，发出提醒邮件 {result.mails_received} 封；"
        f"年报表三{'平衡' if result.balanced else '不平衡'}。"
    )
    click.echo("生成的文件：")
    for label, path in result.files:
        click.echo(f"  {label}: {path}")
    foi = _foi_command()
    click.echo(f"试试：cd {result.folder} && {foi} --config foi.toml list --overdue")
    if foi != "foi":
        click.echo(
            f"（foi 不在 PATH 上：可用上面的完整路径，或先激活安装时的虚拟环境 source {Path(foi).parent}/activate）"
        )


def _foi_command() -> str:
    """How to call this very `foi` from another folder: `foi` when the shell finds it on PATH,
    else its full path (`scripts/install` puts it in `.venv/bin`, which is not on PATH)."""
    import shutil
    import sys

    here = Path(sys.argv[0]).resolve()
    found = shutil.which("foi")
    if found is not None and Path(found).resolve() == here:
        return "foi"
    if here.name == "foi" and here.is_file():
        return str(here)
    return str(Path(sys.executable).absolute().parent / "foi")
