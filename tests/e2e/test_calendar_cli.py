"""`foi calendar …` end to end, as the console script runs it; no database is needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Foi


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Foi:
    """The CLI on a database that was never initialised: calendar commands must not need it."""
    return Foi(db_url, tmp_path)


def test_add_working_days_prints_the_iso_date_first(cli: Foi, db_url: str, tmp_path: Path) -> None:
    assert cli.ok("calendar add-working-days 2024-02-09 1").strip() == "2024-02-18"
    if db_url.startswith("sqlite"):
        assert not (tmp_path / "foi.db").exists()  # the database was never opened
    assert cli.ok("calendar add-working-days 2024-09-27 20").strip() == "2024-10-30"
    assert cli.ok("calendar add-working-days 2024-03-02 0").strip() == "2024-03-02"


def test_a_provisional_answer_says_so_after_the_date(cli: Foi) -> None:
    out = cli.ok("calendar add-working-days 2026-12-31 20").strip()
    assert out.split()[0] == "2027-01-29"
    assert "暂定：2027年尚无官方节假日安排" in out


def test_is_working_day_answers_yes_or_no_first(cli: Foi) -> None:
    assert cli.ok("calendar is-working-day 2024-02-18").split()[0] == "yes"  # make-up Sunday
    assert cli.ok("calendar is-working-day 2024-02-12").split()[0] == "no"
    assert "春节" in cli.ok("calendar is-working-day 2024-02-12")
    assert cli.ok("calendar is-working-day 2024-03-04").strip() == "yes"
    provisional = cli.ok("calendar is-working-day 2027-10-01")
    assert provisional.split()[0] == "no" and "暂定" in provisional


def test_status_names_official_and_provisional_years_and_their_source(cli: Foi) -> None:
    assert cli.ok("calendar status 2024").split()[0] == "official"
    assert "chinese-calendar" in cli.ok("calendar status 2024")
    assert cli.ok("calendar status 2027").split()[0] == "provisional"
    lines = cli.ok("calendar status").splitlines()
    assert lines[0].startswith("2004 official") and any(line.startswith("2027 provisional") for line in lines)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ("calendar add-working-days 2024-02-30 1", "E-INPUT"),
        ("calendar add-working-days 2024-03-01 -3", "E-CALENDAR"),
        ("calendar add-working-days 2024-03-01 three", "E-INPUT"),
        ("calendar add-working-days 1999-03-01 3", "E-CALENDAR"),
        ("calendar is-working-day yesterday", "E-INPUT"),
        ("calendar status 1990", "E-CALENDAR"),
    ],
)
def test_a_bad_date_or_count_is_one_clear_error_line(cli: Foi, args: str, code: str) -> None:
    result = cli(args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"错误[{code}]")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_calendar_file_in_the_config_folder_makes_2027_official(db_url: str, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "calendar").mkdir(parents=True)
    (conf / "foi.toml").write_text('default_agency = "default"\n', encoding="utf-8")
    (conf / "calendar" / "2027.toml").write_text(
        'source = "https://www.gov.cn/zhengce/2027"\nholidays = [2027-01-01, 2027-01-04]\n', encoding="utf-8"
    )
    cli = Foi(db_url, tmp_path, config=conf / "foi.toml")
    assert cli.ok("calendar add-working-days 2026-12-31 1").strip() == "2027-01-05"
    status = cli.ok("calendar status 2027")
    assert status.split()[0] == "official" and "https://www.gov.cn/zhengce/2027" in status


def test_a_broken_calendar_file_is_a_config_error(db_url: str, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "calendar").mkdir(parents=True)
    (conf / "foi.toml").write_text("", encoding="utf-8")
    (conf / "calendar" / "2027.toml").write_text("holidays = [2026-01-01]\n", encoding="utf-8")
    result = Foi(db_url, tmp_path, config=conf / "foi.toml")("calendar status 2027")
    assert result.exit_code == 1 and result.stderr.startswith("错误[E-CONFIG]")


def test_every_calendar_command_has_help(cli: Foi) -> None:
    for sub in ("add-working-days", "is-working-day", "status"):
        out = cli.ok(f"calendar {sub} --help")
        assert "用法：" in out and len(out.splitlines()) > 3
