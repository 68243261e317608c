"""The application object: config, engine, calendar and workflow, built once per process
and handed to every service function."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from foi_workflow.config import Config

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from foi_workflow.domain.calendar import WorkCalendar
    from foi_workflow.domain.clock import ClockSettings
    from foi_workflow.domain.definition import Workflow


class App:
    """What a use case needs from the world, opened lazily."""

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self._engine = engine

    @cached_property
    def engine(self) -> Engine:
        if self._engine is not None:
            return self._engine
        from foi_workflow.adapters.db import open_engine

        return open_engine(self.config.db_url)

    @cached_property
    def calendar(self) -> WorkCalendar:
        from foi_workflow.domain.calendar import WorkCalendar

        return WorkCalendar.load(self.config.calendar_dir)

    @cached_property
    def clock_settings(self) -> ClockSettings:
        from foi_workflow.domain.clock import ClockSettings

        return ClockSettings(
            correction_period_days=self.config.correction_period_days,
            pause_clock_during_fee=self.config.pause_clock_during_fee,
        )

    @cached_property
    def workflow(self) -> Workflow:
        from foi_workflow.domain.workflow import load_workflows

        return load_workflows()
