"""Random command sequences through the services on a real database (SPEC §3, §10): after
every step the case table equals its rebuild from the event log, and a refused command
changed nothing at all."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from foi_workflow.adapters.db import migrate, open_engine
from foi_workflow.adapters.models import Appeal, Case
from foi_workflow.config import load_config
from foi_workflow.domain.vocabulary import AppealKind, AppealResult, ApplicantType, Channel, Outcome
from foi_workflow.errors import FoiError
from foi_workflow.resources import CONFIG_DIR
from foi_workflow.services import appeals, cases
from foi_workflow.services.app import App, today_local
from foi_workflow.services.export import export_lines

BACKEND = os.environ.get("FOI_TEST_BACKEND", "sqlite")
START = date(2023, 1, 2)
TODAY = today_local()
_TEMPLATE: Path | None = None


def _sqlite_template() -> Path:
    """One migrated database file, copied for every example (migrating each time is slow)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="foi-stateful-"))
        engine = open_engine(f"sqlite:///{folder / 'template.db'}")
        migrate(engine)
        engine.dispose()
        _TEMPLATE = folder / "template.db"
    return _TEMPLATE


def _fresh_database() -> tuple[str, Any]:
    """A new, migrated database and a function that drops it."""
    if BACKEND == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="foi-stateful-"))
        shutil.copy(_sqlite_template(), folder / "foi.db")
        return f"sqlite:///{folder / 'foi.db'}", lambda: shutil.rmtree(folder, ignore_errors=True)
    admin = os.environ["FOI_TEST_PG_ADMIN"]
    name = f"s_{uuid.uuid4().hex[:16]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    engine = open_engine(url)
    migrate(engine)
    engine.dispose()

    def drop() -> None:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()

    return url, drop


