"""A shared deployment for the access-control tests (SPEC §13): a database of its own on the
test PostgreSQL server (FOI_TEST_PG_ADMIN, set in both runs of `.ci/run`), initialised by the
admin login (the owner), two agencies, and a real login per person: a caseworker and an
approver in each agency, an office login, an auditor. The server authenticates them (trust on
loopback in tests; a password or LDAP in production: the database cannot tell the difference)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import Foi

CONFIG = """\
default_agency = "a"
[agencies.a]
name = "甲市甲局"
short_name = "甲公开"
mailbox = "a@example.gov.cn"
[agencies.b]
name = "乙市乙局"
short_name = "乙公开"
mailbox = "b@example.gov.cn"
"""
# person key -> (name, agencies, role, mail)
PEOPLE: dict[str, tuple[str, str, str, str]] = {
    "cw_a": ("张经办", "a", "caseworker", "zhang@a.example.gov.cn"),
    "ap_a": ("王主任", "a", "approver", "wang@a.example.gov.cn"),
    "cw_b": ("李经办", "b", "caseworker", ""),
    "ap_b": ("赵主任", "b", "approver", "zhao@b.example.gov.cn"),
    "office": ("公开办", "a,b", "office", "office@example.gov.cn"),
    "auditor": ("审计员", "a,b", "auditor", ""),
    "sched": ("调度程序", "a,b", "caseworker", ""),  # the scheduler's own login
}
INTAKE = "intake --applicant 王五 --applicant-type natural_person --channel online --request 某项目批复文件"


def pg_admin() -> str:
    admin = os.environ.get("FOI_TEST_PG_ADMIN")
    if not admin:
        pytest.fail("the access-control tests need FOI_TEST_PG_ADMIN (the throwaway server of .ci/run)")
    return admin


@dataclass
class Deployment:
    """The database URL as each login sees it, and `foi` run as each of them."""

    url: str  # the owner's (admin's)
    folder: Path
    logins: dict[str, str] = field(default_factory=dict)  # person key -> login (unique on the server)

    def url_of(self, who: str) -> str:
        if who == "owner":
            return self.url
        head, rest = self.url.split("://", 1)
        return f"{head}://{self.logins[who]}@{rest.split('@', 1)[1]}"

    def foi(self, who: str) -> Foi:
        return Foi(self.url_of(who), self.folder, self.folder / "foi.toml")

    def sql(self, who: str, statement: str, params: Any = None, *, first: str = "") -> list[tuple[Any, ...]]:
        """Run one statement as `who` through psycopg (after `first`, e.g. a SET ROLE), in a
        transaction of its own (committed)."""
        conninfo = self.url_of(who).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=False) as conn:
            if first:
                conn.execute(first)
            cursor = conn.execute(statement, params)
            rows = cursor.fetchall() if cursor.description else []
            conn.commit()
            return rows

    def refused(self, who: str, statement: str, params: Any = None) -> str:
        """Run a statement as `who` that the database must refuse; returns its message."""
        with pytest.raises(psycopg.Error) as caught:
            self.sql(who, statement, params)
        return str(caught.value)


@dataclass
class Cases:
    a: str
    b: str


@contextmanager
def deployment(tmp: Path, *, before: Callable[[str], None] | None = None) -> Iterator[Deployment]:
    """A fresh database with the people above (logins dropped afterwards). `before(url)` runs
    on the empty database first (e.g. an older schema with data, for `foi init` to upgrade)."""
    admin = pg_admin()
    suffix = uuid.uuid4().hex[:8]
    name = f"acc_{suffix}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    (tmp / "foi.toml").write_text(CONFIG, encoding="utf-8")
    world = Deployment(admin.rsplit("/", 1)[0] + f"/{name}", tmp)
    try:
        if before is not None:
            before(world.url)
        owner = world.foi("owner")
        owner.ok("init")
        for key, (person, agencies, role, mail) in PEOPLE.items():
            login = f"{key}_{suffix}"
            world.logins[key] = login
            owner.ok("admin", "user", "add", login, "--name", person, "--agency", agencies, "--role", role,
                     "--email", mail)  # fmt: skip
        yield world
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for login in world.logins.values():
                conn.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
        engine.dispose()


def new_case(world: Deployment, who: str, on: str = "2024-03-01", agency: str | None = None) -> str:
    args = f"{INTAKE} --on {on}" + (f" --agency {agency}" if agency else "")
    return world.foi(who).ok(args).strip().splitlines()[0]


def log_state(world: Deployment) -> list[tuple[Any, ...]]:
    """Everything a refusal must leave untouched, as the owner sees it: the log and the rows."""
    return [
        *world.sql("owner", 'SELECT seq, case_id, event, "on", "by", data::text FROM event ORDER BY seq'),
        *world.sql("owner", "SELECT id, version, state, reply_due FROM foi_case ORDER BY id"),
        *world.sql("owner", "SELECT id, key FROM outbox ORDER BY id"),
        *world.sql("owner", "SELECT number, status FROM notice ORDER BY id"),
    ]


def refused_as(world: Deployment, who: str, code: str, *args: str) -> str:
    """`foi ARGS` as `who` must be refused with `code`, in one line, with nothing written."""
    before = log_state(world)
    result = world.foi(who)(*args)
    assert result.exit_code == 1, f"{who} {args}: exit {result.exit_code}: {result.stdout}{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"错误[{code}]："), result.stderr
    assert log_state(world) == before
    return lines[0]
