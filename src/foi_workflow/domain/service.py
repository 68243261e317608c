"""Service of letters (送达, SPEC §15): what a case's `serve`, `delivered`, `returned` and
`consent` events say about each of its letters, and the reply date that counts.

A reply meets its deadline (条例第三十三条; 国办公开办函〔2016〕235号) by the day the letter was
handed to the post (`post`), the day the applicant signed for it (`in_person`, `delegated`)
or the day it reached the applicant's system (`electronic`); without a record of service the
decision date stands, flagged 未记录送达. The remedy windows run from the day the decision
letter was delivered (`domain.remedies`). Pure: a fold over event data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from foi_workflow.domain.vocabulary import NoticeKind, ServiceMethod

SERVICE_EVENTS = frozenset({"serve", "delivered", "returned", "consent"})
DECISION = NoticeKind.DECISION.value
POST = ServiceMethod.POST.value
ELECTRONIC = ServiceMethod.ELECTRONIC.value
UNSERVED_FLAG = "未记录送达"


@dataclass(frozen=True)
class Attempt:
    """One service of a letter: how and when it went out, and what became of it."""

    method: str
    on: date  # the day the service was recorded as made
    sent_on: date | None = None  # post: the day handed to the post office (交邮之日)
    tracking: str = ""
    delivered_on: date | None = None
    proof: str = ""  # SHA-256 of the stored proof of delivery (送达回证, delivery record)
    returned: str | None = None  # why the letter came back (退回)

    @property
    def pending(self) -> bool:
        """Out, and neither delivered nor returned yet."""
        return self.delivered_on is None and self.returned is None

    @property
    def counts_on(self) -> date | None:
        """The day this service answers the applicant for the reply deadline, if it does yet:
        posting for `post`, else delivery. A returned letter answered no one."""
        if self.returned is not None:
            return None
        if self.method == POST:
            return self.sent_on or self.on
        return self.delivered_on


@dataclass(frozen=True)
class LetterService:
    """The service history of one letter (its number), the latest attempt last."""

    letter: str
    kind: str
    attempts: tuple[Attempt, ...]

    @property
    def latest(self) -> Attempt:
        return self.attempts[-1]

    def as_json(self) -> dict[str, Any]:
        """SPEC §15's entry of `foi show --format json` (`service`), with the attempts."""
        last = self.latest
        return {
            "letter": self.letter,
            "kind": self.kind,
            "method": last.method,
            "sent_on": _iso(last.sent_on),
            "delivered_on": _iso(last.delivered_on),
            "returned": last.returned is not None,
            "attempts": [
                {
                    "method": a.method,
                    "on": a.on.isoformat(),
                    "sent_on": _iso(a.sent_on),
                    "tracking": a.tracking or None,
                    "delivered_on": _iso(a.delivered_on),
                    "proof": a.proof or None,
                    "returned": a.returned,
                }
                for a in self.attempts
            ],
        }


@dataclass(frozen=True)
class Reply:
    """The reply date that counts for the deadline, and whether it rests on recorded service;
    `delivered_on`: when the decision letter reached the applicant (the remedies run from it)."""

    replied_on: date
    served: bool
    delivered_on: date | None


@dataclass(frozen=True)
class ServiceLog:
    """Every letter of a case that was served, in the order first served, and the applicant's
    consent to electronic service (the address), if recorded."""

    letters: tuple[LetterService, ...] = ()
    e_service: str = ""

    def find(self, letter: str) -> LetterService | None:
        for entry in self.letters:
            if entry.letter == letter:
                return entry
        return None

    def apply(self, event: str, on: date, data: Mapping[str, Any]) -> ServiceLog:
        """The log after one (already checked) service event."""
        if event == "consent":
            return replace(self, e_service=str(data["e_service"]))
        letter = str(data["letter"])
        entry = self.find(letter)
        if event == "serve":
            method = str(data["method"])
            sent = data.get("sent_on")
            attempt = Attempt(
                method=method,
                on=on,
                sent_on=(date.fromisoformat(sent) if isinstance(sent, str) else on) if method == POST else None,
                tracking=str(data.get("tracking") or ""),
            )
            if entry is None:
                kind = str(data.get("kind") or DECISION)
                return replace(self, letters=(*self.letters, LetterService(letter, kind, (attempt,))))
            return self._with(replace(entry, attempts=(*entry.attempts, attempt)))
        if entry is None:
            return self
        if event == "delivered":
            last = replace(entry.latest, delivered_on=on, proof=str(data.get("proof") or ""))
        else:
            last = replace(entry.latest, returned=str(data["reason"]))
        return self._with(replace(entry, attempts=(*entry.attempts[:-1], last)))

    def _with(self, changed: LetterService) -> ServiceLog:
        letters = tuple(changed if e.letter == changed.letter else e for e in self.letters)
        return replace(self, letters=letters)

    # ------------------------------------------------------------------ the reply

    def decision_letter(self, decided_on: date) -> LetterService | None:
        """The decision letter whose service counts: of those served on or after the decision
        (a letter of a voided decision was served before it), the one served last."""
        found: LetterService | None = None
        for entry in self.letters:
            later = found is None or entry.latest.on >= found.latest.on
            if entry.kind == DECISION and entry.attempts[0].on >= decided_on and later:
                found = entry
        return found

    def reply(self, decided_on: date) -> Reply:
        """The reply date that counts for a case decided on `decided_on` (SPEC §15)."""
        entry = self.decision_letter(decided_on) if self.letters else None
        if entry is None:
            return Reply(decided_on, False, None)
        last = entry.latest
        counts = last.counts_on
        delivered = last.delivered_on if last.returned is None else None
        if counts is None:
            return Reply(decided_on, False, delivered)
        return Reply(counts, True, delivered)


def reply_lines(reply: Reply, due: date, on_time: bool) -> list[str]:
    """The conclusion of `foi show`'s deadline explanation for a reply judged by its service."""
    verdict = "按时答复" if on_time else "逾期答复"
    if not reply.served:
        return [f"结论（{UNSERVED_FLAG}，以决定日期 {reply.replied_on.isoformat()} 计）：{verdict}。"]
    return [
        f"送达：答复以 {reply.replied_on.isoformat()} 计（邮寄以交邮之日，直接、委托送达以签收之日，"
        "电子送达以到达之日；国办公开办函〔2016〕235号）。",
        f"结论：{verdict}（答复期限 {due.isoformat()}）。",
    ]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


EMPTY = ServiceLog()
