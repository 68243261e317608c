"""The parallel import of a large file: the cases of the file shared out between worker
processes, each replaying its cases through the same `Importer.case_line` as the serial import,
while this process stores what they send, in its one transaction, as soon as it is settled.

Cases are independent of each other in a replay: a line's fate depends only on the earlier
lines of its own case and on what was stored before the import. So the case lines are cut
into chunks of whole cases (by the case id read off the raw line; `json` decides only inside
the worker): the cases in the order of their first lines, each chunk about as many lines as the
next. The workers claim the chunks in that order, one at a time until none is left (so a
process the machine slows down takes fewer), replay each chunk's lines in file order and send
its rows back with `marshal` as soon as it is done. They are forked: they inherit the lines,
the importer and the histories of stored cases read ahead in this transaction (a worker never
touches the database).

This process writes while they replay (`_Writer`). Once every chunk up to some chunk is in,
the case rows of those chunks are final and go in, in the order of their first lines as the
serial replay creates them; and so do the event rows of the lines before the next chunk's first
line (none of those lines belongs to a later chunk's case), in file order. The appeal, letter
and year-close lines among them, which name cases, are replayed here just before, knowing where
each case began; an appeal is stored before its first event, as it stands then, and brought up
to date at the end. At the end only the last chunks' rows are left to write.

Only a file that replays cleanly is stored this way. At the first refusal, or anything the
sharing cannot place (a line without a plain `"case"` key, a case id read wrongly off the
line), `store` returns None: the caller rolls back what was written meanwhile and replays the
whole file serially, which then names the first bad line and its reason, exactly as without
workers. Anything else that goes wrong in a worker (a fault, not a refusal) is raised here, and
a worker that dies without answering refuses the import (E-IMPORT): neither is hidden behind a
second, serial attempt.
"""

from __future__ import annotations

import ctypes
import marshal
import multiprocessing
import os
import pickle
import queue
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.errors import FoiError, ImportFailed

if TYPE_CHECKING:
    from foi_workflow.services.transfer import Importer, ImportResult

MIN_LINES = 20_000  # below this, starting workers costs more than it saves
MAX_WORKERS = 4
CHUNKS_PER_WORKER = 32
# `"case": "ID"` as the first case key of a line; an id with escapes does not match (the line
# then cannot be placed and the serial replay handles the file).
_CASE_KEY = re.compile(r'"case"\s*:\s*"([^"\\]*)"')
# Letters and year closes as `foi export` writes them (the key first): replayed here, in file
# order with the appeal lines. Written otherwise, they read as case lines, which the workers
# refuse, and the serial replay takes the file.
_RECORD_STARTS = ('{"letter"', '{"year_close"', '{"service_proof"')


