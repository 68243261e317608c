"""Issuing, storing and printing notices against a real database: document numbers, template
hashes, agency overrides, refusals that leave nothing behind, PDF with an embedded CJK font,
DOCX that keeps awkward characters."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from foi_workflow.adapters.db import migrate, open_engine
from foi_workflow.adapters.models import Notice
from foi_workflow.adapters.tables import COUNTER
from foi_workflow.config import load_config
from foi_workflow.errors import RuleViolation, TemplateError
from foi_workflow.services import cases
from foi_workflow.services.app import App
from foi_workflow.services.notices import issue_notice, latest_notice, list_notices, render_stored

APPLICANT = "乐清市某某贸易有限公司 & <分公司>"

CONFIG = """
default_agency = "lr"
[agencies.lr]
name = "乐清市融媒体中心"
short_name = "乐融"
address = "乐清市伯乐东路1号"
phone = "0577-61234567"
postcode = "325600"
number_pattern = "{short}公开〔{year}〕第{seq}号"
folder = "lr"

[agencies.hz]
name = "某某区{kind}测试局"
short_name = "某区"
number_pattern = "{short}{kind}〔{year}〕{seq}号"
"""


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[App]:
    (tmp_path / "lr").mkdir()
    config_file = tmp_path / "foi.toml"
    config_file.write_text(CONFIG, encoding="utf-8")
    config = load_config(config_file, db_url=db_url, env={})
    engine = open_engine(db_url)
    migrate(engine)
    yield App(config, engine)
    engine.dispose()


def _intake(app: App, on: date = date(2024, 3, 1), agency: str = "lr", applicant: str = APPLICANT) -> str:
    change = cases.intake(app, on=on, by="wang", data={
        "applicant": applicant, "applicant_type": "commercial", "channel": "post",
        "request": "2023年度部门预算及“三公”经费", "agency": agency,
    })
    return change.case.id


def _count(app: App) -> int:
    with Session(app.engine) as s:
        return len(list(s.exec(select(Notice))))


def test_issued_notices_are_stored_with_consecutive_numbers_and_the_template_hash(app: App) -> None:
    case_id = _intake(app)
    first = issue_notice(app, case_id, "acknowledgement", by="wang")
    cases.advance(app, case_id, "decide", on=date(2024, 3, 20), by="wang", data={"outcome": "granted"})
    second = issue_notice(app, case_id, "decision", by="wang")
    assert first.number == "乐融公开〔2024〕第1号"
    assert second.number == "乐融公开〔2024〕第2号"
    assert first.dated == date(2024, 3, 1) and second.dated == date(2024, 3, 20)
    assert len(second.template_hash) == 64 and second.template_hash != first.template_hash
    assert second.template_name == "decision.txt.j2+decision.html.j2"
    with Session(app.engine) as s:
        stored = list_notices(s, case_id)
    assert [(n.kind, n.number, n.by) for n in stored] == [
        ("acknowledgement", "乐融公开〔2024〕第1号", "wang"),
        ("decision", "乐融公开〔2024〕第2号", "wang"),
    ]
    assert APPLICANT in stored[1].body_text and "第三十六条第（二）项" in stored[1].body_text


def test_numbers_restart_each_year_and_per_agency_with_the_agencys_pattern(app: App) -> None:
    a = _intake(app, date(2023, 12, 28))
    b = _intake(app, date(2024, 1, 2))
    c = _intake(app, date(2024, 1, 3), agency="hz")
    assert issue_notice(app, a, "acknowledgement", by="w").number == "乐融公开〔2023〕第1号"
    assert issue_notice(app, b, "acknowledgement", by="w").number == "乐融公开〔2024〕第1号"
    assert issue_notice(app, c, "acknowledgement", by="w").number == "某区登记〔2024〕1号"


def test_the_letter_may_be_dated_later_than_its_event_but_not_earlier(app: App) -> None:
    case_id = _intake(app)
    later = issue_notice(app, case_id, "acknowledgement", by="w", on=date(2024, 3, 4))
    assert later.dated == date(2024, 3, 4) and "2024年3月4日" in later.body_text
    with pytest.raises(RuleViolation, match="早于"):
        issue_notice(app, case_id, "acknowledgement", by="w", on=date(2024, 2, 29))


def test_a_decision_for_an_undecided_case_is_refused_and_nothing_is_stored(app: App) -> None:
    case_id = _intake(app)
    with pytest.raises(RuleViolation, match="办结"):
        issue_notice(app, case_id, "decision", by="w")
    with pytest.raises(RuleViolation, match="收费通知"):
        issue_notice(app, case_id, "fee", by="w")
    assert _count(app) == 0
    with Session(app.engine) as s:
        assert list(s.execute(select(COUNTER).where(COUNTER.c.name == "notice:2024"))) == []


def test_a_fee_notice_counts_the_applicants_earlier_requests_of_the_month(app: App) -> None:
    earlier = _intake(app, date(2024, 3, 1))
    cases.advance(app, earlier, "fee_notice", on=date(2024, 3, 5), by="w",
                  data={"amount": 200, "basis": "per_item", "quantity": 12})
    later = _intake(app, date(2024, 3, 6))
    cases.advance(app, later, "fee_notice", on=date(2024, 3, 8), by="w",
                  data={"basis": "per_item", "quantity": 5})  # items 13-17 of the month
    notice = issue_notice(app, later, "fee", by="w")
    assert "此前已累计12件" in notice.body_text
    assert "第11—30件：5件 × 100元 ＝ 500元" in notice.body_text
    assert "人民币500元" in notice.body_text
    first = issue_notice(app, earlier, "fee", by="w")  # the earlier request is not pushed up by the later one
    assert "此前已累计" not in first.body_text


def test_the_pdf_embeds_a_cjk_font_and_contains_the_applicants_name(app: App, tmp_path: Path) -> None:
    case_id = _intake(app)
    cases.advance(app, case_id, "decide", on=date(2024, 3, 20), by="w",
                  data={"outcome": "withheld.internal_affairs", "note": "属于内部人事管理信息"})
    notice = issue_notice(app, case_id, "decision", by="w")
    pdf = render_stored(app, notice, "pdf")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "decision.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert APPLICANT in text
    assert "应当先申请行政复议" in text.replace("\n", "").replace(" ", "")
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_the_docx_keeps_ampersands_and_angle_brackets_of_the_applicants_name(app: App) -> None:
    import docx

    case_id = _intake(app)
    notice = issue_notice(app, case_id, "acknowledgement", by="w")
    document = docx.Document(io.BytesIO(render_stored(app, notice, "docx")))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:4] == ["乐清市融媒体中心", "登记回执", "乐融公开〔2024〕第1号", f"{APPLICANT}："]
    assert "乐清市融媒体中心" in paragraphs[4:] and "2024年3月1日" in paragraphs  # the signature: no printed seal
    assert not any("印章" in p for p in paragraphs)
    assert any("2023年度部门预算及“三公”经费" in p for p in paragraphs)


def test_text_and_html_are_returned_exactly_as_stored(app: App) -> None:
    case_id = _intake(app)
    notice = issue_notice(app, case_id, "acknowledgement", by="w")
    assert render_stored(app, notice, "txt").decode() == notice.body_text
    assert render_stored(app, notice, "html").decode() == notice.body_html
    assert "&lt;分公司&gt;" in notice.body_html


def test_an_agency_override_is_used_recorded_and_hashed(app: App) -> None:
    folder = app.config.agency("lr").folder
    assert folder is not None
    (folder / "notices").mkdir()
    override = folder / "notices" / "acknowledgement.txt.j2"
    override.write_text('{% extends "base/acknowledgement.txt.j2" %}{% block closing %}办理进度可拨打12345查询。\n'
                        "{% endblock %}", encoding="utf-8")
    case_id = _intake(app)
    default_hash = issue_notice(app, _intake(app, agency="hz"), "acknowledgement", by="w").template_hash
    first = issue_notice(app, case_id, "acknowledgement", by="w")
    assert "办理进度可拨打12345查询。" in first.body_text
    assert "机关模板：acknowledgement.txt.j2" in first.template_name
    assert first.template_hash != default_hash
    override.write_text(override.read_text(encoding="utf-8").replace("12345", "12346"), encoding="utf-8")
    second = issue_notice(app, case_id, "acknowledgement", by="w", reissue_reason="机关模板更新")
    assert "12346" in second.body_text and second.template_hash != first.template_hash


def test_a_hostile_override_is_refused_and_leaves_nothing_behind(app: App) -> None:
    folder = app.config.agency("lr").folder
    assert folder is not None
    (folder / "notices").mkdir()
    (folder / "notices" / "acknowledgement.html.j2").write_text(
        "{{ cycler.__init__.__globals__.os.system('touch /tmp/pwned-by-notice') }}", encoding="utf-8"
    )
    case_id = _intake(app)
    with pytest.raises(TemplateError):
        issue_notice(app, case_id, "acknowledgement", by="w")
    assert _count(app) == 0
    assert not Path("/tmp/pwned-by-notice").exists()


def test_a_reprint_finds_the_standing_letter_of_its_kind(app: App) -> None:
    case_id = _intake(app)
    issue_notice(app, case_id, "acknowledgement", by="w")
    again = issue_notice(app, case_id, "acknowledgement", by="w", on=date(2024, 3, 5), reissue_reason="地址有误")
    with Session(app.engine) as s:
        assert latest_notice(s, case_id, "acknowledgement").number == again.number


@pytest.mark.slow
def test_every_kind_prints_to_a_one_page_pdf(app: App) -> None:
    from pypdf import PdfReader

    case_id = _intake(app)
    cases.advance(app, case_id, "request_correction", on=date(2024, 3, 4), by="w", data={"items": "请写明文件名称"})
    cases.advance(app, case_id, "receive_correction", on=date(2024, 3, 8), by="w")
    cases.advance(app, case_id, "consult", on=date(2024, 3, 11), by="w", data={"party": "某某公司"})
    cases.advance(app, case_id, "consultation_reply", on=date(2024, 3, 20), by="w", data={"opinion": "agree"})
    cases.advance(app, case_id, "extend", on=date(2024, 3, 25), by="w", data={"days": 5, "approved_by": "李主任"})
    cases.advance(app, case_id, "fee_notice", on=date(2024, 3, 26), by="w",
                  data={"amount": 2200, "basis": "per_item", "quantity": 31})
    cases.advance(app, case_id, "fee_paid", on=date(2024, 3, 27), by="w")
    partly = {"outcome": "partially_granted", "note": "第2页个人信息，依据条例第十五条不予公开"}
    cases.advance(app, case_id, "decide", on=date(2024, 4, 2), by="w", data=partly)
    for kind in ("acknowledgement", "correction", "consultation", "extension", "fee", "decision"):
        pdf = render_stored(app, issue_notice(app, case_id, kind, by="w"), "pdf")
        assert len(PdfReader(io.BytesIO(pdf)).pages) == 1, kind


def test_a_letter_may_show_a_seal_image_from_its_template_folder_but_no_other_local_file(tmp_path: Path) -> None:
    from PIL import Image
    from pypdf import PdfReader

    from foi_workflow.adapters.notices import html_to_pdf

    inside, outside = tmp_path / "agency", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    for folder in (inside, outside):
        Image.new("RGB", (40, 40), "red").save(folder / "seal.png")

    def images(src: Path) -> int:
        html = f'<html><body><p>印章</p><img src="{src.as_uri()}"></body></html>'
        pdf = html_to_pdf(html, resource_dirs=[inside])
        return len(PdfReader(io.BytesIO(pdf)).pages[0].images)

    assert images(inside / "seal.png") == 1
    assert images(outside / "seal.png") == 0


def test_correcting_the_answered_event_makes_its_letters_void_and_a_new_letter_can_be_issued(app: App) -> None:
    from foi_workflow.services.corrections import Request, amend_case
    from foi_workflow.services.letters import register_entries

    case_id = _intake(app)
    ack = issue_notice(app, case_id, "acknowledgement", by="w")
    cases.advance(app, case_id, "decide", on=date(2024, 3, 20), by="w", data={"outcome": "granted"})
    decision = issue_notice(app, case_id, "decision", by="w")
    assert (ack.answers, decision.answers) == (1, 2)
    corrected = amend_case(app, case_id, Request("correct", 2, "日期录错", "w", {"on": "2024-03-21"}, None))
    assert corrected.voided_letters == [decision.number]  # the acknowledgement answers event 1: it stands
    again = issue_notice(app, case_id, "decision", by="w")
    assert again.number == "乐融公开〔2024〕第3号" and again.replaces is None  # a new letter, not a reissue
    with Session(app.engine) as s:
        book = register_entries(s, 2024, "lr")
    assert [(e.number, e.status.value) for e in book] == [
        (ack.number, "valid"), (decision.number, "void"), (again.number, "valid")]  # fmt: skip
