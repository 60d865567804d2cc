"""RAM and flash a model needs on a microcontroller running TensorFlow Lite Micro.

- `arena_bytes`: the tensor arena TFLM allocates for the model, from its RecordingMicroAllocator
  report, then checked by loading with exactly that arena (works) and 16 bytes less (fails); if
  the check disagrees, the smallest arena that works is found by bisection instead.
  `arena_method` says which. The split: non-persistent (head: activation buffers planned to share
  memory, scratch) and persistent (tail: tensor structs, quantization data, op state).
- `model_flash_bytes`: the flatbuffer (weights + graph) as stored in flash. The firmware's code
  (TFLM, kernels, the application) comes on top and depends on the build.

Figures depend only on the model bytes and the tflite-micro version, so they are cached by sha256
in the user cache and cost nothing on a repeat. A model TFLM cannot run gets no arena figure, and
`memory_note` says why (missing, never 0).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.core import config, tflm
from tinyperf.core.errors import TinyperfError
from tinyperf.core.files import atomic_write_text

#: the arena's start is aligned to 16 bytes in TFLM; a 16-byte-smaller arena must fail for the figure to be minimal
ALIGNMENT = 16
#: one probe loads and invokes a model once; even vww01 takes well under a second
PROBE_TIMEOUT_S = 120.0
FLASH_NOTE = "flash = the .tflite flatbuffer (weights + graph); firmware code (TFLM, kernels, application) comes on top"
FIELDS = ("model_flash_bytes", "arena_bytes", "arena_nonpersistent_bytes", "arena_persistent_bytes", "arena_method",
          "memory_note", "tflm_problem", "tflm_fix", "tflm_version")


def probe(path: Path, arena: int) -> dict[str, Any]:
    """Load and invoke the model in a child process with an `arena`-byte arena.

    A child, because TFLM can crash (SIGSEGV) instead of failing cleanly when an arena is just too
    small for a tail allocation; a crash counts as "does not fit", never takes the caller down.
    Returns {"ok": bool, "arena": {total, nonpersistent, persistent} | None, "problem", "fix"}."""
    try:
        r = subprocess.run([sys.executable, "-m", __name__, str(path), str(arena)], capture_output=True, text=True,
                           timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"ok": False, "problem": f"TFLite Micro took over {PROBE_TIMEOUT_S:g} s to load and run the model"}
    lines = r.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]) if r.returncode == 0 and lines else {"ok": False, "crashed": r.returncode}
    except ValueError:
        return {"ok": False, "crashed": r.returncode}


def _probe_here(path: Path, arena: int) -> dict[str, Any]:
    """The child's side of `probe`."""
    try:
        interpreter, _ = tflm.load(path, arena)
        details = interpreter.get_input_details(0)
        interpreter.set_input(np.zeros(details["shape"], dtype=details["dtype"]), 0)
        with tflm.captured_fd2():
            interpreter.invoke()
    except TinyperfError as exc:
        return {"ok": False, "problem": exc.problem, "fix": exc.fix}
    except RuntimeError as exc:
        return {"ok": False, "problem": f"TFLite Micro failed to invoke the model ({exc})"}
    report = tflm.allocation_report(interpreter)
    return {"ok": True, "arena": vars(report) if report else None}


def smallest_arena(path: Path, low: int, high: int) -> int | None:
    """The smallest arena in [low, high] in which the model loads and runs, by bisection (`high` must work)."""
    while low < high:
        mid = (low + high) // 2
        if probe(path, mid)["ok"]:
            high = mid
        else:
            low = mid + 1
    return high


def measure(path: Path) -> dict[str, Any]:
    """The memory figures of one model, computed now (see `model_memory` for the cached call)."""
    out: dict[str, Any] = dict.fromkeys(FIELDS)
    out["model_flash_bytes"] = Path(path).stat().st_size
    out["tflm_version"] = tflm.tflm_version()
    first = probe(path, tflm.MEASURE_ARENA)
    if not first["ok"]:
        problem = first.get("problem") or f"TFLite Micro crashed loading it (exit status {first.get('crashed')})"
        out.update(memory_note=f"TFLite Micro cannot run this model: {problem}", tflm_problem=problem,
                   tflm_fix=first.get("fix"))
        return out
    report = first.get("arena")
    if report:
        out.update(arena_nonpersistent_bytes=report["nonpersistent"], arena_persistent_bytes=report["persistent"])
        total = int(report["total"])
        fits = probe(path, total)["ok"]
        if fits and not probe(path, total - ALIGNMENT)["ok"]:
            out.update(arena_bytes=total, arena_method="TFLM allocation report (checked: the smallest arena that works)")
            return out
        # allocation needs temporary room the final report no longer shows (the memory planner's scratch)
        low, high = (1, total) if fits else (total + 1, 2 * total)
        while not fits and high < tflm.MEASURE_ARENA and not probe(path, high)["ok"]:
            low, high = high + 1, 2 * high
    else:
        low, high = 1, tflm.MEASURE_ARENA
    out["arena_bytes"] = smallest_arena(path, low, min(high, tflm.MEASURE_ARENA))
    out["arena_method"] = "smallest arena that works (bisection; TFLM's report omits temporary allocations)"
    return out


def _cache_file(sha256: str) -> Path:
    return config.cache_dir() / "memory" / f"{sha256}.json"


def model_memory(path: Path, sha256: str | None = None) -> dict[str, Any]:
    """Memory figures for the model at `path`, from the cache when this tflite-micro measured it before."""
    path = Path(path)
    data = path.read_bytes()
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    reason = tflm.available()
    if reason:
        out = dict.fromkeys(FIELDS)
        out.update(model_flash_bytes=len(data), memory_note=f"no arena figure: {reason}")
        return out
    cached = _cache_file(sha256)
    try:
        found = json.loads(cached.read_text())
        if found.get("tflm_version") == tflm.tflm_version() and set(FIELDS) <= set(found):
            return {k: found[k] for k in FIELDS}
    except (OSError, ValueError):
        pass
    out = measure(path)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cached, json.dumps(out, indent=2) + "\n")
    except OSError:
        pass  # a read-only cache costs a re-measurement next time, nothing else
    return out


if __name__ == "__main__":  # the probe child: python -m <this module> MODEL ARENA_BYTES
    print(json.dumps(_probe_here(Path(sys.argv[1]), int(sys.argv[2]))))
