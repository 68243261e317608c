"""`foi ledger export YEAR` (SPEC §14): the year's cases in SPEC §14's columns, as an xlsx an
office opens (frozen header, widths, real dates, formula-like text kept as text) or a CSV
Excel reads (UTF-8 with BOM); and imported into an empty database it gives the same table 3."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from foi_workflow.domain.ledger_columns import BY_KEY, EXPORT_KEYS
from tests.conftest import FIXTURES, Foi
from tests.ledger_helpers import assert_same_table3, table3

SPEC_COLUMNS = ["登记编号", "收到日期", "申请人", "申请人类型", "申请方式", "申请内容", "补正告知日期", "补正收到日期",
                "延期天数", "答复日期", "答复期限", "处理结果", "是否按期", "经办人", "状态"]  # fmt: skip


def _receive(case: str, on: str, applicant_type: str = "natural_person", **more: Any) -> dict[str, Any]:
    return {"case": case, "event": "receive", "on": on, "applicant": more.pop("applicant", "张三"),
            "applicant_type": applicant_type, "channel": more.pop("channel", "online"),
            "request": more.pop("request", "某文件"), **more}  # fmt: skip


def _ev(case: str, event: str, on: str, **data: Any) -> dict[str, Any]:
    return {"case": case, "event": event, "on": on, **data}


# Every way a case can go that a ledger records (and some it does not: consultations, a
# reasonable period, an assignment), across the turn of the years 2023/2024/2025.
HISTORY: list[dict[str, Any]] = [
    _receive("Y-OLD", "2023-03-01"), _ev("Y-OLD", "decide", "2023-03-20", outcome="granted"),
    _receive("Y-IN", "2023-12-20", "commercial"), _ev("Y-IN", "decide", "2024-01-15", outcome="partially_granted"),
    _receive("Y-IN-OPEN", "2023-12-28", "research"),
    _receive("Y-FORMULA", "2024-01-05", "social_org", applicant='=HYPERLINK("http://x","点击")',
             request="+86 13800000000 要求公开", caseworker="@张三"),
    _ev("Y-FORMULA", "decide", "2024-01-20", outcome="unavailable.not_held"),
    _receive("Y-CORR", "2024-02-01", "legal_service"),
    _ev("Y-CORR", "request_correction", "2024-02-02", items="请说明文件名称"),
    _ev("Y-CORR", "receive_correction", "2024-02-20"),
    _ev("Y-CORR", "extend", "2024-03-01", days=10, approved_by="王主任"),
    _ev("Y-CORR", "decide", "2024-04-01", outcome="withheld.process_information"),
    _receive("Y-LAPSE", "2024-03-01"),
    _ev("Y-LAPSE", "request_correction", "2024-03-04", items="请补充身份证明", period=10),
    _ev("Y-LAPSE", "lapse_correction", "2024-03-19"),
    _receive("Y-FEE", "2024-04-01", "commercial"),
    _ev("Y-FEE", "fee_notice", "2024-04-10", amount=100, basis="per_page", quantity=40),
    _ev("Y-FEE", "lapse_fee", "2024-06-03"),
    _receive("Y-PAID", "2024-05-06", "other"),
    _ev("Y-PAID", "fee_notice", "2024-05-10", amount=200, basis="per_item", quantity=12),
    _ev("Y-PAID", "fee_paid", "2024-05-20"),
    _ev("Y-PAID", "decide", "2024-06-05", outcome="granted"),
    _receive("Y-WITHDRAWN", "2024-06-03"),
    _ev("Y-WITHDRAWN", "request_correction", "2024-06-04", items="请说明用途"),
    _ev("Y-WITHDRAWN", "withdraw", "2024-06-10", reason="申请人电话撤回"),
    _receive("Y-CONSULT", "2024-07-01", "commercial"),
    _ev("Y-CONSULT", "consult", "2024-07-05", party="某第三方"),
    _ev("Y-CONSULT", "consultation_reply", "2024-07-19", opinion="object"),
    _ev("Y-CONSULT", "assign", "2024-07-20", caseworker="李四"),
    _ev("Y-CONSULT", "decide", "2024-08-05", outcome="withheld.third_party_rights"),
    _receive("Y-LATE", "2024-08-01"),
    _ev("Y-LATE", "set_reasonable_period", "2024-08-05", due="2024-10-31", reason="申请数量巨大"),
    _ev("Y-LATE", "decide", "2024-10-30", outcome="not_processed.excessive"),
    _receive("Y-OTHER", "2024-09-02", "other"), _ev("Y-OTHER", "decide", "2024-09-10", outcome="other.other"),
    _receive("Y-OUT", "2024-12-20", "legal_service"), _ev("Y-OUT", "decide", "2025-01-10", outcome="granted"),
    _receive("Y-OUT-OPEN", "2024-12-30"),
    _receive("Y-NEXT", "2025-02-01"),
]  # fmt: skip


@pytest.fixture
def history(foi: Foi, tmp_path: Path) -> Foi:
    events = tmp_path / "history.jsonl"
    events.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in HISTORY) + "\n", encoding="utf-8")
    foi.ok("import", events)
    return foi


def _empty(make_db_url: Callable[[], str], tmp_path: Path, name: str) -> Foi:
    folder = tmp_path / name
    folder.mkdir()
    other = Foi(make_db_url(), folder)
    other.ok("init")
    return other


def test_the_xlsx_has_the_spec_columns_a_frozen_header_widths_and_real_dates(history: Foi, tmp_path: Path) -> None:
    out = tmp_path / "ledger.xlsx"
    history.ok("ledger", "export", "2024", "--out", out)
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[:15] == SPEC_COLUMNS == [BY_KEY[k].header for k in EXPORT_KEYS]
    assert header[15:] == ["补正期限", "收费通知日期", "收费金额", "计费方式", "收费数量", "缴费日期"]
    assert ws.freeze_panes == "A2"
    assert all(ws.column_dimensions[letter].width >= 8 for letter in "ABCDEFGHIJKLMNO")
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    # The cases the year's report counts: received in 2024, or earlier and open on 1 January.
    assert set(rows) == {h["case"] for h in HISTORY if h["event"] == "receive"} - {"Y-OLD", "Y-NEXT"}
    corr = rows["Y-CORR"]
    assert isinstance(corr["收到日期"], datetime) and corr["收到日期"].date() == date(2024, 2, 1)
    assert ws.cell(2, 2).number_format == "yyyy-mm-dd" and ws.cell(2, 2).is_date
    assert (corr["补正告知日期"].date(), corr["补正收到日期"].date(), corr["延期天数"]) == (
        date(2024, 2, 2), date(2024, 2, 20), 10)
    assert corr["处理结果"] == "不予公开（属于四类过程性信息）" and corr["申请人类型"] == "法律服务机构"
    assert corr["状态"] == "已办结" and corr["是否按期"] in ("是", "否")
    assert rows["Y-WITHDRAWN"]["处理结果"] == "其他处理（申请人撤回）"
    assert rows["Y-LAPSE"]["补正期限"] == 10
    assert (rows["Y-FEE"]["收费金额"], rows["Y-FEE"]["计费方式"], rows["Y-FEE"]["收费数量"]) == (100, "按量计收", 40)
    assert rows["Y-PAID"]["缴费日期"].date() == date(2024, 5, 20)
    assert rows["Y-OUT-OPEN"]["状态"] == "办理中" and rows["Y-OUT-OPEN"]["答复期限"] is not None
    formula = next(c for c in ws["C"] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s" and formula.quotePrefix  # text, not a formula
    assert rows["Y-FORMULA"]["经办人"] == "@张三"


def test_the_csv_is_utf8_with_a_bom_and_formula_like_text_made_inert(history: Foi, tmp_path: Path) -> None:
    out = tmp_path / "ledger.csv"
    history.ok("ledger", "export", "2024", "--format", "csv", "--out", out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith(",".join(SPEC_COLUMNS))
    assert "'=HYPERLINK(" in text and "'+86 13800000000" in text and "'@张三" in text
    assert "\nY-CORR,2024-02-01," in text
    assert history.ok("ledger", "export", "2024", "--format", "csv").encode("utf-8") == raw.decode("utf-8").encode()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_into_an_empty_database_reproduces_the_years_report(
    history: Foi, tmp_path: Path, make_db_url: Callable[[], str], fmt: str
) -> None:
    out = tmp_path / f"ledger.{fmt}"
    history.ok("ledger", "export", "2024", "--out", out)
    other = _empty(make_db_url, tmp_path, fmt)
    other.ok("ledger", "import", out)
    assert_same_table3(table3(other, 2024), table3(history, 2024))
    shown = json.loads(other.ok("show", "Y-FORMULA", "--format", "json"))
    assert shown["applicant"] == '=HYPERLINK("http://x","点击")' and shown["request"].startswith("+86")
    assert shown["caseworker"] == "@张三"
    withdrawn = json.loads(other.ok("show", "Y-WITHDRAWN", "--format", "json"))
    assert [e["event"] for e in withdrawn["events"]] == ["receive", "request_correction", "withdraw"]
    # A second round gives the same ledger, but for what the ledger does not carry: the
    # consultation's pause and the reasonable period move 答复期限 and 是否按期.
    again = tmp_path / "again.csv"
    other.ok("ledger", "export", "2024", "--out", again)
    first = tmp_path / "first.csv"
    history.ok("ledger", "export", "2024", "--out", first)
    assert _without(again, "答复期限", "是否按期") == _without(first, "答复期限", "是否按期")


def _without(ledger: Path, *columns: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(ledger.read_text(encoding="utf-8-sig"))))
    keep = [i for i, name in enumerate(rows[0]) if name not in columns]
    return [[row[i] for i in keep] for row in rows]


@pytest.mark.parametrize(("fixture", "years"), [("events-small.jsonl", (2023, 2024)),
                                                ("events-every-kind.jsonl", (2023, 2024, 2025))])  # fmt: skip
def test_the_fixture_histories_survive_the_round_trip_for_every_year(
    foi: Foi, tmp_path: Path, make_db_url: Callable[[], str], fixture: str, years: tuple[int, ...]
) -> None:
    foi.ok("import", FIXTURES / fixture)
    for year in years:
        out = tmp_path / f"{year}.xlsx"
        foi.ok("ledger", "export", str(year), "--out", out)
        other = _empty(make_db_url, tmp_path, str(year))
        other.ok("ledger", "import", out)
        assert_same_table3(table3(other, year), table3(foi, year))
