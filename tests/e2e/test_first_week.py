"""What a caseworker's first week found wrong (issue: consultation silence, fees, year close,
the config's database path, hand-set periods, masking, letter wording), end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from foi_workflow.cli.main import main
from tests.cli_helpers import CAL, INTAKE, intake, refused, show
from tests.conftest import Foi

# --------------------------------------------------------------------------- consultation


def test_no_opinion_is_refused_until_the_consultation_period_has_ended(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    foi.ok(f"consult {case} --party 某某公司 --kind third_party --on 2024-03-04")
    due = CAL.add_working_days(date(2024, 3, 4), 15)
    line = refused(foi, "E-RULE", f"consultation-reply {case} --opinion none --on {due.isoformat()}")
    assert "第三十二条" in line and due.isoformat() in line
    after = CAL.add_working_days(due, 1).isoformat()
    foi.ok(f"consultation-reply {case} --opinion none --on {after}")
    d = show(foi, case)
    assert d["state"] == "received" and d["consultation_due"] is None
    assert "期限届满未收到意见" in foi.ok("show", case)


def test_a_reply_received_within_the_period_is_recorded(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    foi.ok(f"consult {case} --party 某某公司 --on 2024-03-04")
    foi.ok(f"consultation-reply {case} --opinion agree --on 2024-03-05")
    assert show(foi, case)["state"] == "received"


# --------------------------------------------------------------------------- fees


def _fee_notice(foi: Foi, case: str, extra: str) -> None:
    foi.ok(f"fee-notice {case} {extra} --on 2024-03-05")


def _amount(foi: Foi, case: str) -> int:
    fee = [e for e in show(foi, case)["events"] if e["event"] == "fee_notice"][-1]
    amount = fee["data"]["amount"] if "data" in fee else fee["amount"]
    assert isinstance(amount, int)
    return amount


def test_the_fee_notice_amount_is_computed_from_the_fee_rules(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    _fee_notice(foi, case, "--basis per_page --quantity 150")
    assert _amount(foi, case) == 70 * 10 + 50 * 20


def test_a_fee_notice_with_the_wrong_amount_is_refused_with_the_right_one(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    line = refused(foi, "E-RULE", f"fee-notice {case} --amount 100 --basis per_item --quantity 15 --on 2024-03-05")
    assert "500 元" in line and "100" in line
    _fee_notice(foi, case, "--amount 500 --basis per_item --quantity 15")
    assert show(foi, case)["state"] == "fee_notice"


def test_a_request_that_costs_nothing_gets_no_fee_notice(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    for args in ("--basis per_page --quantity 30", "--amount 0 --basis per_item --quantity 10"):
        line = refused(foi, "E-RULE", f"fee-notice {case} {args} --on 2024-03-05")
        assert "不收取信息处理费" in line


def test_per_item_counts_the_applicants_earlier_items_of_the_month_but_per_page_does_not(foi: Foi) -> None:
    first, second, third = intake(foi, "2024-03-01"), intake(foi, "2024-03-01"), intake(foi, "2024-03-01")
    _fee_notice(foi, first, "--basis per_item --quantity 12")  # items 11, 12 of the month
    assert _amount(foi, first) == 200
    _fee_notice(foi, second, "--basis per_item --quantity 3")  # items 13–15: 300, not free
    assert _amount(foi, second) == 300
    _fee_notice(foi, third, "--basis per_page --quantity 40")
    assert _amount(foi, third) == 100
    fourth = intake(foi, "2024-03-01")  # pages 1–25 of this request: free, whatever came before
    refused(foi, "E-RULE", f"fee-notice {fourth} --basis per_page --quantity 25 --on 2024-03-05")
    other = intake(foi, "2024-04-01")
    line = refused(foi, "E-RULE", f"fee-notice {other} --basis per_item --quantity 3 --on 2024-04-02")
    assert "不收取" in line  # a new month starts again from the first item


def test_an_imported_fee_notice_goes_through_the_same_rule(foi: Foi, tmp_path: Path) -> None:
    lines = [
        {"case": "F-1", "event": "receive", "on": "2024-03-01", "applicant": "张三",
         "applicant_type": "natural_person", "channel": "online", "request": "某文件"},
        {"case": "F-1", "event": "fee_notice", "on": "2024-03-04", "basis": "per_item", "quantity": 12},
        {"case": "F-2", "event": "receive", "on": "2024-03-01", "applicant": "张三",
         "applicant_type": "natural_person", "channel": "online", "request": "另一文件"},
        {"case": "F-2", "event": "fee_notice", "on": "2024-03-05", "amount": 100, "basis": "per_item", "quantity": 1},
    ]  # fmt: skip
    good = tmp_path / "fees.jsonl"
    good.write_text("".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in lines), encoding="utf-8")
    foi.ok("import", str(good))
    assert _amount(foi, "F-1") == 200 and _amount(foi, "F-2") == 100
    lines[3]["case"], lines[2]["case"] = "F-3", "F-3"
    lines[3]["amount"] = 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in lines[2:]), encoding="utf-8")
    line = refused(foi, "E-IMPORT", "import", str(bad))
    assert "第 2 行" in line and "应为 100 元" in line and "此前已计13件" in line  # the stored 13 items count


# --------------------------------------------------------------------------- year close


def test_year_close_dates_the_carry_over_the_closed_years_last_day(foi: Foi) -> None:
    case = intake(foi, "2024-12-20")
    foi.ok(f"assign {case} 王五 --on 2025-01-06")
    foi.ok("year close 2024 --on 2025-01-20 --by 主任")
    events = show(foi, case)["events"]
    assert [(e["event"], e["on"]) for e in events] == [
        ("receive", "2024-12-20"), ("carry_over", "2024-12-31"), ("assign", "2025-01-06")]  # fmt: skip
    foi.ok(f"decide {case} --outcome granted --on 2025-01-21")
    assert [e["event"] for e in show(foi, case)["events"]][-1] == "decide"


def test_a_case_registered_into_a_closed_year_is_carried_over_like_the_others(foi: Foi) -> None:
    foi.ok(f"decide {intake(foi, '2024-12-02')} --outcome granted --on 2024-12-10")
    foi.ok("year close 2024 --on 2025-01-20 --by 主任")
    refused(foi, "E-CLOSED-YEAR", f"{INTAKE} --on 2024-12-30")
    case = intake(foi, "2024-12-30", extra="--amend-closed-year 漏登补录")
    d = show(foi, case)
    assert d["carried_over_to"] == 2025
    carried = [e for e in d["events"] if e["event"] == "carry_over"]
    assert [(e["on"], e["data"]["year"] if "data" in e else e["year"]) for e in carried] == [("2024-12-31", 2025)]


# --------------------------------------------------------------------------- configuration


def test_a_relative_database_in_a_config_file_lives_beside_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency = tmp_path / "agency"
    agency.mkdir()
    config = agency / "foi.toml"
    config.write_text('db = "sqlite:///data/cases.db"\n', encoding="utf-8")
    (agency / "data").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("FOI_DB", raising=False)
    try:
        main(["--config", str(config), "init"])
    except SystemExit as ended:
        assert ended.code in (0, None)
    assert (agency / "data" / "cases.db").is_file()
    assert not (elsewhere / "data").exists()


# --------------------------------------------------------------------------- letters


def test_the_extension_reason_is_recorded_and_printed_in_the_letter(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    foi.ok(f"extend {case} --days 10 --approved-by 赵主任 --reason 所申请信息需调取归档资料 --on 2024-03-25")
    [extend] = [e for e in show(foi, case)["events"] if e["event"] == "extend"]
    assert extend["data"]["reason"] == "所申请信息需调取归档资料"
    letter = foi.ok("notice", case, "extension")
    assert "因所申请信息需调取归档资料，本机关不能在规定的期限内作出答复" in letter


def test_a_withdrawn_case_gets_a_termination_letter_without_remedies(foi: Foi) -> None:
    case = intake(foi, "2024-03-01")
    foi.ok(f"withdraw {case} --reason 已通过其他途径获取 --on 2024-03-05")
    letter = foi.ok("notice", case, "decision")
    assert "终止办理告知书" in letter and "行政复议" not in letter and letter.count("特此告知") == 1
