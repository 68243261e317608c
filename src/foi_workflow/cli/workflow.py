"""`foi workflow diagram`: the workflows as the shared machine sees them."""

from __future__ import annotations

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import AppContext, pass_app
from foi_workflow.domain.diagram import FORMATS


@click.group("workflow", help=command_help("workflow"))
def workflow_group() -> None:
    pass


@workflow_group.command("diagram")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True,
              help="输出格式：mermaid（Markdown 中可直接显示，无需 Graphviz）")  # fmt: skip
@click.option("--workflow", "which", type=click.Choice(["disclosure", "appeal"]), default="disclosure",
              show_default=True, help="disclosure 依申请公开 / appeal 行政复议与诉讼")  # fmt: skip
@pass_app
def diagram_cmd(app_ctx: AppContext, fmt: str, which: str) -> None:
    """画出流程的状态、事件与条件"""
    from foi_workflow.domain.diagram import diagram

    workflow = app_ctx.app.workflow
    click.echo(diagram(workflow.disclosure if which == "disclosure" else workflow.appeal, fmt), nl=False)
