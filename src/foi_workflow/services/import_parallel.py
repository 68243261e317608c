"""The parallel replay of a large `foi import`: the cases of the file shared out between
worker processes, each replaying its cases through the same `Importer.case_line` as the
serial import; this process then stores everything in its one transaction.

Cases are independent of each other in a replay: a line's fate depends only on the earlier
lines of its own case and on what was stored before the import. So the lines are shared out
by case id (read off the raw line; `json` decides only inside the worker), each worker replays
its lines in file order, and the event rows are put back in file order by line index. Appeal
lines, which name cases, are replayed here afterwards in file order, knowing where each case
began. The workers are forked: they inherit the lines, the importer and the histories of
stored cases read ahead in this transaction (a worker never touches the database).

Only a file that replays cleanly is stored this way. At the first refusal, or anything the
sharing cannot place (a line without a plain `"case"` key, a case id read wrongly off the
line), `replay` returns None and the caller replays the whole file serially: the serial replay
then names the first bad line and its reason, exactly as without workers.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.errors import FoiError

if TYPE_CHECKING:
    from foi_workflow.services.transfer import Importer

MIN_LINES = 20_000  # below this, starting workers costs more than it saves
MAX_WORKERS = 4
# `"case": "ID"` as the first case key of a line; an id with escapes does not match (the line
# then cannot be placed and the serial replay handles the file).
_CASE_KEY = re.compile(r'"case"\s*:\s*"([^"\\]*)"')


def worker_count(lines: int, requested: int | None) -> int:
    """How many processes replay a file of `lines` lines (1: the serial replay)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if requested is not None:
        return max(1, requested)
    if lines < MIN_LINES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


@dataclass
class _Share:
    """What one worker's replay left, in a form that is cheap to send between processes."""

    indices: list[int]  # the lines replayed, in file order: one event row each
    events: list[Any]
    new_cases: list[tuple[int, Any]]  # (index of the case's first line, its row for the bulk insert)
    existing: dict[str, CaseSnapshot]  # stored cases the file continues, as the file leaves them
    file_cases: dict[str, tuple[int, str]]  # every case of the share: (first line index, agency)


class _Unplaced(Exception):
    """A line the sharing put in the wrong place: its case key was read wrongly off the line."""


def _replay_share(importer: Importer, lines: list[str], keys: list[str | None], indices: list[int]) -> _Share:
    from foi_workflow.services.transfer import parse_line

    first: dict[str, tuple[int, str]] = {}
    for index in indices:
        key = keys[index]
        importer.line_index = index
        obj = parse_line(index + 1, lines[index])
        if key is None or obj.get("case") != key or "appeal" in obj:
            raise _Unplaced
        importer.case_line(obj)
        if key not in first:
            first[key] = (index, importer.cases[key].agency)
    rows = importer.new_case_rows()  # in the order of the cases' first lines
    starts = [first[cid][0] for cid in importer.cases if cid not in importer.existing_cases]
    existing = {cid: importer.cases[cid] for cid in importer.existing_cases}
    return _Share(indices, importer.events, list(zip(starts, rows, strict=True)), existing, first)


def _worker(send: Connection, importer: Importer, lines: list[str], keys: list[str | None], indices: list[int]) -> None:
    """A forked worker: replay one share and send it back (None when anything went wrong)."""
    try:
        share: _Share | None = _replay_share(importer, lines, keys, indices)
    except BaseException:  # any refusal or fault: the parent replays serially and reports it
        share = None
    send.send(share)
    send.close()


def _share_out(lines: list[str], workers: int) -> tuple[list[str | None], list[list[int]], list[int]] | None:
    """Each line's case key, the case lines of each worker, and the appeal lines; None when a
    line is neither (the serial replay then says what is wrong with it)."""
    keys: list[str | None] = []
    appeals: list[int] = []
    search = _CASE_KEY.search
    for index, line in enumerate(lines):
        if '"appeal"' in line:
            keys.append(None)
            appeals.append(index)
            continue
        match = search(line)
        if match is None:
            if line.strip():
                return None
            keys.append(None)
            continue
        keys.append(match.group(1))
    shares: list[list[int]] = [[] for _ in range(workers)]
    for index, key in enumerate(keys):
        if key is not None:
            shares[hash(key) % workers].append(index)  # forked workers share the hash seed
    return keys, shares, appeals


def replay(importer: Importer, lines: list[str], workers: int) -> list[Any] | None:
    """Replay `lines` with `workers` processes (this one included) into `importer`; return the
    rows of the new cases, or None when the file is refused or cannot be shared out."""
    shared = _share_out(lines, workers)
    if shared is None:
        return None
    keys, shares, appeals = shared
    importer.prefetch(key for key in keys if key is not None)
    context = multiprocessing.get_context("fork")
    children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    results: list[_Share | None] = []
    try:
        for indices in shares[1:]:
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_worker, args=(send, importer, lines, keys, indices), daemon=True)
            process.start()
            send.close()
            children.append((process, receive))
        try:
            results.append(_replay_share(importer, lines, keys, shares[0]))
        except (FoiError, _Unplaced):
            return None  # the workers are stopped below: the serial replay takes over
        for _, receive in children:
            try:
                results.append(receive.recv())
            except (EOFError, OSError):  # the worker died before it could answer
                return None
    finally:
        for child, receive in children:
            receive.close()
            if len(results) <= len(children):  # not every answer is in: no need to wait for the rest
                child.kill()
            child.join()
    complete = [share for share in results if share is not None]
    if len(complete) != workers:
        return None
    return _merge(importer, lines, appeals, complete)


def _merge(
    importer: Importer, lines: list[str], appeals: list[int], shares: list[_Share]
) -> list[Any] | None:
    """Put the shares together in file order and replay the appeal lines in between."""
    from foi_workflow.services.transfer import parse_line

    events: list[Any] = [None] * len(lines)
    file_cases: dict[str, tuple[int, str]] = {}
    new_cases: list[tuple[int, Any]] = []
    for share in shares:
        for index, row in zip(share.indices, share.events, strict=True):
            events[index] = row
        file_cases.update(share.file_cases)
        new_cases.extend(share.new_cases)
        importer.cases.update(share.existing)
        importer.existing_cases.update(share.existing)
    importer.file_cases = file_cases
    importer.events = []
    for index in appeals:
        importer.line_index = index
        try:
            obj = parse_line(index + 1, lines[index])
            if "appeal" not in obj:
                return None
            importer.appeal_line(obj)
        except FoiError:
            return None
        events[index] = importer.events.pop()
    importer.events = [row for row in events if row is not None]
    new_cases.sort(key=lambda pair: pair[0])  # as the serial replay creates them
    return [row for _, row in new_cases]
