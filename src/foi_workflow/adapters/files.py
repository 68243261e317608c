"""Writing an output file so that it appears whole or not at all: the bytes go to a hidden
file beside the target first (where a missing folder, a full disk or a refused permission
shows up), and only a rename puts it in place. A caller can thus do everything that can fail
before it commits a transaction, and only the rename after."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from foi_workflow.errors import OutputError


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_target(target: Path) -> None:
    """Refuse a target that cannot be a file: its folder missing, or a folder itself."""
    if target.is_dir():
        raise OutputError(f"输出路径 {target} 是一个文件夹，请给出文件名")
    if not target.parent.is_dir():
        raise OutputError(f"输出文件夹 {target.parent} 不存在")


@dataclass
class StagedFile:
    """`data` written beside `target`, waiting for `commit` (the rename) or `discard`."""

    target: Path
    part: Path

    @classmethod
    def write(cls, target: Path, data: bytes) -> StagedFile:
        check_target(target)
        try:
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        except OSError as exc:
            raise OutputError(f"无法在 {target.parent} 写入文件：{_reason(exc)}") from None
        part = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise OutputError(f"无法写入 {target}：{_reason(exc)}") from None
        return cls(target, part)

    def commit(self) -> None:
        """Put the file in place (raises OSError; the staged copy is removed either way)."""
        try:
            os.replace(self.part, self.target)
        finally:
            self.part.unlink(missing_ok=True)

    def discard(self) -> None:
        self.part.unlink(missing_ok=True)


def write_file(target: Path, data: bytes) -> None:
    """Write `target` whole or not at all; every failure is one clear OutputError."""
    staged = StagedFile.write(target, data)
    try:
        staged.commit()
    except OSError as exc:
        raise OutputError(f"无法写入 {target}：{_reason(exc)}") from None