def worker_count(lines: int, requested: int | None) -> int:
    """How many worker processes replay a file of `lines` lines (1: the serial replay)."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1  # no fork (Windows), or not safely: a forked copy of a threaded process may deadlock
    if requested is not None:
        return max(1, requested)
    if lines < MIN_LINES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


# What a chunk gave: its number, its lines in the order replayed (one event row each), the event
# rows, the rows of its new cases (each case begins in one chunk only: a chunk holds whole
# cases) in the order of their first lines, and all its cases by id (index of the first line,
# agency).
Chunk = tuple[int, list[int], list[Any], list[Any], dict[str, tuple[int, str]]]


class _Unplaced(Exception):
    """A line the sharing put in the wrong place: its case key was read wrongly off the line."""


class _Refused(Exception):
    """A worker refused a line or could not place it: the serial replay takes the file."""


class _Chunks:
    """The case lines cut into chunks (each a set of whole cases, its lines in file order) that
    the workers claim one at a time, in order, from a shared counter: whoever is ahead takes
    more, so no process waits long for a slower one (these machines' speed drifts)."""

    def __init__(self, chunks: list[list[int]], counter: Any) -> None:
        self.chunks = chunks
        self.counter = counter  # a multiprocessing Value shared by the forked processes

    def claim(self) -> Iterator[tuple[int, list[int]]]:
        while True:
            with self.counter.get_lock():
                number = self.counter.value
                self.counter.value = number + 1
            if number >= len(self.chunks):
                return
            yield number, self.chunks[number]


def _replay_chunks(
    importer: Importer,
    lines: list[str],
    keys: list[str | None],
    claimed: Iterable[tuple[int, list[int]]],
    emit: Callable[[Chunk], None],
) -> dict[str, CaseSnapshot]:
    """Replay the chunks claimed, handing each to `emit` once done (its cases are final then: a
    chunk holds whole cases). Returns the stored cases the chunks continued, as they leave them."""
    from foi_workflow.services.import_format import parse_line

    for number, indices in claimed:
        first: dict[str, tuple[int, str]] = {}
        for index in indices:
            key = keys[index]
            obj = parse_line(index + 1, lines[index])
            if key is None or obj.get("case") != key or "appeal" in obj:
                raise _Unplaced
            importer.line_index = index
            importer.case_line(obj)
            if key not in first:
                first[key] = (index, importer.cases[key].agency)
        rows = importer.new_case_rows(first)
        events, importer.events = importer.events, []  # this chunk's rows (the replay starts with none)
        emit((number, indices, events, rows, first))
    return {cid: importer.cases[cid] for cid in importer.existing_cases}


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """End this worker when `parent` ends. A killed parent leaves a worker blocked for ever on
    a pipe that a sibling (forked later, holding a copy of its read end) keeps open. On Linux
    the kernel sends SIGKILL when the parent dies; elsewhere a thread watches the parent."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):  # no libc prctl: not Linux
        armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()


# A worker's messages, by their first byte: a chunk it has replayed; the end of its share (the
# snapshots of stored cases it continued); a fault (a pickled exception). An empty message: a
# refusal, or a line it cannot place.
_CHUNK, _END, _FAULT = b"C", b"E", b"F"


def _worker(
    send: Connection, importer: Importer, lines: list[str], keys: list[str | None], chunks: _Chunks, parent: int
) -> None:
    """A forked worker: replay the chunks it claims, sending each one back as soon as it is
    done, then the end of its share; an empty message for a refusal or a line it cannot place
    (the parent's serial replay then reports it), the exception itself for anything else (the
    parent raises it)."""
    _die_with(parent)
    try:
        emit: Callable[[Chunk], None] = lambda chunk: send.send_bytes(_CHUNK + _pack(chunk))  # noqa: E731
        existing = _replay_chunks(importer, lines, keys, chunks.claim(), emit)
        end = _END + pickle.dumps(existing, pickle.HIGHEST_PROTOCOL)  # few snapshots, pickled
    except (FoiError, _Unplaced):
        send.send_bytes(b"")
    except BaseException as exc:
        send.send_bytes(_FAULT + _pickled(exc))
    else:
        send.send_bytes(end)
    send.close()


def _pack(bulk: Any) -> bytes:
    """Rows as bytes: `marshal` (three times as fast as pickle on these hundreds of thousands of
    tuples of strings; both ends are the same interpreter, forked) when they hold only plain
    values, as on SQLite; else pickle."""
    try:
        return b"M" + marshal.dumps(bulk)
    except ValueError:  # dates and the like: the rows of a Core insert
        return b"P" + pickle.dumps(bulk, pickle.HIGHEST_PROTOCOL)


def _unpack(packed: bytes) -> Any:
    body = memoryview(packed)[2:]
    return marshal.loads(body) if packed[1:2] == b"M" else pickle.loads(body)


def _pickled(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(exc, pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot travel: its type and message can
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"), pickle.HIGHEST_PROTOCOL)


# What a reader hands on when its worker ends without a last message.
_LOST = b"L"


class _Reader:
    """Reads one worker's messages on a thread of this process, so that a worker never waits
    to send while this process writes: each chunk is decoded and put in `inbox` as
    (`_CHUNK`, chunk); then (`_END`, the stored cases the worker continued), (`_FAULT`, the
    pickled exception), (b"", b"") for a refusal, or (`_LOST`, None). Whatever goes wrong here
    is handed on too, as a fault: this process waits on `inbox` and would otherwise wait for ever."""

    def __init__(self, receive: Connection, inbox: queue.SimpleQueue[tuple[bytes, Any]]) -> None:
        self.receive = receive
        self.inbox = inbox
        self.thread = threading.Thread(target=self._read, name="foi-import-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        put = self.inbox.put
        try:
            while True:
                packed = self.receive.recv_bytes()
                kind = packed[:1]
                if kind == _CHUNK:
                    put((_CHUNK, _unpack(packed)))
                    continue
                if kind == _END:
                    put((_END, pickle.loads(packed[1:])))
                else:
                    put((kind, packed[1:]))
                return
        except (EOFError, OSError):
            put((_LOST, None))
        except BaseException as exc:
            put((_FAULT, _pickled(exc)))


class _Writer:
    """This process's side of the parallel import: the workers' chunks taken in the order they
    come, and stored as soon as they are settled (see the module's description)."""

    def __init__(
        self, importer: Importer, lines: int, chunks: list[list[int]], linked: list[tuple[int, dict[str, Any]]]
    ) -> None:
        self.importer = importer
        self.slots: list[Any] = [None] * lines  # each line's event row, until it is stored
        # Where each chunk begins (the first line of its first case), and the end of the file.
        self.starts = [chunk[0] for chunk in chunks] + [lines]
        self.waiting: dict[int, tuple[list[Any], set[str]]] = {}  # chunks in, ahead of `frontier`
        self.frontier = 0  # the chunks before it are stored
        self.cursor = 0  # the event rows of the lines before it are stored
        self.linked = linked  # the appeal, letter and year-close lines (index, parsed), in file order
        self.replayed = 0  # of `linked`

    def take(self, chunk: Chunk) -> None:
        number, indices, events, case_rows, first = chunk
        slots = self.slots
        for index, row in zip(indices, events, strict=True):
            slots[index] = row
        importer = self.importer
        assert importer.file_cases is not None
        importer.file_cases.update(first)
        self.waiting[number] = (case_rows, {agency for _, agency in first.values()})
        while self.frontier in self.waiting:
            rows, agencies = self.waiting.pop(self.frontier)
            importer.store_cases(rows, agencies)
            self.frontier += 1
        self._store(self.starts[self.frontier])

    def finish(self) -> None:
        """Every chunk is in: the rest."""
        self._store(len(self.slots))

    def _store(self, bound: int) -> None:
        """Every line before `bound` is replayed but for the linked ones: replay those, then
        store the event rows of the lines before `bound` (and the appeals they may refer to)."""
        linked, importer = self.linked, self.importer
        while self.replayed < len(linked) and linked[self.replayed][0] < bound:
            index, obj = linked[self.replayed]
            try:
                self.slots[index] = importer.replay_linked(index, obj)
            except FoiError:
                raise _Refused from None
            self.replayed += 1
        if bound > self.cursor:
            part = self.slots[self.cursor : bound]
            self.slots[self.cursor : bound] = [None] * (bound - self.cursor)  # freed once stored
            importer.store_appeals()
            importer.store_events([row for row in part if row is not None])
            self.cursor = bound


def _share_out(lines: list[str], chunks: int) -> tuple[list[str | None], list[list[int]], list[int]] | None:
    """Each line's case key, the case lines cut into at most `chunks` chunks of whole cases (a
    case goes with the part of the file its first line is in, so the chunks follow the cases in
    the order of their first lines), and the appeal, letter and year-close lines; None when a
    line is neither (the serial replay then says what is wrong with it)."""
    keys: list[str | None] = []
    others: list[int] = []
    chunk_of: dict[str, int] = {}
    shares: list[list[int]] = [[] for _ in range(chunks)]
    search, size = _CASE_KEY.search, len(lines)
    closed_before = False  # a year close line: a later case line must see it (the serial replay does)
    for index, line in enumerate(lines):
        if '"appeal"' in line or line.startswith(_RECORD_STARTS):
            keys.append(None)
            others.append(index)
            closed_before = closed_before or line.startswith('{"year_close"')
            continue
        match = search(line)
        if match is None:
            if line.strip():
                return None
            keys.append(None)
            continue
        if closed_before:
            return None
        key = match.group(1)
        keys.append(key)
        chunk = chunk_of.get(key)
        if chunk is None:
            chunk = chunk_of[key] = index * chunks // size
        shares[chunk].append(index)
    return keys, [share for share in shares if share], others


def store(importer: Importer, lines: list[str], workers: int) -> ImportResult | None:
    """Replay `lines` with `workers` worker processes and store them through `importer` as they
    come; then the stored cases the file continues and the records (`Importer.finish`). None
    when the file is refused or cannot be shared out: the caller rolls back what was stored."""
    shared = _share_out(lines, workers * CHUNKS_PER_WORKER)
    if shared is None:
        return None
    keys, chunks, others = shared
    try:
        linked = _linked_lines(lines, others)
        importer.plan_fees(lines)
    except (ValueError, FoiError, _Unplaced):  # a bad line: the serial replay finds it and says why
        return None
    importer.prefetch(key for key in keys if key is not None)
    importer.parallel = True
    importer.file_cases = {}
    new_cases = len({key for key in keys if key is not None} - importer.stored_case_ids)
    context = multiprocessing.get_context("fork")
    claims = _Chunks(chunks, context.Value("i", 0))
    children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    readers: list[_Reader] = []
    ended = 0
    try:
        for _ in range(workers):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker, args=(send, importer, lines, keys, claims, os.getpid()), daemon=True
            )
            process.start()
            send.close()
            children.append((process, receive))
        # Only now, every worker forked: a process with threads is not forked safely.
        inbox: queue.SimpleQueue[tuple[bytes, Any]] = queue.SimpleQueue()
        readers = [_Reader(receive, inbox) for _, receive in children]
        writer = _Writer(importer, len(lines), chunks, linked)
        with importer.loading(new_cases, len(lines)):
            while ended < workers:
                kind, message = inbox.get()
                if kind == _CHUNK:
                    writer.take(message)
                elif kind == _END:
                    importer.take_over(message)
                    ended += 1
                elif kind == _FAULT:
                    raise pickle.loads(message)
                elif kind == _LOST:
                    raise ImportFailed("并行导入的一个工作进程意外退出；整个文件未导入，可加 --workers 1 再试")
                else:
                    raise _Refused
            writer.finish()
    except _Refused:
        return None
    finally:
        for child, _ in children:
            if ended < workers:  # not every answer is in: no need to wait for the rest
                child.kill()
            child.join()
        for reader in readers:
            reader.thread.join()  # the worker has ended: its reader has read to the end of the pipe
        for _, receive in children:
            receive.close()
    return importer.finish()


def _linked_lines(lines: list[str], others: list[int]) -> list[tuple[int, dict[str, Any]]]:
    """The appeal, letter and year-close lines parsed, with their indices; a refusal, or a line
    that names one of these only in its text, raises (the serial replay then takes over)."""
    from foi_workflow.services.import_format import is_record, parse_line

    parsed = [(index, parse_line(index + 1, lines[index])) for index in others]
    if any("appeal" not in obj and not is_record(obj) for _, obj in parsed):
        raise _Unplaced
    return parsed
