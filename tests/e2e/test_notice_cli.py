"""`foi notice` and `foi fee quote` through the command line, as a caseworker runs them."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Foi


def _case(foi: Foi, *extra: str) -> str:
    out = foi.ok("intake", "--applicant", "王小明", "--applicant-type", "natural_person", "--channel",
                 "online", "--request", "2023年道路维修合同", "--on", "2024-03-01", *extra)
    return out.strip().splitlines()[-1].split()[0]


def test_foi_notice_prints_the_letter_and_stores_it(foi: Foi) -> None:
    case_id = _case(foi)
    result = foi("notice", case_id, "acknowledgement")
    assert result.ok, result.stderr
    assert "登记回执" in result.stdout and "王小明：" in result.stdout and "2024年3月1日" in result.stdout
    assert "〔2024〕1号" in result.stderr
    shown = json.loads(foi.ok("show", case_id, "--format", "json"))
    assert [n["kind"] for n in shown["notices"]] == ["acknowledgement"]


def test_foi_notice_writes_a_pdf_to_a_default_file_name(foi: Foi) -> None:
    case_id = _case(foi)
    foi.ok("decide", case_id, "--outcome", "withheld.state_secret", "--note", "经保密审查属于绝密级文件",
           "--on", "2024-03-15")
    out = foi.ok("notice", case_id, "decision", "--format", "pdf")
    path = foi.cwd / f"{case_id}-decision.pdf"
    assert str(path.name) in out and path.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "王小明" in text and "第十四条" in text


def test_foi_notice_writes_a_docx_where_told(foi: Foi, tmp_path: Path) -> None:
    import docx

    case_id = _case(foi)
    target = tmp_path / "letters" / "ack.docx"
    target.parent.mkdir()
    foi.ok("notice", case_id, "acknowledgement", "--format", "docx", "--out", str(target))
    paragraphs = [p.text for p in docx.Document(io.BytesIO(target.read_bytes())).paragraphs]
    assert "王小明：" in paragraphs


def test_a_reprint_keeps_the_number_and_an_html_copy_can_be_printed(foi: Foi) -> None:
    case_id = _case(foi)
    foi.ok("notice", case_id, "acknowledgement")
    again = foi("notice", case_id, "acknowledgement", "--reprint", "--format", "html")
    assert again.ok and again.stdout.startswith("<!DOCTYPE html>")
    assert "重印：" in again.stderr and "〔2024〕1号" in again.stderr
    shown = json.loads(foi.ok("show", case_id, "--format", "json"))
    assert len(shown["notices"]) == 1


def test_an_event_command_with_notice_issues_the_matching_letter(foi: Foi) -> None:
    case_id = _case(foi)
    foi.ok("extend", case_id, "--days", "5", "--approved-by", "李主任", "--on", "2024-03-20", "--notice")
    letter = foi.ok("notice", case_id, "extension", "--reprint")
    assert "负责人李主任同意" in letter and "延长5个工作日" in letter


def test_a_letter_the_history_does_not_support_is_refused_with_exit_1(foi: Foi) -> None:
    case_id = _case(foi)
    result = foi("notice", case_id, "fee")
    assert result.exit_code == 1
    assert result.stderr.startswith("错误[E-RULE]：") and "收费通知" in result.stderr
    assert json.loads(foi.ok("show", case_id, "--format", "json"))["notices"] == []


def test_an_unknown_case_or_kind_is_refused(foi: Foi) -> None:
    missing = foi("notice", "2024-99999", "acknowledgement")
    assert missing.exit_code == 1 and "E-NOT-FOUND" in missing.stderr
    assert foi("notice", "2024-00001", "invitation").exit_code == 2


@pytest.mark.parametrize(
    ("basis", "quantity", "amount"),
    [
        ("per_item", "10", 0), ("per_item", "11", 100), ("per_item", "30", 2000), ("per_item", "31", 2200),
        ("per_item", "45", 5500), ("per_page", "30", 0), ("per_page", "31", 10), ("per_page", "100", 700),
        ("per_page", "101", 720), ("per_page", "2219", 83460),
    ],
)
def test_foi_fee_quote_prints_the_amount_first(foi: Foi, basis: str, quantity: str, amount: int) -> None:
    out = foi.ok("fee", "quote", "--basis", basis, "--quantity", quantity)
    assert out.split()[0] == str(amount)


def test_foi_fee_quote_counts_the_month_so_far_and_speaks_json(foi: Foi) -> None:
    data = json.loads(foi.ok("fee", "quote", "--basis", "per_item", "--quantity", "5",
                             "--already-this-month", "8", "--format", "json"))
    assert data["amount"] == 300
    assert [(b["first"], b["quantity"]) for b in data["breakdown"]] == [(1, 2), (11, 3)]


def test_foi_fee_quote_refuses_a_negative_quantity_and_an_unknown_basis(foi: Foi) -> None:
    negative = foi("fee", "quote", "--basis", "per_page", "--quantity", "-3")
    assert negative.exit_code == 1 and "E-INPUT" in negative.stderr
    assert foi("fee", "quote", "--basis", "both", "--quantity", "3").exit_code == 2
