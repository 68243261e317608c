"""The project's own docs stand alone and keep up with the code: every event, field, outcome
and configuration key the code knows is described, and every link between the docs lands."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from foi_workflow.config import Agency, Caseworker, SchedulerSettings, SmtpSettings
from foi_workflow.domain.reminders import ReminderRule
from foi_workflow.domain.vocabulary import ApplicantType, Channel, Outcome
from foi_workflow.domain.workflow import load_workflows

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_event_and_its_fields_are_described_with_every_outcome() -> None:
    events = doc("events.md")
    wf = load_workflows()
    for mdef in (wf.disclosure, wf.appeal):
        for name, spec in mdef.events.items():
            rows = [line for line in events.splitlines() if line.startswith(f"| `{name}` |") and "→" in line]
            assert rows, f"docs/events.md describes no event {name}"
            for field in spec.fields:
                assert f"`{field}`" in rows[0], f"docs/events.md: {name} lacks its field {field}"
    for code in (*Outcome, *ApplicantType, *Channel):
        assert f"| `{code.value}` |" in events


def test_every_configuration_key_is_described() -> None:
    configuration = doc("configuration.md")
    keys = {"default_agency", "db", "config_dir", "correction_period_days", "pause_clock_during_fee"}
    for cls, skip in ((Agency, "code"), (Caseworker, "login"), (ReminderRule, ""), (SchedulerSettings, ""),
                      (SmtpSettings, "password")):  # fmt: skip
        keys |= {f.name for f in dataclasses.fields(cls) if f.name != skip}
    for key in sorted(keys):
        assert f"`{key}`" in configuration, f"docs/configuration.md does not describe {key}"
    shipped = (ROOT / "config" / "foi.toml").read_text(encoding="utf-8")
    for key in re.findall(r"^#? ?([a-z_]+) = ", shipped, flags=re.M):
        assert f"`{key}`" in configuration, f"config/foi.toml has {key}, docs/configuration.md does not"
    for variable in sorted(set(re.findall(r"FOI_[A-Z_]+", (ROOT / "src").joinpath("foi_workflow", "config.py")
                                          .read_text(encoding="utf-8")))):  # fmt: skip
        assert f"`{variable}`" in configuration


def test_every_link_between_the_docs_lands_on_a_page_and_heading() -> None:
    pages = sorted(DOCS.glob("*.md"))
    anchors = {p.name: {slug(h) for h in re.findall(r"^#+ (.+)$", p.read_text(encoding="utf-8"), flags=re.M)}
               for p in pages}  # fmt: skip
    links = 0
    for page in pages:
        for target, anchor in re.findall(r"\]\(([\w.-]+\.md)(?:#([^)]+))?\)", page.read_text(encoding="utf-8")):
            links += 1
            assert target in anchors, f"{page.name} links to a missing page {target}"
            assert not anchor or anchor in anchors[target], f"{page.name} links to {target}#{anchor}"
    assert links >= 10
