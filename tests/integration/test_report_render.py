"""The example agency folder reproduces the reference annual report (乐清市融媒体中心 2023):
same sections, same narrative, same tables cell by cell; and every format renders."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO
from pathlib import Path

import pytest

from foi_workflow.adapters.report_render.layout import SECTION_TITLES
from tests.conftest import Foi
from tests.integration.report_helpers import sections, table_cells

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "yueqing-media-centre-2023"
REFERENCE = EXAMPLE / "published-report.md"  # the agency's published report, as text


@pytest.fixture
def yueqing(db_url: str, tmp_path: Path) -> Foi:
    runner = Foi(db_url, tmp_path, config=EXAMPLE / "foi.toml")
    runner.ok("init")
    return runner


def squash(text: str) -> str:
    """Text without whitespace or Markdown emphasis: what a reader sees."""
    return re.sub(r"\s+|\*\*", "", text)


def label(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_example_report_has_the_reference_sections_and_tables_cell_by_cell(yueqing: Foi) -> None:
    ours = yueqing.ok("report 2023 --format md --as-of 2024-01-31")
    reference = REFERENCE.read_text(encoding="utf-8")
    ours_sections = sections(ours, SECTION_TITLES)
    ref_sections = sections(reference, SECTION_TITLES)
    assert list(ours_sections) == list(ref_sections)
    for title in SECTION_TITLES[1:4]:  # 二 table 2, 三 table 3, 四 table 4
        mine = [(label(lab), figures) for lab, figures in table_cells(ours_sections[title])]
        theirs = [(label(lab), figures) for lab, figures in table_cells(ref_sections[title])]
        assert [lab for lab, _ in mine] == [lab for lab, _ in theirs], title
        for (lab, ours_figures), (_, their_figures) in zip(mine, theirs, strict=True):
            if lab == "四、结转下年度继续办理" and len(their_figures) == 6:
                # The reference page shifted this row one cell right and lost its 总计 cell;
                # compare the six applicant-type cells it kept.
                ours_figures = ours_figures[:6]
            assert ours_figures == their_figures, (title, lab)
        assert mine, title
    # Table 3 has all 25 figure rows of seven columns; table 4 one row of fifteen.
    t3 = table_cells(ours_sections[SECTION_TITLES[2]])
    assert len(t3) == 25 and all(len(f) == 7 for _, f in t3)
    assert [len(f) for _, f in table_cells(ours_sections[SECTION_TITLES[3]])] == [15]
    # The official column label; the reference page abbreviates it to 社会组织.
    assert "社会公益组织" in ours_sections[SECTION_TITLES[2]]
    assert "社会组织" in ref_sections[SECTION_TITLES[2]]


def test_example_report_has_the_reference_title_preface_and_narrative(yueqing: Foi) -> None:
    ours = yueqing.ok("report 2023")
    reference = REFERENCE.read_text(encoding="utf-8")
    assert ours.splitlines()[0] == "# 乐清市融媒体中心 2023 年政府信息公开工作年度报告"  # its own title, as published
    ours_preface = ours.split("## " + SECTION_TITLES[0])[0].split("\n", 1)[1]
    ref_preface = reference.split("## " + SECTION_TITLES[0])[0].split("年度报告\n", 1)[1]
    assert squash(ours_preface) == squash(ref_preface)
    ours_sections = sections(ours, SECTION_TITLES)
    ref_sections = sections(reference, SECTION_TITLES)
    ours_sections[SECTION_TITLES[5]] = ours_sections[SECTION_TITLES[5]].split("## 附")[0]  # timeliness
    for title in (SECTION_TITLES[0], SECTION_TITLES[4], SECTION_TITLES[5]):
        assert squash(ours_sections[title]) == squash(ref_sections[title]), title
    assert "71 条" in ours


def test_html_has_merged_cells_and_a_month_chart(yueqing: Foi, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    yueqing.ok("report", "2023", "--format", "html", "--out", out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert 'rowspan="22"' in page  # 三、本年度办理结果 spans the outcome rows and (七)
    assert 'colspan="10">行政诉讼' in page
    assert "<svg" in page and "每月新收与办结件数" in page
    assert "<script" not in page
    assert "乐清市融媒体中心办公室联系" in page and 'href="mailto:yqgbdst@163.com"' in page


def test_pdf_embeds_a_cjk_font_and_its_text_extracts(yueqing: Foi, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    yueqing.ok("report", "2023", "--format", "pdf", "--out", out)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    flat = re.sub(r"\s+", "", text)
    assert "乐清市融媒体中心2023年政府信息公开工作年度报告" in flat
    assert "本年新收政府信息公开申请数量" in flat and "社会公益组织" in flat


def test_xlsx_merges_header_cells_like_the_paper_form(yueqing: Foi, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    yueqing.ok("report", "2023", "--format", "xlsx", "--out", out)
    from openpyxl import load_workbook

    wb = load_workbook(out)
    t3 = wb["表三 依申请公开"]
    merged = {str(r) for r in t3.merged_cells.ranges}
    assert {"A2:C4", "D2:J2", "D3:D4", "E3:I3", "J3:J4", "A7:A28"} <= merged
    assert t3["G4"].value == "社会公益组织"
    t4 = wb["表四 复议诉讼"]
    assert {"A2:E3", "F2:O2", "F3:J3", "K3:O3"} <= {str(r) for r in t4.merged_cells.ranges}
    assert wb["说明"]["B1"].value == 2023


def test_docx_has_the_sections_and_tables(yueqing: Foi, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    yueqing.ok("report", "2023", "--format", "docx", "--out", out)
    from docx import Document

    doc = Document(BytesIO(out.read_bytes()))
    headings = [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert headings[:6] == list(SECTION_TITLES)
    assert len(doc.tables) >= 3
    t3 = doc.tables[1]
    assert t3.cell(0, 3).text == "申请人情况" and t3.cell(2, 6).text == "社会公益组织"


def test_docx_merges_the_label_cells_of_table_3(yueqing: Foi, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    yueqing.ok("report", "2023", "--format", "docx", "--out", out)
    from docx import Document

    t3 = Document(BytesIO(out.read_bytes())).tables[1]
    assert t3.cell(0, 0).text == t3.cell(2, 2).text  # the 勾稽关系 note spans 3 × 3 cells
    assert t3.cell(5, 0).text == t3.cell(26, 0).text == "三、本年度办理结果"
    assert t3.cell(27, 0).text == "四、结转下年度继续办理"
    assert t3.cell(3, 0).text == t3.cell(3, 2).text == "一、本年新收政府信息公开申请数量"
