"""Where the project's data folders (workflows/, notices/, config/) live.

They sit at the top of the source tree, beside `src/`, as the design card asks; the package
is installed in editable mode so these paths resolve from the installed code too.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = PROJECT_ROOT / "workflows"
NOTICES_DIR = PROJECT_ROOT / "notices"
CONFIG_DIR = PROJECT_ROOT / "config"
