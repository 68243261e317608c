"""The people of a shared deployment (SPEC §13), kept by `foi admin user`: their person rows,
their agencies and the login roles' groups, in step."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection

from foi_workflow.adapters.tables import MEMBERSHIP, PERSON, utcnow
from foi_workflow.domain.access import Actor, Role
from foi_workflow.errors import AccessDenied, InvalidInput, NeedsPostgres, NotFound
from foi_workflow.services.app import App

# A login as PostgreSQL and an LDAP directory both take it: no quoting surprises, no spaces.
_LOGIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PersonEntry:
    """A line of `foi admin user list`."""

    login: str
    name: str
    email: str
    role: str
    agencies: tuple[str, ...]
    active: bool
    can_login: bool


def _administrator(app: App) -> Actor:
    if app.engine.dialect.name != "postgresql":
        raise NeedsPostgres("foi admin user 用于 PostgreSQL 共享部署；SQLite 上请在配置文件 [caseworkers] 中登记经办人")
    actor = app.actor
    if not actor.owner:
        raise AccessDenied(f"只有数据库所有者（运行 foi init 的登录名）可以管理人员，{actor.login} 不是")
    return actor


def _check_login(login: str) -> str:
    if not _LOGIN.match(login) or login.lower().startswith(("pg_", "foi_")):
        raise InvalidInput(f"登录名 {login!r} 不可用：应以字母开头，只含字母、数字和 _ . @ -，且不以 pg_ 或 foi_ 开头")
    return login


def _check_agencies(app: App, agencies: Iterable[str]) -> list[str]:
    codes = sorted({a.strip() for a in agencies if a.strip()})
    if not codes:
        raise InvalidInput("选项 --agency：至少写一个机关代码（多个用逗号分隔）")
    for code in codes:
        app.config.agency(code)  # refuses a code the config does not know
    return codes


def _check_email(email: str) -> str:
    email = email.strip()
    if email and not _EMAIL.match(email):
        raise InvalidInput(f"选项 --email：邮箱地址格式错误：{email!r}")
    return email


def _quote(conn: Connection, login: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(login)


def _grant_role(conn: Connection, login: str, role: Role | None) -> None:
    """Make `login` a member of exactly the group of `role` (none: of no foi group)."""
    quoted = _quote(conn, login)
    for group in Role:
        conn.execute(text(f"REVOKE {group.group} FROM {quoted}"))
    if role is not None:
        conn.execute(text(f"GRANT {role.group} TO {quoted}"))


def _set_agencies(conn: Connection, login: str, agencies: Sequence[str]) -> None:
    conn.execute(delete(MEMBERSHIP).where(MEMBERSHIP.c.login == login))
    conn.execute(insert(MEMBERSHIP), [{"login": login, "agency": code} for code in agencies])


def _registered(conn: Connection, login: str) -> Any:
    """The person row of an active person (locked for the change), or a clear refusal."""
    person = conn.execute(select(PERSON).where(PERSON.c.login == login).with_for_update()).one_or_none()
    if person is None or not person.active:
        raise NotFound(f"没有登记名为 {login} 的人员（foi admin user list 查看）")
    return person


def _name(name: str) -> str:
    if not name.strip():
        raise InvalidInput("选项 --name：姓名不能为空")
    return name.strip()


def add_person(app: App, login: str, *, name: str, agencies: Iterable[str], role: str,
               email: str = "") -> bool:  # fmt: skip
    """Register a person: their login role (created if missing, without a password), the group
    of their role, their agencies. Returns whether the login role was created."""
    from foi_workflow.services.case_store import own_connection

    _administrator(app)
    login, codes, chosen = _check_login(login), _check_agencies(app, agencies), Role(role)
    values = {"name": _name(name), "email": _check_email(email), "role": chosen.value, "active": True}
    with own_connection(app) as s:
        existing = s.execute(select(PERSON.c.active).where(PERSON.c.login == login)).scalar_one_or_none()
        if existing:
            raise InvalidInput(f"{login} 已登记；修改请用 foi admin user set {login} …")
        created = not s.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": login}).first()
        if created:
            s.execute(text(f"CREATE ROLE {_quote(s, login)} LOGIN"))
        if existing is None:
            s.execute(insert(PERSON).values(login=login, created_at=utcnow(), **values))
        else:  # removed before: the row that history names comes back
            s.execute(update(PERSON).where(PERSON.c.login == login).values(**values))
        _set_agencies(s, login, codes)
        _grant_role(s, login, chosen)
        s.commit()
    return created


def set_person(app: App, login: str, *, name: str | None = None, agencies: Iterable[str] | None = None,
               role: str | None = None, email: str | None = None) -> None:  # fmt: skip
    """Change what is given of a registered person (their role's group follows)."""
    from foi_workflow.services.case_store import own_connection

    _administrator(app)
    with own_connection(app) as s:
        _registered(s, login)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _name(name)
        if email is not None:
            values["email"] = _check_email(email)
        if role is not None:
            values["role"] = Role(role).value
            _grant_role(s, login, Role(role))
        if values:
            s.execute(update(PERSON).where(PERSON.c.login == login).values(**values))
        if agencies is not None:
            _set_agencies(s, login, _check_agencies(app, agencies))
        s.commit()


def remove_person(app: App, login: str) -> None:
    """Take every right away: no foi group, no agency. The person row stays (inactive), so the
    history still names them; the login role itself is the server's to drop."""
    from foi_workflow.services.case_store import own_connection

    _administrator(app)
    with own_connection(app) as s:
        _registered(s, login)
        s.execute(update(PERSON).where(PERSON.c.login == login).values(active=False))
        s.execute(delete(MEMBERSHIP).where(MEMBERSHIP.c.login == login))
        _grant_role(s, login, None)
        s.commit()


def list_people(app: App) -> list[PersonEntry]:
    _administrator(app)
    with app.engine.connect() as s:
        members: dict[str, list[str]] = {}
        for m in s.execute(select(MEMBERSHIP).order_by(MEMBERSHIP.c.agency)):
            members.setdefault(m.login, []).append(m.agency)
        logins = set(s.execute(text("SELECT rolname FROM pg_roles WHERE rolcanlogin")).scalars())
        return [
            PersonEntry(p.login, p.name, p.email, p.role, tuple(members.get(p.login, ())), p.active, p.login in logins)
            for p in s.execute(select(PERSON).order_by(PERSON.c.login))
        ]
