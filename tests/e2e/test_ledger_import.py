"""`foi ledger import` (SPEC §14): ledgers laid out as agencies keep them — different header
wordings and column orders, merged titles and group headings above the header, blank and
note rows, xlsx and CSV (UTF-8 and GBK), dates in every form Excel gives — each imported and
its report's table 3 checked cell by cell against the table worked out by hand for it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from foi_workflow.domain.ledger_values import to_serial
from tests.conftest import Foi
from tests.ledger_helpers import (
    assert_same_table3,
    case_count,
    expected_table3,
    table3,
    write_csv_ledger,
    write_xlsx_ledger,
)

#                     natural, commercial, research, social_org, legal_service, other


def test_an_xlsx_ledger_with_titles_a_footer_and_blank_rows_gives_its_table_3(foi: Foi, tmp_path: Path) -> None:
    header = ["序号", "受理编号", "申请日期", "申请人姓名/名称", "申请人类别", "申请方式", "申请公开内容",
              "补正通知日期", "补正材料收到日期", "延期天数", "答复日期", "答复结果", "承办人", "备注"]
    rows = [
        [1, "A-1", date(2024, 1, 8), "张三", "公民", "网上申请", "某文件", None, None, None, date(2024, 1, 25),
         "同意公开", "李明", None],
        [2, "A-2", "2024/2/5", "某某科技有限公司", "企业", "信函", "某合同", None, None, "10", "2024-03-15",
         "部分公开（涉及商业秘密部分不予公开）", "李明", None],
        [3, "A-3", "2024年3月1日", "王五", "个人", "当面", "某批复", "2024.3.5", "2024-03-12", None, "2024-04-01",
         "信息不存在", "周红", None],
        [4, "A-4", date(2024, 4, 8), "某律师事务所", "律师事务所", "电子邮件", "某处罚决定", date(2024, 4, 9), None,
         None, date(2024, 6, 3), "逾期未补正", "周红", "视为放弃"],
        [5, "A-5", date(2024, 5, 6), "某大学法学院", "高校", "网上", "某规划", None, None, None, date(2024, 5, 20),
         "不予公开（国家秘密）", "李明", None],
        [6, "A-6", date(2024, 11, 20), "赵六", "自然人", "网上", "某预算", None, None, None, None, None, "李明", None],
        [7, "A-7", date(2024, 6, 3), "某村民委员会", "其他组织", "邮寄", "某补偿方案", None, None, None,
         date(2024, 6, 5), "申请人撤回", "周红", None],
        [8, "A-8", date(2024, 7, 1), "某环保协会", "社会组织", "网上", "某投诉处理", None, None, None,
         date(2024, 7, 10), "信访举报投诉", "周红", None],
    ]  # fmt: skip
    ledger = write_xlsx_ledger(
        tmp_path / "台账.xlsx", header, rows,
        titles=["某某市某某局2024年政府信息公开申请登记台账", "填报单位：办公室"],
        trailing_blank_rows=5, footer=["合计", "8件"],
    )  # fmt: skip
    out = foi.ok("ledger", "import", ledger)
    assert "已新建 8 件案件" in out and "表头在第 3 行" in out
    assert_same_table3(table3(foi, 2024), expected_table3(
        received=[3, 1, 1, 1, 1, 1],
        granted=[1, 0, 0, 0, 0, 0],
        partially_granted=[0, 1, 0, 0, 0, 0],
        withheld__state_secret=[0, 0, 1, 0, 0, 0],
        unavailable__not_held=[1, 0, 0, 0, 0, 0],
        not_processed__petition_or_complaint=[0, 0, 0, 1, 0, 0],
        other__correction_lapsed=[0, 0, 0, 0, 1, 0],
        other__other=[0, 0, 0, 0, 0, 1],
        handled_total=[2, 1, 1, 1, 1, 1],
        carried_out=[1, 0, 0, 0, 0, 0],
    ))  # fmt: skip
    shown = json.loads(foi.ok("show", "A-2", "--format", "json"))
    assert shown["extended_days"] == 10 and shown["applicant"] == "某某科技有限公司"
    withdrawn = json.loads(foi.ok("show", "A-7", "--format", "json"))
    assert [e["event"] for e in withdrawn["events"]] == ["receive", "withdraw"]
    corrected = json.loads(foi.ok("show", "A-3", "--format", "json"))
    assert [e["event"] for e in corrected["events"]] == ["receive", "request_correction", "receive_correction",
                                                         "decide"]  # fmt: skip


def test_a_csv_ledger_in_another_order_with_text_dates_and_serial_numbers_gives_its_table_3(
    foi: Foi, tmp_path: Path
) -> None:
    header = ["编号", "收文日期", "申请人类型", "申请人", "办结日期", "处理结果", "提交方式"]
    rows = [
        ["B-1", "2024年1月2日", "法律服务机构", "某律所", "2024年1月20日", "予以公开", "网上"],
        ["B-2", "2024.2.1", "商业企业", "某公司", str(to_serial(date(2024, 3, 1))), "本机关不掌握相关政府信息", "邮寄"],
        ["B-3", "45383", "自然人", "张三", "", "", "当面提交"],
        ["B-4", "2023-12-20", "个人", "李四", "2024/1/10", "其他处理（其他）", "传真"],
        ["B-5", "2024-03-01", "科研机构", "某研究所", "2024-03-20", "(三)6", "互联网"],
        ["B-6", "2023-12-25", "企业", "某商行", "—", "", "网上"],
    ]
    ledger = write_csv_ledger(tmp_path / "台账.csv", header, rows, trailing_blank_rows=2)
    foi.ok("ledger", "import", ledger)
    assert_same_table3(table3(foi, 2024), expected_table3(
        received=[1, 1, 1, 0, 1, 0],
        carried_in=[1, 1, 0, 0, 0, 0],
        granted=[0, 0, 0, 0, 1, 0],
        withheld__process_information=[0, 0, 1, 0, 0, 0],
        unavailable__not_held=[0, 1, 0, 0, 0, 0],
        other__other=[1, 0, 0, 0, 0, 0],
        handled_total=[1, 1, 1, 0, 1, 0],
        carried_out=[1, 1, 0, 0, 0, 0],
    ))  # fmt: skip
    assert_same_table3(table3(foi, 2023), expected_table3(received=[1, 1, 0, 0, 0, 0], carried_out=[1, 1, 0, 0, 0, 0]))
    assert json.loads(foi.ok("show", "B-3", "--format", "json"))["received_on"] == "2024-04-01"


def test_an_xlsx_ledger_with_group_headings_and_serial_dates_gives_its_table_3(foi: Foi, tmp_path: Path) -> None:
    header = ["登记号", "收到日期", "申请主体性质", "申请人", "告知日期", "收到日期", "延长天数", "办理结果",
              "答复时间"]
    rows = [
        ["C-1", to_serial(date(2024, 1, 9)), "商业企业", "甲公司", to_serial(date(2024, 1, 11)),
         to_serial(date(2024, 1, 19)), 5, "予以公开", to_serial(date(2024, 1, 29))],
        ["C-2", date(2024, 3, 4), "其他", "乙", None, None, None, "重复申请", date(2024, 3, 8)],
        [None] * 9,
        ["C-3", date(2024, 8, 1), "社会公益组织", "丙协会", None, None, 20, "无法提供（没有现成信息需要另行制作）",
         date(2024, 9, 20)],
        ["C-4", date(2024, 12, 30), "自然人", "丁", date(2024, 12, 31), None, None, None, None],
    ]  # fmt: skip
    ledger = write_xlsx_ledger(tmp_path / "c.xlsx", header, rows, titles=["2024年依申请公开台账"],
                               groups={"补正情况": (5, 6)}, trailing_blank_rows=3)  # fmt: skip
    foi.ok("ledger", "import", ledger)
    assert_same_table3(table3(foi, 2024), expected_table3(
        received=[1, 1, 0, 1, 0, 1],
        granted=[0, 1, 0, 0, 0, 0],
        unavailable__needs_creation=[0, 0, 0, 1, 0, 0],
        not_processed__duplicate=[0, 0, 0, 0, 0, 1],
        handled_total=[0, 1, 0, 1, 0, 1],
        carried_out=[1, 0, 0, 0, 0, 0],
    ))  # fmt: skip
    first = json.loads(foi.ok("show", "C-1", "--format", "json"))
    assert [(e["event"], e["on"]) for e in first["events"]] == [
        ("receive", "2024-01-09"), ("request_correction", "2024-01-11"), ("receive_correction", "2024-01-19"),
        ("extend", "2024-01-19"), ("decide", "2024-01-29"),
    ]  # fmt: skip
    assert json.loads(foi.ok("show", "C-4", "--format", "json"))["state"] == "correction_requested"


def test_a_gbk_csv_ledger_without_numbers_or_channels_gets_numbers_as_intake_gives_them(
    foi: Foi, tmp_path: Path
) -> None:
    header = ["申请时间", "申请人", "申请人身份", "申请事项", "答复日期", "答复类型"]
    rows = [
        ["2024-05-06", "钱七", "公民", "某文件", "2024-05-30", "公开"],
        ["2024-06-03", "孙八", "律师", "某卷宗", "2024-06-20", "部分公开"],
    ]
    ledger = write_csv_ledger(tmp_path / "gbk.csv", header, rows, encoding="gbk", titles=["2024年申请台账"])
    foi.ok("ledger", "import", ledger)
    assert_same_table3(table3(foi, 2024), expected_table3(
        received=[1, 0, 0, 0, 1, 0],
        granted=[1, 0, 0, 0, 0, 0],
        partially_granted=[0, 0, 0, 0, 1, 0],
        handled_total=[1, 0, 0, 0, 1, 0],
    ))  # fmt: skip
    listed = json.loads(foi.ok("list --format json"))
    assert sorted(c["id"] for c in listed) == ["2024-00001", "2024-00002"]
    assert {c["channel"] for c in listed} == {"online"}
    assert foi.ok("intake --applicant 周九 --applicant-type natural_person --channel post --request 某文件"
                  " --on 2024-07-01").strip() == "2024-00003"  # fmt: skip


def test_a_mapping_file_names_the_columns_and_wordings_the_keywords_do_not_know(foi: Foi, tmp_path: Path) -> None:
    header = ["案卷号", "登记时点", "来函单位性质", "来函单位", "办理意见", "办结日期"]
    rows = [
        ["M-1", date(2024, 2, 1), "自然人", "吴十", "准予提供", date(2024, 2, 10)],
        ["M-2", date(2024, 2, 2), "村集体", "某村", "不予提供（第三方权益）", date(2024, 2, 20)],
    ]
    ledger = write_xlsx_ledger(tmp_path / "m.xlsx", header, rows)
    refused = foi("ledger", "import", ledger)
    assert refused.exit_code == 1 and refused.stderr.startswith("错误[E-LEDGER]：前 20 行中找不到表头")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[columns]\n"收到日期" = "登记时点"\noutcome = "办理意见"\n'
        '[outcomes]\n"准予提供" = "granted"\n"不予提供（第三方权益）" = "保护第三方合法权益"\n'
        '[applicant_types]\n"村集体" = "其他"\n',
        encoding="utf-8",
    )
    foi.ok("ledger", "import", ledger, "--mapping", mapping)
    assert_same_table3(table3(foi, 2024), expected_table3(
        received=[1, 0, 0, 0, 0, 1],
        granted=[1, 0, 0, 0, 0, 0],
        withheld__third_party_rights=[0, 0, 0, 0, 0, 1],
        handled_total=[1, 0, 0, 0, 0, 1],
    ))  # fmt: skip


def test_a_dry_run_shows_the_cases_and_table_3_and_keeps_nothing(foi: Foi, tmp_path: Path) -> None:
    header = ["登记编号", "收到日期", "申请人", "申请人类型", "答复日期", "处理结果"]
    rows = [["D-1", "2024-03-01", "张三", "自然人", "2024-03-15", "予以公开"],
            ["D-2", "2024-03-02", "某公司", "商业企业", "", ""]]  # fmt: skip
    ledger = write_csv_ledger(tmp_path / "d.csv", header, rows)
    out = foi.ok("ledger", "import", ledger, "--dry-run")
    assert "将新建 2 件案件、3 条事件（试运行，未保存）" in out
    assert "第 2 行  D-1  张三（自然人）  收到 2024-03-01 → 答复 2024-03-15  [(一)]" in out
    assert "2024 年度表三（导入后将为）" in out
    assert "三、本年度办理结果 (一) 予以公开\t1\t0\t0\t0\t0\t0\t1" in out
    assert "四、结转下年度继续办理\t0\t1\t0\t0\t0\t0\t1" in out
    assert case_count(foi) == 0
    foi.ok("ledger", "import", ledger)  # the same file imports for real afterwards
    assert case_count(foi) == 2


def test_a_mapping_file_chooses_the_sheet_and_the_header_row(foi: Foi, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "说明"
    ws = wb.create_sheet("2024年台账")
    for r in range(1, 25):  # a long preamble: the header is past where it is looked for
        ws.cell(r, 1, f"填表说明第{r}条")
    for c, text in enumerate(["编号", "收到日期", "申请人类型", "答复日期", "处理结果"], start=1):
        ws.cell(25, c, text)
    for c, value in enumerate(["S-1", date(2024, 4, 1), "企业", date(2024, 4, 12), "予以公开"], start=1):
        ws.cell(26, c, value)
    ledger = tmp_path / "sheets.xlsx"
    wb.save(ledger)
    assert "找不到表头" in foi("ledger", "import", ledger).stderr
    mapping = tmp_path / "m.toml"
    mapping.write_text('sheet = "2024年台账"\nheader_row = 25\n', encoding="utf-8")
    assert "表头在第 25 行" in foi.ok("ledger", "import", ledger, "--mapping", mapping)
    assert_same_table3(table3(foi, 2024), expected_table3(
        received=[0, 1, 0, 0, 0, 0], granted=[0, 1, 0, 0, 0, 0], handled_total=[0, 1, 0, 0, 0, 0],
    ))  # fmt: skip


def test_a_mapping_file_that_does_not_fit_is_refused_before_anything_is_read(foi: Foi, tmp_path: Path) -> None:
    ledger = write_csv_ledger(tmp_path / "l.csv", ["收到日期", "申请人类型"], [["2024-03-01", "自然人"]])
    cases = {
        '[columns]\n"处理结果" = "办理结论"\n': ("E-LEDGER", "第 1 行表头中找不到：处理结果 = “办理结论”"),
        '[outcomes]\n"准予" = "approved"\n': ("E-CONFIG", "[outcomes] 中“准予” = “approved” 不是可识别的代码或名称"),
        '[columns]\n"是否按期" = "按期"\n': ("E-CONFIG", "[columns] 中的“是否按期”不是可导入的列"),
        'sheets = "x"\n': ("E-CONFIG", "不认识的设置 sheets"),
        "[columns\n": ("E-CONFIG", "不是有效的 TOML"),
    }
    for number, (text, (code, message)) in enumerate(cases.items()):
        mapping = tmp_path / f"m{number}.toml"
        mapping.write_text(text, encoding="utf-8")
        result = foi("ledger", "import", ledger, "--mapping", mapping)
        assert result.exit_code == 1 and result.stderr.startswith(f"错误[{code}]：") and message in result.stderr
    assert case_count(foi) == 0


def test_a_ledger_goes_to_the_agency_named_and_its_export_holds_only_that_agencys_cases(
    db_url: str, tmp_path: Path
) -> None:
    from tests.smtp_helpers import write_config

    foi = Foi(db_url, tmp_path, write_config(tmp_path, None))
    foi.ok("init")
    header = ["收到日期", "申请人类型", "申请人", "答复日期", "处理结果"]
    water = write_csv_ledger(tmp_path / "water.csv", header, [["2024-03-01", "企业", "某公司", "2024-03-08", "公开"]])
    own = write_csv_ledger(tmp_path / "own.csv", header, [["2024-03-02", "公民", "张三", "", ""]])
    foi.ok("ledger", "import", water, "--agency", "water")
    foi.ok("ledger", "import", own)
    shown = json.loads(foi.ok("show", "water-2024-00001", "--format", "json"))
    assert shown["applicant"] == "某公司"
    exported = foi.ok("ledger", "export", "2024", "--format", "csv", "--agency", "water")
    assert "water-2024-00001" in exported and "2024-00001,2024-03-02" not in exported
    assert "water-2024-00001" not in foi.ok("ledger", "export", "2024", "--format", "csv")
    assert foi("ledger", "import", own, "--agency", "nowhere").exit_code == 1
