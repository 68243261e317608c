"""Every letter stands up in a review (issue #19), as a caseworker meets it at the command line:
`decide` refuses a decision the letter could not defend (nothing is written), and the letters
read right in the text printed and in the PDF's text layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import refused
from tests.conftest import Foi
from tests.letter_helpers import flat, pdf_text


def _case(foi: Foi, on: str = "2024-03-01", applicant: str = "王小明") -> str:
    out = foi.ok("intake", "--applicant", applicant, "--applicant-type", "natural_person", "--channel", "online",
                 "--request", "某路段道路维修合同", "--on", on)  # fmt: skip
    return out.strip().splitlines()[-1].split()[0]


def _letter(foi: Foi, case_id: str, kind: str, tmp_path: Path) -> tuple[str, str]:
    """The letter printed as text, and the text layer of its PDF (reprinted: the same letter)."""
    txt = foi.ok("notice", case_id, kind)
    out = tmp_path / f"{case_id}-{kind}.pdf"
    foi.ok("notice", case_id, kind, "--reprint", "--format", "pdf", "--out", str(out))
    return flat(txt), pdf_text(out.read_bytes(), tmp_path)


@pytest.mark.parametrize("outcome", ["partially_granted", "withheld.internal_affairs", "other.other"])
def test_decide_without_a_reason_is_refused_for_outcomes_that_must_say_why(foi: Foi, outcome: str) -> None:
    case_id = _case(foi)
    line = refused(foi, "E-RULE", "decide", case_id, "--outcome", outcome, "--on", "2024-03-10")
    assert "--note" in line


def test_decide_refuses_a_third_party_refusal_after_the_third_party_agreed(foi: Foi) -> None:
    case_id = _case(foi)
    foi.ok("consult", case_id, "--party", "某某建设有限公司", "--on", "2024-03-04")
    foi.ok("consultation-reply", case_id, "--opinion", "agree", "--on", "2024-03-08")
    line = refused(foi, "E-RULE", "decide", case_id, "--outcome", "withheld.third_party_rights",
                   "--note", "涉及商业秘密", "--on", "2024-03-12")  # fmt: skip
    assert "第三方已同意公开" in line


def test_a_third_party_refusal_reads_right_in_text_and_pdf(foi: Foi, tmp_path: Path) -> None:
    case_id = _case(foi)
    foi.ok("consult", case_id, "--party", "某某建设有限公司", "--on", "2024-03-04")
    foi.ok("consultation-reply", case_id, "--opinion", "object", "--on", "2024-03-08")
    foi.ok("decide", case_id, "--outcome", "withheld.third_party_rights", "--note", "合同附件含该公司的报价构成",
           "--on", "2024-03-12")  # fmt: skip
    for letter in _letter(foi, case_id, "decision", tmp_path):
        assert "本机关于2024年3月4日书面征求了第三方的意见，该第三方于2024年3月8日书面答复不同意公开" in letter
        assert "第十五条、第三十二条" in letter
        assert "60日内向某某市人民政府申请行政复议" in letter  # the review body of config/foi.toml
        assert "自收到行政复议决定书之日起15日内向人民法院提起行政诉讼" in letter
        assert "印章" not in letter


def test_granting_over_an_objection_gives_the_third_party_its_letter(foi: Foi, tmp_path: Path) -> None:
    case_id = _case(foi)
    foi.ok("consult", case_id, "--party", "某某建设有限公司", "--on", "2024-03-04")
    foi.ok("consultation-reply", case_id, "--opinion", "object", "--on", "2024-03-08")
    refused(foi, "E-RULE", "decide", case_id, "--outcome", "granted", "--on", "2024-03-12")
    foi.ok("decide", case_id, "--outcome", "granted", "--override-reason", "合同涉及公共财政资金的使用",
           "--disclose-on", "2024-03-29", "--on", "2024-03-12")  # fmt: skip
    for letter in _letter(foi, case_id, "third_party_disclosure", tmp_path):
        assert "决定公开告知书" in letter and "某某建设有限公司：" in letter
        assert "理由是：合同涉及公共财政资金的使用。" in letter and "将于2024年3月29日向申请人公开" in letter


def test_not_held_is_split_and_both_kinds_count_in_row_four_one(foi: Foi, tmp_path: Path) -> None:
    searched, referred = _case(foi), _case(foi, "2024-03-02")
    foi.ok("decide", searched, "--outcome", "unavailable.not_held", "--note", "检索了2019年以来的合同档案",
           "--on", "2024-03-10")  # fmt: skip
    foi.ok("decide", referred, "--outcome", "unavailable.not_held", "--refer-to",
           "乐清市交通运输局，电话0577-62000000", "--on", "2024-03-10")  # fmt: skip
    for letter in _letter(foi, searched, "decision", tmp_path):
        assert "进行了检索" in letter and "该政府信息不存在" in letter and "第三十六条第（四）项" in letter
    for letter in _letter(foi, referred, "decision", tmp_path):
        assert "乐清市交通运输局，电话0577-62000000" in letter and "第三十六条第（五）项" in letter
    report = json.loads(foi.ok("report", "2024", "--format", "json"))
    assert report["table3"]["rows"]["unavailable.not_held"][-1] == 2


def test_the_applicant_is_told_of_the_consultation_and_the_art_35_letters_exist(foi: Foi, tmp_path: Path) -> None:
    case_id = _case(foi)
    foi.ok("consult", case_id, "--party", "某某建设有限公司", "--on", "2024-03-04")
    for letter in _letter(foi, case_id, "consultation_notice", tmp_path):
        assert "王小明：" in letter and "书面征求第三方的意见" in letter and "某某建设有限公司" not in letter
    other = _case(foi, "2024-03-05")
    for letter in _letter(foi, other, "reasons", tmp_path):
        assert "第三十五条" in letter and "请您自收到本告知书之日起15个工作日内向本机关书面说明理由" in letter
    foi.ok("set-reasonable-period", other, "--due", "2024-06-28", "--reason", "申请涉及十年档案", "--on", "2024-03-08")
    for letter in _letter(foi, other, "reasonable_period", tmp_path):
        assert "申请涉及十年档案" in letter and "将于2024年6月28日前作出答复" in letter


def test_fee_quote_the_fee_notice_and_the_fee_letter_agree(foi: Foi, tmp_path: Path) -> None:
    first, second, third = _case(foi), _case(foi, "2024-03-04"), _case(foi, "2024-03-05")
    foi.ok("fee-notice", first, "--basis", "per_item", "--quantity", "12", "--on", "2024-03-06")
    foi.ok("fee-notice", second, "--basis", "per_item", "--quantity", "5", "--on", "2024-03-07")
    earlier_pages = _case(foi, "2024-03-04")
    foi.ok("fee-notice", earlier_pages, "--basis", "per_page", "--quantity", "150", "--on", "2024-03-07")
    foi.ok("fee-notice", third, "--basis", "per_page", "--quantity", "40", "--on", "2024-03-08")
    items = json.loads(foi.ok("fee quote --basis per_item --quantity 5 --already-this-month 12 --format json"))
    pages = json.loads(foi.ok("fee quote --basis per_page --quantity 40 --format json"))
    assert (items["amount"], pages["amount"]) == (500, 100)
    letters = {case_id: _letter(foi, case_id, "fee", tmp_path) for case_id in (second, third)}
    for case_id, amount in ((second, items["amount"]), (third, pages["amount"])):
        notice = [e for e in json.loads(foi.ok("show", case_id, "--format", "json"))["events"]
                  if e["event"] == "fee_notice"]  # fmt: skip
        assert notice, case_id
        for letter in letters[case_id]:
            assert f"应缴金额：人民币{amount}元" in letter
    for letter in letters[third]:  # earlier pages of the month do not raise a per-page fee
        assert "按本次申请提供的页数，不与其他申请累计" in letter and "此前已累计" not in letter
        assert "请您自收到本通知书次日起20个工作日内缴纳" in letter


def test_init_and_config_check_warn_when_an_agency_names_no_review_body(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "foi.toml"
    config.write_text('[agencies.a]\nname = "某局"\n[agencies.b]\nname = "某委"\nreview_body = "某市人民政府"\n',
                      encoding="utf-8")  # fmt: skip
    foi = Foi(db_url, tmp_path, config)
    for args in (("init",), ("config", "check")):
        result = foi(*args)
        assert result.ok, result.stderr
        warnings = result.stderr.strip().splitlines()
        assert len(warnings) == 1 and "机关 a 未配置行政复议机关（review_body）" in warnings[0]
    shipped = Foi(db_url, tmp_path)
    assert "review_body" not in shipped("config", "check").stderr
