"""The one way tinyperf runs TensorFlow: in a worker process, never in the process that times inferences.

Building the default models and quantizing both spawn `python -m <module>`, relay its progress
lines (`step: ...`, `done: ...`, `failed: ...`) as they come, kill it on Ctrl-C or timeout so no
converter outlives us, and report its last words when it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

Spawn = Callable[[IO[str]], subprocess.Popen]


def worker_env() -> dict[str, str]:
    """Quiet, deterministic TensorFlow. The worker imports tinyperf as this process does (installed:
    `harness/` is the package `tinyperf`, so it must never go on PYTHONPATH, where its modules
    would become top-level ones and shadow the standard library's)."""
    env = dict(os.environ)
    env.update({
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_USE_LEGACY_KERAS": "1",  # tf.lite's Keras converter works on the tf_keras (Keras 2) models
        "TF_ENABLE_ONEDNN_OPTS": "0",  # bit-reproducible float math for calibration
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def module_command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def spawn(cmd: list[str], stderr: IO[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=worker_env(), stdout=subprocess.PIPE, stderr=stderr,
                            stdin=subprocess.DEVNULL, text=True, bufsize=1)


@dataclass(frozen=True)
class WorkerResult:
    returncode: int
    stderr: str  # everything the worker wrote to stderr (for a log)
    tail: list[str]  # its last non-empty stderr lines

    def why(self) -> str:
        """The worker's last words: an `error:` line if it wrote one, else a signal, else its last line."""
        errors = [ln for ln in self.tail if ln.startswith("error:")]
        if errors:
            return errors[-1].removeprefix("error:").strip()
        if self.returncode < 0:
            return f"stopped by signal {-self.returncode}"
        return self.tail[-1] if self.tail else f"exit status {self.returncode}"


def run_worker(spawn_with: Spawn, on_line: Callable[[str], None], timeout_s: float, tail_lines: int = 60) -> WorkerResult:
    """Run a worker started by `spawn_with(stderr_file)`, handing each non-empty stdout line to `on_line`."""
    with tempfile.TemporaryFile("w+") as stderr:
        proc = spawn_with(stderr)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.strip():
                    on_line(line.strip())
            rc = proc.wait(timeout=timeout_s)
        except BaseException:  # Ctrl-C or timeout: never leave a worker running behind us
            proc.kill()
            proc.wait()
            raise
        stderr.seek(0)
        text = stderr.read()
    tail = [ln.strip() for ln in deque(text.splitlines(), maxlen=tail_lines) if ln.strip()]
    return WorkerResult(rc, text, tail)
