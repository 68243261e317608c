"""Who may do what (SPEC §13): the roles of a shared deployment and the acting login.

On PostgreSQL the database enforces these rules itself (roles, row-level security, triggers:
migration 0006); the program asks the same questions first so that a refusal is one clear
line in Chinese instead of the server's. On SQLite the database belongs to one person, who
may do everything (`Actor.shared` false)."""

from __future__ import annotations

from dataclasses import dataclass

from foi_workflow.domain.vocabulary import Labelled


class Role(Labelled):
    """A person's role; each is a PostgreSQL group role `foi_<value>` created by `foi init`."""

    CASEWORKER = "caseworker", "经办人（记录本机关案件的事件）"
    APPROVER = "approver", "审批人（经办人，并可批准延期、作废或更正办理决定）"
    OFFICE = "office", "公开办（查看各机关案件；年报、年度结转、发文登记簿）"
    AUDITOR = "auditor", "审计（查看全部，不能修改）"

    @property
    def group(self) -> str:
        """The PostgreSQL group role a person of this role is a member of."""
        return f"foi_{self.value}"


# Voiding or correcting one of these (a decision) needs an approver, as an extension does.
DECISION_EVENTS = frozenset({"decide", "lapse_correction", "lapse_fee"})


@dataclass(frozen=True)
class Actor:
    """The login a command runs as. `shared`: a PostgreSQL database under access control;
    `owner`: the login that ran `foi init` (the administrator: import, `foi admin`)."""

    login: str
    shared: bool = False
    owner: bool = True
    role: Role | None = None
    agencies: frozenset[str] = frozenset()

    def may_approve(self, agency: str) -> bool:
        """Whether this login may approve an extension, or void or correct a decision, of a case
        of `agency`."""
        if not self.shared or self.owner:
            return True
        return self.role is Role.APPROVER and agency in self.agencies

    def may_record(self, agency: str) -> bool:
        """Whether this login may record events on a case of `agency`."""
        if not self.shared or self.owner:
            return True
        return self.role in (Role.CASEWORKER, Role.APPROVER) and agency in self.agencies
