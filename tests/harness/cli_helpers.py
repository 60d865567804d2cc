"""Run the real `tinyperf` console script, as a user would."""

from __future__ import annotations

import sys
import os
import subprocess
from pathlib import Path

TINYPERF = [sys.executable, "-m", "tinyperf.cli"]


def tinyperf(*args: str | Path, cwd: Path | None = None, timeout: float = 600, env: dict | None = None
             ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([*TINYPERF, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=full_env)


def only_run_dir(out: Path) -> Path:
    dirs = [d for d in out.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def rendered(renderable, width: int = 80) -> str:
    """What a terminal `width` columns wide shows for a rich renderable (plain text)."""
    import io

    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()
