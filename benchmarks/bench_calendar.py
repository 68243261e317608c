"""The working-day calendar: `add_working_days` against a naive day-by-day loop over the same
calendar (same run), and the cost of loading the calendar (done once per CLI process)."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from benchmarks.common import Measurement, best_of
from foi_workflow.domain.calendar import WorkCalendar
from foi_workflow.domain.clock import ClockEvent, ClockSettings, compute_deadlines

TARGET_CALLS = 500_000


def _naive_add(cal: WorkCalendar, start: date, n: int) -> date:
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            left -= 1
    return day


def run(quick: bool) -> list[Measurement]:
    load_seconds = best_of(3 if quick else 10, lambda: WorkCalendar.load(None))
    cal = WorkCalendar.load(None)
    rng = random.Random(20240301)
    starts = [date(2023, 1, 1) + timedelta(days=rng.randrange(4 * 365)) for _ in range(1_000)]
    rounds = 100 if quick else 500
    calls = len(starts) * rounds

    def product() -> None:
        add = cal.add_working_days
        for _ in range(rounds):
            for s in starts:
                add(s, 20)

    def baseline() -> None:
        for s in starts:
            _naive_add(cal, s, 20)

    for s in starts[:200]:  # same answers, or the comparison means nothing
        assert cal.add_working_days(s, 20) == _naive_add(cal, s, 20)
    fast = calls / best_of(3, product)
    cpu_start = time.process_time()
    product()
    cpu = calls / max(time.process_time() - cpu_start, 1e-9)  # robust to other load on the machine
    naive = len(starts) / best_of(3, baseline)

    # A whole history folded by the clock (receive, consult, reply, extend, decide).
    history = [
        ClockEvent("receive", date(2024, 2, 1)),
        ClockEvent("consult", date(2024, 2, 6), {"party": "某公司"}),
        ClockEvent("consultation_reply", date(2024, 2, 26), {"opinion": "agree"}),
        ClockEvent("extend", date(2024, 3, 1), {"days": 10, "approved_by": "负责人"}),
        ClockEvent("decide", date(2024, 3, 20), {"outcome": "granted"}),
    ]
    settings = ClockSettings()
    folds = 2_000 if quick else 10_000
    fold_s = best_of(3, lambda: [compute_deadlines(history, cal, settings, explain=False) for _ in range(folds)])
    explain_s = best_of(3, lambda: [compute_deadlines(history, cal, settings) for _ in range(folds // 10)])

    return [
        Measurement(
            "add_working_days, 20-day spans",
            fast,
            "calls/s",
            baseline_name="naive day-by-day loop",
            baseline_value=naive,
            target=f">= {TARGET_CALLS:,} calls/s",
            met=fast >= TARGET_CALLS,
            note=f"wall clock; by CPU time {cpu:,.0f} calls/s",
        ),
        Measurement(
            "WorkCalendar.load (2004–2099, chinese-calendar already imported)",
            load_seconds * 1000,
            "ms",
            target="<= 50 ms",
            met=load_seconds <= 0.05,
        ),
        Measurement(
            "clock fold, 5-event history, no explanation",
            folds * len(history) / fold_s,
            "events/s",
        ),
        Measurement(
            "clock fold, 5-event history, with explanation",
            (folds // 10) * len(history) / explain_s,
            "events/s",
        ),
    ]


if __name__ == "__main__":
    started = time.perf_counter()
    for m in run(quick=True):
        ratio = f" ratio {m.ratio:.0f}x vs {m.baseline_name} ({m.baseline_value:,.0f})" if m.ratio else ""
        print(f"{m.name}: {m.value:,.1f} {m.unit}{ratio} target {m.target or '-'} met={m.met} {m.note}")
    print(f"({time.perf_counter() - started:.1f} s)")
