"""`foi ledger import` of a year's ledger (CSV, the usual wordings: 2024/3/1 dates, 公民 / 企业,
予以公开 / 信息不存在 …) and `foi ledger export` of that year, on SQLite, whole processes; beside
`foi import` of the same cases' events as JSON Lines (`foi export` of the imported ledger),
measured in the same run. The ratio is what reading a spreadsheet costs over the event file.

Full size: 20,000 rows; quick mode: 2,000."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import Measurement

FOI = Path(sys.executable).parent / "foi"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
TYPES = ["公民", "个人", "企业", "某某有限公司", "律师事务所", "高校", "社会组织", "其他"]
RESULTS = ["予以公开", "同意公开", "部分公开", "信息不存在", "非本机关掌握", "不予公开（国家秘密）", "重复申请",
           "申请人撤回"]  # fmt: skip
HEADER = ["序号", "受理编号", "申请日期", "申请人姓名（名称）", "申请人类别", "申请方式", "申请公开内容",
          "补正通知日期", "补正收到日期", "延期天数", "答复日期", "答复结果", "承办人"]  # fmt: skip


def write_ledger(path: Path, rows: int, seed: int = 20240301) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["某某局2024年政府信息公开申请登记台账"])
        out.writerow(HEADER)
        for n in range(rows):
            received = date(2024, 1, 2) + timedelta(days=rng.randrange(300))
            corrected = rng.random() < 0.2
            asked, got = received + timedelta(days=2), received + timedelta(days=9)
            decided = (got if corrected else received) + timedelta(days=rng.randrange(1, 20))
            out.writerow([
                n + 1, f"2024-{n:06d}", f"{received.year}/{received.month}/{received.day}", f"申请人{n % 977}",
                rng.choice(TYPES), rng.choice(["网上申请", "信函", "当面提交"]), "申请公开某项政府信息",
                asked.isoformat() if corrected else "", got.isoformat() if corrected else "",
                rng.choice(["", "", "", "10"]), f"{decided.year}年{decided.month}月{decided.day}日",
                rng.choice(RESULTS), "张敏",
            ])  # fmt: skip


def _foi(folder: Path, db: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(FOI), "--db", f"sqlite:///{folder / db}", *args], cwd=folder, env=ENV, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def run(quick: bool) -> list[Measurement]:
    rows = 2_000 if quick else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_ledger(folder / "ledger.csv", rows)
        for db in ("ledger.db", "events.db"):
            _foi(folder, db, "init")
        ledger_s = _foi(folder, "ledger.db", "ledger", "import", "ledger.csv")
        _foi(folder, "ledger.db", "export", "--out", "events.jsonl")
        events_s = _foi(folder, "events.db", "import", "events.jsonl", "--workers", "1")
        export_s = _foi(folder, "ledger.db", "ledger", "export", "2024", "--out", "out.xlsx")
        csv_s = _foi(folder, "ledger.db", "ledger", "export", "2024", "--out", "out.csv")
    return [
        Measurement(f"foi ledger import, {rows:,} rows (CSV)", rows / ledger_s, "rows/s",
                    "foi import of the same cases' events (JSON Lines, 1 process)", rows / events_s),
        Measurement(f"foi ledger export 2024, {rows:,} rows (xlsx)", rows / export_s, "rows/s",
                    "the same as CSV", rows / csv_s),
    ]  # fmt: skip
