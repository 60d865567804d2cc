"""Writing files so that a kill never leaves half of one, and JSON for numpy values."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.core.errors import TinyperfError


def atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` to a temporary file beside `path`, fsync, rename over `path`: all of the new
    file or the old one, whatever the writer (pandas, numpy) and whenever the process dies."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def checked_path(option: str, value: str | Path) -> Path:
    """A path the user named, absolute, or one line saying why it cannot be used.

    Names that are not UTF-8 are refused here rather than after a run (every result file is
    UTF-8 JSON/CSV/parquet), and a symlink loop is named as such instead of a traceback.
    """
    text = os.fsdecode(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise TinyperfError(option, f"'{shown}' is not a UTF-8 name; results record every path as UTF-8 text",
                            "rename it (or link to it) with a UTF-8 name") from None
    try:
        return Path(text).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: "Symlink loop from ..."
        raise TinyperfError(option, f"'{text}' cannot be resolved ({exc})",
                            "point it at a real folder (the path or one of its links loops back on itself)") from None


def printable(name: str) -> str:
    """A file name from the disk as text that can always be printed (undecodable bytes as \\xNN)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
