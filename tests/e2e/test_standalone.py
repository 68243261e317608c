"""The repository stands alone: what the tests, benchmarks and docs read lives inside it, and
`scripts/check-standalone` (run first by `.ci/run`) refuses a file that points beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "check-standalone"
BESIDE = "../" + "shared"  # spelt in two parts so that this file does not point there itself


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK), str(folder)], capture_output=True, text=True, check=False)


def test_no_tracked_file_points_beside_the_repository() -> None:
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_the_check_refuses_a_file_that_points_beside_the_repository(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(f"See `{BESIDE}/SPEC.md`.\n", encoding="utf-8")
    (tmp_path / "ok.py").write_text("FIXTURES = 'tests/fixtures'\n", encoding="utf-8")
    loose = check(tmp_path)  # an unpacked archive
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    tracked = check(tmp_path)
    for result in (loose, tracked):
        assert result.returncode == 1
        assert f"README.md:1:See `{BESIDE}/SPEC.md`." in result.stderr
        assert "ok.py" not in result.stderr


def test_ci_runs_the_check_before_installing_anything() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index("scripts/check-standalone") < ci.index("scripts/install")


def test_every_fixture_the_tests_read_is_tracked_in_the_repository() -> None:
    tracked = set(
        subprocess.run(
            ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    )
    for name in (
        "events-small.jsonl",
        "events-small.report-2023.json",
        "events-small.report-2024.json",
        "events-every-kind.jsonl",
        "events-every-kind.report-2025.json",
    ):
        assert f"tests/fixtures/{name}" in tracked
    assert "examples/yueqing-media-centre-2023/published-report.md" in tracked
