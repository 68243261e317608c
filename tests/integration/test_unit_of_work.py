"""A unit of work keeps nothing unless the use case commits it (cosmicpython's safe default)."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from foi_workflow.adapters.db import migrate, open_engine, unit_of_work
from foi_workflow.adapters.models import Agency, Case
from foi_workflow.config import load_config
from foi_workflow.services.app import App
from foi_workflow.services.case_store import transaction
from foi_workflow.services.cases import intake

RECEIVED = {"applicant": "张三", "applicant_type": "natural_person", "channel": "online", "request": "某文件"}


def agencies(db_url: str) -> list[str]:
    engine = open_engine(db_url)
    with unit_of_work(engine) as session:
        codes = [a.code for a in session.scalars(select(Agency))]
    engine.dispose()
    return codes


def test_a_unit_of_work_that_is_not_committed_keeps_nothing(db_url: str) -> None:
    engine = open_engine(db_url)
    migrate(engine)
    with unit_of_work(engine) as session:
        session.add(Agency(code="dry", name="试运行"))
        session.flush()
    with unit_of_work(engine) as session:
        session.add(Agency(code="kept", name="保存"))
        session.commit()
    engine.dispose()
    assert agencies(db_url) == ["kept"]


def test_a_use_case_joined_to_a_larger_unit_is_kept_only_when_that_unit_commits(db_url: str) -> None:
    app = App(load_config(None, db_url=db_url, env={}))
    migrate(app.engine)
    with transaction(app) as session:
        intake(app, on=date(2024, 3, 1), by="测试", data=RECEIVED, case_id="DRY-1", session=session)
    assert agencies(db_url) == []
    with transaction(app) as session:
        intake(app, on=date(2024, 3, 1), by="测试", data=RECEIVED, case_id="KEPT-1", session=session)
        session.commit()
    intake(app, on=date(2024, 3, 1), by="测试", data=RECEIVED, case_id="OWN-1")  # its own unit: committed
    with unit_of_work(app.engine) as session:
        assert sorted(c.id for c in session.scalars(select(Case))) == ["KEPT-1", "OWN-1"]
    app.engine.dispose()