def fingerprint(app: App) -> tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Everything a command may change: the event log, the case rows, the appeal rows."""
    with Session(app.engine) as s:
        case_rows = [
            tuple(getattr(r, c.name) for c in Case.metadata.tables["foi_case"].columns if c.name != "updated_at")
            for r in s.scalars(select(Case).order_by(Case.id))
        ]
        appeal_rows = [
            tuple(getattr(r, c.name) for c in Appeal.metadata.tables["appeal"].columns)
            for r in s.scalars(select(Appeal).order_by(Appeal.id))
        ]
    return list(export_lines(app)), case_rows, appeal_rows


texts = st.sampled_from(["某文件", "关于某项目的批复", "  ", "", "请补充文件名称"])
numbers = st.integers(min_value=-3, max_value=25)
outcomes = st.sampled_from([o.value for o in Outcome] + ["bogus"])

EVENT_DATA: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "request_correction": st.fixed_dictionaries({"items": texts}, optional={"period": numbers}),
    "receive_correction": st.just({}),
    "lapse_correction": st.just({}),
    "consult": st.fixed_dictionaries(
        {"party": texts}, optional={"kind": st.sampled_from(["third_party", "co_producer", "friend"])}
    ),
    "consultation_reply": st.fixed_dictionaries({"opinion": st.sampled_from(["agree", "object", "none", "maybe"])}),
    "extend": st.fixed_dictionaries({"days": numbers, "approved_by": st.sampled_from(["赵主任", ""])}),
    "set_reasonable_period": st.fixed_dictionaries(
        {
            "due": st.dates(min_value=START, max_value=date(2027, 6, 30)).map(date.isoformat),
            "reason": st.just("申请数量巨大"),
        }
    ),
    "fee_notice": st.fixed_dictionaries(
        {
            "amount": st.sampled_from([0, 100, "12.5", -1, "1.005", "十"]),
            "basis": st.sampled_from(["per_item", "per_page", "per_kg"]),
            "quantity": numbers,
        }
    ),
    "fee_paid": st.just({}),
    "lapse_fee": st.just({}),
    "decide": st.fixed_dictionaries({"outcome": outcomes}, optional={"note": texts}),
    "withdraw": st.fixed_dictionaries({}, optional={"reason": texts}),
    "assign": st.fixed_dictionaries({"caseworker": st.sampled_from(["王五", "赵六", ""])}),
    "explode": st.just({}),
}


GOOD_DATA: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "request_correction": st.fixed_dictionaries({"items": st.just("请补充")}, optional={"period": st.integers(1, 20)}),
    "consult": st.fixed_dictionaries(
        {"party": st.just("某公司"), "kind": st.sampled_from(["third_party", "co_producer"])}
    ),
    "consultation_reply": st.fixed_dictionaries({"opinion": st.sampled_from(["agree", "object", "none"])}),
    "extend": st.fixed_dictionaries({"days": st.integers(1, 12), "approved_by": st.just("赵主任")}),
    "fee_notice": st.fixed_dictionaries(
        {
            "amount": st.sampled_from([100, "12.5"]),
            "basis": st.sampled_from(["per_item", "per_page"]),
            "quantity": st.integers(1, 60),
        }
    ),
    # A note that says why, with the law and article a refusal needs (a decision must give its reasons).
    "decide": st.fixed_dictionaries({"outcome": st.sampled_from([o.value for o in Outcome if not o.is_lapse]),
                                     "note": st.just("《中华人民共和国统计法》第三十九条；第2页依据条例第十五条")}),
    "assign": st.fixed_dictionaries({"caseworker": st.sampled_from(["王五", "赵六"])}),
}


class CaseWorkflowMachine(RuleBasedStateMachine):
    """A caseworker (and the scheduler) issuing commands, valid or not, on a real database."""

    def __init__(self) -> None:
        super().__init__()
        self.url, self.drop = _fresh_database()
        self.engine: Engine = open_engine(self.url)
        self.app = App(load_config(CONFIG_DIR / "foi.toml", db_url=self.url, env={}), self.engine)
        self.now = START
        self.case_ids: list[str] = []
        self.appeal_ids: list[str] = []
        self.refusals = 0

    def teardown(self) -> None:
        self.engine.dispose()
        self.drop()

    # ------------------------------------------------------------------ helpers

    def _attempt(self, action: Any) -> Any:
        """Run a command; if it is refused, nothing may have changed."""
        before = fingerprint(self.app)
        try:
            return action()
        except FoiError as exc:
            assert exc.code.startswith("E-")
            self.refusals += 1
            assert fingerprint(self.app) == before, f"refused with {exc.line()} but the database changed"
            return None

    def _date(self, step: int) -> date:
        """Mostly forward in time; sometimes backwards (refused) or into the future (refused)."""
        candidate = self.now + timedelta(days=step)
        if step >= 0:
            self.now = min(candidate, TODAY)
        return candidate

    # ------------------------------------------------------------------ rules

    @initialize()
    def start(self) -> None:
        assert cases.rebuild(self.app, check_only=True) == []

    @rule(
        step=st.integers(min_value=0, max_value=40),
        applicant_type=st.sampled_from([t.value for t in ApplicantType]),
        channel=st.sampled_from([c.value for c in Channel]),
        applicant=st.sampled_from(["张三", "某某公司", " "]),
        explicit_id=st.one_of(st.none(), st.sampled_from(["A-1", "A-2"])),
    )
    def intake(self, step: int, applicant_type: str, channel: str, applicant: str, explicit_id: str | None) -> None:
        on = self._date(step)
        data = {"applicant": applicant, "applicant_type": applicant_type, "channel": channel, "request": "某文件"}
        change = self._attempt(
            lambda: cases.intake(self.app, on=on, by="经办人", data=data, case_id=explicit_id, today=TODAY)
        )
        if change is not None:
            self.case_ids.append(change.case.id)

    @precondition(lambda self: bool(self.case_ids))
    @rule(
        data=st.data(),
        step=st.integers(min_value=-5, max_value=30),
        event=st.sampled_from(sorted(EVENT_DATA)),
    )
    def advance(self, data: st.DataObject, step: int, event: str) -> None:
        case_id = data.draw(st.sampled_from([*self.case_ids, "NOPE-1"]))
        payload = data.draw(EVENT_DATA[event])
        on = self._date(step)
        change = self._attempt(
            lambda: cases.advance(self.app, case_id, event, on=on, by="经办人", data=payload, today=TODAY)
        )
        if change is not None:
            hypothesis_event(f"recorded {event}")

    @precondition(lambda self: bool(self.case_ids))
    @rule(data=st.data(), step=st.integers(min_value=0, max_value=12))
    def advance_as_a_caseworker_would(self, data: st.DataObject, step: int) -> None:
        """An event the case's state allows, with well-formed data (still refused by some rules)."""
        case_id = data.draw(st.sampled_from(self.case_ids))
        with Session(self.engine) as s:
            row = s.get(Case, case_id)
            assert row is not None
            state = row.state
        allowed = [e for e in self.app.workflow.disclosure.allowed_events(state) if e not in ("carry_over",)]
        event = data.draw(st.sampled_from(allowed))
        if event == "set_reasonable_period":
            payload: dict[str, Any] = {"due": (self.now + timedelta(days=60)).isoformat(), "reason": "申请数量巨大"}
        else:
            payload = data.draw(GOOD_DATA.get(event, st.just({})))
        on = self._date(step)
        change = self._attempt(
            lambda: cases.advance(self.app, case_id, event, on=on, by="经办人", data=payload, today=TODAY)
        )
        if change is not None:
            hypothesis_event(f"recorded {event}")

    @precondition(lambda self: bool(self.case_ids))
    @rule(data=st.data(), step=st.integers(min_value=0, max_value=30))
    def lapse_when_due(self, data: st.DataObject, step: int) -> None:
        """What the scheduler does: fire the lapse the day after a period ended."""
        case_id = data.draw(st.sampled_from(self.case_ids))
        with Session(self.engine) as s:
            row = s.get(Case, case_id)
            assert row is not None
            due, event = (row.correction_due, "lapse_correction") if row.correction_due else (row.fee_due, "lapse_fee")
        if due is None:
            return
        on = self.app.calendar.add_working_days(due, 1) + timedelta(days=step % 3)
        if on < self.now or on > TODAY:
            return
        self.now = on
        change = self._attempt(lambda: cases.advance(self.app, case_id, event, on=on, by="scheduler", today=TODAY))
        assert change is not None and change.case.state == "decided"

    @precondition(lambda self: bool(self.case_ids))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["void", "correct"]),
        event_no=st.integers(min_value=0, max_value=8),
        changes=st.one_of(
            st.builds(lambda d: {"on": (START + timedelta(days=d)).isoformat()}, st.integers(0, 700)),
            st.fixed_dictionaries({"outcome": outcomes}),
            st.fixed_dictionaries({"applicant_type": st.sampled_from([t.value for t in ApplicantType])}),
            st.fixed_dictionaries({"days": numbers}),
            st.fixed_dictionaries({"items": texts}),
        ),
    )
    def void_or_correct(self, data: st.DataObject, kind: str, event_no: int, changes: dict[str, Any]) -> None:
        """A caseworker putting a mistake right (SPEC §11), sensibly or not."""
        from foi_workflow.services.corrections import Request, amend_case

        case_id = data.draw(st.sampled_from(self.case_ids))
        request = Request(kind, event_no, "录入错误", "经办人", changes if kind == "correct" else None, None)
        amended = self._attempt(lambda: amend_case(self.app, case_id, request, today=TODAY))
        if amended is not None:
            hypothesis_event(f"recorded {kind}")

    @rule(
        data=st.data(),
        step=st.integers(min_value=0, max_value=30),
        kind=st.sampled_from([k.value for k in AppealKind] + ["appeal"]),
    )
    def file_appeal(self, data: st.DataObject, step: int, kind: str) -> None:
        linked = data.draw(st.one_of(st.none(), st.sampled_from([*self.case_ids, "NOPE-1"])))
        on = self._date(step)
        payload = {"kind": kind, **({"case": linked} if linked else {})}
        row = self._attempt(lambda: appeals.file(self.app, on=on, by="经办人", data=payload, today=TODAY))
        if row is not None:
            self.appeal_ids.append(row.id)

    @precondition(lambda self: bool(self.appeal_ids))
    @rule(
        data=st.data(),
        step=st.integers(min_value=-5, max_value=60),
        result=st.sampled_from([r.value for r in AppealResult] + ["won"]),
    )
    def conclude_appeal(self, data: st.DataObject, step: int, result: str) -> None:
        appeal_id = data.draw(st.sampled_from(self.appeal_ids))
        on = self._date(step)
        self._attempt(
            lambda: appeals.conclude(self.app, appeal_id, on=on, by="经办人", data={"result": result}, today=TODAY)
        )

    # ------------------------------------------------------------------ invariants

    @invariant()
    def projection_equals_the_rebuild_from_the_log(self) -> None:
        assert cases.rebuild(self.app, check_only=True) == []

    @invariant()
    def decided_cases_have_an_outcome_and_open_ones_do_not(self) -> None:
        with Session(self.engine) as s:
            for row in s.scalars(select(Case)):
                assert (row.state == "decided") == (row.outcome is not None) == (row.decided_on is not None)
                if row.state == "received" and not row.voided:
                    assert row.reply_due is not None
                else:
                    assert row.reply_due is None
                assert 0 <= row.extended_days <= 20


CaseWorkflowMachine.TestCase.settings = settings(
    max_examples=10,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_random_command_sequences_keep_the_projection_equal_to_the_log = CaseWorkflowMachine.TestCase
