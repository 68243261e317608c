"""Service of letters from the command line (SPEC §15): `foi serve`, `foi delivered`,
`foi returned`, `foi consent`, `foi notice --serve`; what `foi show` and `foi list` say of it;
the proof kept with its hash; export and import, void and correct of the new events."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.cli_helpers import CAL, INTAKE, refused, show
from tests.conftest import Foi

RECEIVED = date(2024, 3, 1)
DUE = date(2024, 3, 29)  # 20 working days after Friday 1 March 2024


def decided_case(foi: Foi, on: date = DUE, extra: str = "") -> tuple[str, str]:
    """A case received 1 March 2024 and decided on `on`, with its decision letter: (id, number)."""
    case_id = foi.ok(f"{INTAKE} --on {RECEIVED}{extra}").strip()
    foi.ok(f"decide {case_id} --outcome granted --on {on}")
    result = foi("notice", case_id, "decision")
    assert result.ok, result.stderr
    number = result.stderr.strip().rsplit("：", 1)[1]
    return case_id, number


def listed(foi: Foi, *options: str) -> list[dict[str, Any]]:
    rows = json.loads(foi.ok("list", "--format", "json", *options))
    assert isinstance(rows, list)
    return rows


def test_a_decision_dated_on_the_due_date_but_posted_two_working_days_later_is_late(foi: Foi) -> None:
    case_id, number = decided_case(foi)
    posted = CAL.add_working_days(DUE, 2)
    out = foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", posted.isoformat(),
                 "--tracking", "EMS1234567890CN")  # fmt: skip
    assert f"答复以 {posted.isoformat()} 计（逾期）" in out
    detail = show(foi, case_id)
    assert (detail["replied_on"], detail["on_time"], detail["served"]) == (posted.isoformat(), False, True)
    assert detail["service"][0] | {"attempts": None} == {
        "letter": number, "kind": "decision", "method": "post", "sent_on": posted.isoformat(),
        "delivered_on": None, "returned": False, "attempts": None,
    }  # fmt: skip
    assert detail["service"][0]["attempts"][0]["tracking"] == "EMS1234567890CN"
    # Not delivered yet: no remedy window runs.
    assert (detail["review_until"], detail["litigation_until"], detail["final"]) == (None, None, False)
    text_out = foi.ok("show", case_id)
    assert "按期答复：否（逾期）" in text_out and "结论：逾期答复（答复期限 2024-03-29）" in text_out
    assert "邮寄送达，交邮" in text_out and "邮件号 EMS1234567890CN" in text_out


def test_the_posting_date_given_counts_not_the_day_it_was_recorded(foi: Foi) -> None:
    case_id, number = decided_case(foi)
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--sent-on", DUE.isoformat(), "--on", "2024-04-03")
    detail = show(foi, case_id)
    assert (detail["replied_on"], detail["on_time"]) == (DUE.isoformat(), True)


def test_an_in_person_letter_is_judged_by_the_day_the_applicant_signed_for_it(foi: Foi, tmp_path: Path) -> None:
    case_id, number = decided_case(foi, date(2024, 3, 27))
    foi.ok("serve", case_id, "--letter", number, "--method", "in_person", "--on", "2024-03-28")
    assert show(foi, case_id)["served"] is False  # handed over, not yet signed for
    scan = tmp_path / "送达回证.pdf"
    scan.write_bytes(b"%PDF-1.4 signed receipt of service")
    out = foi.ok("delivered", case_id, "--letter", number, "--on", "2024-04-01", "--proof", scan)
    digest = hashlib.sha256(scan.read_bytes()).hexdigest()
    assert digest in out
    detail = show(foi, case_id)
    assert (detail["replied_on"], detail["on_time"], detail["served"]) == ("2024-04-01", False, True)
    # 60 days and 6 months from the day after 1 April 2024: 31 May 2024, 1 October → 8 October (National Day).
    assert (detail["review_until"], detail["litigation_until"]) == ("2024-05-31", "2024-10-08")
    assert detail["service"][0]["attempts"][0]["proof"] == digest
    engine = create_engine(foi.db_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT sha256, name, content FROM service_proof WHERE case_id = :c"),
                              {"c": case_id}).one()  # fmt: skip
    engine.dispose()
    assert (stored.sha256, stored.name, bytes(stored.content)) == (digest, scan.name, scan.read_bytes())


def test_a_returned_letter_is_served_again_and_the_latest_service_counts(foi: Foi) -> None:
    case_id, number = decided_case(foi, date(2024, 3, 25))
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", "2024-03-25")
    refused(foi, "E-RULE", "serve", case_id, "--letter", number, "--method", "post", "--on", "2024-03-26")
    foi.ok("returned", case_id, "--letter", number, "--reason", "地址不详，无法投递", "--on", "2024-04-01")
    detail = show(foi, case_id)
    assert detail["service"][0]["returned"] is True and detail["served"] is False
    assert [r["id"] for r in listed(foi, "--unserved")] == [case_id]
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", "2024-04-02")
    foi.ok("delivered", case_id, "--letter", number, "--on", "2024-04-07")  # a Sunday: the post delivers
    detail = show(foi, case_id)
    assert (detail["replied_on"], detail["on_time"], detail["service"][0]["returned"]) == ("2024-04-02", False, False)
    assert len(detail["service"][0]["attempts"]) == 2 and listed(foi, "--unserved") == []
    assert "已退回：地址不详，无法投递" in foi.ok("show", case_id)


def test_electronic_service_is_refused_without_the_applicants_recorded_consent(foi: Foi) -> None:
    case_id, number = decided_case(foi)
    serve_electronic = ("serve", case_id, "--letter", number, "--method", "electronic", "--on", DUE.isoformat())
    line = refused(foi, "E-RULE", *serve_electronic)
    assert "未同意电子送达" in line and "foi consent" in line
    foi.ok("consent", case_id, "--e-service", "zhangsan@example.cn", "--on", DUE.isoformat())
    foi.ok("serve", case_id, "--letter", number, "--method", "electronic", "--on", DUE.isoformat())
    foi.ok("delivered", case_id, "--letter", number, "--on", DUE.isoformat())
    assert show(foi, case_id)["replied_on"] == DUE.isoformat()
    # Consent given at intake serves as well.
    other, other_number = decided_case(foi, extra=" --e-service lisi@example.cn")
    foi.ok("serve", other, "--letter", other_number, "--method", "electronic", "--on", DUE.isoformat())


def test_a_letter_must_be_the_cases_and_still_stand(foi: Foi) -> None:
    case_id, number = decided_case(foi)
    other = foi.ok(f"{INTAKE} --on {RECEIVED}").strip()
    refused(foi, "E-NOT-FOUND", "serve", other, "--letter", number, "--method", "post", "--on", DUE.isoformat())
    refused(foi, "E-NOT-FOUND", "serve", case_id, "--letter", "无此文号", "--method", "post", "--on", DUE.isoformat())
    refused(foi, "E-RULE", "serve", case_id, "--letter", number, "--method", "post", "--on", DUE.isoformat(),
            "--sent-on", "2024-03-28")  # before the letter's date  # fmt: skip
    refused(foi, "E-RULE", "delivered", case_id, "--letter", number, "--on", DUE.isoformat())  # never sent
    result = foi("serve", case_id, "--letter", number, "--method", "pigeon")
    assert result.exit_code == 2


def test_without_a_service_record_the_decision_date_stands_flagged_unserved(foi: Foi) -> None:
    case_id, _ = decided_case(foi)
    detail = show(foi, case_id)
    assert (detail["replied_on"], detail["served"], detail["on_time"]) == (DUE.isoformat(), False, True)
    assert "答复日期：2024-03-29（以决定日期计，未记录送达）" in foi.ok("show", case_id)
    assert "未记录送达" in foi.ok("list")
    assert [r["id"] for r in listed(foi, "--unserved")] == [case_id]


def test_a_delivered_decision_becomes_final_when_its_windows_end_unless_an_appeal_is_filed(foi: Foi) -> None:
    first, number = decided_case(foi)
    second, number2 = decided_case(foi)
    for case_id, letter in ((first, number), (second, number2)):
        foi.ok("serve", case_id, "--letter", letter, "--method", "post", "--on", DUE.isoformat())
        foi.ok("delivered", case_id, "--letter", letter, "--on", "2024-04-02")
    # Both windows ended long ago (2 October 2024 at the latest): final, unless appealed.
    foi.ok(f"appeal file --kind review --case {second} --on 2024-05-20")
    assert [r["id"] for r in listed(foi, "--final")] == [first]
    assert show(foi, first)["final"] is True and show(foi, second)["final"] is False
    assert "已生效：救济期限均已届满" in foi.ok("show", first)
    assert "已生效" not in foi.ok("show", second)


def test_notice_serve_records_the_letter_and_its_service_in_one_step(foi: Foi) -> None:
    case_id = foi.ok(f"{INTAKE} --on {RECEIVED}").strip()
    foi.ok(f"decide {case_id} --outcome granted --on {DUE}")
    # Refused service stores no letter and takes no number.
    refused(foi, "E-RULE", "notice", case_id, "decision", "--serve", "electronic", "--on", DUE.isoformat())
    result = foi("notice", case_id, "decision", "--serve", "post", "--on", DUE.isoformat())
    assert result.ok, result.stderr
    detail = show(foi, case_id)
    assert [n["number"] for n in detail["notices"]] == [detail["service"][0]["letter"]]
    assert detail["notices"][0]["number"].endswith("〕1号")  # the refused attempt took no number
    assert (detail["replied_on"], detail["on_time"], detail["service"][0]["method"]) == (DUE.isoformat(), True, "post")


def test_void_and_correct_reach_the_service_events(foi: Foi) -> None:
    case_id, number = decided_case(foi)
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", "2024-04-03")  # event 3
    assert show(foi, case_id)["on_time"] is False
    foi.ok("correct", case_id, "3", "--sent-on", DUE.isoformat(), "--reason", "交邮日期录入遗漏")
    assert (show(foi, case_id)["replied_on"], show(foi, case_id)["on_time"]) == (DUE.isoformat(), True)
    foi.ok("void", case_id, "3", "--reason", "该函实际未寄出")
    detail = show(foi, case_id)
    assert (detail["served"], detail["service"]) == (False, [])


def test_export_and_import_carry_the_service_and_its_proof_byte_for_byte(foi: Foi, tmp_path: Path,
                                                                          make_db_url: Any) -> None:  # fmt: skip
    case_id, number = decided_case(foi)
    foi.ok("serve", case_id, "--letter", number, "--method", "post", "--on", DUE.isoformat())
    scan = tmp_path / "ems.png"
    scan.write_bytes(bytes(range(256)) * 4)
    foi.ok("delivered", case_id, "--letter", number, "--on", "2024-04-02", "--proof", scan)
    exported = foi.ok("export")
    assert '"service_proof"' in exported and '"event": "serve"' in exported
    file = tmp_path / "all.jsonl"
    file.write_text(exported, encoding="utf-8")
    target = Foi(make_db_url(), tmp_path)
    target.ok("init")
    target.ok("import", file)
    assert target.ok("export") == exported
    assert show(target, case_id)["review_until"] == show(foi, case_id)["review_until"]
    # A proof whose content does not have its hash is refused, and nothing of the file is kept.
    lines = exported.splitlines()
    bad = [json.loads(line) for line in lines]
    bad[-1]["content"] = "AAAA"
    file.write_text("\n".join(json.dumps(obj, ensure_ascii=False) for obj in bad) + "\n", encoding="utf-8")
    fresh = Foi(make_db_url(), tmp_path)
    fresh.ok("init")
    assert "SHA-256 不符" in refused(fresh, "E-IMPORT", "import", str(file))
