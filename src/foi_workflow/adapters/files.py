"""Files `foi` writes for people: exports, letters, registers, reports. They hold applicants'
personal data, so each is created readable by its owner only (0600), as the database is, and
appears whole or not at all: the bytes go to a hidden file beside the target first (where a
missing folder, a full disk or a refused permission shows up), and only a rename puts it in
place. A caller can thus do everything that can fail before it commits a transaction, and only
the rename after (`StagedFile`).

Every command that writes such a file goes through `private_output` / `write_private` /
`StagedFile`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from foi_workflow.errors import FileError

PRIVATE = 0o600


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_target(target: Path) -> None:
    """Refuse a target that cannot be a file: its folder missing, or a folder itself."""
    if target.is_dir():
        raise FileError(f"无法写入 {target}：这是一个文件夹")
    if not target.parent.is_dir():
        raise FileError(f"无法写入 {target}：文件夹 {target.parent} 不存在")


def _hidden_part(target: Path) -> tuple[int, Path]:
    """A new private file beside `target` (mkstemp: O_EXCL, 0600, never through a link)."""
    check_target(target)
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise FileError(f"无法在 {target.parent} 写入文件：{_reason(exc)}") from None
    os.fchmod(fd, PRIVATE)
    return fd, Path(name)


@contextmanager
def private_output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary handle on a new private file that becomes `path` when the block ends normally;
    on any failure `path` is untouched and the partial file removed."""
    target = Path(path)
    fd, part = _hidden_part(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


@dataclass
class StagedFile:
    """`data` written privately beside `target`, waiting for `commit` (the rename) or `discard`."""

    target: Path
    part: Path

    @classmethod
    def write(cls, target: Path, data: bytes) -> StagedFile:
        fd, part = _hidden_part(target)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise FileError(f"无法写入 {target}：{_reason(exc)}") from None
        return cls(target, part)

    def commit(self) -> None:
        """Put the file in place (raises OSError; the staged copy is removed either way)."""
        try:
            os.replace(self.part, self.target)
        finally:
            self.part.unlink(missing_ok=True)

    def discard(self) -> None:
        self.part.unlink(missing_ok=True)


def write_private(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write a whole private file (text as UTF-8); every failure is one FileError."""
    target = Path(path)
    staged = StagedFile.write(target, data.encode("utf-8") if isinstance(data, str) else data)
    try:
        staged.commit()
    except OSError as exc:
        raise FileError(f"无法写入 {target}：{_reason(exc)}") from None
