"""Where and with what a result was obtained: recorded in run.json and in every summary row."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from tinyperf.core.version import __version__

PACKAGES = ("ai-edge-litert", "tflite-micro", "numpy", "pandas", "pyarrow", "pyserial", "rich", "tensorflow")


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def harness_commit() -> str | None:
    """The git commit of a development install (with '+dirty' for local changes); None otherwise."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


def machine_metadata() -> dict[str, Any]:
    """Facts about this host; cheap enough to take at every run start."""
    return {
        "hostname": socket.gethostname(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "harness_version": __version__,
        "harness_commit": harness_commit(),
        "packages": package_versions(),
    }
