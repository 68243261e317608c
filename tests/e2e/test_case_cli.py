"""The caseworker's command line end to end (SPEC §3, §8): every event command on realistic
cases, and every refusal — exit status 1, one Chinese line with its error code, nothing written."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from foi_workflow.domain.vocabulary import Outcome
from tests.cli_helpers import CAL, INTAKE, SHOW_FIELDS, intake, refused, show, usage_error
from tests.conftest import Foi

# --------------------------------------------------------------------------- every event


def test_a_case_goes_through_every_event_command_and_show_explains_it(foi: Foi) -> None:
    case = intake(foi, "2024-03-01", "2024-A1", "--contact 某市某路1号 --phone 13812345678 --by 李四")
    assert case == "2024-A1"
    d = show(foi, case)
    assert set(d) >= SHOW_FIELDS
    assert d["state"] == "received" and d["caseworker"] == "李四"
    assert d["reply_due"] == CAL.add_working_days(date(2024, 3, 1), 20).isoformat()
    assert d["correction_due"] is None and d["outcome"] is None and d["decided_on"] is None

    foi.ok(f"assign {case} 王五 --on 2024-03-04 --by 李四")
    assert show(foi, case)["caseworker"] == "王五"

    foi.ok(f"request-correction {case} --items 请写明文件名称 --period 10 --on 2024-03-05")
    d = show(foi, case)
    assert d["state"] == "correction_requested" and d["reply_due"] is None
    assert d["correction_due"] == CAL.add_working_days(date(2024, 3, 5), 10).isoformat()

    foi.ok(f"receive-correction {case} --on 2024-03-11")
    d = show(foi, case)
    assert d["state"] == "received" and d["correction_due"] is None
    assert d["reply_due"] == CAL.add_working_days(date(2024, 3, 11), 20).isoformat()  # a fresh clock

    foi.ok(f"consult {case} --party 某某公司 --kind third_party --on 2024-03-13")
    d = show(foi, case)
    assert d["state"] == "consultation" and d["reply_due"] is None
    assert d["consultation_due"] == CAL.add_working_days(date(2024, 3, 13), 15).isoformat()

    foi.ok(f"consultation-reply {case} --opinion object --on 2024-03-20")
    d = show(foi, case)
    used = CAL.working_days_between(date(2024, 3, 11), date(2024, 3, 13))
    assert d["state"] == "received" and d["consultation_due"] is None
    assert d["reply_due"] == CAL.add_working_days(date(2024, 3, 20), 20 - used).isoformat()

    due_before = date.fromisoformat(d["reply_due"])
    foi.ok(f"extend {case} --days 10 --approved-by 赵主任 --on 2024-03-25")
    d = show(foi, case)
    assert d["extended_days"] == 10
    assert d["reply_due"] == CAL.add_working_days(due_before, 10).isoformat()

    foi.ok(f"fee-notice {case} --amount 100 --basis per_item --quantity 11 --on 2024-03-26")
    d = show(foi, case)
    assert d["state"] == "fee_notice" and d["reply_due"] is None
    assert d["fee_due"] == CAL.add_working_days(date(2024, 3, 26), 20).isoformat()

    foi.ok(f"fee-paid {case} --on 2024-04-01")
    d = show(foi, case)
    assert d["state"] == "received" and d["fee_due"] is None and d["reply_due"] is not None

    later = CAL.add_working_days(date.fromisoformat(d["reply_due"]), 5).isoformat()
    foi.ok(f"set-reasonable-period {case} --due {later} --reason 申请数量巨大 --on 2024-04-02")
    assert show(foi, case)["reply_due"] == later

    note = "第3页涉及商业秘密依据条例第十五条不予公开"
    out = foi.ok(f"decide {case} --outcome partially_granted --note {note} --on 2024-04-10")
    assert case in out
    d = show(foi, case)
    assert d["state"] == "decided" and d["outcome"] == "partially_granted"
    assert d["decided_on"] == "2024-04-10" and d["on_time"] is True and d["reply_due"] is None
    assert [e["event"] for e in d["events"]] == [
        "receive", "assign", "request_correction", "receive_correction", "consult", "consultation_reply",
        "extend", "fee_notice", "fee_paid", "set_reasonable_period", "decide",
    ]  # fmt: skip
    assert [e["on"] for e in d["events"]][:3] == ["2024-03-01", "2024-03-04", "2024-03-05"]
    assert all(e["by"] for e in d["events"])

    text_view = foi.ok("show", case)
    assert "期限推算" in text_view and "部分公开" in text_view and "请写明文件名称" in text_view
    assert foi.ok("rebuild --check").strip() == "案件表与事件日志一致"


def test_a_withdrawn_case_is_decided_as_other(foi: Foi) -> None:
    case = intake(foi, "2024-05-06")
    foi.ok(f"consult {case} --party 某区政府 --kind co_producer --on 2024-05-07")
    foi.ok(f"withdraw {case} --reason 申请人主动撤回 --on 2024-05-08")
    d = show(foi, case)
    assert d["state"] == "decided" and d["outcome"] == "other.other" and d["decided_on"] == "2024-05-08"
    assert d["consultation_due"] is None


def test_a_decision_after_the_due_date_is_not_on_time_and_an_open_one_is_overdue(foi: Foi) -> None:
    late = intake(foi, "2024-01-02")
    due = date.fromisoformat(show(foi, late)["reply_due"])
    foi.ok(f"decide {late} --outcome granted --on {CAL.add_working_days(due, 1).isoformat()}")
    assert show(foi, late)["on_time"] is False
    open_case = intake(foi, "2024-02-01")
    listed = json.loads(foi.ok("list --overdue --format json"))
    assert [c["id"] for c in listed] == [open_case]


def test_every_outcome_a_caseworker_may_choose_is_accepted_by_decide(foi: Foi, tmp_path: Path) -> None:
    chosen = [o for o in Outcome if not o.is_lapse]
    lines = [
        {"case": f"O-{i}", "event": "receive", "on": "2024-06-03", "applicant": "张三",
         "applicant_type": "research", "channel": "post", "request": "某文件"}
        for i in range(len(chosen))
    ]  # fmt: skip
    (tmp_path / "open.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    foi.ok("import", tmp_path / "open.jsonl")
    for i, outcome in enumerate(chosen[:3]):
        note = "依据条例第十四条和《保守国家秘密法》第二条"
        foi.ok(f"decide O-{i} --outcome {outcome.value} --note {note} --on 2024-06-04")
    decisions = [{"case": f"O-{i}", "event": "decide", "on": "2024-06-04", "outcome": o.value}
                 for i, o in enumerate(chosen) if i >= 3]  # fmt: skip
    (tmp_path / "decide.jsonl").write_text("\n".join(json.dumps(x) for x in decisions))
    foi.ok("import", tmp_path / "decide.jsonl")
    listed = {r["id"]: r["outcome"] for r in json.loads(foi.ok("list --format json"))}
    assert listed == {f"O-{i}": o.value for i, o in enumerate(chosen)}


def test_list_filters_and_prints_table_json_and_csv(foi: Foi) -> None:
    a = intake(foi, "2023-11-01", "L-1")
    b = intake(foi, "2024-02-01", "L-2")
    c = intake(foi, "2024-03-01", "L-3")
    foi.ok(f"decide {a} --outcome granted --on 2023-11-10")
    foi.ok(f"request-correction {c} --items 请补充 --on 2024-03-04")

    every = json.loads(foi.ok("list --format json"))
    assert [r["id"] for r in every] == [a, b, c]
    for row in every:
        assert SHOW_FIELDS - {"events"} <= set(row) and "events" not in row
    assert [r["id"] for r in json.loads(foi.ok("list --state decided --format json"))] == [a]
    assert [r["id"] for r in json.loads(foi.ok("list --state correction_requested --format json"))] == [c]
    assert [r["id"] for r in json.loads(foi.ok("list --year 2024 --format json"))] == [b, c]
    assert [r["id"] for r in json.loads(foi.ok("list --year 2023 --format json"))] == [a]
    assert [r["id"] for r in json.loads(foi.ok("list --overdue --format json"))] == [b]
    # b's reply was due in 2024: overdue, listed under --overdue, not among the ones due soon.
    assert json.loads(foi.ok("list --due-within 0 --format json")) == []
    assert json.loads(foi.ok("list --due-within 5 --format json")) == []

    rows = list(csv.DictReader(io.StringIO(foi.ok("list --format csv"))))
    assert [r["id"] for r in rows] == [a, b, c]
    assert rows[0]["outcome"] == "granted" and rows[2]["state"] == "correction_requested"

    table = foi.ok("list")
    assert all(case in table for case in (a, b, c)) and "已办结" in table and "补正中" in table


def test_list_and_show_mask_phone_numbers_alike(foi: Foi) -> None:
    case = intake(foi, "2024-03-01", extra="--phone 13812345678 --id-number 110101199001011234")
    listed = json.loads(foi.ok("list --format json"))[0]
    assert listed["phone"] == "138****5678" and "1990" not in listed["id_number"]
    assert show(foi, case)["phone"] == "138****5678" and "1990" not in show(foi, case)["id_number"]


def test_outcomes_lists_every_code_with_its_row(foi: Foi) -> None:
    text_out = foi.ok("outcomes")
    for o in Outcome:
        assert o.value in text_out and o.info.row in text_out
    rows = json.loads(foi.ok("outcomes --format json"))
    assert [r["code"] for r in rows] == [o.value for o in Outcome]
    assert {r["code"] for r in rows if not r["by_hand"]} == {"other.correction_lapsed", "other.fee_unpaid"}


def test_appeals_are_filed_and_concluded(foi: Foi) -> None:
    case = intake(foi, "2024-03-01", "AP-1")
    foi.ok(f"decide {case} --outcome withheld.state_secret --note 经保密审查属于秘密级 --on 2024-03-05")
    appeal = foi.ok(f"appeal file --kind review --case {case} --on 2024-04-01").strip()
    assert appeal
    foi.ok(f"appeal conclude {appeal} --result upheld --on 2024-06-01")
    direct = foi.ok("appeal file --kind litigation_direct --id F-X --on 2024-05-01").strip()
    assert direct == "F-X"
    exported = [json.loads(line) for line in foi.ok("export").splitlines()]
    appeal_lines = [e for e in exported if "appeal" in e]
    assert [(e["appeal"], e["event"]) for e in appeal_lines] == [
        (appeal, "file"),
        (appeal, "conclude"),
        ("F-X", "file"),
    ]
    assert appeal_lines[0]["case"] == case and appeal_lines[1]["result"] == "upheld"


def test_the_example_file_imports_and_every_case_shows(foi: Foi, events_small: Path) -> None:
    foi.ok("import", events_small)
    cases = json.loads(foi.ok("list --format json"))
    assert len(cases) == len({json.loads(x)["case"] for x in events_small.read_text().splitlines() if '"case"' in x
                              and "appeal" not in json.loads(x)})  # fmt: skip
    for c in cases[:10]:
        assert set(show(foi, c["id"])) >= SHOW_FIELDS


# --------------------------------------------------------------------------- refusals


def test_an_event_the_state_does_not_allow_names_the_state_and_the_allowed_events(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    line = refused(foi, "E-STATE", f"fee-paid {case} --on 2024-03-04")
    assert "received" in line and "办理中" in line and "decide" in line and "fee-notice" in line
    foi.ok(f"decide {case} --outcome granted --on 2024-03-05")
    line = refused(foi, "E-STATE", f"withdraw {case} --on 2024-03-06")
    assert "decided" in line and "已办结" in line
    refused(foi, "E-STATE", f"receive-correction {case} --on 2024-03-06")
    refused(foi, "E-STATE", f"extend {case} --days 5 --approved-by 赵主任 --on 2024-03-06")


def test_a_refused_event_suggests_only_commands_a_person_can_type(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    foi.ok(f"request-correction {case} --items 请明确时间范围 --on 2024-03-04")
    line = refused(foi, "E-STATE", f"extend {case} --days 5 --approved-by 赵主任 --on 2024-03-05")
    suggested = line.split("可执行：")[1].split("、")
    # `foi reject` (of a pending extension request) is typed as such, never as its event's name
    assert suggested == [
        "receive-correction", "reject", "withdraw", "assign", "serve", "delivered", "returned", "consent", "void",
        "correct",
    ]  # fmt: skip


def test_a_correction_can_be_requested_only_once(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    foi.ok(f"request-correction {case} --items 请补充 --on 2024-03-04")
    foi.ok(f"receive-correction {case} --on 2024-03-06")
    line = refused(foi, "E-RULE", f"request-correction {case} --items 再补充 --on 2024-03-07")
    assert "一次性" in line


def test_extensions_are_capped_at_twenty_days_and_must_come_before_the_due_date(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    foi.ok(f"extend {case} --days 15 --approved-by 赵主任 --on 2024-03-04")
    line = refused(foi, "E-RULE", f"extend {case} --days 6 --approved-by 赵主任 --on 2024-03-05")
    assert "20" in line and "5" in line
    foi.ok(f"extend {case} --days 5 --approved-by 赵主任 --on 2024-03-05")
    refused(foi, "E-RULE", f"extend {case} --days 1 --approved-by 赵主任 --on 2024-03-06")

    other = intake(foi, "2024-03-01")
    due = date.fromisoformat(show(foi, other)["reply_due"])
    after = CAL.add_working_days(due, 1).isoformat()
    line = refused(foi, "E-RULE", f"extend {other} --days 5 --approved-by 赵主任 --on {after}")
    assert due.isoformat() in line
    foi.ok(f"extend {other} --days 5 --approved-by 赵主任 --on {due.isoformat()}")  # on the due date: allowed


def test_decide_may_not_choose_a_lapse_outcome(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    for outcome in ("other.correction_lapsed", "other.fee_unpaid"):
        line = refused(foi, "E-RULE", f"decide {case} --outcome {outcome} --on 2024-03-04")
        assert outcome in line


def test_a_lapse_before_the_period_ended_is_refused_on_import(foi: Foi, tmp_path: Path) -> None:
    case = intake(foi, "2024-03-01", "LP-1")
    foi.ok(f"request-correction {case} --items 请补充 --period 10 --on 2024-03-04")
    due = CAL.add_working_days(date(2024, 3, 4), 10).isoformat()
    bad = tmp_path / "lapse.jsonl"
    bad.write_text(json.dumps({"case": case, "event": "lapse_correction", "on": due}) + "\n")
    line = refused(foi, "E-IMPORT", "import", str(bad))
    assert "第 1 行" in line and "E-RULE" in line and due in line


def test_an_event_before_the_previous_one_or_in_the_future_is_refused(foi: Foi) -> None:
    case = intake(foi, "2024-03-05")
    foi.ok(f"consult {case} --party 某公司 --on 2024-03-08")
    line = refused(foi, "E-DATE", f"consultation-reply {case} --opinion agree --on 2024-03-07")
    assert "2024-03-08" in line
    refused(foi, "E-DATE", f"consultation-reply {case} --opinion agree --on 2099-01-04")
    refused(foi, "E-DATE", f"{INTAKE} --on 2099-01-04")
    foi.ok(f"consultation-reply {case} --opinion agree --on 2024-03-08")  # the same day is fine


def test_an_unknown_case_is_refused(foi: Foi) -> None:
    line = refused(foi, "E-NOT-FOUND", "decide NOPE-1 --outcome granted --on 2024-03-01")
    assert "NOPE-1" in line
    refused(foi, "E-NOT-FOUND", "show NOPE-1")
    refused(foi, "E-NOT-FOUND", "assign NOPE-1 王五 --on 2024-03-01")
    refused(foi, "E-NOT-FOUND", "appeal file --kind review --case NOPE-1 --on 2024-03-01")
    refused(foi, "E-NOT-FOUND", "appeal conclude NOPE-9 --result upheld --on 2024-03-01")


def test_bad_dates_and_bad_codes_are_refused_as_input_errors(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    refused(foi, "E-INPUT", f"decide {case} --outcome granted --on 2024-13-01")
    refused(foi, "E-INPUT", f"decide {case} --outcome granted --on 1.3.2024")
    refused(foi, "E-INPUT", f"{INTAKE} --on 2024-02-30")
    line = refused(foi, "E-INPUT", f"decide {case} --outcome approved --on 2024-03-04")
    assert "approved" in line and "granted" in line
    refused(foi, "E-INPUT", f"set-reasonable-period {case} --due 2024-99-01 --reason 量大 --on 2024-03-04")
    refused(foi, "E-INPUT", f"fee-notice {case} --amount 十元 --basis per_item --quantity 11 --on 2024-03-04")


def test_negative_and_zero_numbers_are_refused(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    for days in ("0", "-3", "21"):
        refused(foi, "E-RULE", "extend", case, "--days", days, "--approved-by", "赵主任", "--on", "2024-03-04")
    refused(foi, "E-INPUT", f"fee-notice {case} --amount -5 --basis per_item --quantity 11 --on 2024-03-04")
    refused(foi, "E-INPUT", f"fee-notice {case} --amount 1.005 --basis per_item --quantity 11 --on 2024-03-04")
    for quantity in ("0", "-2"):
        refused(foi, "E-RULE", "fee-notice", case, "--amount", "10", "--basis", "per_page", "--quantity", quantity,
                "--on", "2024-03-04")  # fmt: skip
    for period in ("0", "-1"):
        refused(foi, "E-RULE", "request-correction", case, "--items", "x", "--period", period, "--on", "2024-03-04")


def test_blank_required_text_is_refused(foi: Foi) -> None:
    refused(foi, "E-INPUT", "intake", "--applicant", " ", "--applicant-type", "natural_person", "--channel", "post",
            "--request", "某文件", "--on", "2024-03-01")  # fmt: skip
    case = intake(foi, "2024-03-01")
    refused(foi, "E-INPUT", "consult", case, "--party", "", "--on", "2024-03-04")


def test_a_duplicate_id_is_refused(foi: Foi) -> None:
    intake(foi, "2024-03-01", "DUP-1")
    line = refused(foi, "E-EXISTS", f"{INTAKE} --on 2024-03-02 --id DUP-1")
    assert "DUP-1" in line
    foi.ok("appeal file --kind review --id F-1 --on 2024-03-02")
    refused(foi, "E-EXISTS", "appeal file --kind review --id F-1 --on 2024-03-02")


def test_a_concluded_appeal_cannot_be_concluded_again(foi: Foi) -> None:
    foi.ok("appeal file --kind review --id F-2 --on 2024-03-02")
    foi.ok("appeal conclude F-2 --result corrected --on 2024-04-02")
    refused(foi, "E-STATE", "appeal conclude F-2 --result upheld --on 2024-04-03")
    refused(foi, "E-DATE", "appeal file --kind review --id F-3 --on 2099-01-01")


def _close_year(foi: Foi, year: int) -> None:
    engine = create_engine(foi.db_url)
    with engine.begin() as conn:
        conn.execute(
            text('INSERT INTO year_close (agency, year, closed_on, closed_at, "by", figures)'
                 " VALUES (:a, :y, :d, :t, :b, :f)"),
            {"a": "default", "y": year, "d": "2025-01-05", "t": "2025-01-05 00:00:00", "b": "test", "f": "{}"},
        )
    engine.dispose()


def test_a_closed_year_refuses_events_unless_amended_with_a_reason(foi: Foi) -> None:
    case = intake(foi, "2023-12-20", "CY-1")
    other = intake(foi, "2023-12-21", "CY-2")
    _close_year(foi, 2023)
    line = refused(foi, "E-CLOSED-YEAR", f"decide {case} --outcome granted --on 2023-12-28")
    assert "2023" in line and "--amend-closed-year" in line
    refused(foi, "E-CLOSED-YEAR", f"{INTAKE} --on 2023-12-29")
    refused(foi, "E-CLOSED-YEAR", "appeal file --kind review --on 2023-12-29")
    blank = refused(foi, "E-INPUT", "decide", case, "--outcome", "granted", "--on", "2023-12-28",
                    "--amend-closed-year", " ")  # fmt: skip
    assert "--amend-closed-year" in blank  # a blank reason is no reason
    foi.ok("decide", case, "--outcome", "granted", "--on", "2023-12-28", "--amend-closed-year", "漏登")
    exported = [json.loads(x) for x in foi.ok("export").splitlines()]
    assert [e for e in exported if "event" in e][-1]["amend_reason"] == "漏登"
    assert exported[-1]["year_close"] == 2023  # the close itself travels too, after the events
    foi.ok(f"decide {other} --outcome granted --on 2024-01-03")  # the next year is open
    assert foi.ok("rebuild --check").strip() == "案件表与事件日志一致"


@pytest.mark.parametrize(
    "args",
    [
        "intake --applicant 张三 --channel online --request x",  # missing --applicant-type
        "intake --applicant 张三 --applicant-type alien --channel online --request x",  # bad choice
        "decide",  # missing ID
        "extend X --days many --approved-by 赵",  # not an integer
        "list --format xml",
        "list --due-within -1",
        "show X --format pdf",
        "consult X --party P --kind friend",
        "appeal file --kind appeal",
        "appeal conclude F-1 --result won",
        "decide X --outcome granted --no-such-option",
        "no-such-command",
    ],
)
def test_usage_errors_exit_with_status_two_and_one_chinese_line(foi: Foi, args: str) -> None:
    result = usage_error(foi, args)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误[E-USAGE]：") and "--help" in lines[0], result.stderr
    assert not re.search(r"Error|Usage|Missing|Invalid|No such|is not", lines[0]), lines[0]
