"""The lines of an import that are not case events: appeal events, replayed as the case
events are; the records of SPEC §12 (letters and year closes), checked line by line and stored
after the events in the import's transaction (the counters moved past the numbers imported, so
numbering continues after them); and the check a restore makes that its target database is
empty."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from foi_workflow.adapters.models import Appeal, Case, Event, Notice, ServiceProof, YearClose
from foi_workflow.adapters.tables import NOTICE
from foi_workflow.domain.boundary import Limits, clean_amend_reason, clean_by, clean_id
from foi_workflow.domain.corrections import Counted
from foi_workflow.domain.definition import FIELD_LABELS
from foi_workflow.domain.vocabulary import LetterStatus
from foi_workflow.domain.workflow import AppealSnapshot, ApplyContext, apply_appeal_event, file_appeal
from foi_workflow.errors import AlreadyExists, ClosedYear
from foi_workflow.services import letters
from foi_workflow.services.app import App
from foi_workflow.services.appeals import appeal_events, appeal_snapshot
from foi_workflow.services.case_store import ensure_agency
from foi_workflow.services.corrections import replay_amendment
from foi_workflow.services.import_format import RESERVED, is_record, line_date
from foi_workflow.services.import_rows import EventRowBuilder


class RecordLines:
    """The appeal, letter and year-close lines of an import (mixed into `transfer.Importer`)."""

    app: App
    s: Session
    now: datetime
    closed: set[tuple[str, int]]
    by: str
    limits: Limits
    ctx: ApplyContext
    appeals: dict[str, AppealSnapshot]
    existing_appeals: set[str]
    stored_appeal_ids: set[str]
    appeal_logs: dict[str, list[Counted]]
    events: list[Any]
    event_row: EventRowBuilder

    def init_records(self) -> None:
        self.letters: list[dict[str, Any]] = []
        self.letter_counters: dict[tuple[str, str], int] = {}  # (agency, counter name) -> highest seq
        self.year_closes: list[dict[str, Any]] = []
        self.proofs: list[dict[str, Any]] = []
        self._taken: tuple[set[str], set[tuple[str, str, int]]] | None = None  # see `_letters_taken`
        # (case, void | correct, target) of the file's amendments of stored cases: the stored
        # letters answering those events become 作废 (SPEC §11).
        self.undone: list[tuple[str, str, int]] = []

    def _linked_agency(self, case_id: str, what: str = "复议诉讼") -> str:
        raise NotImplementedError

    def _check_year(self, agency: str, on: date, amend_reason: str | None) -> None:
        if (agency, on.year) in self.closed and not amend_reason:
            raise ClosedYear(f"{on.year} 年度已结转封存；如确需补录，请在该行加 amend_reason 字段说明理由")

    def _by(self, obj: dict[str, Any]) -> str:
        by = obj.get("by")
        return self.by if by is None or by == "" else clean_by(by, self.limits)

    def appeal_line(self, obj: dict[str, Any]) -> None:
        appeal_id = clean_id("appeal", "复议诉讼编号", obj["appeal"], self.limits.appeal["id"])
        event, on = obj["event"], line_date(obj)
        by = self._by(obj)
        amend = clean_amend_reason(obj.get("amend_reason"), self.limits)
        data = {k: v for k, v in obj.items() if k not in RESERVED or k == "case"}
        if event == "file":
            if appeal_id in self.appeals or appeal_id in self.stored_appeal_ids:
                raise AlreadyExists(f"复议诉讼 {appeal_id} 已存在")
            linked = data.get("case")
            if linked:
                data["case"] = linked = clean_id("case", "案件编号", linked, self.limits.case["id"])
                agency = self._linked_agency(linked)
                if "agency" not in data:
                    data["agency"] = agency
            snap, clean = file_appeal(self.app.workflow, appeal_id, on, data, self.ctx)
        elif event in self.app.workflow.appeal.amending:
            snap = self._amend_appeal(appeal_id, event, on, by, data, amend)
            clean = data
        else:
            current = self.appeals.get(appeal_id)
            if current is None:
                current = appeal_snapshot(self.app, self.s, appeal_id)
                self.existing_appeals.add(appeal_id)
            snap, clean = apply_appeal_event(self.app.workflow, current, event, on, data, self.ctx)
        self.limits.check_appeal_data(clean, FIELD_LABELS)
        self._check_year(snap.agency, on, amend)
        self.appeals[appeal_id] = snap
        self.appeal_logs.setdefault(appeal_id, []).append(Counted(0, event, on, clean, by))
        self.events.append(self.event_row(None, appeal_id, event, on, by, clean, amend))

    def record_line(self, obj: dict[str, Any]) -> bool:
        """Replay a line that is not a case event (an appeal event, a letter, a year close);
        False when it is none of these."""
        if is_record(obj):
            if "service_proof" in obj:
                self.proof_line(obj)
            elif "letter" in obj:
                self.letter_line(obj)
            else:
                self.year_close_line(obj)
        elif "appeal" in obj:
            self.appeal_line(obj)
        else:
            return False
        return True

    def _amend_appeal(
        self, appeal_id: str, event: str, on: date, by: str, data: dict[str, Any], amend: str | None
    ) -> AppealSnapshot:
        """A `void` or `correct` line of an appeal, as `_amend` for a case."""
        current = self.appeals.get(appeal_id)
        if current is None:
            current = appeal_snapshot(self.app, self.s, appeal_id)
            self.existing_appeals.add(appeal_id)
        stored = appeal_events(self.s, appeal_id) if appeal_id in self.stored_appeal_ids else []
        history = [*stored, *self.appeal_logs.get(appeal_id, ())]
        wf, line = self.app.workflow, Counted(0, event, on, data, by)
        check = lambda day: self._check_year(current.agency, day, amend)  # noqa: E731
        amended, clean = replay_amendment(wf, wf.appeal, appeal_id, history, line, self.ctx, check)
        assert isinstance(amended, AppealSnapshot)
        data.clear()
        data.update(clean)
        return amended

    def _letters_taken(self) -> tuple[set[str], set[tuple[str, str, int]]]:
        """The numbers in use and the (case, kind, answered event) of the standing letters:
        the stored ones (read at the first letter line), then the file's as they come."""
        if self._taken is None:
            numbers = set(self.s.scalars(select(col(Notice.number))))
            standing = {
                (c, k, a)
                for c, k, a in self.s.execute(
                    select(col(Notice.case_id), col(Notice.kind), col(Notice.answers)).where(
                        col(Notice.status) == LetterStatus.VALID.value
                    )
                )
            }
            self._taken = numbers, standing
        return self._taken

    def letter_line(self, obj: dict[str, Any]) -> None:
        """A stored letter (SPEC §12), for a case of the file (an earlier line) or the database."""
        row = letters.letter_row(obj)
        agency = self._linked_agency(row["case_id"], "告知书")
        numbers, standing = self._letters_taken()
        if row["number"] in numbers:
            raise AlreadyExists(f"文号 {row['number']} 已被使用")
        key = (row["case_id"], row["kind"], row["answers"])
        if row["status"] == LetterStatus.VALID.value:
            if key in standing:
                raise AlreadyExists(f"案件 {key[0]} 第 {key[2]} 个事件已有有效的同类告知书")
            standing.add(key)
        if (agency, row["dated"].year) in self.closed and not row["amend_reason"]:
            raise ClosedYear(
                f"{row['dated'].year} 年度已结转封存；如确需补录该告知书，请在该行加 amend_reason 字段说明理由"
            )
        numbers.add(row["number"])
        counter = (agency, letters.counter_name(row["dated"].year))
        self.letter_counters[counter] = max(self.letter_counters.get(counter, 0), row["seq"])
        self.letters.append({**row, "created_at": self.now})

    def year_close_line(self, obj: dict[str, Any]) -> None:
        """A closed year with its frozen figures: from here on the year takes no events unless amended."""
        row = letters.year_close_row(obj, self.app.config.default_agency)
        self.app.config.agency(row["agency"])
        if (row["agency"], row["year"]) in self.closed:
            raise AlreadyExists(f"{row['agency']} 的 {row['year']} 年度已结转")
        self.closed.add((row["agency"], row["year"]))
        self.year_closes.append({**row, "closed_at": self.now})

    def proof_line(self, obj: dict[str, Any]) -> None:
        """A proof of delivery (SPEC §15), for a case of the file or the database."""
        from foi_workflow.services.service import proof_row

        row = proof_row(obj)
        self._linked_agency(row["case_id"], "送达凭证")
        self.proofs.append({**row, "created_at": self.now})

    def write_records(self) -> None:
        """The stored letters the file's amendments undo made 作废; the file's letters, with the
        counters moved past their numbers; the year closes."""
        for case_id, kind, target in self.undone:
            letters.void_letters_undone(self.s, case_id, kind, target)
        if self.letters:
            self.s.execute(insert(NOTICE), self.letters)
        for (agency, name), seq in sorted(self.letter_counters.items()):
            letters.raise_counter(self.s, agency, name, seq)
        for agency in sorted({row["agency"] for row in self.year_closes}):
            ensure_agency(self.s, self.app, agency)
        if self.year_closes:
            self.s.execute(insert(YearClose), self.year_closes)
        if self.proofs:
            self.s.execute(insert(ServiceProof), self.proofs)


_RESTORED_TABLES = ((Event, "事件"), (Case, "案件"), (Appeal, "复议诉讼"), (Notice, "告知书"), (YearClose, "年度结转"),
                    (ServiceProof, "送达凭证"))


def refuse_unless_empty(session: Session) -> None:
    for table, what in _RESTORED_TABLES:
        if session.scalars(select(table).limit(1)).first() is not None:
            raise AlreadyExists(f"目标数据库已有{what}记录：恢复只能写入新建的空数据库（foi init），以免混入旧数据")
