"""`foi void` and `foi correct` (SPEC §11) as a caseworker uses them, one test per kind of
mistake: each case put right reads, in `show`, `list`, the report and the sweep, exactly as the
same case built right the first time (minus its log, which keeps the mistake and the fix)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Foi
from tests.correction_helpers import intake, outbox, picture, refused, shown, swept
from tests.smtp_helpers import write_config


@pytest.fixture
def pair(make_db_url: Callable[[], str], tmp_path: Path) -> tuple[Foi, Foi]:
    """Two databases: `right` gets the case right the first time, `fixed` gets it wrong and
    then puts it right. Mail stays queued (no SMTP), addressed to the caseworker."""
    config = write_config(tmp_path, None)
    runners = (Foi(make_db_url(), tmp_path, config=config), Foi(make_db_url(), tmp_path, config=config))
    for foi in runners:
        foi.ok("init")
    return runners


def test_a_wrong_outcome_corrected_reads_as_if_decided_right(pair: tuple[Foi, Foi]) -> None:
    right, fixed = pair
    for foi in pair:
        intake(foi, "C-1", "2024-03-01")
    right.ok("decide C-1 --outcome granted --on 2024-03-20")
    fixed.ok("decide C-1 --outcome withheld.state_secret --note 经保密审查属于秘密级 --on 2024-03-20")
    out = fixed.ok("correct", "C-1", "2", "--outcome", "granted", "--reason", "结果录错，应为予以公开")
    assert "第 2 个事件（decide，2024-03-20）已更正" in out and "予以公开" in out
    assert picture(fixed, ("C-1",), (2024,)) == picture(right, ("C-1",), (2024,))
    assert swept(fixed, "2024-03-25T09:00") == swept(right, "2024-03-25T09:00")
    decide = json.loads(fixed.ok("show C-1 --format json"))["events"][1]
    assert decide["no"] == 2 and decide["data"]["outcome"] == "withheld.state_secret"  # the mistake stays
    [fix] = decide["corrected_by"]
    assert fix["no"] == 3 and fix["reason"] == "结果录错，应为予以公开" and fix["set"] == {"outcome": "granted"}
    assert "【已更正：第 3 号事件" in fixed.ok("show C-1")
    letter = fixed.ok("notice", "C-1", "decision")  # a letter issued now speaks of what counts
    assert "予以公开" in letter and "国家秘密" not in letter


def test_a_wrong_decision_date_corrected_moves_the_on_time_flag(pair: tuple[Foi, Foi]) -> None:
    right, fixed = pair
    for foi in pair:
        intake(foi, "C-1", "2024-03-01")
    right.ok("decide C-1 --outcome granted --on 2024-04-15")
    fixed.ok("decide C-1 --outcome granted --on 2024-03-20")
    assert shown(fixed, "C-1")["on_time"] is True
    fixed.ok("correct", "C-1", "2", "--on", "2024-04-15", "--reason", "答复日期录错")
    assert shown(fixed, "C-1")["on_time"] is False  # due 2024-03-29
    assert picture(fixed, ("C-1",), (2024,)) == picture(right, ("C-1",), (2024,))


def test_a_wrong_receipt_date_corrected_moves_the_whole_clock_and_the_report_year(pair: tuple[Foi, Foi]) -> None:
    right, fixed = pair
    for foi, (open_on, decided_on) in ((right, ("2024-01-03", "2024-01-04")), (fixed, ("2023-12-20", "2023-12-01"))):
        intake(foi, "OPEN-1", open_on)
        intake(foi, "DONE-1", decided_on, applicant="某公司", applicant_type="commercial")
        foi.ok("decide DONE-1 --outcome granted --on 2024-01-29")
    assert shown(fixed, "DONE-1")["on_time"] is False and shown(right, "DONE-1")["on_time"] is True
    # Before the fix, the digest lists the correction-notice duty of the wrong receipt date.
    assert ("digest:default:2023-12-27", "queued") in swept(fixed, "2023-12-27T23:59")  # digest_time
    assert swept(right, "2023-12-27T23:59") == []
    fixed.ok("correct", "OPEN-1", "1", "--on", "2024-01-03", "--reason", "收到日期录错")
    fixed.ok("correct", "DONE-1", "1", "--on", "2024-01-04", "--reason", "收到日期录错")
    cases, years = ("OPEN-1", "DONE-1"), (2023, 2024)
    assert picture(fixed, cases, years) == picture(right, cases, years)
    assert shown(fixed, "OPEN-1")["reply_due"] == shown(right, "OPEN-1")["reply_due"] == "2024-01-31"
    # The reminder of the old date is dropped; the moved deadlines re-arm with their new keys.
    for now in ("2024-01-10T09:00", "2024-01-24T09:00"):  # the digest of 2023-12-27 stays sent
        assert [m for m in swept(fixed, now) if m[0] != "digest:default:2023-12-27"] == swept(right, now)
    assert any(key == "OPEN-1:reply_due_5:2024-01-31" for key, _ in outbox(fixed))


def test_a_correction_request_recorded_on_the_wrong_case_is_voided_and_recorded_on_the_right_one(
    pair: tuple[Foi, Foi],
) -> None:
    right, fixed = pair
    for foi in pair:
        intake(foi, "X-1", "2024-03-01")
        intake(foi, "Y-1", "2024-03-01", applicant="赵六")
    right.ok("request-correction X-1 --items 请写明文件名称 --on 2024-03-05")
    fixed.ok("request-correction Y-1 --items 请写明文件名称 --on 2024-03-05")
    swept(right, "2024-03-25T09:00")
    assert ("Y-1:correction_period_ending:2024-03-26", "queued") in swept(fixed, "2024-03-25T09:00")
    fixed.ok("void", "Y-1", "2", "--reason", "补正告知记在了错误的案件上")
    fixed.ok("request-correction X-1 --items 请写明文件名称 --on 2024-03-05")
    cases = ("X-1", "Y-1")
    assert picture(fixed, cases, (2024,)) == picture(right, cases, (2024,))
    assert swept(fixed, "2024-03-25T09:00") == swept(right, "2024-03-25T09:00")
    assert "【已作废：第 3 号事件" in fixed.ok("show Y-1") and "补正告知记在了错误的案件上" in fixed.ok("show Y-1")


def test_a_duplicate_registration_voided_leaves_every_list_count_and_sweep(pair: tuple[Foi, Foi]) -> None:
    right, fixed = pair
    intake(right, "C-1", "2024-03-01")
    intake(fixed, "C-1", "2024-03-01")
    intake(fixed, "C-2", "2024-03-01")  # the same application, registered twice
    swept(right, "2024-03-22T09:00")
    assert ("C-2:reply_due_5:2024-03-29", "queued") in swept(fixed, "2024-03-22T09:00")
    out = fixed.ok("void", "C-2", "1", "--reason", "重复登记")
    assert "本案登记已作废" in out
    assert picture(fixed, ("C-1",), (2024,)) == picture(right, ("C-1",), (2024,))
    assert swept(fixed, "2024-04-01T09:00") == swept(right, "2024-04-01T09:00")  # overdue reminders: C-1 only
    gone = json.loads(fixed.ok("show C-2 --format json"))
    assert gone["voided"] is True and gone["reply_due"] is None
    assert gone["events"][0]["voided"]["reason"] == "重复登记" and gone["events"][1]["event"] == "void"
    assert "状态：已作废" in fixed.ok("show C-2")
    refused(fixed, "decide", "C-2", "--outcome", "granted", "--on", "2024-03-20", code="E-STATE")
    refused(fixed, "notice", "C-2", "acknowledgement", code="E-STATE")


def test_a_wrongly_recorded_lapse_is_voided_and_the_case_goes_on_as_it_really_did(pair: tuple[Foi, Foi]) -> None:
    right, fixed = pair
    for foi in pair:
        intake(foi, "C-1", "2024-03-01")
        foi.ok("request-correction C-1 --items 请写明文件名称 --on 2024-03-05")  # period ends 2024-03-26
    right.ok("receive-correction C-1 --on 2024-03-20")
    swept(right, "2024-03-27T09:00")
    # The correction arrived on 20 March but was not recorded: the sweep lapsed the case.
    assert ("C-1:lapse_correction:2024-03-26", "queued") in swept(fixed, "2024-03-27T09:00")
    assert shown(fixed, "C-1")["outcome"] == "other.correction_lapsed"
    fixed.ok("void", "C-1", "3", "--reason", "补正材料已于3月20日收到，误作逾期未补正")
    fixed.ok("receive-correction C-1 --on 2024-03-20")
    for foi in pair:
        foi.ok("decide C-1 --outcome granted --on 2024-04-10")
    assert picture(fixed, ("C-1",), (2024,)) == picture(right, ("C-1",), (2024,))
    assert outbox(fixed) == outbox(right) == []  # the lapse notice that no longer holds was dropped


def test_refusals_exit_1_with_one_chinese_line_and_change_nothing(foi: Foi) -> None:
    intake(foi, "C-1", "2024-03-01")
    foi.ok("request-correction C-1 --items 请补充 --on 2024-03-05")
    foi.ok("receive-correction C-1 --on 2024-03-12")
    foi.ok("decide C-1 --outcome granted --on 2024-03-20")
    refused(foi, "void", "C-1", "9", "--reason", "x", code="E-INPUT")
    line = refused(foi, "void", "C-1", "2", "--reason", "x", code="E-CORRECTION")
    assert "第 3 个事件（receive_correction，2024-03-12）将不再成立" in line
    line = refused(foi, "correct", "C-1", "4", "--on", "2024-02-01", "--reason", "x", code="E-CORRECTION")
    assert "第 4 个事件（decide，2024-02-01）" in line
    refused(foi, "correct", "C-1", "4", "--items", "x", "--reason", "x", code="E-INPUT")
    refused(foi, "correct", "C-1", "4", "--outcome", "granted", "--reason", "x", code="E-INPUT")  # nothing changes
    refused(foi, "correct", "C-1", "4", "--outcome", "other.fee_unpaid", "--reason", "x", code="E-CORRECTION")
    foi.ok("void", "C-1", "4", "--reason", "尚未答复")
    refused(foi, "void", "C-1", "5", "--reason", "x", code="E-RULE")
    refused(foi, "correct", "C-1", "4", "--outcome", "granted", "--reason", "x", code="E-RULE")
    assert foi("void", "C-1", "3").exit_code == 2  # --reason is required: a usage error
    assert shown(foi, "C-1")["state"] == "received"


def test_a_closed_year_needs_amend_closed_year_and_its_report_shows_the_difference(foi: Foi) -> None:
    intake(foi, "C-1", "2023-12-01")
    foi.ok("decide C-1 --outcome granted --on 2023-12-20")
    foi.ok("year close 2023 --on 2024-01-05")
    refused(foi, "correct", "C-1", "2", "--outcome", "withheld.state_secret", "--reason", "结果录错",
            code="E-CLOSED-YEAR")  # fmt: skip
    foi.ok("correct", "C-1", "2", "--outcome", "withheld.state_secret", "--reason", "结果录错",
           "--amend-closed-year", "复核发现结果录错")  # fmt: skip
    differences = json.loads(foi.ok("report 2023 --format json"))["frozen_differences"]
    assert differences, "the closed year's report must say that its live figures moved"
    intake(foi, "C-2", "2024-01-08")
    refused(foi, "correct", "C-2", "1", "--on", "2023-12-29", "--reason", "x", code="E-CLOSED-YEAR")


def test_void_and_correct_lines_export_and_import_to_the_same_cases(pair: tuple[Foi, Foi], tmp_path: Path) -> None:
    source, target = pair
    intake(source, "C-1", "2024-03-01")
    intake(source, "C-2", "2024-03-01")
    source.ok("decide C-1 --outcome granted --on 2024-03-20")
    source.ok("correct C-1 2 --outcome not_processed.duplicate --on 2024-03-21 --reason 录错")
    source.ok("void C-2 1 --reason 重复登记")
    exported = source.ok("export")
    lines = [json.loads(line) for line in exported.splitlines()]
    assert {"case": "C-1", "event": "correct", "target": 2, "reason": "录错",
            "set": {"outcome": "not_processed.duplicate", "on": "2024-03-21"}}.items() <= lines[3].items()  # fmt: skip
    (tmp_path / "events.jsonl").write_text(exported, encoding="utf-8")
    target.ok("import", tmp_path / "events.jsonl")
    assert target.ok("export") == exported
    assert picture(target, ("C-1", "C-2"), (2024,)) == picture(source, ("C-1", "C-2"), (2024,))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"case": "C-1", "event": "void", "on": "2024-04-01", "target": 3, "reason": "x"}) + "\n")
    refused(target, "import", bad, code="E-IMPORT")


def test_an_appeal_can_be_corrected_and_voided_and_table_4_follows(foi: Foi) -> None:
    intake(foi, "C-1", "2024-03-01")
    foi.ok("appeal file --kind review --case C-1 --id F-1 --on 2024-05-01")
    foi.ok("appeal conclude F-1 --result upheld --on 2024-06-01")
    foi.ok("appeal correct F-1 2 --result corrected --reason 结果录错")
    assert json.loads(foi.ok("report 2024 --format json"))["table4"]["review"] == [0, 1, 0, 0, 1]
    refused(foi, "appeal", "correct", "F-1", "2", "--on", "2024-04-01", "--reason", "x", code="E-CORRECTION")
    foi.ok("appeal void F-1 1 --reason 重复登记")
    assert json.loads(foi.ok("report 2024 --format json"))["table4"]["review"] == [0, 0, 0, 0, 0]
    refused(foi, "appeal", "conclude", "F-1", "--result", "upheld", code="E-STATE")
