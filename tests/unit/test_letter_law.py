"""Every letter stands up in a review (issue #19): what each letter cites and says, read from
the rendered text and HTML letters, and what a decision must carry before it is recorded."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from foi_workflow.config import Agency
from foi_workflow.domain import letter_law
from foi_workflow.domain.letter_law import Consultation, check_new_decision
from foi_workflow.domain.vocabulary import NoticeKind, Outcome
from foi_workflow.errors import RuleViolation
from tests.letter_helpers import AGENCY, CALENDAR, flat, history, render

ROOT = Path(__file__).resolve().parents[2]
R = date(2024, 3, 1)
D = date(2024, 4, 1)


def decided(outcome: str, *before: tuple[str, date, dict[str, Any]], **data: Any) -> tuple[str, str]:
    return render(NoticeKind.DECISION, history(R, *before, ("decide", D, {"outcome": outcome, **data})))


def consulted(kind: str, opinion: str) -> list[tuple[str, date, dict[str, Any]]]:
    return [("consult", date(2024, 3, 4), {"party": "某某建设有限公司", "kind": kind}),
            ("consultation_reply", date(2024, 3, 18), {"opinion": opinion})]  # fmt: skip


# ── third-party refusal ─────────────────────────────────────────────────────────────────

def test_a_third_party_refusal_states_that_the_consulted_party_objected_and_cites_art_32() -> None:
    for letter in decided("withheld.third_party_rights", *consulted("third_party", "object"), note="涉及商业秘密"):
        assert "本机关于2024年3月4日书面征求了第三方的意见，该第三方于2024年3月18日书面答复不同意公开" in letter
        assert "《中华人民共和国政府信息公开条例》第十五条、第三十二条" in letter


def test_a_third_party_refusal_after_silence_says_no_opinion_came_in_15_days() -> None:
    txt, _ = decided("withheld.third_party_rights", *consulted("third_party", "none"), note="涉及个人隐私")
    assert "该第三方在收到征求意见书之日起15个工作日内未提出意见" in txt
    assert "不同意公开" not in txt


def test_without_a_consultation_the_refusal_cites_art_15_only_and_mentions_none() -> None:
    txt, _ = decided("withheld.third_party_rights", note="涉及个人隐私")
    assert "第十五条的规定" in txt and "第三十二条" not in txt and "征求" not in txt


def test_after_a_co_producer_consultation_no_third_party_is_mentioned() -> None:
    txt, _ = decided("withheld.third_party_rights", *consulted("co_producer", "object"), note="涉及个人隐私")
    assert "第三方的意见" not in txt and "第三十二条" not in txt and "第三十四条" not in txt


def test_a_refusal_on_third_party_grounds_after_the_third_party_agreed_is_refused() -> None:
    agreed = (Consultation("某公司", "third_party", R, "agree", D),)
    with pytest.raises(RuleViolation, match="第三方已同意公开"):
        check_new_decision(Outcome.WITHHELD_THIRD_PARTY_RIGHTS, {"note": "商业秘密"}, agreed, D)
    mixed = (*agreed, Consultation("另一公司", "third_party", R, "object", D))
    check_new_decision(Outcome.WITHHELD_THIRD_PARTY_RIGHTS, {"note": "另一公司的商业秘密"}, mixed, D)


# ── remedies ────────────────────────────────────────────────────────────────────────────

def test_remedies_name_the_agencys_review_body() -> None:
    for outcome in ("granted", "withheld.state_secret"):
        for letter in decided(outcome, note="理由"):
            assert "60日内向乐清市人民政府申请行政复议" in letter
            assert "有管辖权的行政复议机关" not in letter


def test_without_a_review_body_the_letter_falls_back_to_the_words_of_the_law() -> None:
    bare = Agency(code="x", name="某局")
    txt, _ = render(NoticeKind.DECISION, history(R, ("decide", D, {"outcome": "granted"})), agency=bare)
    assert "60日内向有管辖权的行政复议机关申请行政复议" in txt


def test_a_review_first_letter_adds_15_days_to_sue_after_the_review_decision() -> None:
    for letter in decided("withheld.internal_affairs", note="内部人事管理信息"):
        assert "应当先申请行政复议" in letter
        assert "《中华人民共和国行政诉讼法》第四十五条" in letter
        assert "自收到行政复议决定书之日起15日内向人民法院提起行政诉讼" in letter


def test_the_administrative_inquiry_referral_is_not_worded_as_a_refusal() -> None:
    txt, _ = decided("withheld.administrative_inquiry", note="请持身份证明到乐清市不动产登记中心查询")
    assert "不予公开" not in txt and "应当先申请行政复议" not in txt
    assert "请您依照有关法律、行政法规的规定办理" in txt and "6个月内" in txt
    assert "乐清市不动产登记中心" in txt


# ── reasons are mandatory ───────────────────────────────────────────────────────────────

@pytest.mark.parametrize("outcome", sorted(letter_law.REASON_REQUIRED, key=list(Outcome).index), ids=str)
def test_a_decision_that_must_say_why_is_refused_without_a_note(outcome: Outcome) -> None:
    with pytest.raises(RuleViolation, match="须说明理由"):
        check_new_decision(outcome, {}, (), D)


def test_a_partial_disclosure_names_each_withheld_part_with_its_article() -> None:
    with pytest.raises(RuleViolation, match="条款"):
        check_new_decision(Outcome.PARTIALLY_GRANTED, {"note": "部分内容涉及隐私"}, (), D)
    note = "第3页申请人以外的个人身份信息，依据条例第十五条不予公开"
    check_new_decision(Outcome.PARTIALLY_GRANTED, {"note": note}, (), D)
    txt, _ = decided("partially_granted", note=note)
    assert f"不予公开部分的内容、依据和理由：{note}。" in txt


def test_prohibited_by_law_names_the_law_and_its_article() -> None:
    with pytest.raises(RuleViolation, match="法律或行政法规的名称和条款"):
        check_new_decision(Outcome.WITHHELD_PROHIBITED_BY_LAW, {"note": "法律禁止"}, (), D)
    note = "《中华人民共和国统计法》第三十九条禁止公开统计调查中获得的能够识别调查对象的资料"
    check_new_decision(Outcome.WITHHELD_PROHIBITED_BY_LAW, {"note": note}, (), D)
    assert note in decided("withheld.prohibited_by_law", note=note)[0]


def test_no_letter_cites_articles_14_to_16_wholesale() -> None:
    for outcome in Outcome:
        if outcome.is_lapse:
            continue
        assert "第十四条至第十六条" not in decided(outcome.value, note="理由")[0]
    assert "第十四条至第十六条" not in decided("partially_granted")[0]  # stored history without a note


# ── not held, split ─────────────────────────────────────────────────────────────────────

def test_not_held_without_a_referral_says_a_search_was_made_and_cites_36_4() -> None:
    txt, html = decided("unavailable.not_held", note="检索了本机关2019年以来的合同档案")
    for letter in (txt, html):
        assert "本机关对您所申请公开的政府信息进行了检索" in letter and "该政府信息不存在" in letter
        assert "第三十六条第（四）项" in letter and "第（五）项" not in letter
    assert "检索情况：检索了本机关2019年以来的合同档案。" in txt


def test_not_held_with_a_referral_names_the_agency_and_how_to_reach_it_and_cites_36_5() -> None:
    refer = "乐清市交通运输局，地址乐清市旭阳路1号，电话0577-62000000"
    txt, _ = decided("unavailable.not_held", refer_to=refer)
    assert "不属于本机关负责公开" in txt and refer in txt and "第三十六条第（五）项" in txt
    assert "该政府信息不存在" not in txt
    with pytest.raises(RuleViolation, match="--refer-to"):
        check_new_decision(Outcome.WITHHELD_STATE_SECRET, {"note": "x", "refer_to": refer}, (), D)


# ── citations ───────────────────────────────────────────────────────────────────────────

def test_the_extension_cites_article_33_paragraph_2() -> None:
    extended = ("extend", date(2024, 3, 20), {"days": 5, "approved_by": "李主任"})
    txt, _ = render(NoticeKind.EXTENSION, history(R, extended))
    assert "第三十三条第二款" in txt and "第三十三条第一款" not in txt


def test_a_publication_is_answered_with_where_to_get_it_not_as_not_processed() -> None:
    txt, _ = decided("not_processed.publication", note="该书由浙江人民出版社出版，可在公共图书馆借阅")
    assert "第三十九条第二款" in txt and "现告知您获取的途径：该书由浙江人民出版社出版" in txt
    assert "不作为政府信息公开申请处理" not in txt


def test_confirm_or_reissue_is_explained_on_articles_2_and_38() -> None:
    txt, _ = decided("not_processed.confirm_or_reissue")
    assert "第二条的规定，政府信息是行政机关在履行行政管理职能过程中制作或者获取的" in txt
    assert "第三十八条的规定，需要对现有政府信息进行加工、分析的" in txt
    assert "第三十六条" not in txt.split("现答复如下")[1].split("您如对本答复不服")[0]


def test_a_fee_lapse_cites_article_42_and_the_fee_rules_article() -> None:
    noticed = ("fee_notice", R, {"amount": 720, "basis": "per_page", "quantity": 101})
    txt, _ = render(NoticeKind.DECISION, history(R, noticed, ("lapse_fee", D, {})))
    assert "第四十二条和《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）第六条" in txt


def test_granted_cites_one_item_and_says_where_published_information_is() -> None:
    txt, _ = decided("granted")
    assert "第三十六条第（二）项" in txt and "第（一）项" not in txt
    txt, _ = decided("granted", published_at="乐清市人民政府门户网站“政府信息公开”栏目（www.yueqing.gov.cn）")
    assert "第三十六条第（一）项" in txt and "第（二）项" not in txt
    assert "获取该政府信息的方式和途径：乐清市人民政府门户网站" in txt


def test_the_still_unclear_letter_rests_on_article_29_and_30_in_words() -> None:
    txt, _ = decided("unavailable.still_unclear", ("request_correction", R, {"items": "请写明合同名称"}),
                     ("receive_correction", date(2024, 3, 8), {}))  # fmt: skip
    assert "第二十九条第二款第（二）项、第三十条" in txt
    assert "政府信息公开申请应当写明申请公开的政府信息的名称、文号或者便于行政机关查询的其他特征性描述" in txt


# ── the missing letters ─────────────────────────────────────────────────────────────────

def test_the_art_35_letter_asks_for_reasons_within_a_period_from_receipt() -> None:
    txt, html = render(NoticeKind.REASONS, history(R))
    for letter in (txt, html):
        assert "说明理由告知书" in letter and "第三十五条" in letter
        assert "请您自收到本告知书之日起15个工作日内向本机关书面说明理由" in letter


def test_the_art_35_reasonable_period_letter_states_the_reason_and_the_date() -> None:
    period = {"due": "2024-06-28", "reason": "申请涉及十年档案"}
    events = history(R, ("set_reasonable_period", date(2024, 3, 10), period))
    txt, _ = render(NoticeKind.REASONABLE_PERIOD, events)
    assert "延迟答复告知书" in txt and "申请涉及十年档案" in txt and "将于2024年6月28日前作出答复" in txt
    assert "第三十五条" in txt


def test_the_art_32_letter_tells_the_objecting_party_the_reason_and_the_date_of_disclosure() -> None:
    events = history(R, *consulted("third_party", "object"),
                     ("decide", D, {"outcome": "granted", "override_reason": "合同涉及公共财政资金的使用",
                                    "disclose_on": "2024-04-22"}))  # fmt: skip
    txt, html = render(NoticeKind.THIRD_PARTY_DISCLOSURE, events)
    for letter in (txt, html):
        assert "决定公开告知书" in letter and "某某建设有限公司：" in letter
        assert "理由是：合同涉及公共财政资金的使用。" in letter and "将于2024年4月22日向申请人公开" in letter
        assert "第三十二条" in letter
    applicant, _ = render(NoticeKind.DECISION, events)
    assert "第三方不同意公开" in applicant and "将于2024年4月22日向您提供" in applicant


def test_granting_over_an_objection_needs_a_reason_and_a_later_date() -> None:
    objected = (Consultation("某公司", "third_party", R, "object", D),)
    with pytest.raises(RuleViolation, match="--override-reason"):
        check_new_decision(Outcome.GRANTED, {}, objected, D)
    with pytest.raises(RuleViolation, match="晚于决定之日"):
        check_new_decision(Outcome.GRANTED, {"override_reason": "公共利益", "disclose_on": D.isoformat()}, objected, D)
    with pytest.raises(RuleViolation, match="第三方不同意公开而决定公开"):
        check_new_decision(Outcome.GRANTED, {"override_reason": "公共利益", "disclose_on": "2024-05-01"}, (), D)


def test_the_third_party_letter_is_refused_for_a_decision_that_did_not_override_an_objection() -> None:
    with pytest.raises(RuleViolation, match="不能出具决定公开告知书"):
        render(NoticeKind.THIRD_PARTY_DISCLOSURE, history(R, ("decide", D, {"outcome": "granted"})))


@pytest.mark.parametrize(("kind", "words"), [("third_party", "书面征求第三方的意见"),
                                            ("co_producer", "书面征求有关行政机关的意见")])  # fmt: skip
def test_the_applicant_is_told_a_consultation_is_under_way_without_naming_the_party(kind: str, words: str) -> None:
    events = history(R, ("consult", date(2024, 3, 4), {"party": "某某建设有限公司", "kind": kind}))
    txt, html = render(NoticeKind.CONSULTATION_NOTICE, events)
    for letter in (txt, html):
        assert "张三：" in letter and words in letter and "第三十三条第三款" in letter
        assert "某某建设有限公司" not in letter


# ── periods and layout ──────────────────────────────────────────────────────────────────

def test_periods_that_run_from_receipt_are_stated_as_such_not_as_dates() -> None:
    letters = {
        NoticeKind.CORRECTION: (("request_correction", R, {"items": "请写明合同名称", "period": 10}), 10),
        NoticeKind.CONSULTATION: (("consult", R, {"party": "某公司"}), 15),
        NoticeKind.FEE: (("fee_notice", R, {"basis": "per_page", "quantity": 40}), 20),
    }
    for kind, (step, days) in letters.items():
        txt, _ = render(kind, history(R, step))
        assert re.search(f"自收到本(告知书|征求意见书|通知书)(之日|次日)起{days}个工作日内", txt), kind
        computed = CALENDAR.add_working_days(R, days)
        assert f"{computed.year}年{computed.month}月{computed.day}日" not in txt, kind


def test_a_default_document_number_has_no_第_and_no_seal_is_printed() -> None:
    assert Agency(code="x", name="某局", short_name="某").number_pattern.format(
        short="某", year=2024, seq=3, kind="") == "某公开〔2024〕3号"
    for kind in NoticeKind:
        if kind in (NoticeKind.ACKNOWLEDGEMENT, NoticeKind.REASONS):
            assert "印章" not in "".join(render(kind, history(R)))


# ── the table in docs/letters.md ────────────────────────────────────────────────────────

def test_the_outcome_letter_table_in_the_docs_is_the_one_the_code_gives() -> None:
    page = (ROOT / "docs" / "letters.md").read_text(encoding="utf-8")
    begin, end = page.index(letter_law.TABLE_BEGIN), page.index(letter_law.TABLE_END) + len(letter_law.TABLE_END)
    assert page[begin:end] == letter_law.outcome_table()


@pytest.mark.parametrize("outcome", [o for o in Outcome if not o.is_lapse], ids=str)
def test_each_letter_cites_and_offers_what_the_table_says(outcome: Outcome) -> None:
    txt, _ = decided(outcome.value, note="理由")
    assert letter_law.citation(outcome) in txt
    review_first = letter_law.remedies_label(outcome, D).startswith("先复议")
    assert ("应当先申请行政复议" in txt) == review_first
    assert ("6个月内" in txt) == (not review_first)
    assert flat(txt)  # the letter is not empty


def test_the_table_marks_a_reason_required_exactly_where_decide_refuses_without_one() -> None:
    for outcome in Outcome:
        if outcome.is_lapse:
            continue
        try:
            check_new_decision(outcome, {}, (), D)
            refused = False
        except RuleViolation:
            refused = True
        assert refused == (outcome in letter_law.REASON_REQUIRED), outcome
    assert AGENCY.review_body
