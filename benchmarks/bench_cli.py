"""Whole-process start-up of the `foi` command: `foi --help` and `foi show ID`, each the best
of several runs with `subprocess`, beside `python -c pass` (the interpreter alone) measured in
the same run."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Measurement

ROOT = Path(__file__).resolve().parents[1]
FOI = Path(sys.executable).parent / "foi"
EXAMPLE = ROOT / "tests" / "fixtures" / "events-small.jsonl"
# As installed: byte-compiled modules (a development shell may set PYTHONDONTWRITEBYTECODE).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
HELP_TARGET = 0.150
SHOW_TARGET = 0.500


def _best(argv: list[str], repeats: int, cwd: Path) -> tuple[float, float]:
    """The best wall-clock time and the best CPU time (user + system) of the child process; the
    CPU time is what the command costs even on a busy machine."""
    best = best_cpu = float("inf")
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True)  # warm-up: caches, bytecode
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_cpu = min(best_cpu, cpu)
    return best, best_cpu


def _sample_database(folder: Path) -> tuple[list[str], str]:
    """A database holding the example events; the command prefix and a case id in it."""
    base = [str(FOI), "--db", f"sqlite:///{folder / 'foi.db'}"]
    subprocess.run([*base, "init"], cwd=folder, check=True, capture_output=True)
    subprocess.run([*base, "import", str(EXAMPLE)], cwd=folder, check=True, capture_output=True)
    listed = subprocess.run([*base, "list", "--format", "json"], cwd=folder, check=True, capture_output=True)
    cases = json.loads(listed.stdout)
    # The case with the longest history: the most replay and explanation work.
    subprocess_cases = sorted(cases, key=lambda c: (c["state"] != "decided", c["id"]))
    return base, subprocess_cases[0]["id"]


def run(quick: bool) -> list[Measurement]:
    repeats = 5 if quick else 15
    with tempfile.TemporaryDirectory(prefix="foi-bench-cli-") as tmp:
        folder = Path(tmp)
        base, case_id = _sample_database(folder)
        baseline, baseline_cpu = _best([sys.executable, "-c", "pass"], repeats, folder)
        help_s, help_cpu = _best([str(FOI), "--help"], repeats, folder)
        show_s, show_cpu = _best([*base, "show", case_id], repeats, folder)
        json_s, json_cpu = _best([*base, "show", case_id, "--format", "json"], repeats, folder)
    note = f"best of {repeats}; "
    return [
        Measurement("foi --help, whole process", help_s, "s", "python -c pass", baseline, "< 0.150 s",
                    help_s < HELP_TARGET, note + f"CPU {help_cpu:.3f} s (baseline {baseline_cpu:.3f} s)"),
        Measurement(f"foi show {case_id}, whole process (SQLite, 60 cases)", show_s, "s", "python -c pass",
                    baseline, "< 0.500 s", show_s < SHOW_TARGET, note + f"CPU {show_cpu:.3f} s"),
        Measurement("foi show --format json, whole process", json_s, "s", "python -c pass", baseline,
                    "< 0.500 s", json_s < SHOW_TARGET, note + f"CPU {json_cpu:.3f} s"),
    ]  # fmt: skip


if __name__ == "__main__":
    for m in run(quick="--full" not in sys.argv):
        print(m)
