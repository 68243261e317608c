"""Whatever text a stored mail carries (a case id with a line break, control characters,
invalid text), the message built from it has exactly its own headers, each on one line."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from foi_workflow.adapters.mailer import build_message, header_safe
from foi_workflow.config import SmtpSettings

SETTINGS = SmtpSettings(host="127.0.0.1", mail_from="foi@example.gov.cn", tls="none")
HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "X-FOI-Key", "Content-Type",
           "Content-Transfer-Encoding", "MIME-Version"}  # fmt: skip


@given(subject=st.text(max_size=300), key=st.text(max_size=300), body=st.text(max_size=300))
def test_any_subject_key_and_body_make_a_message_with_only_its_own_headers(subject: str, key: str, body: str) -> None:
    message = build_message(
        SETTINGS, to_addr="zhangsan@example.gov.cn", subject=subject, body=body, key=key, now=datetime.now(UTC)
    )
    raw = message.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert set(parsed.keys()) <= HEADERS
    assert parsed.get_all("To") == ["zhangsan@example.gov.cn"]
    # The subject's text survives; its white space only up to folding: a space where the header
    # is cut into encoded words is dropped by the decoder (RFC 2047 §6.2 ignores white space
    # between adjacent encoded words), e.g. between a run of U+10000 and "¡".
    assert "".join(str(parsed["Subject"]).split()) == "".join(header_safe(subject).split())


@given(st.text())
def test_a_safe_header_value_has_no_line_break_or_control_character(value: str) -> None:
    safe = header_safe(value)
    assert not any(ch in safe for ch in "\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    assert safe == header_safe(safe)
