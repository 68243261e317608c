"""The parallel replay of a large `foi import`: the cases of the file shared out between
worker processes, each replaying its cases through the same `Importer.case_line` as the
serial import; this process then stores everything in its one transaction.

Cases are independent of each other in a replay: a line's fate depends only on the earlier
lines of its own case and on what was stored before the import. So the case lines are cut
into chunks of whole cases (by the case id read off the raw line; `json` decides only inside
the worker), the processes claim chunks one at a time until none is left (so a process the
machine slows down takes fewer), each replays its cases' lines in file order, and the event
rows are put back in file order by line index. Appeal lines, which name cases, are replayed
here afterwards in file order, knowing where each case began. The workers are forked: they
inherit the lines, the importer and the histories of stored cases read ahead in this
transaction (a worker never touches the database), and send each chunk's rows back with
`marshal` as soon as the chunk is done, read here on a thread while this process replays its
own share: at the end only the last chunk is still to cross over.

Only a file that replays cleanly is stored this way. At the first refusal, or anything the
sharing cannot place (a line without a plain `"case"` key, a case id read wrongly off the
line), `replay` returns None and the caller replays the whole file serially: the serial replay
then names the first bad line and its reason, exactly as without workers. Anything else that
goes wrong in a worker (a fault, not a refusal) is raised here, and a worker that dies without
answering refuses the import (E-IMPORT): neither is hidden behind a second, serial attempt.
"""

from __future__ import annotations

import ctypes
import marshal
import multiprocessing
import os
import pickle
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from foi_workflow.domain.workflow import CaseSnapshot
from foi_workflow.errors import FoiError, ImportFailed

if TYPE_CHECKING:
    from foi_workflow.services.transfer import Importer

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
    """How many processes replay a file of `lines` lines (1: the serial replay)."""
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


# What a chunk gave: its lines, in the order replayed (one event row each), the event rows, and
# its cases (each begins in one chunk only: a chunk holds whole cases) as (index of the first
# line, new case row) and by id (index of the first line, agency).
Chunk = tuple[list[int], list[Any], list[tuple[int, Any]], dict[str, tuple[int, str]]]


@dataclass
class Share:
    """What one worker's replay left, in a form that is cheap to send between processes
    (taken over by `Importer.absorb`)."""

    indices: list[int]  # the lines replayed, in the order replayed: one event row each
    events: list[Any]
    new_cases: list[tuple[int, Any]]  # (index of the case's first line, its row for the bulk insert)
    existing: dict[str, CaseSnapshot]  # stored cases the file continues, as the file leaves them
    file_cases: dict[str, tuple[int, str]]  # every case of the share: (first line index, agency)

    def add(self, chunk: Chunk) -> None:
        indices, events, new_cases, first = chunk
        self.indices.extend(indices)
        self.events.extend(events)
        self.new_cases.extend(new_cases)
        self.file_cases.update(first)


class _Unplaced(Exception):
    """A line the sharing put in the wrong place: its case key was read wrongly off the line."""


class _Chunks:
    """The case lines cut into chunks (each a set of whole cases, its lines in file order) that
    the processes claim one at a time from a shared counter: whoever is ahead takes more, so no
    process waits long for a slower one (these machines' speed drifts)."""

    def __init__(self, chunks: list[list[int]], counter: Any) -> None:
        self.chunks = chunks
        self.counter = counter  # a multiprocessing Value shared by the forked processes

    def claim(self) -> Iterator[list[int]]:
        while True:
            with self.counter.get_lock():
                number = self.counter.value
                self.counter.value = number + 1
            if number >= len(self.chunks):
                return
            yield self.chunks[number]


