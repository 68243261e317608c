"""Privacy: applicants' ID numbers and phones are masked wherever cases are listed and never
reach a report; the SQLite file (and its -wal/-shm companions) is readable by its owner
only; no password, of the database or of the SMTP server, appears in an error or a log."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import text

from foi_workflow.adapters.db import migrate, open_engine
from tests.conftest import Foi
from tests.smtp_helpers import Inbox, free_port, write_config

PHONE = "13812345678"
ID_NUMBER = "110101199003071234"
INTAKE = (
    "intake --applicant 王五 --applicant-type natural_person --channel online --request 某项目环评报告 "
    f"--phone {PHONE} --id-number {ID_NUMBER} --on 2024-03-01 --by zhangsan"
)
DB_PASSWORD = "Db-Pa55word-never-shown"
SMTP_PASSWORD = "Smtp-Pa55word-never-shown"


def test_list_masks_the_id_number_and_phone_in_every_format(foi: Foi) -> None:
    foi.ok(INTAKE)
    for fmt in ("table", "json", "csv"):
        out = foi.ok("list", "--format", fmt)
        assert PHONE not in out and ID_NUMBER not in out, fmt
        assert "王五" in out
    [row] = json.loads(foi.ok("list", "--format", "json"))
    assert row["phone"] == "138****5678"
    assert row["id_number"] == "110101********1234"
    assert "138****5678" in foi.ok("list", "--format", "csv")


def test_reports_never_contain_the_applicants_id_number_or_phone(foi: Foi, tmp_path: Path) -> None:
    case_id = foi.ok(INTAKE).strip()
    foi.ok(f"decide {case_id} --outcome granted --on 2024-03-20")
    for fmt in ("json", "md", "html"):
        out = tmp_path / f"report.{fmt}"
        foi.ok("report", "2024", "--format", fmt, "--out", str(out))
        body = out.read_text(encoding="utf-8")
        assert body.strip()
        assert PHONE not in body and ID_NUMBER not in body and "138****5678" not in body, fmt


def test_the_sqlite_file_and_its_wal_and_shm_files_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a permissive umask, as on most desktops
    try:
        path = tmp_path / "private" / "foi.db"
        path.parent.mkdir()
        engine = open_engine(f"sqlite:///{path}")
        migrate(engine)
        with engine.connect() as conn:  # held open, so the -wal and -shm files exist
            conn.execute(text("INSERT INTO agency (code, name, created_at) VALUES ('x', 'x', '2024-01-01')"))
            conn.commit()
            files = [path, path.with_name("foi.db-wal"), path.with_name("foi.db-shm")]
            assert all(f.exists() for f in files)
            for f in files:
                assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        engine.dispose()
    finally:
        os.umask(old)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when we return: nothing listens there


@pytest.mark.parametrize("command", ["init", "list", "show X", "import -", "scheduler run --once"])
def test_a_database_password_never_appears_in_an_error(
    command: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql+psycopg://foi:{DB_PASSWORD}@127.0.0.1:{closed_port()}/foi"
    caplog.set_level(logging.DEBUG)
    result = Foi(url, tmp_path)(*command.split(), input="")
    assert result.exit_code == 1
    assert result.stderr.startswith("错误[E-DB]"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    for where in (result.stdout, result.stderr, caplog.text):
        assert DB_PASSWORD not in where


def test_a_password_in_a_wrong_database_url_is_not_echoed(tmp_path: Path) -> None:
    result = Foi(f"postgresql+psycopg://foi:{DB_PASSWORD}@127.0.0.1:notaport/foi", tmp_path)("list")
    assert result.exit_code == 1 and DB_PASSWORD not in result.stderr + result.stdout


class RefusingAuthenticator:
    def __init__(self) -> None:
        self.tried: list[Any] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.tried.append(auth_data)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def auth_server() -> Iterator[tuple[int, RefusingAuthenticator]]:
    port = free_port()
    authenticator = RefusingAuthenticator()
    controller = Controller(
        Inbox(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    yield port, authenticator
    controller.stop()


def test_the_smtp_password_never_appears_in_the_outbox_or_the_logs(
    db_url: str, tmp_path: Path, auth_server: tuple[int, RefusingAuthenticator], caplog: pytest.LogCaptureFixture
) -> None:
    port, authenticator = auth_server
    foi = Foi(db_url, tmp_path, config=write_config(tmp_path, port))
    foi.env = {"FOI_SMTP_USER": "foi", "FOI_SMTP_PASSWORD": SMTP_PASSWORD}
    foi.ok("init")
    foi.ok(INTAKE)
    caplog.set_level(logging.DEBUG)
    run = foi("scheduler", "run", "--once", "--now", "2024-03-22T09:00")
    assert authenticator.tried, "the server was never asked to authenticate"
    # A refused login concerns the server, not the mail: it waits, the refusal is visible, the
    # password is not.
    listing = foi.ok("outbox")
    assert "待发" in listing and "535" in listing
    for where in (run.stdout, run.stderr, listing, foi.ok("outbox", "--all"), caplog.text):
        assert SMTP_PASSWORD not in where


def test_show_masks_the_id_number_and_phone_too_unless_revealed_and_export_keeps_them(foi: Foi) -> None:
    case_id = foi.ok(INTAKE).strip()
    for fmt in ("text", "json"):
        out = foi.ok("show", case_id, "--format", fmt)
        assert PHONE not in out and ID_NUMBER not in out, fmt
        assert "138****5678" in out and "110101********1234" in out, fmt
    detail = json.loads(foi.ok("show", case_id, "--format", "json", "--reveal"))
    assert detail["phone"] == PHONE and detail["id_number"] == ID_NUMBER
    assert detail["events"][0]["data"]["id_number"] == ID_NUMBER
    [row] = json.loads(foi.ok("list", "--format", "json", "--reveal"))
    assert row["phone"] == PHONE and row["id_number"] == ID_NUMBER
    exported = foi.ok("export")
    assert PHONE in exported and ID_NUMBER in exported  # the export is the record, kept whole
