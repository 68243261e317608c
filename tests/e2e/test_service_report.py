"""The report's timeliness section judges replies by their service (SPEC §15, §5): on a
generated caseload with every kind of service history, its figures equal a count made here by
hand from what each case was built to be — never by the program's own rules."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.cli_helpers import CAL
from tests.conftest import Foi

YEAR = 2024


@dataclass
class Built:
    """One generated case: its lines, and the reply date that counts as built."""

    lines: list[dict[str, Any]]
    due: date
    replied_on: date
    served: bool


def _working_days(year: int) -> list[date]:
    day, out = date(year, 1, 2), []
    while day < date(year, 10, 31):
        if CAL.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def build_case(rng: random.Random, n: int, received: date) -> Built:
    case_id = f"SV-{n:04d}"
    due = CAL.add_working_days(received, 20)  # nothing pauses these cases' clocks
    decided = CAL.add_working_days(received, rng.randint(5, 22))
    lines: list[dict[str, Any]] = [
        {"case": case_id, "event": "receive", "on": received.isoformat(), "applicant": "张三",
         "applicant_type": "natural_person", "channel": "online", "request": "某文件",
         **({"e_service": "zs@example.cn"} if n % 5 == 0 else {})},
        {"case": case_id, "event": "decide", "on": decided.isoformat(), "outcome": "granted"},
    ]  # fmt: skip
    letter = f"示公开〔{YEAR}〕第{n}号"

    def add(event: str, on: date, **data: Any) -> None:
        lines.append({"case": case_id, "event": event, "on": on.isoformat(), "letter": letter, **data})

    story = rng.choice(("none", "post", "post_recorded_later", "in_person", "in_person_unsigned", "returned",
                        "returned_and_posted_again", "electronic"))  # fmt: skip
    sent = CAL.add_working_days(decided, rng.choice((0, 0, 1, 2, 3)))
    replied, served = decided, False
    if story == "post":
        add("serve", sent, method="post", kind="decision")
        add("delivered", sent + timedelta(days=rng.randint(1, 6)))
        replied, served = sent, True
    elif story == "post_recorded_later":  # posted on `sent`, recorded days later: the posting counts
        add("serve", sent + timedelta(days=3), method="post", kind="decision", sent_on=sent.isoformat())
        replied, served = sent, True
    elif story == "in_person":
        signed = sent + timedelta(days=rng.randint(0, 3))
        add("serve", sent, method="in_person", kind="decision")
        add("delivered", signed)
        replied, served = signed, True
    elif story == "in_person_unsigned":
        add("serve", sent, method="delegated", kind="decision")
    elif story == "returned":
        add("serve", sent, method="post", kind="decision")
        add("returned", sent + timedelta(days=7), reason="地址不详")
    elif story == "returned_and_posted_again":
        again = sent + timedelta(days=9)
        add("serve", sent, method="post", kind="decision")
        add("returned", sent + timedelta(days=7), reason="收件人拒收")
        add("serve", again, method="post", kind="decision")
        replied, served = again, True
    elif story == "electronic" and n % 5 == 0:  # only with the consent recorded at intake
        add("serve", sent, method="electronic", kind="decision")
        add("delivered", sent)
        replied, served = sent, True
    return Built(lines, due, replied, served)


def test_the_reports_timeliness_figures_equal_a_hand_count_of_service(foi: Foi, tmp_path: Path) -> None:
    rng = random.Random(2015)
    days = _working_days(YEAR)
    built = [build_case(rng, n, rng.choice(days)) for n in range(1, 161)]
    file = tmp_path / "served.jsonl"
    file.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for b in built for line in b.lines),
                    encoding="utf-8")  # fmt: skip
    foi.ok("import", file)

    decided = len(built)
    served = sum(b.served for b in built)
    on_time = sum(b.replied_on <= b.due for b in built)
    late = decided - on_time
    # The caseload really mixes the cases the rule tells apart.
    assert 0 < served < decided and 0 < late < decided
    assert any(b.served and b.replied_on > b.due >= date.fromisoformat(b.lines[1]["on"]) for b in built)

    report = foi.ok("report", str(YEAR), "--format", "md")
    assert f"本年办结{decided}件，其中按期答复{on_time}件" in report
    assert f"答复日期以送达记录为准的{served}件，未记录送达（以决定日期计）的{decided - served}件" in report
    assert re.search(rf"本年超期答复{late}件", report)
    unserved = json.loads(foi.ok("list", "--unserved", "--format", "json"))
    assert sorted(r["id"] for r in unserved) == sorted(b.lines[0]["case"] for b in built if not b.served)
