"""Notices (告知书, SPEC §6): issue a letter for a case from its event log, store it with its
document number (文号) and the hash of its templates, render a stored letter as text, HTML,
PDF or DOCX.

A letter is built from the case row, the events up to the one it answers, the deadlines the
clock gives for that moment and the agency's config; nothing in it is typed by hand, so a
reprint years later says what the first print said (it is stored, not re-rendered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Required, TypedDict, Unpack

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from foi_workflow.adapters.models import Event, Notice
from foi_workflow.config import Agency
from foi_workflow.domain.vocabulary import LetterStatus, NoticeKind
from foi_workflow.errors import (
    AlreadyExists,
    ClosedYear,
    ConcurrentChange,
    ConfigError,
    InvalidInput,
    IssuedNotWritten,
    NotFound,
    RuleViolation,
    TransitionNotAllowed,
)
from foi_workflow.services.app import App
from foi_workflow.services.letters import counter_name
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

if TYPE_CHECKING:
    from foi_workflow.services.case_store import AnyCase, AnyEvent


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


def _already_this_month(session: Session, case: AnyCase, fee_ev: AnyEvent) -> int:
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
    from foi_workflow.services.access import person_names
    from foi_workflow.services.case_store import case_events, get_case
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
    names = person_names(session)  # SPEC §13: logins on a shared database, named in the letter
    fee_ev = latest_event(events, KIND_EVENTS[NoticeKind.FEE])
    return Sources(
        case=case,
        events=events,
        agency=agency,
        calendar=app.calendar,
        settings=app.clock_settings,
        contact_person=worker.name if worker else names.get(case.caseworker, ""),
        names=names,
        already_this_month=_already_this_month(session, case, fee_ev) if fee_ev else 0,
    )


def event_ordinal(session: Session, case_id: str, event: AnyEvent) -> int:
    """The event's number in its case's stored log (1 = `receive`; SPEC §11's numbering), found
    by its `seq`, so that it holds for a log read with amendments applied too."""
    return int(session.scalar(
        select(func.count()).select_from(Event).where(col(Event.case_id) == case_id, col(Event.seq) <= event.seq)
    ) or 0)


def _existing_letters(session: Session, case_id: str, kind: NoticeKind, answers: int) -> list[Notice]:
    return list(session.scalars(
        select(Notice)
        .where(col(Notice.case_id) == case_id, col(Notice.kind) == kind.value, col(Notice.answers) == answers,
               col(Notice.status) == LetterStatus.VALID.value)
        .order_by(col(Notice.id))
    ))


def _refuse_second_letter(case_id: str, kind: NoticeKind, standing: Notice) -> AlreadyExists:
    label = kind.label
    return AlreadyExists(
        f"案件 {case_id} 已就该事件出具{label} {standing.number}（{standing.dated.isoformat()}）；"
        f"重印原件请加 --reprint（文号不变），确需重新出具请加 --reissue --reason \"理由\"（新文号，原件标记为已替换）"
    )


def _check_closed_year(session: Session, agency: str, dated: date, amend_reason: str | None) -> None:
    from foi_workflow.services.case_store import closed_years

    if dated.year in closed_years(session, agency) and not (amend_reason and amend_reason.strip()):
        raise ClosedYear(
            f"告知书日期 {dated.isoformat()} 在已结转封存的 {dated.year} 年度；"
            f'如确需出具，请加 --amend-closed-year "理由"'
        )


class LetterArgs(TypedDict, total=False):
    """What issuing a letter takes (`issue_notice`, `issue_and_print`): who issues it, its date,
    the reason for a reissue, the reason for dating it in a closed year."""

    by: Required[str]
    on: date | None
    reissue_reason: str | None
    amend_reason: str | None


def issue_notice(
    app: App,
    case_id: str,
    kind: str | NoticeKind,
    *,
    session: Session | None = None,
    before_commit: Callable[[Notice], None] | None = None,
    **letter: Unpack[LetterArgs],
) -> Notice:
    """Render a letter of `kind` for the case, give it the next document number and store it.

    `on` is the letter's date; by default the date of the event it answers. Refused when the
    case's history has no such event (e.g. a decision for an open case), when a standing letter
    of the kind already answers that event (unless `reissue_reason`: the new letter replaces
    it), and when the date falls in a closed year without `amend_reason`.

    The number is taken in the transaction that stores the letter, after every check that
    can refuse and before the rendering that needs it; `before_commit` (the printing of the
    letter, say) runs last inside that transaction, so whatever fails there takes the number
    back with everything else (SPEC §12)."""
    from foi_workflow.adapters.notices import renderer_for
    from foi_workflow.services.case_store import commit_own, next_sequence, session_scope

    by, on = letter["by"], letter.get("on")
    reissue_reason, amend_reason = letter.get("reissue_reason"), letter.get("amend_reason")
    chosen = parse_kind(kind)
    if reissue_reason is not None and not reissue_reason.strip():
        raise InvalidInput("重新出具须说明理由（--reason）")
    with session_scope(app, session) as s:
        src = sources_for(app, s, case_id)
        answered = answered_event(chosen, src.events, case_id)
        answers = event_ordinal(s, case_id, answered)
        dated = on or answered.on
        if dated < answered.on:
            raise RuleViolation(
                f"告知书日期 {dated.isoformat()} 早于它所告知的事件（{answered.event}，{answered.on.isoformat()}）"
            )
        standing = _existing_letters(s, case_id, chosen, answers)
        if standing and reissue_reason is None:
            raise _refuse_second_letter(case_id, chosen, standing[-1])
        if reissue_reason is not None and not standing:
            raise NotFound(
                f"案件 {case_id} 没有有效的{chosen.label}可替换；不加 --reissue 即可出具"
            )
        _check_closed_year(s, src.agency.code, dated, amend_reason)
        renderer = renderer_for(src.agency.folder)
        names = template_names(chosen)
        # The template hash first: a broken template refuses before a number is used.
        template_hash = renderer.template_hash(names)
        seq = next_sequence(s, src.agency.code, counter_name(dated.year))
        number = document_number(src.agency, chosen, dated.year, seq)
        if s.scalar(select(col(Notice.id)).where(col(Notice.number) == number)) is not None:
            raise AlreadyExists(
                f"文号 {number} 已被其他告知书使用；"
                f"请检查机关 {src.agency.code} 的文号格式 number_pattern 是否与其他机关相同"
            )
        context = build_context(src, chosen, number=number, dated=dated)
        body_text = renderer.render(names[0], context)
        body_html = renderer.render(names[1], context)
        overrides = [t.name for t in renderer.sources(names) if t.override]
        template_name = "+".join(names) + (f"（机关模板：{'、'.join(overrides)}）" if overrides else "")
        for old in standing:  # before the insert: one standing letter per event, checked by the database
            old.status = LetterStatus.REPLACED.value
            s.add(old)
        s.flush()
        notice = Notice(
            case_id=case_id,
            kind=chosen.value,
            number=number,
            seq=seq,
            answers=answers,
            dated=dated,
            addressee=str(context["addressee"]),
            replaces=standing[-1].number if standing else None,
            reason=reissue_reason.strip() if reissue_reason else None,
            amend_reason=amend_reason.strip() if amend_reason else None,
            body_text=body_text,
            body_html=body_html,
            template_name=template_name[:200],
            template_hash=template_hash,
            by=by,
        )
        s.add(notice)
        try:
            s.flush()
        except IntegrityError:
            # Another process issued the same letter (or took the number) since we looked.
            raise ConcurrentChange(
                f"案件 {case_id} 的{chosen.label}刚由其他操作出具，本次未保存、未占用文号；"
                "请用 foi show 查看后再试"
            ) from None
        if before_commit is not None:
            before_commit(notice)
        commit_own(s, session)
        return notice


@dataclass(frozen=True)
class Printed:
    """A letter and the bytes printed of it (written to `out` when one was given)."""

    letter: Notice
    body: bytes
    out: Path | None


def issue_and_print(
    app: App,
    case_id: str,
    kind: str | NoticeKind,
    *,
    fmt: str,
    out: Path | None,
    also: Callable[[Session, Notice], None] | None = None,
    **letter: Unpack[LetterArgs],
) -> Printed:
    """Issue a letter and print it in `fmt`, to `out` when given: the file is rendered and
    written (beside its target) before the letter is committed, so a refused folder, a full
    disk or a PDF that fails to render stores nothing and takes no number. Only putting the
    file in place comes after the commit; if that fails, the letter stands and the error says
    how to print it again. `also` runs in the letter's transaction before the printing."""
    from foi_workflow.adapters.files import StagedFile, check_target

    if fmt not in FORMATS:
        raise InvalidInput(f"格式 {fmt!r} 无效，可选：{'、'.join(FORMATS)}")
    if out is not None:
        check_target(out)
    printed: list[bytes] = []
    staged: list[StagedFile] = []

    def print_it(stored: Notice) -> None:
        if also is not None:  # e.g. the letter's service (`foi notice --serve`), in the same transaction
            session = Session.object_session(stored)
            assert isinstance(session, Session)  # the letter's own unit of work (a sqlmodel Session)
            also(session, stored)
        printed.append(render_stored(app, stored, fmt))
        if out is not None:
            staged.append(StagedFile.write(out, printed[0]))

    try:
        issued = issue_notice(app, case_id, kind, before_commit=print_it, **letter)
    except BaseException:
        for file in staged:
            file.discard()
        raise
    for file in staged:
        try:
            file.commit()
        except OSError as exc:
            raise IssuedNotWritten(
                f"告知书 {issued.number} 已出具并保存，但写入 {out} 失败（{exc.strerror or type(exc).__name__}）；"
                f"请用 foi notice {case_id} {issued.kind} --reprint --format {fmt} --out 文件 重新打印（文号不变）"
            ) from None
    return Printed(issued, printed[0], out)


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
    """The letter of `kind` a reprint gives: the latest standing one for the case, else (every
    one of them replaced or void) the latest stored one, which still prints as it was."""
    chosen = parse_kind(kind)
    found = session.scalars(
        select(Notice)
        .where(col(Notice.case_id) == case_id, col(Notice.kind) == chosen.value)
        .order_by((col(Notice.status) == LetterStatus.VALID.value).desc(), col(Notice.id).desc())
        .limit(1)
    ).first()
    if found is None:
        raise NotFound(f"案件 {case_id} 尚未出具过{chosen.label}")
    return found
