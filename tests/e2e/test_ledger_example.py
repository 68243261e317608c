"""The example ledger and mapping file in `examples/`, and the README's path for an agency
adopting mid-year: its commands run as written, and the example gives the table 3 worked out
by hand from its twelve rows."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

from tests.conftest import Foi
from tests.ledger_helpers import assert_same_table3, case_count, expected_table3, table3, write_csv_ledger

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#                     natural, commercial, research, social_org, legal_service, other
EXAMPLE_2024 = expected_table3(
    received=[6, 1, 1, 1, 1, 1],
    carried_in=[1, 0, 0, 0, 0, 0],  # row 4: received 2023-12-27
    granted=[3, 0, 0, 1, 0, 0],  # rows 4, 6, 14 (natural), 10 (social)
    partially_granted=[0, 1, 0, 0, 0, 0],
    withheld__enforcement_case_file=[0, 0, 0, 0, 1, 0],
    unavailable__not_held=[0, 0, 0, 0, 0, 1],
    unavailable__needs_creation=[0, 0, 1, 0, 0, 0],
    not_processed__petition_or_complaint=[1, 0, 0, 0, 0, 0],
    other__correction_lapsed=[1, 0, 0, 0, 0, 0],
    other__other=[1, 0, 0, 0, 0, 0],  # withdrawn
    handled_total=[6, 1, 1, 1, 1, 1],
    carried_out=[1, 0, 0, 0, 0, 0],  # row 15: no answer yet
)


def _with_examples(foi: Foi) -> Foi:
    shutil.copytree(ROOT / "examples", foi.cwd / "examples", ignore=shutil.ignore_patterns("yueqing*"))
    return foi


def test_the_readmes_mid_year_commands_run_and_the_example_gives_its_table_3(foi: Foi) -> None:
    section = README.split("## Adopting mid-year", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```console\n(.*?)```", section, flags=re.S)[0].strip().splitlines()
    assert commands[0].endswith("--dry-run")
    _with_examples(foi)
    outputs = [foi.ok(*shlex.split(command)[1:]) for command in commands]
    assert "将新建 12 件案件" in outputs[0] and "已新建 12 件案件" in outputs[1]
    assert "一、本年新收政府信息公开申请数量" in outputs[2]
    assert_same_table3(table3(foi, 2024), EXAMPLE_2024)
    assert (foi.cwd / "登记台账-2024.xlsx").is_file()


def test_the_example_mapping_file_reads_the_example_ledger_the_same_way(foi: Foi) -> None:
    _with_examples(foi)
    foi.ok("ledger", "import", "examples/ledger-2024.xlsx", "--mapping", "examples/ledger-mapping.toml")
    assert case_count(foi) == 12
    assert_same_table3(table3(foi, 2024), EXAMPLE_2024)


def test_a_ledger_imported_mid_year_goes_on_with_the_commands(foi: Foi) -> None:
    _with_examples(foi)
    foi.ok("ledger", "import", "examples/ledger-2024.xlsx")
    foi.ok("decide 2024-012 --outcome granted --on 2025-01-10")
    foi.ok("year close 2024 --on 2025-01-15")
    assert_same_table3(table3(foi, 2024), EXAMPLE_2024)
    again = foi("ledger", "import", "examples/ledger-2024.xlsx")
    assert again.exit_code == 1 and "已存在（E-EXISTS）" in again.stderr
    late = write_csv_ledger(foi.cwd / "late.csv", ["登记编号", "收到日期", "申请人类型", "答复日期", "处理结果"],
                            [["2024-100", "2024-12-30", "企业", "2025-01-08", "予以公开"]])  # fmt: skip
    closed = foi("ledger", "import", late)
    assert closed.exit_code == 1 and closed.stderr.startswith(
        "错误[E-LEDGER]：第 2 行 收到日期（B列）“2024-12-30”："
        '2024 年度已结转封存；如确需补录，请加 --amend-closed-year "理由"'
    )  # fmt: skip
    foi.ok("ledger", "import", late, "--amend-closed-year", "补录年底漏登的申请")
    assert table3(foi, 2024)["received"][-1] == 12
