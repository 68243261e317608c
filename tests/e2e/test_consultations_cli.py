"""Several consultations from the command line and the sweep (SPEC §11): the scheduler gives
each party's reply of silence when that party's 15 working days end, and the reply clock
resumes only after the last one."""

from __future__ import annotations

import json

from tests.conftest import Foi
from tests.correction_helpers import intake, refused


def test_the_sweep_answers_each_silent_party_and_the_clock_resumes_after_the_last(foi: Foi) -> None:
    intake(foi, "C-1", "2024-03-01")
    foi.ok("consult C-1 --party 甲公司 --on 2024-03-05")  # ends 2024-03-26
    foi.ok("consult C-1 --party 乙局 --kind co_producer --on 2024-03-08")  # ends 2024-03-29
    refused(foi, "consultation-reply", "C-1", "--opinion", "agree", "--on", "2024-03-12", code="E-RULE")
    foi.ok("scheduler run --once --now 2024-03-27T09:00")
    case = json.loads(foi.ok("show C-1 --format json"))
    assert case["state"] == "consultation" and case["reply_due"] is None and case["consultation_due"] == "2024-03-29"
    silence = case["events"][-1]
    assert silence["data"] == {"opinion": "none", "party": "甲公司"} and silence["on"] == "2024-03-27"
    foi.ok("scheduler run --once --now 2024-04-01T09:00")
    case = json.loads(foi.ok("show C-1 --format json"))
    assert case["state"] == "received" and case["events"][-1]["on"] == "2024-03-30"
    # Paused after 5 March with 18 of 20 working days left: due 18 working days after the 30th.
    assert case["reply_due"] == foi.ok("calendar add-working-days 2024-03-30 18").strip()
