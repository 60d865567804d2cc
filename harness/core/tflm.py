"""The TensorFlow Lite Micro runtime from the `tflite-micro` package: load a model, say why not.

`tflite_micro.runtime.Interpreter` is the real TFLM C++ interpreter (reference kernels, the
RecordingMicroAllocator). It reports every problem only as text on file descriptor 2 and raises a
bare "TFLM failed to allocate tensors"; this module keeps that text and turns it into one line
that names the op or type TFLM lacks. Nothing here imports anything else of tinyperf but errors
and the graph reader, so every layer may use it.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tinyperf.core.errors import ModelError
from tinyperf.core.tflite_graph import missing_data, read_graph, unsupported_by_micro

PACKAGE = "tflite-micro"
#: arena offered when measuring: generous, so the allocator's report is the only limit
MEASURE_ARENA = 64 * 1024 * 1024


def available() -> str | None:
    """None if the TFLM runtime is importable here, else the one-line reason."""
    try:
        from tflite_micro import runtime  # noqa: F401  (an attribute of the package, not a submodule)
    except ImportError as exc:
        return f"tflite-micro is not importable ({exc}); `python -m pip install tflite-micro`"
    return None


def tflm_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "unknown"


@contextmanager
def captured_fd2() -> Iterator[list[str]]:
    """What native code writes to fd 2 inside the block, as lines (filled when the block ends)."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines.extend(line for line in held.read().decode(errors="replace").splitlines() if line.strip())


_MISSING_OP = re.compile(r"Didn't find op for builtin opcode '([^']+)'")
_FAILED_NODE = re.compile(r"Node (\S+) \(number (\d+)\) failed to (prepare|invoke)")
_MISSING_CUSTOM = re.compile(r"Didn't find op for custom opcode '([^']+)'")


def explain(log: list[str], graph_reason: str | None) -> tuple[str, str]:
    """(problem, fix) for a model TFLM refused, from its log and what the graph shows."""
    litert = "or run it on LiteRT (--runner host with --kernels reference)"
    fix = f"convert the model with full integer (int8) quantization and TFLITE_BUILTINS_INT8 ops, {litert}"
    for line in log:
        if m := _MISSING_OP.search(line):
            return f"TFLite Micro has no {m.group(1)} op", f"build the model from ops TFLite Micro has, {litert}"
        if m := _MISSING_CUSTOM.search(line):
            return f"TFLite Micro has no custom op {m.group(1)}", f"build the model from builtin ops, {litert}"
    for k, line in enumerate(log):
        if m := _FAILED_NODE.search(line):
            where = f"op {m.group(2)} {m.group(1)} failed to {m.group(3)} in TFLite Micro"
            if graph_reason:  # the graph says why in plain words; TFLM's own line is a source-code check
                return f"{graph_reason} ({where})", fix
            detail = log[k - 1].strip() if k else ""
            return where + (f": {detail}" if detail else ""), fix
    if graph_reason:
        return graph_reason, fix
    if any("Arena size is too small" in line or "Failed to allocate" in line for line in log):
        return "the tensor arena is too small", "pass a larger arena"
    first = next((line.strip() for line in log), "no message")
    return f"TFLite Micro cannot load this model ({first})", fix


def load(path: Path, arena_size: int = MEASURE_ARENA, data: bytes | None = None) -> tuple[Any, list[str]]:
    """(interpreter, allocation log); a model TFLM cannot run is a ModelError naming the op or type."""
    reason = available()
    if reason:
        raise ModelError(path, f"TFLite Micro is not available: {reason}", "install tflite-micro")
    from tflite_micro import runtime

    data = Path(path).read_bytes() if data is None else data
    graph = read_graph(path, data)
    hole = missing_data(graph)
    if hole:
        raise ModelError(path, f"cannot run it: {hole}, so the file is corrupt",
                         "re-download it (`tinyperf fetch models`) or re-convert it")
    with captured_fd2() as log:
        try:
            interpreter = runtime.Interpreter.from_bytes(data, arena_size=arena_size)
        except (RuntimeError, ValueError):
            interpreter = None
    if interpreter is None:
        problem, fix = explain(log, unsupported_by_micro(graph))
        raise ModelError(path, problem, fix)
    return interpreter, log


@dataclass(frozen=True)
class Arena:
    """What TFLM's RecordingMicroAllocator allocated in the tensor arena (bytes)."""

    total: int
    nonpersistent: int  # head: the planned activation buffers and scratch, reused across ops
    persistent: int  # tail: tensor structs, quantization data, op state; lives for the model's life


_ARENA = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


def parse_arena(lines: list[str]) -> Arena | None:
    found = {m.group(1): int(m.group(2)) for line in lines if (m := _ARENA.search(line))}
    if "total" not in found:
        return None
    return Arena(found["total"], found.get("head", 0), found.get("tail", 0))


def allocation_report(interpreter: Any) -> Arena | None:
    """Ask the RecordingMicroAllocator (after an invoke) what the arena holds."""
    with captured_fd2() as lines:
        interpreter.print_allocations()
    return parse_arena(lines)
