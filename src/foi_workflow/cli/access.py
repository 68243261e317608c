"""Who may do what (SPEC §13): `foi extend` (a request, or the extension itself), `foi approve`,
`foi reject`, `foi verify` and `foi admin user …`."""

from __future__ import annotations

import json
from typing import Any

import click

from foi_workflow.cli.cases import amend_option, echo_change, notice_option, with_letter
from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import IDENTIFIER, AppContext, event_options, options_named, pass_app, resolve_on
from foi_workflow.domain.access import Role


@click.command(
    "extend",
    help=command_help(
        "extend",
        "须政府信息公开工作机构负责人同意。SQLite：--approved-by 写明负责人；"
        "PostgreSQL：审批人直接延长，经办人提交延期申请（不影响期限，邮件通知审批人，foi approve 批准）。",
    ),
)
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@click.option("--days", required=True, type=int, help="延长的工作日数（1–20）")
@click.option("--approved-by", default=None, help="批准延期的政府信息公开工作机构负责人（SQLite 必填）")
@click.option("--reason", default=None, help="延期理由（写入延期答复告知书，如：所申请信息需调取归档资料）")
@event_options
@amend_option
@notice_option
@pass_app
def extend_cmd(app_ctx: AppContext, case_id: str, days: int, approved_by: str | None, reason: str | None,
               on: str | None, by: str | None, amend: str | None, notice: bool) -> None:  # fmt: skip
    from foi_workflow.errors import ActorFixed, RuleViolation
    from foi_workflow.services.approval import extend

    app = app_ctx.app
    recorder = app_ctx.recorder(by)
    if approved_by is not None and app.actor.shared and not app.actor.owner and approved_by != app.actor.login:
        raise ActorFixed(f"共享数据库上批准人即审批人本人的登录名（{app.actor.login}），不能用 --approved-by 指定他人")
    asked: list[Any] = []

    def record(session: Any) -> Any:
        result = extend(app, case_id, on=resolve_on(on), by=recorder, days=days, reason=reason,
                        approved_by=approved_by, amend_reason=amend, session=session)  # fmt: skip
        if result.requested and notice:
            raise RuleViolation("延期尚待审批人批准，批准后再用 foi notice ID extension 出具延期答复告知书")
        asked.append(result)
        return result.change

    with options_named():
        change, letter = with_letter(app_ctx, "extend", notice, amend, record)
    if asked[0].requested:
        click.echo(
            f"案件 {case_id}：已提交延期申请（{days} 个工作日），待审批人批准（foi approve {case_id}）；"
            "批准前答复期限不变"
        )
        return
    echo_change(change, letter)


@click.command("approve", help=command_help("approve", "延长自申请之日起生效"))
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@pass_app
def approve_cmd(app_ctx: AppContext, case_id: str) -> None:
    from foi_workflow.services.approval import approve

    echo_change(approve(app_ctx.app, case_id))


@click.command("reject", help=command_help("reject"))
@click.argument("case_id", metavar="ID", type=IDENTIFIER)
@click.option("--reason", required=True, help="不批准的理由")
@click.option("--on", "on", default=None, help="生效日期 YYYY-MM-DD（默认今天，北京时间）")
@pass_app
def reject_cmd(app_ctx: AppContext, case_id: str, reason: str, on: str | None) -> None:
    from foi_workflow.services.approval import reject

    with options_named():
        echo_change(reject(app_ctx.app, case_id, on=resolve_on(on), reason=reason))


@click.command(
    "verify",
    help=command_help("verify", "有差异时退出状态为 1；调度程序每天运行并邮件告知公开办"),
)
@pass_app
def verify_cmd(app_ctx: AppContext) -> None:
    from foi_workflow.services.verify import verify

    differences = verify(app_ctx.app)
    for line in differences:
        click.echo(line)
    if differences:
        click.echo(f"发现 {len(differences)} 处案件表与事件日志不一致（可能被绕过程序修改）", err=True)
        raise SystemExit(1)
    click.echo("案件表与事件日志一致")


@click.group("admin", help=command_help("admin"))
def admin_group() -> None:
    pass


@admin_group.group("user", help="人员与权限（PostgreSQL 共享部署）")
def user_group() -> None:
    pass


def _agencies(value: str | None) -> list[str] | None:
    return None if value is None else value.split(",")


_ROLE = click.Choice([r.value for r in Role])


@user_group.command("add", help="登记人员：建立登录名（如尚无）并授予角色和机关")
@click.argument("login", metavar="LOGIN")
@click.option("--name", required=True, help="姓名（写入告知书等）")
@click.option("--agency", "agency", required=True, help="所属机关代码，多个用逗号分隔")
@click.option("--role", required=True, type=_ROLE,
              help="caseworker 经办人、approver 审批人、office 公开办、auditor 审计")  # fmt: skip
@click.option("--email", default="", help="邮箱（提醒和审批邮件）")
@pass_app
def user_add_cmd(app_ctx: AppContext, login: str, name: str, agency: str, role: str, email: str) -> None:
    from foi_workflow.services.people import add_person

    created = add_person(app_ctx.app, login, name=name, agencies=_agencies(agency) or [], role=role, email=email)
    click.echo(f"已登记 {login}（{name}）：{Role(role).label}；机关 {agency}")
    if created:
        click.echo(
            f"已建立数据库登录名 {login}（尚无密码）。设置密码：管理员在 psql 中执行 \\password {login}，"
            "或由本人登录后执行 \\password；也可按 pg_hba.conf 使用 LDAP、证书等方式认证"
        )


@user_group.command("set", help="修改人员的姓名、邮箱、角色或机关")
@click.argument("login", metavar="LOGIN")
@click.option("--name", default=None, help="姓名")
@click.option("--agency", "agency", default=None, help="所属机关代码，多个用逗号分隔（替换原有）")
@click.option("--role", default=None, type=_ROLE, help="角色")
@click.option("--email", default=None, help="邮箱")
@pass_app
def user_set_cmd(app_ctx: AppContext, login: str, name: str | None, agency: str | None, role: str | None,
                 email: str | None) -> None:  # fmt: skip
    from foi_workflow.services.people import set_person

    set_person(app_ctx.app, login, name=name, agencies=_agencies(agency), role=role, email=email)
    click.echo(f"已修改 {login}")


@user_group.command("remove", help="撤销人员的全部权限（历史记录仍显示其姓名）")
@click.argument("login", metavar="LOGIN")
@pass_app
def user_remove_cmd(app_ctx: AppContext, login: str) -> None:
    from foi_workflow.services.people import remove_person

    remove_person(app_ctx.app, login)
    click.echo(f"已撤销 {login} 的全部角色和机关（登录名本身由数据库管理员决定是否删除）")


@user_group.command("list", help="人员一览")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="输出格式")
@pass_app
def user_list_cmd(app_ctx: AppContext, fmt: str) -> None:
    from dataclasses import asdict

    from foi_workflow.services.people import list_people

    people = list_people(app_ctx.app)
    if fmt == "json":
        click.echo(json.dumps([asdict(p) for p in people], ensure_ascii=False, indent=1))
        return
    for p in people:
        state = "" if p.active else "  （已撤销）"
        login = "" if p.can_login else "  （不能登录）"
        click.echo(f"{p.login:<16} {p.name:<8} {p.role:<10} {','.join(p.agencies):<16} {p.email}{state}{login}")
