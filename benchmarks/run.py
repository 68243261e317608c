"""Run every benchmark module (`benchmarks/bench_*.py`) and write `benchmarks/RESULTS.md`.

    .venv/bin/python benchmarks/run.py --quick        # CI-sized, a minute or two
    .venv/bin/python benchmarks/run.py                # full sizes, by hand
    .venv/bin/python benchmarks/run.py --only calendar

Each module's `run(quick)` returns `Measurement`s that compare the product with a baseline
measured in the same run, so the ratios mean something on a noisy machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import Measurement  # noqa: E402


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.system()} {platform.release()} {platform.machine()}, {cpu}, "
        f"{os.cpu_count()} cores, {memory}",
        f"- python: {platform.python_version()}",
    ]


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def merge_sections(old: str, new: list[str], names: list[str]) -> list[str]:
    """Keep the sections of modules not run this time; replace the ones that were."""
    kept = {}
    for chunk in old.split("\n### ")[1:]:
        kept[chunk.split(" ", 1)[0].strip()] = "### " + chunk.rstrip("\n") + "\n"
    fresh = {name: section for name, section in zip(names, new, strict=True)}
    merged = {**kept, **fresh}
    return [merged[name] for name in sorted(merged)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI-sized runs")
    parser.add_argument("--only", action="append", default=[], help="run only bench_<NAME>.py (repeatable)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only]
    sections: list[str] = []
    failed = 0
    for name in names:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            results: list[Measurement] = module.run(args.quick)
        except Exception:
            failed += 1
            traceback.print_exc()
            sections.append(f"### {name}\n\nfailed: see the run's output.\n")
            continue
        rows = [
            "| measurement | value | baseline (same run) | ratio | target | met |",
            "|---|---|---|---|---|---|",
        ]
        for m in results:
            baseline = f"{m.baseline_name}: {fmt(m.baseline_value)}" if m.baseline_name else ""
            met = "" if m.met is None else ("yes" if m.met else "**no**")
            rows.append(f"| {m.name} | {fmt(m.value)} {m.unit} | {baseline} | {fmt(m.ratio)} | {m.target} | {met} |")
            print(f"   {m.name}: {fmt(m.value)} {m.unit}  ratio {fmt(m.ratio)}  {m.note}", flush=True)
        notes = [f"- {m.name}: {m.note}" for m in results if m.note]
        took = time.perf_counter() - start
        sections.append(
            f"### {name} ({took:.0f} s)\n\n"
            + "\n".join(rows)
            + "\n"
            + ("\n" + "\n".join(notes) + "\n" if notes else "")
        )
    out = Path(args.out)
    if args.only and out.exists():
        sections = merge_sections(out.read_text(encoding="utf-8"), sections, names)
    mode = "quick" if args.quick else "full"
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            "Written by `benchmarks/run.py`. Each section names the run it came from; every ratio",
            "compares the product with a baseline measured in that same run.",
            "",
            f"Last run ({mode}" + (f", only {', '.join(args.only)}" if args.only else "") + "):",
            *machine(),
            "",
            *sections,
        ]
    )
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
