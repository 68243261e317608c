"""A void or correct of an event makes the letters that answered it 作废 in the same
transaction (SPEC §11, §12): the register and `foi show` say so, the number is never used
again, and a new letter for the event takes the next number."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Foi

INTAKE = "intake --applicant 王五 --applicant-type natural_person --channel online --request 某文件 --on 2024-03-01"


def issued(foi: Foi, case: str, kind: str, name: str) -> str:
    """Issue a letter as a PDF file; its number."""
    out = foi.ok(f"notice {case} {kind} --format pdf --out {foi.cwd / name}.pdf")
    assert out.startswith("已出具 ") and (foi.cwd / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    return out.split()[1].split("，")[0]


def register(foi: Foi) -> dict[str, str]:
    return {entry["number"]: entry["status"] for entry in json.loads(foi.ok("register 2024 --format json"))}


@pytest.mark.parametrize("amendment", ["void", "correct"])
def test_a_voided_or_corrected_event_voids_its_letter_and_the_next_letter_takes_the_next_number(
    foi: Foi, amendment: str
) -> None:
    case = foi.ok(INTAKE).strip()
    ack = issued(foi, case, "acknowledgement", "ack")
    foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
    first = issued(foi, case, "decision", "first")
    if amendment == "void":
        done = foi("void", case, "2", "--reason", "答复录入过早")
        foi.ok(f"decide {case} --outcome unavailable.not_held --on 2024-03-22")
    else:
        done = foi("correct", case, "2", "--outcome", "unavailable.not_held", "--reason", "结果录错")
    assert done.exit_code == 0, done.stderr
    assert f"告知书 {first} 已作废" in done.stderr
    assert register(foi) == {ack: "valid", first: "void"}  # the acknowledgement answers event 1: it stands
    assert f"{first}  已作废" in foi.ok("show", case)
    assert "已作废" in foi.ok("register 2024")

    second = issued(foi, case, "decision", "second")
    assert (ack, first, second) == ("某公开〔2024〕1号", "某公开〔2024〕2号", "某公开〔2024〕3号")
    assert register(foi) == {ack: "valid", first: "void", second: "valid"}
    reprinted = foi(f"notice {case} decision --reprint")
    assert reprinted.exit_code == 0 and f"重印：{second}" in reprinted.stderr


def test_voiding_the_registration_voids_every_letter_of_the_case(foi: Foi) -> None:
    case = foi.ok(INTAKE).strip()
    foi.ok(f"notice {case} acknowledgement")
    foi.ok(f"extend {case} --days 15 --approved-by 李主任 --on 2024-03-25")
    foi.ok(f"notice {case} extension")
    done = foi("void", case, "1", "--reason", "重复登记")
    assert done.exit_code == 0, done.stderr
    assert set(register(foi).values()) == {"void"} and len(register(foi)) == 2
    refused = foi(f"notice {case} acknowledgement")
    assert refused.exit_code == 1 and "E-STATE" in refused.stderr  # a voided case gets no letters


def test_a_void_that_is_refused_leaves_the_letters_standing(foi: Foi) -> None:
    case = foi.ok(INTAKE).strip()
    foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
    number = issued(foi, case, "decision", "d")
    refused = foi("void", case, "1")  # no --reason: a usage error
    assert refused.exit_code == 2
    refused = foi("correct", case, "2", "--outcome", "granted", "--reason", "无变化")  # changes nothing
    assert refused.exit_code == 1
    assert register(foi) == {number: "valid"}


def test_an_imported_void_of_a_stored_event_voids_its_stored_letter(foi: Foi) -> None:
    case = foi.ok(INTAKE).strip()
    foi.ok(f"decide {case} --outcome granted --on 2024-03-20")
    number = issued(foi, case, "decision", "d")
    line = {"case": case, "event": "void", "on": "2024-03-21", "target": 2, "reason": "答复录入过早", "by": "王"}
    (foi.cwd / "void.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    foi.ok("import", foi.cwd / "void.jsonl")
    assert register(foi) == {number: "void"}
    foi.ok(f"decide {case} --outcome granted --on 2024-03-22")
    assert issued(foi, case, "decision", "again") == "某公开〔2024〕2号"
