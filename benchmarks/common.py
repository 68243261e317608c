"""The protocol every benchmark module follows, so `benchmarks/run.py` can run them all.

A module `benchmarks/bench_<area>.py` defines `run(quick: bool) -> list[Measurement]`.
Each measurement compares the product against a baseline measured in the same run (a
ratio), since these machines are noisy; `target` says what the issue asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    name: str  # what was measured, e.g. "add_working_days, 20-day spans"
    value: float  # the product's figure
    unit: str  # e.g. "calls/s", "s", "events/s"
    baseline_name: str = ""  # what it is compared with, measured in the same run
    baseline_value: float | None = None
    target: str = ""  # the target, e.g. ">= 500,000 calls/s"
    met: bool | None = None  # whether the target holds
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0):
            return None
        return self.value / self.baseline_value  # type: ignore[operator]


def best_of_interleaved(repeats: int, *funcs: Callable[[], object]) -> list[float]:
    """The fastest of `repeats` timings of each of `funcs`, run in turn round by round, so that
    a machine slowing down or speeding up meanwhile weighs on each alike (for a ratio)."""
    best = [float("inf")] * len(funcs)
    for _ in range(repeats):
        for i, func in enumerate(funcs):
            start = time.perf_counter()
            func()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def best_of(repeats: int, func: Callable[[], object]) -> float:
    """The fastest of `repeats` wall-clock timings of `func()`, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best
