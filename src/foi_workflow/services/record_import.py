"""The records of SPEC §12 in an import: letters and year closes, checked line by line as the
events are, and stored after them in the import's transaction (the counters moved past the
numbers imported, so numbering continues after them); and the check a restore makes that its
target database is empty."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from foi_workflow.adapters.tables import Appeal, Case, Event, Notice, ServiceProof, YearClose
from foi_workflow.domain.vocabulary import LetterStatus
from foi_workflow.errors import AlreadyExists, ClosedYear
from foi_workflow.services import letters
from foi_workflow.services.app import App
from foi_workflow.services.cases import ensure_agency


class RecordLines:
    """The letter and year-close lines of an import (mixed into `transfer.Importer`)."""

    app: App
    s: Session
    now: datetime
    closed: set[tuple[str, int]]

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
            self.s.execute(insert(letters.NOTICE_TABLE), self.letters)
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
