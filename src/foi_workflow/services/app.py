"""The application object: config, engine, calendar and workflow, built once per process
and handed to every service function."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from foi_workflow.config import SHANGHAI, Config

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from foi_workflow.adapters.reader import Reader
    from foi_workflow.domain.access import Actor
    from foi_workflow.domain.calendar import WorkCalendar
    from foi_workflow.domain.clock import ClockSettings
    from foi_workflow.domain.definition import Workflow
    from foi_workflow.domain.workflow import ApplyContext


def today_local() -> date:
    """Today in Asia/Shanghai, the zone every date of legal effect is in."""
    return datetime.now(SHANGHAI).date()


def apply_context(app: App, today: date | None = None, *, explain: bool = False) -> ApplyContext:
    """What applying or replaying an event needs from `app` (today: Shanghai's, by default)."""
    from foi_workflow.domain.workflow import ApplyContext

    return ApplyContext(
        calendar=app.calendar,
        settings=app.clock_settings,
        today=today or today_local(),
        default_agency=app.config.default_agency,
        explain=explain,
    )


class App:
    """What a use case needs from the world, opened lazily: a read-only view never opens the
    engine (and so never imports SQLAlchemy) unless the App was given one."""

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self._engine = engine

    @cached_property
    def engine(self) -> Engine:
        if self._engine is not None:
            return self._engine
        from foi_workflow.adapters.db import open_engine

        return open_engine(self.config.db_url)

    @property
    def opened_engine(self) -> Engine | None:
        """The engine if this App holds one already (given, or opened by a command); None
        rather than open one."""
        return self._engine if self._engine is not None else self.__dict__.get("engine")

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """A read-only connection for the views: the engine's when this App holds one (so
        a caller's engine, and its database, are the ones read), else a plain DB-API
        connection to `config.db_url` (`adapters.reader`), closed when the block ends."""
        from foi_workflow.adapters.reader import connect_reader, engine_reader

        engine = self.opened_engine
        reader = engine_reader(engine) if engine is not None else connect_reader(self.config.db_url)
        try:
            yield reader
        finally:
            reader.close()

    @cached_property
    def actor(self) -> Actor:
        """The login this process acts as (SPEC §13), read from the database once."""
        from foi_workflow.services.access import read_actor

        return read_actor(self)

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
        from foi_workflow.adapters.yaml_cache import cached_reader
        from foi_workflow.config import user_cache_dir
        from foi_workflow.domain.workflow import load_workflows

        return load_workflows(read=cached_reader(user_cache_dir() / "workflows"))
