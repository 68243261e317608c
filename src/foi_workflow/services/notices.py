"""Notices (告知书, SPEC §6): issue a letter for a case from its event log, store it with its
document number (文号) and the hash of its templates, render a stored letter as text, HTML,
PDF or DOCX.

A letter is built from the case row, the events up to the one it answers, the deadlines the
clock gives for that moment and the agency's config; nothing in it is typed by hand, so a
reprint years later says what the first print said (it is stored, not re-rendered).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlmodel import Session, col

from foi_workflow.adapters.tables import Case, Event, Notice
from foi_workflow.config import Agency
from foi_workflow.domain.vocabulary import NoticeKind
from foi_workflow.errors import ConfigError, InvalidInput, NotFound, RuleViolation, TransitionNotAllowed
from foi_workflow.services.app import App
from foi_workflow.services.notice_context import (
    KIND_EVENTS,
    KIND_SHORT,
    Sources,
    answered_event,
    build_context,
    latest_event,
)

Format = Literal["txt", "html", "pdf", "docx"]
FORMATS: tuple[str, ...] = ("txt", "html", "pdf", "docx")


# --------------------------------------------------------------------------- use cases


def parse_kind(kind: str | NoticeKind) -> NoticeKind:
    try:
        return NoticeKind(kind)
    except ValueError:
        choices = "、".join(f"{k.value}（{k.label}）" for k in NoticeKind)
        raise InvalidInput(f"告知书种类 {kind!r} 无效，可选：{choices}") from None


def template_names(kind: NoticeKind) -> tuple[str, str]:
    return f"{kind.value}.txt.j2", f"{kind.value}.html.j2"


def document_number(agency: Agency, kind: NoticeKind, year: int, seq: int) -> str:
    try:
        return agency.number_pattern.format(short=agency.short_name or agency.name, year=year, seq=seq,
                                            kind=KIND_SHORT[kind])
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"机关 {agency.code} 的文号格式 {agency.number_pattern!r} 有误（可用字段 short、year、seq、kind）：{exc}"
        ) from None


def _already_this_month(session: Session, case: Case, fee_ev: Event) -> int:
    """The applicant's earlier fee quantity of the month that the notice's fee counts."""
    from foi_workflow.services.fee_month import stored_month_quantity

    return stored_month_quantity(
        session,
        agency=case.agency,
        applicant=case.applicant,
        case_id=case.id,
        on=fee_ev.on,
        basis=str((fee_ev.data or {}).get("basis", "")),
        before_seq=fee_ev.seq or 0,
    )


def sources_for(app: App, session: Session, case_id: str) -> Sources:
    from foi_workflow.services.cases import case_events, get_case
    from foi_workflow.services.corrections import effective_events

    case = get_case(session, case_id)
    if case.voided:
        raise TransitionNotAllowed(f"案件 {case_id} 的登记已作废，不能再出具告知书")
    # A letter speaks of what counts: voided events are gone, corrected ones as corrected.
    events = effective_events(app, case_events(session, case_id))
    if not events:
        raise NotFound(f"案件 {case_id} 没有事件记录")
    agency = app.config.agency(case.agency)
    worker = app.config.caseworkers.get(case.caseworker) if case.caseworker else None
    fee_ev = latest_event(events, KIND_EVENTS[NoticeKind.FEE])
    return Sources(
        case=case,
        events=events,
        agency=agency,
        calendar=app.calendar,
        settings=app.clock_settings,
        contact_person=worker.name if worker else "",
        already_this_month=_already_this_month(session, case, fee_ev) if fee_ev else 0,
    )


def issue_notice(
    app: App,
    case_id: str,
    kind: str | NoticeKind,
    *,
    by: str,
    on: date | None = None,
    session: Session | None = None,
) -> Notice:
    """Render a letter of `kind` for the case, give it the next document number and store it.

    `on` is the letter's date; by default the date of the event it answers. Refused when the
    case's history has no such event (e.g. a decision for an open case)."""
    from foi_workflow.adapters.notices import renderer_for
    from foi_workflow.services.cases import commit_own, next_sequence, session_scope

    chosen = parse_kind(kind)
    with session_scope(app, session) as s:
        src = sources_for(app, s, case_id)
        answered = answered_event(chosen, src.events, case_id)
        dated = on or answered.on
        if dated < answered.on:
            raise RuleViolation(
                f"告知书日期 {dated.isoformat()} 早于它所告知的事件（{answered.event}，{answered.on.isoformat()}）"
            )
        renderer = renderer_for(src.agency.folder)
        names = template_names(chosen)
        # The template hash first: a broken template refuses before a number is used.
        template_hash = renderer.template_hash(names)
        seq = next_sequence(s, src.agency.code, f"notice:{dated.year}")
        number = document_number(src.agency, chosen, dated.year, seq)
        context = build_context(src, chosen, number=number, dated=dated)
        body_text = renderer.render(names[0], context)
        body_html = renderer.render(names[1], context)
        overrides = [t.name for t in renderer.sources(names) if t.override]
        template_name = "+".join(names) + (f"（机关模板：{'、'.join(overrides)}）" if overrides else "")
        notice = Notice(
            case_id=case_id,
            kind=chosen.value,
            number=number,
            dated=dated,
            body_text=body_text,
            body_html=body_html,
            template_name=template_name[:200],
            template_hash=template_hash,
            by=by,
        )
        s.add(notice)
        s.flush()
        commit_own(s, session)
        return notice


def render_stored(app: App, notice: Notice, fmt: str) -> bytes:
    """A stored letter in one of the formats: txt and html as stored, pdf and docx from the HTML."""
    from foi_workflow.adapters.notices import html_to_docx, html_to_pdf

    if fmt == "txt":
        return notice.body_text.encode("utf-8")
    if fmt == "html":
        return notice.body_html.encode("utf-8")
    if fmt == "pdf":
        folders = [a.folder for a in app.config.agencies.values() if a.folder is not None]
        return html_to_pdf(notice.body_html, resource_dirs=folders)
    if fmt == "docx":
        title = f"{NoticeKind(notice.kind).label} {notice.number}"
        return html_to_docx(notice.body_html, title=title)
    raise InvalidInput(f"格式 {fmt!r} 无效，可选：{'、'.join(FORMATS)}")


def list_notices(session: Session, case_id: str) -> list[Notice]:
    """The letters stored for a case, oldest first."""
    return list(session.scalars(select(Notice).where(col(Notice.case_id) == case_id).order_by(col(Notice.id))))


def latest_notice(session: Session, case_id: str, kind: str | NoticeKind) -> Notice:
    """The most recent stored letter of `kind` for the case (a reprint)."""
    chosen = parse_kind(kind)
    found = session.scalars(
        select(Notice)
        .where(col(Notice.case_id) == case_id, col(Notice.kind) == chosen.value)
        .order_by(col(Notice.id).desc())
        .limit(1)
    ).first()
    if found is None:
        raise NotFound(f"案件 {case_id} 尚未出具过{chosen.label}")
    return found
