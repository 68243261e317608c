"""`foi year close`: the figures are frozen, open cases get `carry_over`, the closed year
refuses new events unless amended on purpose, and a report of the closed year names every
cell whose live value moved since."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from foi_workflow.adapters.db import migrate, open_engine, unit_of_work
from foi_workflow.adapters.models import Case, Event, YearClose
from foi_workflow.config import Config
from foi_workflow.errors import AlreadyExists, ClosedYear, RuleViolation
from foi_workflow.services import cases
from foi_workflow.services.app import App
from foi_workflow.services.report import build_report, close_year

TODAY = date(2024, 2, 1)


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> App:
    engine = open_engine(db_url)
    migrate(engine)
    return App(Config(db_url=db_url, config_dir=tmp_path), engine)


def receive(app: App, case_id: str, on: date, applicant_type: str = "natural_person") -> None:
    cases.intake(app, on=on, by="t", case_id=case_id, today=TODAY, data={
        "applicant": "张三", "applicant_type": applicant_type, "channel": "online", "request": "某信息"})


def decide(app: App, case_id: str, on: date, outcome: str = "granted", amend: str | None = None) -> None:
    cases.advance(app, case_id, "decide", on=on, by="t", data={"outcome": outcome}, today=TODAY,
                  amend_reason=amend)


def history(app: App) -> None:
    receive(app, "A", date(2023, 11, 1))
    decide(app, "A", date(2023, 11, 20))
    receive(app, "B", date(2023, 12, 20), "commercial")  # open at year end
    receive(app, "C", date(2023, 12, 22))  # open at year end


def test_closing_a_year_freezes_figures_and_carries_open_cases_over(app: App) -> None:
    history(app)
    result = close_year(app, 2023, by="主任", on=date(2024, 1, 10))
    assert result.carried_over == ("B", "C")
    assert result.figures.table3.cell("carried_out", "total") == 2
    with unit_of_work(app.engine) as s:
        frozen = s.scalars(select(YearClose)).all()
        carried = s.scalars(select(Event).where(Event.event == "carry_over")).all()
        b = s.get(Case, "B")
        assert b is not None and b.carried_over_to == 2024
    assert [(f.agency, f.year, f.by) for f in frozen] == [("default", 2023, "主任")]
    assert frozen[0].figures["table3"]["rows"]["received"][6] == 3
    assert sorted((e.case_id, e.data["year"], e.on) for e in carried) == [
        ("B", 2024, date(2023, 12, 31)), ("C", 2024, date(2023, 12, 31))]  # the year's end, not the close
    report = build_report(app, 2023, agency=None, as_of=TODAY)
    assert report.closed and not report.frozen_differences


def test_a_closed_year_refuses_events_dated_in_it_unless_amended(app: App) -> None:
    history(app)
    close_year(app, 2023, by="主任", on=date(2024, 1, 10))
    with pytest.raises(ClosedYear):
        receive(app, "D", date(2023, 12, 30))
    decide(app, "B", date(2024, 1, 15))  # the new year is open
    cases.intake(app, on=date(2023, 12, 30), by="t", case_id="D", today=TODAY, amend_reason="漏登补录",
                 data={"applicant": "李四", "applicant_type": "other", "channel": "post", "request": "x"})


def test_report_of_a_closed_year_lists_cells_that_moved(app: App) -> None:
    history(app)
    close_year(app, 2023, by="主任", on=date(2024, 1, 10))
    cases.intake(app, on=date(2023, 12, 29), by="t", case_id="late", today=TODAY, amend_reason="漏登补录",
                 data={"applicant": "某研究所", "applicant_type": "research", "channel": "post", "request": "x"})
    report = build_report(app, 2023, agency=None, as_of=TODAY)
    cells = {d.cell: (d.frozen, d.live) for d in report.frozen_differences}
    assert cells == {
        "table3.received.research": (0, 1), "table3.received.total": (3, 4),
        "table3.carried_out.research": (0, 1), "table3.carried_out.total": (2, 3),
    }
    assert report.to_json()["frozen_differences"][0]["agency"] == "default"


def test_a_year_is_closed_once_and_only_after_it_ended(app: App) -> None:
    history(app)
    with pytest.raises(RuleViolation):
        close_year(app, 2023, by="主任", on=date(2023, 12, 31))
    close_year(app, 2023, by="主任", on=date(2024, 1, 10))
    with pytest.raises(AlreadyExists):
        close_year(app, 2023, by="主任", on=date(2024, 1, 11))
