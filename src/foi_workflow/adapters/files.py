"""Files `foi` writes for people: exports, letters, reports. They hold applicants' personal
data, so each is created readable by its owner only (0600), as the database is, and appears
whole or not at all (written beside its name, then renamed).

Every command that writes such a file goes through `private_output` / `write_private`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from foi_workflow.errors import FileError

PRIVATE = 0o600


@contextmanager
def private_output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary handle on a new private file that becomes `path` when the block ends normally;
    on any failure `path` is untouched and the partial file removed."""
    target = Path(path)
    if not target.parent.is_dir():
        raise FileError(f"无法写入 {target}：文件夹 {target.parent} 不存在")
    if target.is_dir():
        raise FileError(f"无法写入 {target}：这是一个文件夹")
    part = target.with_name(target.name + ".part")
    # O_EXCL after removing a leftover: never write through a link someone placed there.
    part.unlink(missing_ok=True)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def write_private(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write a whole private file (text as UTF-8)."""
    with private_output(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
