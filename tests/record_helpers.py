"""A database with a whole record (letters, a reissue, an amended closed-year letter, appeals,
two closed years) and what must survive moving it: the export, every year's register and
report, every case as `foi show` prints it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import FIXTURES, Foi

CLOSED_YEARS = (2023, 2024)


def populate_record(foi: Foi) -> None:
    """The example events; letters of several kinds, one reissued, one void (its event voided);
    appeals; 2023 and 2024 closed, with a letter and an event added to 2023 afterwards by amendment."""
    foi.ok("import", str(FIXTURES / "events-small.jsonl"))
    foi.ok("notice HX-2023-00015 acknowledgement")
    foi.ok("notice HX-2023-00015 decision")
    foi.ok("notice HX-2023-00015 decision --reissue --reason 收件地址有误")
    foi.ok("notice HX-2024-00027 extension")
    foi.ok("notice HX-2024-00027 correction")
    case = foi.ok("intake --applicant 某公司 --applicant-type commercial --channel post --request 某文件"
                  " --on 2024-11-04 --notice").splitlines()[0]  # fmt: skip
    foi.ok(f"decide {case} --outcome granted --on 2024-11-19 --notice")
    foi.ok(f"void {case} 2 --reason 办理结果录错")  # its decision letter becomes 作废
    foi.ok(f"decide {case} --outcome withheld.third_party_rights --note 涉及商业秘密 --on 2024-11-20 --notice")
    appeal = foi.ok(f"appeal file --kind litigation_after_review --case {case} --on 2024-12-02").strip()
    foi.ok(f"appeal conclude {appeal} --result corrected --on 2025-03-03")
    for year in CLOSED_YEARS:
        foi.ok(f"year close {year} --on {year + 1}-01-06")
    foi.ok("notice HX-2023-00021 acknowledgement --amend-closed-year 补发回执")
    foi.ok(f"notice {case} decision --reprint")


def case_ids(exported: str) -> list[str]:
    return sorted({json.loads(line)["case"] for line in exported.splitlines() if '"event"' in line
                   and "appeal" not in json.loads(line)})  # fmt: skip


def record_snapshot(foi: Foi) -> dict[str, Any]:
    """What must be the same after a move: the export itself, the register of every year (all
    formats but the workbook), the report of every year, and every case as shown."""
    exported = foi.ok("export")
    years = sorted({int(json.loads(line)["on"][:4]) for line in exported.splitlines()})
    return {
        "export": exported,
        "register": {(y, fmt): foi.ok(f"register {y} --format {fmt}") for y in years for fmt in ("md", "csv", "json")},
        "report": {y: foi.ok(f"report {y} --format json") for y in years},
        "show": {case: foi.ok("show", case) for case in case_ids(exported)},
    }


def letter_table(db_url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The counter rows and the letter rows, as stored."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        query = "SELECT agency, name, value FROM counter WHERE name LIKE 'notice:%' ORDER BY 1, 2"
        counters = [tuple(r) for r in conn.execute(text(query))]
        query = "SELECT id, number, seq, status, case_id, kind, answers, dated FROM notice ORDER BY id"
        letters = [tuple(str(v) for v in r) for r in conn.execute(text(query))]  # dates: text on SQLite
    engine.dispose()
    return counters, letters
