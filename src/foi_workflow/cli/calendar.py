"""`foi calendar …`: working-day questions answered from the statutory calendar (no database).

The first token of every answer is the answer itself (an ISO date, `yes`/`no`,
`official`/`provisional`); a provisional answer says so after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from foi_workflow.cli.commands import command_help
from foi_workflow.cli.common import AppContext, parse_date, pass_app

if TYPE_CHECKING:
    from foi_workflow.domain.calendar import WorkCalendar, YearStatus


def _calendar(app: AppContext) -> WorkCalendar:
    from foi_workflow.domain.calendar import WorkCalendar

    return WorkCalendar.load(app.config.calendar_dir)


def _count(value: str) -> int:
    from foi_workflow.errors import CalendarError, InvalidInput

    try:
        n = int(value)
    except ValueError:
        raise InvalidInput(f"工作日数应为整数：{value!r}") from None
    if n < 0:
        raise CalendarError(f"工作日数不能为负数：{n}")
    return n


@click.group("calendar", help=command_help("calendar"))
def calendar_group() -> None:
    pass


@calendar_group.command(
    "add-working-days", context_settings={"ignore_unknown_options": True}  # so that "-3" reaches us
)
@click.argument("day", metavar="DATE")
@click.argument("n", metavar="N")
@pass_app
def add_working_days_cmd(app: AppContext, day: str, n: str) -> None:
    """DATE 之后第 N 个工作日（当日不计入）"""
    from foi_workflow.domain.calendar import provisional_note

    start = parse_date(day)
    count = _count(n)
    cal = _calendar(app)
    answer = cal.add_working_days(start, count)
    years = cal.provisional_years(start, answer)
    note = f" （{'；'.join(provisional_note(y) for y in years)}）" if years else ""
    click.echo(f"{answer.isoformat()}{note}")


@calendar_group.command("is-working-day")
@click.argument("day", metavar="DATE")
@pass_app
def is_working_day_cmd(app: AppContext, day: str) -> None:
    """DATE 是否为工作日，输出 yes 或 no"""
    from foi_workflow.domain.calendar import provisional_note

    d = parse_date(day)
    cal = _calendar(app)
    answer = "yes" if cal.is_working_day(d) else "no"
    detail = ""
    if not cal.is_working_day(d):
        name = cal.holiday_name(d)
        detail = f" {name or '法定节假日'}" if name is not None else " 周末"
    elif d.weekday() >= 5:
        detail = " 调休上班"
    note = f" （{provisional_note(d.year)}）" if cal.is_provisional(d) else ""
    click.echo(f"{answer}{detail}{note}")


@calendar_group.command("status")
@click.argument("year", required=False, type=int)
@pass_app
def status_cmd(app: AppContext, year: int | None) -> None:
    """某年的节假日安排是官方的还是暂定的，及其来源；不给 YEAR 则逐年列出"""
    from foi_workflow.cli.common import today_local
    from foi_workflow.domain.calendar import MIN_YEAR

    cal = _calendar(app)
    if year is not None:
        click.echo(_status_line(cal.status(year), with_year=False))
        return
    last = max([today_local().year + 1, *cal.official_years])
    for y in range(MIN_YEAR, last + 1):
        click.echo(_status_line(cal.status(y), with_year=True))


def _status_line(status: YearStatus, *, with_year: bool) -> str:
    from foi_workflow.domain.calendar import provisional_note

    head = f"{status.year} " if with_year else ""
    if not status.official:
        return (
            f"{head}provisional {provisional_note(status.year)}，"
            "按周一至周五、除1月1日、5月1日至2日、10月1日至3日推算"
        )
    where = f"（{status.file}）" if status.file is not None and str(status.file) != status.source else ""
    return f"{head}official 官方安排，来源：{status.source}{where}"
