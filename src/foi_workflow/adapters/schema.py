"""Which schema versions this foi knows: the revisions of its own Alembic migrations.

A database stamped with a revision not among them was migrated by a newer foi; reading or
writing its unknown schema could lose data, so every command refuses it. Light on purpose
(no Alembic, no SQLAlchemy): the plain read path of `foi show` checks it too.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from foi_workflow.errors import DatabaseUnusable

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"
_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)


@cache
def known_revisions() -> frozenset[str]:
    """The `revision` of every migration file shipped with this foi."""
    found: set[str] = set()
    for path in VERSIONS_DIR.glob("*.py"):
        found.update(_REVISION.findall(path.read_text(encoding="utf-8")))
    return frozenset(found)


def check_revision(stored: str | None) -> None:
    """Refuse a database stamped with a migration this foi does not know (None: not stamped)."""
    if stored is not None and stored not in known_revisions():
        raise DatabaseUnusable(f"数据库已由更新版本的 foi 升级（迁移 {stored}），本版本无法安全读写，请升级 foi")