def _replay_share(
    importer: Importer,
    lines: list[str],
    keys: list[str | None],
    chunks: Iterable[list[int]],
    emit: Callable[[Chunk], None] | None = None,
) -> Share:
    """Replay the chunks claimed from `chunks`. A chunk holds whole cases, so its cases are
    final once it is done: each chunk is handed then to `emit` (a worker's, which sends it),
    else added to the share returned."""
    from foi_workflow.services.import_format import parse_line

    share = Share([], [], [], {}, {})
    for indices in chunks:
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
        existing = importer.existing_cases
        rows = importer.new_case_rows(first)
        new_cases = list(zip([at for cid, (at, _) in first.items() if cid not in existing], rows, strict=True))
        events, importer.events = importer.events, []  # this chunk's rows (the replay starts with none)
        (emit or share.add)((indices, events, new_cases, first))
    share.existing = {cid: importer.cases[cid] for cid in importer.existing_cases}
    return share


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
    done (the importing process reads them while it replays its own share), then the end of its
    share; an empty message for a refusal or a line it cannot place (the parent's serial replay
    then reports it), the exception itself for anything else (the parent raises it)."""
    _die_with(parent)
    try:
        emit: Callable[[Chunk], None] = lambda chunk: send.send_bytes(_CHUNK + _pack(chunk))  # noqa: E731
        share = _replay_share(importer, lines, keys, chunks.claim(), emit)
        end = _END + pickle.dumps(share.existing, pickle.HIGHEST_PROTOCOL)  # few snapshots, pickled
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


class _Reader:
    """Reads one worker's messages on a thread of this process while this process replays its
    own share, so that a worker's chunks cross over (and are decoded) as they come, not all at
    the end. `share()` afterwards: the worker's share; None if it refused its lines; raises
    what failed in it."""

    def __init__(self, receive: Connection) -> None:
        self.receive = receive
        self.gathered = Share([], [], [], {}, {})
        self.ended = self.refused = False
        self.fault: bytes | None = None
        self.thread = threading.Thread(target=self._read, name="foi-import-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        share = self.gathered
        try:
            while True:
                packed = self.receive.recv_bytes()
                kind = packed[:1]
                if kind == _CHUNK:
                    share.add(_unpack(packed))
                elif kind == _END:
                    share.existing = pickle.loads(packed[1:])
                    self.ended = True
                    return
                elif kind == _FAULT:
                    self.fault = packed[1:]
                    return
                else:
                    self.refused = True
                    return
        except (EOFError, OSError):
            return  # the worker ended without its last message: `share` says so

    def share(self) -> Share | None:
        self.thread.join()
        if self.fault is not None:
            raise pickle.loads(self.fault)
        if self.refused:
            return None
        if not self.ended:
            raise ImportFailed("并行导入的一个工作进程意外退出；整个文件未导入，可加 --workers 1 再试")
        return self.gathered


def _share_out(lines: list[str], chunks: int) -> tuple[list[str | None], list[list[int]], list[int]] | None:
    """Each line's case key, the case lines cut into `chunks` chunks by case, and the appeal
    lines; None when a line is neither (the serial replay then says what is wrong with it)."""
    keys: list[str | None] = []
    appeals: list[int] = []
    search = _CASE_KEY.search
    closed_before = False  # a year close line: a later case line must see it (the serial replay does)
    for index, line in enumerate(lines):
        if '"appeal"' in line or line.startswith(_RECORD_STARTS):
            keys.append(None)
            appeals.append(index)
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
        keys.append(match.group(1))
    shares: list[list[int]] = [[] for _ in range(chunks)]
    for index, key in enumerate(keys):
        if key is not None:
            shares[hash(key) % chunks].append(index)
    return keys, shares, appeals


def replay(importer: Importer, lines: list[str], workers: int) -> list[Any] | None:
    """Replay `lines` with `workers` processes (this one included) into `importer`; return the
    rows of the new cases, or None when the file is refused or cannot be shared out."""
    shared = _share_out(lines, workers * CHUNKS_PER_WORKER)
    if shared is None:
        return None
    keys, shares, appeals = shared
    importer.prefetch(key for key in keys if key is not None)
    try:
        importer.plan_fees(lines)
    except (ValueError, FoiError):  # a bad line: the serial replay finds it and says why
        return None
    importer.parallel = True
    context = multiprocessing.get_context("fork")
    chunks = _Chunks(shares, context.Value("i", 0))
    children: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    readers: list[_Reader] = []
    results: list[Share | None] = []
    try:
        for _ in range(workers - 1):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker, args=(send, importer, lines, keys, chunks, os.getpid()), daemon=True
            )
            process.start()
            send.close()
            children.append((process, receive))
        # Only now, every worker forked: a process with threads is not forked safely.
        readers = [_Reader(receive) for _, receive in children]
        try:
            results.append(_replay_share(importer, lines, keys, chunks.claim()))
        except (FoiError, _Unplaced):
            return None  # the workers are stopped below: the serial replay takes over
        for reader in readers:
            results.append(reader.share())
    finally:
        for child, _ in children:
            if len(results) <= len(children):  # not every answer is in: no need to wait for the rest
                child.kill()
            child.join()
        for reader in readers:
            reader.thread.join()  # the worker has ended: its reader has read to the end of the pipe
        for _, receive in children:
            receive.close()
    complete = [share for share in results if share is not None]
    if len(complete) != workers:
        return None
    try:
        return importer.absorb(complete, len(lines), _appeal_lines(lines, appeals))
    except (FoiError, _Unplaced):
        return None


def _appeal_lines(lines: list[str], appeals: list[int]) -> list[tuple[int, dict[str, Any]]]:
    """The appeal, letter and year-close lines parsed, with their indices; a refusal, or a line
    that names one of these only in its text, raises (the serial replay then takes over)."""
    from foi_workflow.services.import_format import is_record, parse_line

    parsed = [(index, parse_line(index + 1, lines[index])) for index in appeals]
    if any("appeal" not in obj and not is_record(obj) for _, obj in parsed):
        raise _Unplaced
    return parsed
