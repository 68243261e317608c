"""The pure rules of the ledger (SPEC §14): header wordings to columns, cells to dates and
days, result / applicant-type / channel texts to codes, the formula guard, and each read row
to events the workflow accepts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockSettings
from foi_workflow.domain.ledger_columns import COLUMNS, match_header
from foi_workflow.domain.ledger_rows import LedgerCase, Problem, describe_problems
from foi_workflow.domain.ledger_values import (
    APPLICANT_TYPES,
    CHANNELS,
    OUTCOMES,
    BadValue,
    guard_formula,
    ledger_outcome_text,
    parse_date,
    parse_days,
    to_serial,
    unguard_formula,
)
from foi_workflow.domain.vocabulary import OUTCOME_INFO, ApplicantType, Outcome
from foi_workflow.domain.workflow import ApplyContext, apply_case_event, load_workflows, receive_case

MARCH_1 = date(2024, 3, 1)


@pytest.mark.parametrize(
    "cell",
    [MARCH_1, datetime(2024, 3, 1, 9, 30), 45352, 45352.0, 45352.75, "45352", "2024/3/1", "2024-03-01", "2024年3月1日",
     "2024.3.1", "2024.03.01", "20240301", "2024-03-01 00:00:00", "2024/03/01 10:20", " 2024 年 3 月 1 日 ",
     "２０２４年３月１日", "2024-03-01T08:00:00"],
)  # fmt: skip
def test_every_date_form_excel_produces_reads_as_the_same_day(cell: Any) -> None:
    assert parse_date(cell) == MARCH_1


@pytest.mark.parametrize("cell", ["2024-02-30", "2023-02-29", "2024年13月1日", "2024/4/31"])
def test_a_day_that_does_not_exist_is_refused_as_such(cell: str) -> None:
    with pytest.raises(BadValue, match="日期不存在"):
        parse_date(cell)


@pytest.mark.parametrize("cell", ["下周一", "3/1/2024", "24-3-1", True, 0, -5, 99999999])
def test_what_is_not_a_date_is_refused(cell: Any) -> None:
    with pytest.raises(BadValue):
        parse_date(cell)


@pytest.mark.parametrize("cell", [None, "", "  ", "—", "/", "无", "-"])
def test_a_blank_date_cell_is_no_date(cell: Any) -> None:
    assert parse_date(cell) is None


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
def test_any_day_reads_back_from_its_serial_number_and_its_chinese_and_slashed_forms(day: date) -> None:
    assert parse_date(to_serial(day)) == day
    assert parse_date(str(to_serial(day))) == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day
    assert parse_date(f"{day.year}/{day.month}/{day.day}") == day
    assert parse_date(f"{day.year}.{day.month}.{day.day}") == day


@pytest.mark.parametrize(("cell", "days"), [(None, 0), ("", 0), ("否", 0), (10, 10), (10.0, 10), ("10", 10),
                                            ("10个工作日", 10), ("５天", 5)])  # fmt: skip
def test_extension_days_read_as_a_number(cell: Any, days: int) -> None:
    assert parse_days(cell) == days


@pytest.mark.parametrize("cell", ["是", "十天", 2.5, True])
def test_extension_days_that_are_not_a_number_are_refused(cell: Any) -> None:
    with pytest.raises(BadValue):
        parse_days(cell)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_is_matched_by_the_reports_own_words_and_by_what_the_export_writes(outcome: Outcome) -> None:
    info = OUTCOME_INFO[outcome]
    assert OUTCOMES.match(outcome.value) == outcome.value
    assert OUTCOMES.match(info.label) == outcome.value
    assert OUTCOMES.match(info.row) == outcome.value
    assert OUTCOMES.match(ledger_outcome_text(outcome)) == outcome.value
    if info.item is not None:
        assert OUTCOMES.match(f"{info.section_label}（{info.label}）") == outcome.value


@pytest.mark.parametrize(
    ("text", "code"),
    [("同意公开", "granted"), ("公开", "granted"), ("已答复公开", "granted"), ("部分公开", "partially_granted"),
     ("部分公开（涉及个人隐私部分不予公开）", "partially_granted"), ("不予公开（国家秘密）", "withheld.state_secret"),
     ("不予公开-涉及商业秘密", "withheld.third_party_rights"),
     ("属于过程性信息，不予公开", "withheld.process_information"),
     ("信息不存在", "unavailable.not_held"), ("经检索，该信息不存在", "unavailable.not_held"),
     ("告知非本机关掌握", "unavailable.not_held"), ("需要另行制作", "unavailable.needs_creation"),
     ("补正后仍不明确", "unavailable.still_unclear"), ("信访举报投诉", "not_processed.petition_or_complaint"),
     ("重复申请", "not_processed.duplicate"), ("要求提供公开出版物", "not_processed.publication"),
     ("逾期未补正", "other.correction_lapsed"), ("视为放弃申请", "other.correction_lapsed"),
     ("逾期未缴费", "other.fee_unpaid"), ("申请人撤回", "other.other"), ("其他", "other.other"),
     ("危及“三安全一稳定”", "withheld.three_safeties_one_stability"), ("(三)1", "withheld.state_secret")],
)  # fmt: skip
def test_the_wordings_of_real_ledgers_are_matched(text: str, code: str) -> None:
    assert OUTCOMES.match(text) == code


@pytest.mark.parametrize("text", ["不予公开", "无法提供", "已办理", "不属于国家秘密，予以公开", "同意给予"])
def test_a_text_that_does_not_say_which_row_is_not_guessed(text: str) -> None:
    assert OUTCOMES.match(text) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [("公民", "natural_person"), ("个人", "natural_person"), ("自然人", "natural_person"),
     ("企业", "commercial"), ("某某科技有限公司", "commercial"), ("个人独资企业", "commercial"),
     ("律师事务所", "legal_service"), ("XX律师事务所", "legal_service"), ("律师", "legal_service"),
     ("高校", "research"), ("科研机构", "research"), ("民办非企业单位", "social_org"), ("社会公益组织", "social_org"),
     ("村民委员会", "other"), ("其他", "other"), ("other", "other")],
)  # fmt: skip
def test_applicant_types_are_matched(text: str, code: str) -> None:
    assert APPLICANT_TYPES.match(text) == code


@pytest.mark.parametrize("type_", list(ApplicantType))
def test_every_applicant_type_label_is_matched(type_: ApplicantType) -> None:
    assert APPLICANT_TYPES.match(type_.label) == type_.value


@pytest.mark.parametrize(("text", "code"), [("网上申请", "online"), ("电子邮件", "online"), ("信函", "post"),
                                            ("EMS", "post"), ("当面提交", "in_person"), ("窗口", "in_person"),
                                            ("传真", "fax")])  # fmt: skip
def test_channels_are_matched(text: str, code: str) -> None:
    assert CHANNELS.match(text) == code


@pytest.mark.parametrize(
    ("header", "key"),
    [("登记编号", "case"), ("受理编号", "case"), ("序号", None), ("答复文号", None),
     ("收到日期", "received_on"), ("申请日期", "received_on"), ("受理日期", "received_on"), ("收文日期", "received_on"),
     ("申请时间", "received_on"), ("来件日期", "received_on"), ("收到日期\n（年月日）", "received_on"),
     ("申请人类型", "applicant_type"), ("申请人类别", "applicant_type"), ("申请人性质", "applicant_type"),
     ("申请主体类型", "applicant_type"), ("申请人身份证号", None), ("申请人", "applicant"),
     ("申请人姓名/名称", "applicant"), ("申请方式", "channel"), ("提交渠道", "channel"), ("申请获取信息的方式", None),
     ("申请内容", "request"), ("申请公开内容", "request"), ("所需信息内容描述", "request"),
     ("补正告知日期", "correction_requested_on"), ("补正通知时间", "correction_requested_on"),
     ("补正收到日期", "correction_received_on"), ("补正材料提交日期", "correction_received_on"),
     ("延期天数", "extended_days"), ("延长答复期限（工作日）", "extended_days"), ("是否延期", None),
     ("答复日期", "decided_on"), ("办结日期", "decided_on"), ("答复时间", "decided_on"),
     ("答复期限", "reply_due"), ("截止日期", "reply_due"),
     ("处理结果", "outcome"), ("答复结果", "outcome"), ("办理结果", "outcome"), ("答复类型", "outcome"),
     ("是否按期", "on_time"), ("是否超期", "on_time"), ("经办人", "caseworker"), ("承办人", "caseworker"),
     ("状态", "state"), ("联系电话", "phone"), ("通讯地址", "contact"), ("备注", None),
     ("收费通知日期", "fee_notice_on"), ("缴费日期", "fee_paid_on"), ("补正期限", "correction_period")],
)  # fmt: skip
def test_headers_are_recognised_by_their_usual_wordings(header: str, key: str | None) -> None:
    assert match_header(header) == key


@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.key)
def test_every_column_recognises_the_header_the_export_writes(column: Any) -> None:
    assert match_header(column.header) == column.key


@given(st.text())
def test_the_formula_guard_gives_back_any_text_and_never_leaves_a_formula(text: str) -> None:
    guarded = guard_formula(text)
    assert unguard_formula(guarded) == text
    assert not guarded.startswith(("=", "+", "-", "@"))


def test_the_same_unreadable_value_is_said_once_with_all_its_rows() -> None:
    problems = [Problem(r, "处理结果", "F", "已办理", "无法对应") for r in range(2, 14)]
    problems.append(Problem(5, "收到日期", "B", "2024-02-30", "日期不存在"))
    line = describe_problems(problems)
    assert line == ("第 2、3、4、5、6、7、8、9 等 12 行 处理结果（F列）“已办理”：无法对应；"
                    "第 5 行 收到日期（B列）“2024-02-30”：日期不存在")  # fmt: skip


# --------------------------------------------------------------------------- rows to events

CAL = WorkCalendar.load(None)
WORKFLOW = load_workflows()
CTX = ApplyContext(calendar=CAL, settings=ClockSettings(), today=date(2030, 1, 1))
DECIDABLE = [o.value for o in Outcome if not o.is_lapse]


@st.composite
def ledger_rows(draw: st.DrawFn) -> LedgerCase:
    """A consistent ledger row: dates in order, within the limits the rules set."""
    received = draw(st.dates(min_value=date(2021, 1, 1), max_value=date(2025, 12, 31)))
    day = received
    row = LedgerCase(row=2, case_id="L-1", received_on=received,
                     applicant_type=draw(st.sampled_from(list(ApplicantType))).value)  # fmt: skip
    row.extended_days = draw(st.integers(0, 20))
    if draw(st.booleans()):
        day = row.correction_requested_on = CAL.add_working_days(received, draw(st.integers(0, 7)))
        kind = draw(st.sampled_from(["corrected", "lapsed", "open"]))
        if kind == "lapsed":
            row.outcome = Outcome.OTHER_CORRECTION_LAPSED.value
            row.decided_on = CAL.add_working_days(day, 16 + draw(st.integers(0, 30)))
            return row
        if kind == "open":
            return row
        day = row.correction_received_on = day + timedelta(days=draw(st.integers(0, 20)))
    if draw(st.booleans()):
        row.outcome = draw(st.sampled_from(DECIDABLE))
        row.decided_on = day + timedelta(days=draw(st.integers(0, 90)))
    return row


@settings(max_examples=200, deadline=None)
@given(ledger_rows())
def test_every_consistent_ledger_row_replays_to_its_outcome_and_dates(row: LedgerCase) -> None:
    (first, on, data, _), *rest = row.events()
    assert first == "receive"
    snap, _ = receive_case(WORKFLOW, "L-1", on, data, CTX)
    for event, on, data, _ in rest:
        snap, _, _ = apply_case_event(WORKFLOW, snap, event, on, data, CTX)
    assert snap.received_on == row.received_on and snap.applicant_type == row.applicant_type
    assert snap.outcome == row.outcome and snap.decided_on == row.decided_on
    assert snap.extended_days == row.extended_days
