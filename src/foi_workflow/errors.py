"""Every refusal the product can give, each with a stable code and a message in Chinese.

The CLI prints `错误[CODE]：message` on one line and exits 1 for any `FoiError`; code
elsewhere raises these and never swallows them. Codes are part of the interface: tests and
scripts match on them, so never rename one.
"""

from __future__ import annotations


def one_line(reason: object) -> str:
    """A driver's reason as one line: psycopg adds a hint on a second line, and the CLI prints
    one line per error."""
    return " ".join(str(reason).split())


class FoiError(Exception):
    """Base class: a refusal a caseworker can understand. Nothing was written."""

    code = "E-FOI"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def line(self) -> str:
        """The one line the CLI prints."""
        return f"错误[{self.code}]：{self.message}"


class InvalidInput(FoiError):
    """A value on the command line or in a file is malformed (a date, a number, a code)."""

    code = "E-INPUT"


class UsageRefused(FoiError):
    """The command line itself is wrong (a missing option, an unknown command, a value not
    among the choices): exit status 2, as for every usage error, not 1."""

    code = "E-USAGE"


class NotFound(FoiError):
    """No case, appeal, agency or notice with that id."""

    code = "E-NOT-FOUND"


class AlreadyExists(FoiError):
    """A case or appeal with that id is already registered."""

    code = "E-EXISTS"


class TransitionNotAllowed(FoiError):
    """The event is not allowed in the case's current state."""

    code = "E-STATE"


class RuleViolation(FoiError):
    """The event is allowed in this state but breaks a legal rule (a guard of SPEC §3)."""

    code = "E-RULE"


class DateOrderError(FoiError):
    """The event would take effect before the previous event of its case, or in the future."""

    code = "E-DATE"


class ClosedYear(FoiError):
    """The event would take effect in a year frozen by `foi year close`."""

    code = "E-CLOSED-YEAR"


class CorrectionRefused(FoiError):
    """A void or correction would leave a history that breaks the rules (SPEC §11); the message
    names the first event that would break."""

    code = "E-CORRECTION"


class ConcurrentChange(FoiError):
    """The case was changed by someone else since it was read."""

    code = "E-CONFLICT"


class ImportFailed(FoiError):
    """A line of an event file was refused; nothing of the file was kept."""

    code = "E-IMPORT"


class UnbalancedReport(FoiError):
    """Table 3 fails its balance rule; the report is not rendered."""

    code = "E-UNBALANCED"


class ConfigError(FoiError):
    """The configuration file or a calendar / report input file is wrong."""

    code = "E-CONFIG"


class TemplateError(FoiError):
    """A notice template is missing, unsafe, or needs a value the case does not have."""

    code = "E-TEMPLATE"


class CalendarError(FoiError):
    """A working-day question the calendar cannot answer (bad date, negative count)."""

    code = "E-CALENDAR"


class DatabaseError(FoiError):
    """The database cannot be opened or is not initialised."""

    code = "E-DB"


class DatabaseUnusable(DatabaseError):
    """The database cannot be used at all (read-only, full, corrupt, unreachable, too new):
    every further command would fail the same way, so a sweep stops at the first."""


class SchedulerError(FoiError):
    """The scheduler cannot start (e.g. another one already runs on this SQLite file)."""

    code = "E-SCHEDULER"


class InconsistentReport(FoiError):
    """`foi report check` found inconsistencies in a submitted report (each listed by cell)."""

    code = "E-REPORT"


class FileError(FoiError):
    """A file to read or write cannot be (no such folder, no permission, disk full)."""

    code = "E-FILE"


class InternalError(FoiError):
    """Something the program did not foresee: a bug to report, shown as one line all the same."""

    code = "E-INTERNAL"


class LedgerRefused(FoiError):
    """An application ledger (登记台账) cannot be imported: its header, or cells named by row,
    column and value. Nothing of it was kept."""

    code = "E-LEDGER"


class IssuedNotWritten(FoiError):
    """The letter was issued and stored, but writing its file failed afterwards: print it
    again with `--reprint` (same number)."""

    code = "E-NOT-WRITTEN"


class AccessDenied(FoiError):
    """The login may not do this (SPEC §13): not an approver of the case's agency, not the
    owner, or the database refused the row for this login (row-level security, a privilege)."""

    code = "E-PERMISSION"


class ActorFixed(FoiError):
    """On PostgreSQL the actor is the login the database authenticated: `--by` (or
    `--approved-by`) naming someone else is refused."""

    code = "E-ACTOR"


class NeedsPostgres(FoiError):
    """A command of the shared deployment (people, approval roles) run on a SQLite database."""

    code = "E-BACKEND"
