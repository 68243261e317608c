"""What a caseworker's first week found rough (issue: usage errors in English, help pages,
global options, config mistakes, the case list), end to end through the console entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import intake, usage_error
from tests.conftest import Foi


def _usage_line(foi: Foi, args: str) -> str:
    result = usage_error(foi, args)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误[E-USAGE]："), result.stderr
    return lines[0]


# --------------------------------------------------------------------------- usage errors


def test_a_missing_option_is_named_with_what_it_is_for(foi: Foi) -> None:
    line = _usage_line(foi, "intake --applicant 张三 --channel online --request x")
    assert "缺少必填的选项 --applicant-type（申请人类型）" in line and "foi intake --help" in line


def test_a_value_not_among_the_choices_lists_the_choices(foi: Foi) -> None:
    line = _usage_line(foi, "list --state x")
    assert "选项 --state 的值 'x' 无效" in line and "correction_requested" in line


def test_a_mistyped_command_is_answered_with_the_command_meant(foi: Foi) -> None:
    assert "没有命令 lis，是否指 list" in _usage_line(foi, "lis")
    assert "是否指 file" in _usage_line(foi, "appeal fil")


def test_a_hidden_command_is_never_offered_nor_named(foi: Foi) -> None:
    assert "render" not in _usage_line(foi, "report --hel")
    line = _usage_line(foi, "report 2024 --fomat md")
    assert "是否指 --format" in line and "foi report --help" in line and "render" not in line


def test_a_number_where_a_number_belongs_and_a_range(foi: Foi) -> None:
    assert "选项 --days 应为整数，而不是 'many'" in _usage_line(foi, "extend X --days many --approved-by 赵")
    assert "不小于 0" in _usage_line(foi, "list --due-within -1")


def test_extra_arguments_and_a_missing_value_are_said_in_chinese(foi: Foi) -> None:
    assert "多余的参数：Y" in _usage_line(foi, "decide X Y --outcome granted")
    assert "选项 --days 后须给出值" in _usage_line(foi, "extend X --days")


def test_a_group_alone_prints_its_help(foi: Foi) -> None:
    result = foi("appeal")
    assert result.exit_code == 0 and result.stdout.startswith("用法：foi appeal") and "file" in result.stdout


# --------------------------------------------------------------------------- help pages


def test_help_pages_are_in_chinese_with_one_option_order(foi: Foi) -> None:
    out = foi.ok("intake --help")
    assert "选项：" in out and "[必填]" in out and "显示本帮助并退出" in out
    options = ("--applicant ", "--agency", "--on", "--by", "--notice", "-h")
    order = [re.search(rf"^  {opt}\b", out, re.M) for opt in options]
    assert all(order) and [m.start() for m in order if m] == sorted(m.start() for m in order if m)
    notice = foi.ok("notice --help")
    assert notice.index("--on") < notice.index("--amend-closed-year") < notice.index("--format") < notice.index("--out")


def test_usage_lines_never_break_a_word(foi: Foi) -> None:
    out = foi.ok("notice --help")
    usage = out.split("\n\n")[0]
    assert usage == "用法：foi notice [OPTIONS] ID KIND"
    assert "extension" in out  # the kinds are listed whole in the help text
    out = foi.ok("calendar add-working-days --help")
    assert out.startswith("用法：foi calendar add-working-days [OPTIONS] DATE N\n")


def test_the_report_help_speaks_of_the_command_as_typed(foi: Foi) -> None:
    out = foi.ok("report 2024 --help")
    assert out.startswith("用法：foi report [OPTIONS] YEAR") and "render" not in out


# --------------------------------------------------------------------------- global options


def test_global_options_are_accepted_after_the_subcommand(foi: Foi, tmp_path: Path) -> None:
    case = intake(foi, "2024-03-01")
    other = tmp_path / "other.db"
    head = Foi(f"sqlite:///{other}", tmp_path)
    head.ok("init")
    # `Foi` puts its own --db first; the one after the subcommand wins, as typed last.
    assert case in foi.ok("list")
    assert case not in foi.ok("list", "--db", f"sqlite:///{other}")
    assert case not in foi.ok("list", f"--db=sqlite:///{other}")


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_config_file_is_taken_before_or_after_the_subcommand(foi: Foi, tmp_path: Path, where: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('default_agency = "nosuch"\n[agencies.a]\nname = "某局"\n', encoding="utf-8")
    args = ["--config", str(config), "list"] if where == "before" else ["list", "--config", str(config)]
    result = foi(*args)
    assert result.exit_code == 1 and result.stderr.startswith("错误[E-CONFIG]：")


# --------------------------------------------------------------------------- configuration


def _config_refusal(foi: Foi, tmp_path: Path, text: str, *args: str) -> str:
    config = tmp_path / "foi.toml"
    config.write_text(text, encoding="utf-8")
    result = foi("--config", str(config), *(args or ("list",)))
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误[E-CONFIG]：") and str(config) in lines[0], result.stderr
    return lines[0]


def test_an_unknown_key_in_the_config_is_named_with_its_table_and_file(foi: Foi, tmp_path: Path) -> None:
    assert "reply_dyas" in _config_refusal(foi, tmp_path, "reply_dyas = 3\n")
    line = _config_refusal(foi, tmp_path, '[agencies.a]\nname = "某局"\nnmae = "x"\n')
    assert "[agencies.a]" in line and "nmae" in line


def test_an_unknown_default_agency_is_refused(foi: Foi, tmp_path: Path) -> None:
    line = _config_refusal(foi, tmp_path, 'default_agency = "nosuch"\n[agencies.a]\nname = "某局"\n')
    assert "default_agency" in line and "nosuch" in line and "a" in line


def test_a_word_where_a_number_belongs_is_refused_naming_the_key(foi: Foi, tmp_path: Path) -> None:
    line = _config_refusal(foi, tmp_path, '[workflow]\ncorrection_period_days = "十五"\n')
    assert "[workflow] correction_period_days 应为整数" in line
    assert "[smtp] port 应为整数" in _config_refusal(foi, tmp_path, '[smtp]\nport = "x"\n')


def test_listing_an_agency_the_config_does_not_know_is_refused(foi: Foi) -> None:
    result = foi("list --agency nosuch")
    assert result.exit_code == 1 and result.stderr.startswith("错误[E-CONFIG]：") and "nosuch" in result.stderr
    assert "config/foi.toml" in result.stderr


def test_without_an_agency_config_init_and_events_say_letters_carry_placeholders(foi: Foi, tmp_path: Path) -> None:
    result = foi("init")
    assert result.exit_code == 0 and "占位" in result.stderr
    result = foi("intake --applicant 张三 --applicant-type natural_person --channel online --request x --on 2024-03-01")
    assert "占位" in result.stderr
    config = tmp_path / "own.toml"
    config.write_text('[agencies.a]\nname = "乐清市某局"\n', encoding="utf-8")
    own = Foi(foi.db_url, tmp_path, config)
    assert "占位" not in own("init").stderr


# --------------------------------------------------------------------------- intake and list


def test_intake_prints_the_id_and_the_reply_due_date(foi: Foi) -> None:
    result = foi("intake --applicant 张三 --applicant-type natural_person --channel online --request x --on 2024-03-01")
    assert result.stdout.strip() == "2024-00001"  # alone on stdout, for scripts
    assert "答复期限 2024-03-29" in result.stderr


def _list(foi: Foi, *args: str) -> list[dict[str, Any]]:
    rows = json.loads(foi.ok("list", "--format", "json", *args))
    assert isinstance(rows, list)
    return rows


def test_the_list_shows_the_end_of_whichever_period_runs(foi: Foi) -> None:
    reply = intake(foi, "2024-03-01")
    correction = intake(foi, "2024-03-01")
    foi.ok(f"request-correction {correction} --items 请明确时间范围 --on 2024-03-04")
    fee = intake(foi, "2024-03-01")
    foi.ok(f"fee-notice {fee} --basis per_page --quantity 150 --on 2024-03-04")
    consulted = intake(foi, "2024-03-01")
    foi.ok(f"consult {consulted} --party 某公司 --on 2024-03-04")
    rows = {r["id"]: r for r in _list(foi)}
    assert rows[reply]["due_kind"] == "reply_due" and rows[reply]["due"] == "2024-03-29"
    assert rows[correction]["due_kind"] == "correction_due"
    assert rows[correction]["due"] == rows[correction]["correction_due"]
    assert rows[fee]["due_kind"] == "fee_due" and rows[fee]["due"] == rows[fee]["fee_due"]
    assert rows[consulted]["due_kind"] == "consultation_due"
    table = foi.ok("list")
    assert "补正期限" in table and "缴费期限" in table and "征求意见期限" in table and "已逾期" in table


def test_the_list_gives_the_outcome_short_and_the_caseworker_by_name(foi: Foi, tmp_path: Path) -> None:
    config = tmp_path / "own.toml"
    config.write_text('[agencies.default]\nname = "某局"\n[caseworkers.wang]\nname = "王五"\n', encoding="utf-8")
    own = Foi(foi.db_url, tmp_path, config)
    case = intake(own, "2024-03-01", extra="--by wang")
    own.ok(f"decide {case} --outcome unavailable.not_held --on 2024-03-05")
    row = _list(own)[0]
    assert row["caseworker_name"] == "王五" and row["outcome_short"] == "无法提供·本机关不掌握"
    table = own.ok("list")
    assert "王五" in table and "无法提供·本机关不掌握" in table


def test_the_list_filters_by_caseworker_and_by_applicant(foi: Foi, tmp_path: Path) -> None:
    config = tmp_path / "own.toml"
    config.write_text('[agencies.default]\nname = "某局"\n[caseworkers.wang]\nname = "王五"\n', encoding="utf-8")
    own = Foi(foi.db_url, tmp_path, config)
    mine = intake(own, "2024-03-01", extra="--by wang")
    other = own.ok("intake --applicant 李四有限公司 --applicant-type commercial --channel online --request x "
                   "--on 2024-03-01 --by zhao").strip()
    assert [r["id"] for r in _list(own, "--caseworker", "王五")] == [mine]
    assert [r["id"] for r in _list(own, "--caseworker", "wang")] == [mine]
    assert [r["id"] for r in _list(own, "--applicant", "李四")] == [other]
    assert _list(own, "--applicant", "%") == []  # a wildcard is a character like any other


def test_due_within_keeps_the_overdue_cases_apart(foi: Foi) -> None:
    overdue = intake(foi, "2024-03-01")  # its reply was due 2024-03-29, long past
    assert [r["id"] for r in _list(foi, "--overdue")] == [overdue]
    assert _list(foi, "--due-within", "5") == []


# --------------------------------------------------------------------------- report


def test_the_report_writes_years_and_dates_as_an_official_report_does(foi: Foi) -> None:
    intake(foi, "2024-03-01")
    md = foi.ok("report 2024 --as-of 2025-01-15")
    assert md.splitlines()[0] == "# 某某市某某局2024年政府信息公开工作年度报告"
    assert "截至2025年1月15日，已超过答复期限仍未办结1件" in md
    assert not re.search(r"\d 年|截至 ?\d{4}-", md)


def test_the_report_xlsx_holds_numbers_as_numbers_and_the_agency_code(foi: Foi, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    case = intake(foi, "2024-03-01")
    foi.ok(f"decide {case} --outcome granted --on 2024-03-05")
    foi.ok("report 2024 --format xlsx --as-of 2025-01-15")
    book = load_workbook(tmp_path / "年度报告-2024.xlsx")
    info = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows()}
    assert info["机关代码"] == "default"
    timeliness = {row[0].value: row[1] for row in book.worksheets[-1].iter_rows() if row and row[0].value}
    rate = timeliness["按期答复率"]
    assert rate.value == 1.0 and rate.number_format == "0.0%"
    assert timeliness["答复工作日数中位数"].value == 2
    assert "截至2025年1月15日超期未办结" in timeliness


def test_a_year_without_any_data_is_reported_with_a_warning(foi: Foi) -> None:
    result = foi("report 2019")
    assert result.exit_code == 0 and "2019年没有任何申请" in result.stderr
    intake(foi, "2024-03-01")
    assert "没有任何申请" not in foi("report 2024").stderr


def test_a_pdf_report_without_out_gets_a_default_file_name(foi: Foi, tmp_path: Path) -> None:
    intake(foi, "2024-03-01")
    result = foi("report 2024 --format pdf")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "年度报告-2024.pdf").read_bytes().startswith(b"%PDF")
    assert "年度报告-2024.pdf" in result.stderr


# --------------------------------------------------------------------------- README and docs

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_and_docs_show_case_ids_as_intake_makes_them(foi: Foi) -> None:
    made = intake(foi, "2024-03-01")
    assert re.fullmatch(r"2024-\d{5}", made)
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in texts:
        for case_id in re.findall(r"(?<![\d-])20\d\d-\d+(?![\d-])", path.read_text(encoding="utf-8")):
            assert re.fullmatch(r"20\d\d-\d{5}", case_id), f"{path.name}: {case_id}"


def test_the_readme_says_how_to_reach_foi_after_install() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in readme and ".venv/bin/foi" in readme
