"""For every history the workflow allows (corrections received or lapsed, consultations, fees
paid or lapsed, extensions, withdrawals in any state, decisions across the turn of the year),
`foi ledger export` of a year imported into an empty database gives that year's table 3."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foi_workflow.adapters.db import migrate, open_engine
from foi_workflow.config import load_config
from foi_workflow.domain.vocabulary import ApplicantType, Channel, Outcome
from foi_workflow.errors import FoiError
from foi_workflow.resources import CONFIG_DIR
from foi_workflow.services.app import App, apply_context
from foi_workflow.services.ledger_export import build_ledger, render_ledger
from foi_workflow.services.ledger_import import import_ledger
from foi_workflow.services.report import report_figures
from foi_workflow.services.transfer import import_lines

YEAR = 2024
DECIDABLE = [o.value for o in Outcome if not o.is_lapse]
_TEMPLATE: list[Path] = []


@contextmanager
def fresh_app() -> Iterator[App]:
    """An App on a new, migrated SQLite file (copied from one migrated template)."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="foi-ledger-"))
        engine = open_engine(f"sqlite:///{folder / 'template.db'}")
        migrate(engine)
        engine.dispose()
        _TEMPLATE.append(folder / "template.db")
    folder = Path(tempfile.mkdtemp(prefix="foi-ledger-"))
    shutil.copy(_TEMPLATE[0], folder / "foi.db")
    app = App(load_config(CONFIG_DIR / "foi.toml", db_url=f"sqlite:///{folder / 'foi.db'}"))
    try:
        yield app
    finally:
        app.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


STEPS: list[tuple[str, st.SearchStrategy[dict[str, Any]]]] = [
    ("request_correction", st.builds(dict, items=st.just("请说明所需信息"))),
    ("receive_correction", st.just({})),
    ("lapse_correction", st.just({})),
    ("consult", st.builds(dict, party=st.just("某第三方"))),
    ("consultation_reply", st.builds(dict, opinion=st.sampled_from(["agree", "object", "none"]))),
    ("extend", st.builds(dict, days=st.integers(1, 10), approved_by=st.just("负责人"))),
    # A fee notice only where the fee rules charge something; its amount is the one they give.
    ("fee_notice", st.builds(dict, basis=st.just("per_item"), quantity=st.integers(11, 40))
     | st.builds(dict, basis=st.just("per_page"), quantity=st.integers(31, 300))),
    ("fee_paid", st.just({})),
    ("lapse_fee", st.just({})),
    ("decide", st.builds(dict, outcome=st.sampled_from(DECIDABLE))),
    ("withdraw", st.builds(dict, reason=st.just("申请人撤回"))),
    ("assign", st.builds(dict, caseworker=st.sampled_from(["李四", "王五"]))),
]  # fmt: skip


@st.composite
def histories(draw: st.DrawFn, app: App) -> list[dict[str, Any]]:
    """A few cases, each a random walk through the events the workflow accepts in its state."""
    from foi_workflow.domain.workflow import apply_case_event, receive_case

    ctx = apply_context(app, date(2026, 1, 1))
    lines: list[dict[str, Any]] = []
    for n in range(draw(st.integers(1, 6))):
        case = f"H-{n}"
        on = date(2023, 11, 1) + timedelta(days=draw(st.integers(0, 420)))
        receive = {"applicant": "张三", "applicant_type": draw(st.sampled_from(list(ApplicantType))).value,
                   "channel": draw(st.sampled_from(list(Channel))).value, "request": "某文件"}  # fmt: skip
        snap, _ = receive_case(app.workflow, case, on, receive, ctx)
        lines.append({"case": case, "event": "receive", "on": on.isoformat(), **receive})
        for _ in range(draw(st.integers(0, 8))):
            if snap.state == "decided":
                break
            allowed = [step for step in STEPS if step[0] in app.workflow.disclosure.allowed_events(snap.state)]
            event, strategy = draw(st.sampled_from(allowed))
            data = draw(strategy)
            later = snap.last_event_on + timedelta(days=draw(st.sampled_from([0, 3, 10, 30, 60])))
            try:
                snap, _, _ = apply_case_event(app.workflow, snap, event, later, data, ctx)
            except FoiError:
                continue  # not allowed in this state, or not yet: the walk tries another step
            lines.append({"case": case, "event": event, "on": later.isoformat(), **data})
    return lines


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_ledger_of_any_history_gives_the_years_table_3(data: st.DataObject) -> None:
    with fresh_app() as original, fresh_app() as copy:
        lines = data.draw(histories(original))
        import_lines(original, [_json(line) for line in lines], by="测试", workers=1)
        ledger = build_ledger(original, YEAR)
        if ledger.rows:  # a ledger without a row is refused; the empty copy has the empty table then
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "ledger.csv"
                path.write_bytes(render_ledger(ledger, "csv"))
                import_ledger(copy, path, by="测试")
        assert report_figures(copy, YEAR, None).table3 == report_figures(original, YEAR, None).table3


def _json(line: dict[str, Any]) -> str:
    import json

    return json.dumps(line, ensure_ascii=False)
