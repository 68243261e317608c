"""The letter templates: each outcome's wording and legal basis, the remedies, what each kind must
state (SPEC §6), escaping, and the sandbox that agency overrides run in. No database: the
context is built from in-memory case and event rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foi_workflow.adapters.models import Case, Event
from foi_workflow.adapters.notices import FILTERS, NoticeRenderer, cn_date, renderer_for
from foi_workflow.config import Agency
from foi_workflow.domain import letter_law
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockSettings
from foi_workflow.domain.vocabulary import LAPSE_OUTCOMES, NoticeKind, Outcome
from foi_workflow.errors import RuleViolation, TemplateError
from foi_workflow.resources import CONFIG_DIR, NOTICES_DIR
from foi_workflow.services.notice_context import Sources, build_context
from foi_workflow.services.notices import template_names

CALENDAR = WorkCalendar.load(CONFIG_DIR / "calendar")
AGENCY = Agency(
    code="lr", name="乐清市融媒体中心", short_name="乐融", address="乐清市伯乐东路1号",
    phone="0577-61234567", postcode="325600",
)
APPLICANT = "张三 & <李四>"


def _case(received: date, **extra: Any) -> Case:
    values: dict[str, Any] = {"channel": "online", **extra}
    return Case(
        id="2024-00007", agency="lr", state="received", applicant=APPLICANT,
        applicant_type="natural_person", request="2023年度部门预算<表>",
        received_on=received, last_event_on=received, **values,
    )


def _history(received: date, *steps: tuple[str, date, dict[str, Any]]) -> list[Event]:
    events = [Event(case_id="2024-00007", event="receive", on=received, data={}, seq=1)]
    for i, (name, on, data) in enumerate(steps, start=2):
        events.append(Event(case_id="2024-00007", event=name, on=on, data=data, seq=i))
    return events


def _render(kind: NoticeKind, events: list[Event], *, renderer: NoticeRenderer | None = None,
            dated: date | None = None) -> tuple[str, str]:
    src = Sources(case=_case(events[0].on), events=events, agency=AGENCY, calendar=CALENDAR,
                  settings=ClockSettings(), contact_person="王五")
    ctx = build_context(src, kind, number="乐融公开〔2024〕第3号", dated=dated or events[-1].on)
    r = renderer or renderer_for(None)
    txt, html = template_names(kind)
    return r.render(txt, ctx), r.render(html, ctx)


def _decided(outcome: Outcome, on: date) -> list[Event]:
    """A history that ends in `outcome` on `on`, the way the workflow reaches it."""
    received = date(on.year, 1, 2) if on.month > 2 else date(on.year - 1, 11, 1)
    if outcome is Outcome.OTHER_CORRECTION_LAPSED:
        return _history(received, ("request_correction", received, {"items": "请写明文件名称", "period": 15}),
                        ("lapse_correction", on, {}))
    if outcome is Outcome.OTHER_FEE_UNPAID:
        return _history(received, ("fee_notice", received, {"amount": 720, "basis": "per_page", "quantity": 101}),
                        ("lapse_fee", on, {}))
    if outcome is Outcome.UNAVAILABLE_STILL_UNCLEAR:
        return _history(received, ("request_correction", received, {"items": "请写明文件名称"}),
                        ("receive_correction", received, {}), ("decide", on, {"outcome": outcome.value}))
    return _history(received, ("decide", on, {"outcome": outcome.value}))


# ── decisions ──────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("outcome", list(Outcome), ids=lambda o: o.value)
def test_each_outcomes_decision_letter_names_its_legal_basis(outcome: Outcome) -> None:
    txt, html = _render(NoticeKind.DECISION, _decided(outcome, date(2024, 3, 1)))
    cited = letter_law.citation(outcome)  # the history of `_decided` has no consultation, referral, publication
    for letter in (txt, html):
        assert "政府信息公开申请答复告知书" in letter
        assert cited in letter
        assert "60日" in letter  # every decision letter states the remedies


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        (Outcome.WITHHELD_ADMINISTRATIVE_INQUIRY, "有关法律、行政法规对该类信息的获取另有特别规定"),
        (Outcome.UNAVAILABLE_STILL_UNCLEAR, "您提交的补正仍未能说明所申请政府信息的名称"),
        (Outcome.NOT_PROCESSED_CONFIRM_OR_REISSUE, "不包括对已获取的信息作出确认或者另行制作、重新出具"),
    ],
)
def test_outcomes_no_article_names_expressly_are_explained_in_words(outcome: Outcome, words: str) -> None:
    assert outcome.info.needs_explanation
    txt, _ = _render(NoticeKind.DECISION, _decided(outcome, date(2024, 3, 1)))
    assert words in txt


def test_the_still_unclear_letter_recalls_the_correction_that_was_asked_for() -> None:
    txt, _ = _render(NoticeKind.DECISION, _decided(Outcome.UNAVAILABLE_STILL_UNCLEAR, date(2024, 3, 1)))
    assert "请写明文件名称" in txt


@pytest.mark.parametrize("outcome", [o for o in Outcome if o.is_refusal], ids=lambda o: o.value)
def test_a_refusal_dated_from_2024_requires_administrative_review_first(outcome: Outcome) -> None:
    txt, html = _render(NoticeKind.DECISION, _decided(outcome, date(2024, 1, 2)))
    for letter in (txt, html):
        assert "应当先申请行政复议" in letter
        assert "《中华人民共和国行政复议法》第二十三条" in letter
        assert "6个月内" not in letter


@pytest.mark.parametrize("outcome", [o for o in Outcome if o.is_refusal], ids=lambda o: o.value)
def test_a_refusal_dated_before_2024_offers_review_or_litigation(outcome: Outcome) -> None:
    txt, _ = _render(NoticeKind.DECISION, _decided(outcome, date(2023, 12, 29)))
    assert "应当先申请行政复议" not in txt
    assert "60日内" in txt and "6个月内依法向人民法院提起行政诉讼" in txt


@pytest.mark.parametrize("outcome", [o for o in Outcome if not o.is_refusal], ids=lambda o: o.value)
def test_a_decision_that_is_not_a_refusal_offers_review_or_litigation_in_2024(outcome: Outcome) -> None:
    txt, _ = _render(NoticeKind.DECISION, _decided(outcome, date(2024, 6, 3)))
    assert "应当先申请行政复议" not in txt
    assert "6个月内" in txt


def test_a_lapse_letter_says_the_request_is_treated_as_abandoned() -> None:
    for outcome in LAPSE_OUTCOMES:
        txt, _ = _render(NoticeKind.DECISION, _decided(outcome, date(2024, 3, 1)))
        assert "视为您放弃申请" in txt and "不再处理" in txt


def test_a_withdrawal_letter_confirms_the_withdrawal_and_its_reason() -> None:
    events = _history(date(2024, 3, 1), ("withdraw", date(2024, 3, 5), {"reason": "已通过其他途径获取"}))
    txt, _ = _render(NoticeKind.DECISION, events)
    assert "申请撤回" in txt and "已通过其他途径获取" in txt and "终止办理" in txt


def test_the_caseworkers_note_is_the_stated_reason_of_a_refusal() -> None:
    events = _history(date(2024, 3, 1), ("decide", date(2024, 3, 20),
                                         {"outcome": "withheld.process_information", "note": "属于内部讨论记录"}))
    txt, _ = _render(NoticeKind.DECISION, events)
    assert "理由：属于内部讨论记录。" in txt


# ── the other kinds: what SPEC §6 says each must state ──────────────────────────────────

def test_an_acknowledgement_states_the_receipt_date_and_the_reply_due_date() -> None:
    txt, html = _render(NoticeKind.ACKNOWLEDGEMENT, _history(date(2024, 3, 1)))
    for letter in (txt, html):
        assert "2024年3月1日" in letter
        assert f"即{cn_date(CALENDAR.add_working_days(date(2024, 3, 1), 20))}前作出答复" in letter


def test_an_acknowledgement_marks_a_due_date_on_a_provisional_calendar_as_such() -> None:
    year = max(CALENDAR.official_years) + 1
    txt, _ = _render(NoticeKind.ACKNOWLEDGEMENT, _history(date(year, 3, 2)))
    assert "暂定" in txt


def test_a_correction_notice_states_items_period_and_the_art30_consequence() -> None:
    events = _history(date(2024, 3, 1),
                      ("request_correction", date(2024, 3, 4), {"items": "请写明文件名称", "period": 10}))
    txt, _ = _render(NoticeKind.CORRECTION, events)
    assert "请写明文件名称" in txt
    assert "请您自收到本告知书之日起10个工作日内，向本机关提交补正后的申请" in txt
    assert cn_date(CALENDAR.add_working_days(date(2024, 3, 4), 10)) not in txt  # the period runs from receipt
    assert "第三十条" in txt and "视为放弃申请" in txt


def test_a_third_party_consultation_says_silence_leaves_the_decision_to_the_agency() -> None:
    events = _history(date(2024, 3, 1),
                      ("consult", date(2024, 3, 4), {"party": "某某建设有限公司", "kind": "third_party"}))
    txt, _ = _render(NoticeKind.CONSULTATION, events)
    assert txt.splitlines()[4] == "某某建设有限公司："  # addressed to the party
    assert "第三十二条" in txt and "15个工作日内" in txt
    assert "自收到本征求意见书之日起15个工作日内，向本机关书面提出" in txt
    assert cn_date(CALENDAR.add_working_days(date(2024, 3, 4), 15)) not in txt
    assert "逾期未提出意见的，由本机关依照" in txt
    assert APPLICANT not in txt  # the applicant's identity is not passed on


def test_a_co_producer_consultation_says_silence_means_agreement() -> None:
    events = _history(date(2024, 3, 1), ("consult", date(2024, 3, 4), {"party": "某某市财政局", "kind": "co_producer"}))
    txt, _ = _render(NoticeKind.CONSULTATION, events)
    assert "第三十四条" in txt and "15个工作日内" in txt and "逾期未提出意见的，视为同意公开" in txt


def test_an_extension_notice_states_the_new_due_date_and_who_approved_it() -> None:
    received = date(2024, 3, 1)
    events = _history(received, ("extend", date(2024, 3, 20), {"days": 10, "approved_by": "李主任"}))
    txt, _ = _render(NoticeKind.EXTENSION, events)
    new_due = CALENDAR.add_working_days(received, 30)
    assert f"将于{cn_date(new_due)}前作出答复" in txt
    assert "负责人李主任同意" in txt and "第三十三条" in txt and "延长10个工作日" in txt


def test_a_fee_notice_states_basis_standard_quantity_amount_payment_period_and_consequence() -> None:
    events = _history(date(2024, 3, 1),
                      ("fee_notice", date(2024, 3, 6), {"amount": 83460, "basis": "per_page", "quantity": 2219}))
    txt, _ = _render(NoticeKind.FEE, events)
    assert "计收方式：按量计收" in txt
    assert "201页及以上：每页40元" in txt
    assert "本次申请2219页" in txt
    assert "第201页起：2019页 × 40元 ＝ 80,760元" in txt
    assert "人民币83,460元" in txt
    assert "缴费方式" in txt and "乐清市伯乐东路1号" in txt
    assert "请您自收到本通知书次日起20个工作日内缴纳" in txt
    assert cn_date(CALENDAR.add_working_days(date(2024, 3, 6), 20)) not in txt
    assert "逾期未缴纳的，视为放弃申请" in txt


def test_every_letter_carries_number_addressee_agency_seal_line_and_date() -> None:
    events = _history(date(2024, 3, 1), ("decide", date(2024, 3, 20), {"outcome": "granted"}))
    txt, html = _render(NoticeKind.DECISION, events, dated=date(2024, 3, 21))
    assert "乐融公开〔2024〕第3号" in txt and f"{APPLICANT}：" in txt
    assert "（印章）" not in txt and "（印章）" not in html  # the seal is stamped, not printed
    assert "\u3000" * 16 + "乐清市融媒体中心\n" in txt and "2024年3月21日" in txt and "0577-61234567" in txt
    assert '<p class="seal">乐清市融媒体中心</p>' in html


def test_dates_in_letters_are_written_without_leading_zeros() -> None:
    assert cn_date(date(2024, 3, 1)) == "2024年3月1日"
    assert cn_date(date(2024, 12, 31)) == "2024年12月31日"


def test_applicant_text_is_escaped_in_html_and_left_alone_in_text() -> None:
    txt, html = _render(NoticeKind.ACKNOWLEDGEMENT, _history(date(2024, 3, 1)))
    assert APPLICANT in txt and "2023年度部门预算<表>" in txt
    assert "张三 &amp; &lt;李四&gt;" in html and "预算&lt;表&gt;" in html
    assert "<李四>" not in html and "<表>" not in html


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and "\n" not in t and "\r" not in t))
def test_any_request_text_renders_verbatim_in_text_and_escaped_in_html(request_text: str) -> None:
    from markupsafe import escape

    events = _history(date(2024, 3, 1), ("decide", date(2024, 3, 20), {"outcome": "granted", "note": request_text}))
    src = Sources(case=_case(date(2024, 3, 1)), events=events, agency=AGENCY, calendar=CALENDAR,
                  settings=ClockSettings())
    ctx = build_context(src, NoticeKind.DECISION, number="1", dated=date(2024, 3, 20))
    txt = renderer_for(None).render("decision.txt.j2", ctx)
    html = renderer_for(None).render("decision.html.j2", ctx)
    assert request_text.strip() in txt
    assert str(escape(request_text.strip())) in html


def test_a_letter_for_an_event_the_case_never_had_is_refused() -> None:
    with pytest.raises(RuleViolation, match="不能出具"):
        _render(NoticeKind.DECISION, _history(date(2024, 3, 1)))
    with pytest.raises(RuleViolation, match="收费通知"):
        _render(NoticeKind.FEE, _history(date(2024, 3, 1)))


# ── the environment: strictness, overrides, sandbox ──────────────────────────────────────

def _override(tmp_path: Path, name: str, source: str) -> NoticeRenderer:
    folder = tmp_path / "notices"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source, encoding="utf-8")
    return renderer_for(tmp_path)


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    renderer = renderer_for(None)
    with pytest.raises(TemplateError, match="缺失"):
        renderer.render("acknowledgement.txt.j2", {"notice": None})


def test_an_override_naming_a_value_the_case_does_not_have_is_an_error(tmp_path: Path) -> None:
    renderer = _override(tmp_path, "acknowledgement.txt.j2", "{{ case.applicant }} {{ case.passport_number }}")
    with pytest.raises(TemplateError, match="passport_number"):
        _render(NoticeKind.ACKNOWLEDGEMENT, _history(date(2024, 3, 1)), renderer=renderer)


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ case.__class__.__init__.__globals__ }}",
        "{{ '{0.__class__.__mro__}'.format(case) }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ lipsum.__globals__['os'].getcwd() }}",
    ],
)
def test_a_hostile_override_cannot_reach_python_internals(tmp_path: Path, hostile: str) -> None:
    renderer = _override(tmp_path, "decision.txt.j2", hostile)
    events = _history(date(2024, 3, 1), ("decide", date(2024, 3, 20), {"outcome": "granted"}))
    with pytest.raises(TemplateError):
        _render(NoticeKind.DECISION, events, renderer=renderer)


def test_an_override_can_extend_the_default_it_replaces(tmp_path: Path) -> None:
    renderer = _override(
        tmp_path, "decision.txt.j2",
        '{% extends "base/decision.txt.j2" %}{% block closing %}（本告知书一式两份）\n{% endblock %}',
    )
    events = _history(date(2024, 3, 1), ("decide", date(2024, 3, 20), {"outcome": "granted"}))
    txt, html = _render(NoticeKind.DECISION, events, renderer=renderer)
    assert "（本告知书一式两份）" in txt and "第三十六条第（二）项" in txt
    assert "（本告知书一式两份）" not in html  # only the text letter was overridden
    names = template_names(NoticeKind.DECISION)
    assert renderer.template_hash(names) != renderer_for(None).template_hash(names)
    assert [s.name for s in renderer.sources(names) if s.override] == ["decision.txt.j2"]


def test_the_template_hash_covers_the_layout_and_the_shared_wording() -> None:
    names = template_names(NoticeKind.FEE)
    used = {s.name for s in renderer_for(None).sources(names)}
    assert used == {"fee.txt.j2", "fee.html.j2", "_layout.txt.j2", "_layout.html.j2", "_wording.j2"}
    assert len(renderer_for(None).template_hash(names)) == 64


def test_a_template_with_a_syntax_error_is_refused_with_its_line(tmp_path: Path) -> None:
    renderer = _override(tmp_path, "fee.txt.j2", "line one\n{% if %}")
    with pytest.raises(TemplateError, match="第2行"):
        renderer.render("fee.txt.j2", {})


# ── the page as an officer reads it ─────────────────────────────────────────────────────


def _every_letter() -> list[tuple[str, str]]:
    """(what, text) for every kind, and for the decision letter every outcome and a withdrawal."""
    received = date(2024, 3, 1)
    letters = [(o.value, _render(NoticeKind.DECISION, _decided(o, date(2024, 6, 3)))[0]) for o in Outcome]
    withdrawn = _history(received, ("withdraw", date(2024, 3, 5), {}))
    letters.append(("withdraw", _render(NoticeKind.DECISION, withdrawn)[0]))
    others = {
        NoticeKind.ACKNOWLEDGEMENT: _history(received),
        NoticeKind.CORRECTION: _history(received, ("request_correction", received, {"items": "请写明文件名称"})),
        NoticeKind.CONSULTATION: _history(received, ("consult", received, {"party": "某公司"})),
        NoticeKind.EXTENSION: _history(received, ("extend", date(2024, 3, 20), {"days": 5, "approved_by": "李主任"})),
        NoticeKind.FEE: _history(received, ("fee_notice", received, {"basis": "per_page", "quantity": 40})),
    }  # fmt: skip
    letters += [(kind.value, _render(kind, events)[0]) for kind, events in others.items()]
    return letters


def test_no_letter_closes_twice_or_says_it_was_submitted_by_way_of_a_way() -> None:
    for what, txt in _every_letter():
        assert txt.count("特此告知") <= 1, what
        assert "方式提交" not in txt or "以" in txt.split("方式提交")[0][-6:], what
        assert "通过互联网提交" in txt or what == "consultation", what


def test_a_not_held_letter_says_the_information_does_not_exist_and_nothing_else() -> None:
    txt, _ = _render(NoticeKind.DECISION, _decided(Outcome.UNAVAILABLE_NOT_HELD, date(2024, 6, 3)))
    assert "该政府信息不存在" in txt
    assert "不属于本机关负责公开" not in txt


def test_a_withdrawal_gets_a_termination_letter_without_appeal_remedies() -> None:
    txt, html = _render(NoticeKind.DECISION, _history(date(2024, 3, 1), ("withdraw", date(2024, 3, 5), {})))
    assert "终止办理告知书" in txt and "终止办理告知书" in html
    assert "答复告知书" not in txt.replace("终止办理告知书", "")
    assert "行政复议" not in txt and "行政诉讼" not in txt


def test_an_extension_letter_states_the_reason_recorded_with_the_extension() -> None:
    events = _history(date(2024, 3, 1), ("extend", date(2024, 3, 20),
                                         {"days": 5, "approved_by": "李主任", "reason": "所申请信息需调取归档资料"}))
    txt, _ = _render(NoticeKind.EXTENSION, events)
    assert "因所申请信息需调取归档资料，本机关不能在规定的期限内作出答复" in txt


@pytest.mark.parametrize(("channel", "words"), [("in_person", "收到您当面提交的"), ("post", "收到您以邮寄方式提交的"),
                                               ("fax", "收到您以传真方式提交的")])  # fmt: skip
def test_the_letter_says_how_the_application_came_in_as_an_officer_writes_it(channel: str, words: str) -> None:
    events = _history(date(2024, 3, 1))
    src = Sources(case=_case(date(2024, 3, 1), channel=channel), events=events, agency=AGENCY, calendar=CALENDAR,
                  settings=ClockSettings(), contact_person="王五")
    ctx = build_context(src, NoticeKind.ACKNOWLEDGEMENT, number="乐融公开〔2024〕第3号", dated=date(2024, 3, 1))
    txt = renderer_for(None).render(template_names(NoticeKind.ACKNOWLEDGEMENT)[0], ctx)
    assert words in txt


def test_the_filters_the_wording_file_names_are_the_filters_a_template_gets() -> None:
    import re

    text = (NOTICES_DIR / "_wording.j2").read_text(encoding="utf-8")
    [line] = [line for line in text.splitlines() if line.strip().startswith("Filters:")]
    named = set(re.findall(r"(\w+) \(", line))
    assert named == set(FILTERS) - {"cndate"}
    renderer = renderer_for(None)
    assert set(FILTERS) <= set(renderer.text_env.filters) and set(FILTERS) <= set(renderer.html_env.filters)
