"""The acting login on a shared deployment (SPEC §13): who is running this command, who
records it (`--by` only where the database allows), who may approve. `foi admin user` is
`services.people`. Core statements only: every event command asks who records it.

The rules themselves are the database's (migration 0006); these functions ask first so that a
refusal is one clear line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from foi_workflow.adapters.tables import MEMBERSHIP, PERSON
from foi_workflow.domain.access import Actor, Role
from foi_workflow.errors import AccessDenied, ActorFixed, DatabaseError
from foi_workflow.services.app import App

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from foi_workflow.services.case_store import Db

OLDER_SCHEMA = "数据库结构早于本版本 foi（尚无人员与权限），请由数据库所有者运行 foi init 升级"


def read_actor(app: App) -> Actor:
    """The login this App's database connections run as. SQLite: the config's user, who may do
    everything. PostgreSQL: the session user, whether it owns the tables, its role and agencies."""
    if app.engine.dialect.name != "postgresql":
        return Actor(login=app.config.user)
    from sqlalchemy.exc import ProgrammingError

    from foi_workflow.adapters.db import require_schema

    require_schema(app.engine)
    with app.engine.connect() as s:
        try:
            login, owner = s.execute(text("SELECT session_user, foi_is_owner()")).one()
            person = s.execute(select(PERSON).where(PERSON.c.login == login)).one_or_none()
            agencies = frozenset(s.execute(select(MEMBERSHIP.c.agency).where(MEMBERSHIP.c.login == login)).scalars())
        except ProgrammingError:  # no foi_is_owner(), no person table: a schema before 0006
            raise DatabaseError(OLDER_SCHEMA) from None
        role = Role(person.role) if person is not None and person.active else None
        return Actor(login=str(login), shared=True, owner=bool(owner), role=role, agencies=agencies)


def recorder(app: App, by: str | None) -> str:
    """Who an event, letter or close is recorded by. On PostgreSQL the database records the
    session user for everyone but the owner, so naming anyone else with `--by` is refused here,
    clearly. The owner (the administrator, who enters history on others' behalf, as an import
    does) and the one user of a SQLite file are recorded as before: `--by`, else the config's
    user (FOI_USER, else the operating-system login)."""
    actor = app.actor
    if actor.shared and not actor.owner:
        if by is not None and by.strip() != actor.login:
            raise ActorFixed(f"共享数据库上记录人即登录名（{actor.login}），不能用 --by 指定他人")
        return actor.login
    return by or app.config.user


def require_approver(actor: Actor, agency: str, what: str) -> None:
    if not actor.may_approve(agency):
        raise AccessDenied(f"{what}须经审批人：{actor.login} 不是机关 {agency} 的审批人")


def person_names(db: Db) -> dict[str, str]:
    """Login -> name of every person ever registered (a letter names the approver by name)."""
    return {p.login: p.name for p in db.execute(select(PERSON.c.login, PERSON.c.name))}


def approvers(db: Db, agency: str) -> list[Row[Any]]:
    """The active approvers of `agency` (their person rows), by login."""
    person, member = PERSON.c, MEMBERSHIP.c
    query = (
        select(PERSON)
        .join(MEMBERSHIP, member.login == person.login)
        .where(member.agency == agency, person.role == Role.APPROVER.value, person.active)
        .order_by(person.login)
    )
    return list(db.execute(query))
