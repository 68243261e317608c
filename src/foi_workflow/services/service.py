"""Service of letters (送达, SPEC §15): record that a stored letter was served, delivered or
returned, and the applicant's consent to electronic service, as events of its case.

Each use case checks what only the database knows (the letter exists, belongs to the case,
still stands, was dated before it went out) and records the event through `cases.advance`,
whose guards check the rest; a proof of delivery is stored in the same transaction, with the
SHA-256 the event names. Proofs travel in `foi export` as records of their own.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

from sqlalchemy import select
from sqlmodel import Session, col

from foi_workflow.adapters.models import Notice, ServiceProof
from foi_workflow.domain.vocabulary import LetterStatus, NoticeKind
from foi_workflow.errors import FileError, InvalidInput, NotFound, RuleViolation
from foi_workflow.services.app import App
from foi_workflow.services.case_store import commit_own, session_scope
from foi_workflow.services.cases import Change, advance


class ServiceArgs(TypedDict, total=False):
    """What each service use case takes beside its letter: `cases.EventArgs` without the data,
    which the use case writes itself."""

    on: Required[date]
    by: Required[str]
    amend_reason: str | None
    today: date | None


PROOF_LIMIT = 20 * 1024 * 1024  # a scanned 送达回证 is a page or two; anything larger is a mistake


@dataclass(frozen=True)
class Proof:
    """A proof of delivery as filed: its name, bytes and SHA-256."""

    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @classmethod
    def read(cls, path: Path) -> Proof:
        try:
            size = path.stat().st_size
            if size > PROOF_LIMIT:
                raise FileError(f"送达凭证 {path} 过大（{size} 字节，上限 {PROOF_LIMIT} 字节）")
            return cls(path.name, path.read_bytes())
        except OSError as exc:
            raise FileError(f"无法读取送达凭证 {path}：{exc.strerror or exc}") from None


def standing_letter(session: Session, case_id: str, number: str) -> Notice:
    """The case's letter `number`, refused when it is not the case's or no longer stands."""
    letter = session.scalars(select(Notice).where(col(Notice.number) == number)).first()
    if letter is None or letter.case_id != case_id:
        raise NotFound(f"案件 {case_id} 没有文号为 {number} 的告知书（foi show {case_id} 可查看其告知书）")
    if letter.status != LetterStatus.VALID.value:
        raise RuleViolation(f"告知书 {number} {LetterStatus(letter.status).label}，不能送达")
    return letter


def serve(
    app: App,
    case_id: str,
    number: str,
    method: str,
    *,
    sent_on: date | None = None,
    tracking: str | None = None,
    session: Session | None = None,
    **args: Unpack[ServiceArgs],
) -> Change:
    """Record that letter `number` was served by `method` (for post, handed to the post office
    on `sent_on`, by default `on`)."""
    with session_scope(app, session) as s:
        letter = standing_letter(s, case_id, number)
        went = sent_on or args["on"]
        if went < letter.dated:
            raise RuleViolation(f"告知书 {number} 的日期为 {letter.dated.isoformat()}，不能在此之前送出")
        data = {"letter": number, "kind": NoticeKind(letter.kind).value, "method": method,
                "sent_on": sent_on.isoformat() if sent_on else None, "tracking": tracking}  # fmt: skip
        change = advance(app, case_id, "serve", session=s, data={k: v for k, v in data.items() if v is not None},
                         **args)  # fmt: skip
        commit_own(s, session)
        return change


def delivered(
    app: App,
    case_id: str,
    number: str,
    *,
    proof: Proof | None = None,
    session: Session | None = None,
    **args: Unpack[ServiceArgs],
) -> Change:
    """Record that letter `number` reached the applicant on `on` (signed for, 妥投, reached
    their system), with the proof stored beside the event."""
    with session_scope(app, session) as s:
        standing_letter(s, case_id, number)
        data = {"letter": number}
        if proof is not None:
            data["proof"] = proof.sha256
        change = advance(app, case_id, "delivered", session=s, data=data, **args)
        if proof is not None:
            store_proof(s, case_id, number, proof, args["by"])
        commit_own(s, session)
        return change


def store_proof(session: Session, case_id: str, number: str, proof: Proof, by: str) -> None:
    """Keep the proof's bytes under its hash (once per case: the same scan filed twice is one)."""
    same = (col(ServiceProof.case_id) == case_id, col(ServiceProof.sha256) == proof.sha256)
    exists = session.scalars(select(col(ServiceProof.id)).where(*same)).first()
    if exists is None:
        session.add(ServiceProof(case_id=case_id, letter=number, sha256=proof.sha256, name=proof.name,
                                 content=proof.content, by=by))  # fmt: skip
        session.flush()


def returned(
    app: App,
    case_id: str,
    number: str,
    *,
    reason: str,
    session: Session | None = None,
    **args: Unpack[ServiceArgs],
) -> Change:
    """Record that letter `number` came back undelivered (退回); it may then be served again."""
    with session_scope(app, session) as s:
        standing_letter(s, case_id, number)
        change = advance(app, case_id, "returned", session=s, data={"letter": number, "reason": reason}, **args)
        commit_own(s, session)
        return change


# --------------------------------------------------------------------------- export / import records


def proof_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every stored proof as a line of `foi export` (after the letters), its bytes in base64."""
    for proof in session.scalars(select(ServiceProof).order_by(col(ServiceProof.id))):
        yield {
            "service_proof": proof.sha256,
            "case": proof.case_id,
            "number": proof.letter,
            "name": proof.name,
            "by": proof.by,
            "content": base64.b64encode(proof.content).decode("ascii"),
        }


PROOF_KEYS = frozenset({"service_proof", "case", "number", "name", "by", "content"})


def proof_row(obj: dict[str, Any]) -> dict[str, Any]:
    """The service_proof table's values from an export line: the content must have the hash
    the line (and the `delivered` event) names."""
    unknown = sorted(set(obj) - PROOF_KEYS)
    if unknown:
        raise InvalidInput(f"送达凭证记录有未知字段：{'、'.join(unknown)}")
    fields = {key: obj.get(key) for key in PROOF_KEYS}
    if not all(isinstance(value, str) for value in fields.values()):
        raise InvalidInput(f"送达凭证记录的字段 {'、'.join(sorted(PROOF_KEYS))} 均应为文本")
    try:
        content = base64.b64decode(str(fields["content"]), validate=True)
    except ValueError:
        raise InvalidInput("送达凭证记录的 content 不是有效的 base64") from None
    if hashlib.sha256(content).hexdigest() != fields["service_proof"]:
        raise InvalidInput(f"送达凭证 {fields['service_proof']} 的内容与其 SHA-256 不符")
    return {"case_id": fields["case"], "letter": fields["number"], "sha256": fields["service_proof"],
            "name": fields["name"], "by": fields["by"], "content": content}  # fmt: skip
