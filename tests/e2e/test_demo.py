"""The quick start's main job: `foi demo` builds everything it announces, the report
balances, and the scheduler's reminders reached the loopback SMTP server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest

FOI = str(Path(sys.executable).parent / "foi")


@pytest.mark.slow
def test_foi_demo_writes_every_file_it_announces(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    done = subprocess.run(
        [FOI, "demo", "--dir", str(folder), "--year", "2025"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    announced = [Path(m) for m in re.findall(r"^  [^:]+: (/.+)$", done.stdout, flags=re.M)]
    assert len(announced) >= 12
    for path in announced:
        assert path.exists(), path
        if path.is_file():
            assert path.stat().st_size > 0, path
    assert "年报表三平衡" in done.stdout

    report = json.loads((folder / "report" / "2025-annual-report.json").read_text(encoding="utf-8"))
    assert report["balanced"] is True
    rows = report["table3"]["rows"]
    assert rows["received"][-1] == 240
    assert rows["other.correction_lapsed"][-1] > 0, "the scheduler lapsed unanswered corrections"
    for kind in ("review", "litigation_direct", "litigation_after_review"):
        assert len(report["table4"][kind]) == 5

    mails = sorted((folder / "mail").glob("*.eml"))
    assert mails, "reminders were delivered to the demo's SMTP server"
    first = message_from_bytes(mails[0].read_bytes(), policy=policy.default)
    assert first["To"].endswith("demo.example.gov.cn")
    assert any(re.search(r"\d{4}年\d{1,2}月\d{1,2}日", str(message_from_bytes(m.read_bytes(), policy=policy.default)
               .get_body(preferencelist=("plain",)).get_content())) for m in mails[:20])  # fmt: skip

    for pdf in folder.glob("**/*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF")

    # Letters in DOCX too, numbered in the order of their dates (the register reads in order).
    assert list((folder / "notices").glob("*.docx"))
    register = subprocess.run(
        [FOI, "--config", str(folder / "foi.toml"), "register", "2025", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    letters = json.loads(register.stdout)
    numbers = [int(re.findall(r"(\d+)号", letter["number"])[0]) for letter in letters]
    dates = [letter["on"] for letter in letters]
    assert [d for _, d in sorted(zip(numbers, dates, strict=True))] == sorted(dates)

    # One progress bar per stage, each with its own total.
    assert re.search(r"模拟一年的办理与提醒.*365/365", done.stderr)
    assert re.search(r"生成告知书.*(\d+)/\1\b", done.stderr)
    assert re.search(r"生成年度报告.*6/6", done.stderr)
    # The closing hint names a `foi` that can be typed from the demo's folder.
    hint = re.search(r"^试试：cd (\S+) && (\S+) --config foi.toml", done.stdout, flags=re.M)
    assert hint is not None and (hint.group(2) == "foi" or Path(hint.group(2)).is_file())
