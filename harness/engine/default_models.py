"""Built-in default models: the four reference architectures with synthetic weights.

With no model anywhere, `tinyperf run` still benchmarks something meaningful for speed: the
MLPerf Tiny architectures, randomly initialised and quantized to int8 with synthetic calibration
data. They cannot score accuracy (untrained), so their rows say so.

Building needs TensorFlow, which is slow to import and must never sit inside the process that
times inferences. So the models are built once, all four together, by a separate process
(`python -m tinyperf.engine.build_default_models --out DIR`) and cached. The build writes into a temporary
folder beside the cache and moves each file in with an atomic rename, under a lock file: an
interrupted build leaves no half-written model, and two runs at once do not corrupt the cache.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from rich.markup import escape

from tinyperf.core import config
from tinyperf.core.console import console
from tinyperf.core.errors import ModelError
from tinyperf.core.modelfile import ModelFile, check_tflite_file
from tinyperf.engine.tf_worker import module_command, run_worker, spawn, worker_env
from tinyperf.workloads.spec import Workload

RECIPE_VERSION = 2  # bump when the architectures, calibration or conversion change: forces a rebuild
SEED = 20240601
SOURCE = "default-architecture"
NOTE = "architecture only, synthetic weights"
BUILT_WORKLOADS = ("kws01", "vww01", "ic01", "ad01")
#: what a user is told up front; the build of all four on a 2-core VM, TensorFlow import included,
#: measured 17-21 s idle, 60 s with the machine busy (load average 9), 116 s in a fault campaign
BUILD_ESTIMATE = "about 1 min on 2 cores; 20 s idle, 2 min under load"
BUILD_TIMEOUT_S = 1800
BUILDER_MODULE = "tinyperf.engine.build_default_models"


def cache_folder() -> Path:
    return config.cache_dir() / "default-models"


def model_file_name(workload_id: str) -> str:
    return f"{workload_id}_arch_int8.tflite"


def sidecar_name(workload_id: str) -> str:
    return f"{workload_id}_arch_int8.json"


def read_sidecar(folder: Path, workload_id: str) -> dict[str, Any] | None:
    """The build record of a cached model, or None when it is missing, stale or does not match."""
    model = folder / model_file_name(workload_id)
    try:
        record = json.loads((folder / sidecar_name(workload_id)).read_text())
        data = model.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("recipe_version") != RECIPE_VERSION:
        return None
    if record.get("sha256") != hashlib.sha256(data).hexdigest():
        return None  # a model from another build than its record (e.g. a rename in between)
    return record


def default_model(workload: Workload) -> ModelFile:
    """The cached default model for `workload`, building all four first if needed."""
    if workload.id not in BUILT_WORKLOADS:
        raise ModelError(None, f"{workload.id} has no model and no built-in default architecture",
                         "pass --model my.tflite or --models-dir with a model for this workload")
    folder = cache_folder()
    record = read_sidecar(folder, workload.id)
    if record is None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelError(folder, f"cannot create the default-model cache ({exc.strerror or exc})",
                             "set TINYPERF_CACHE to a writable folder, or pass --models-dir") from None
        if not os.access(folder, os.W_OK):
            raise ModelError(folder, "the default-model cache is not writable",
                             "set TINYPERF_CACHE to a writable folder, or pass --models-dir")
        with _build_lock(folder) as exclusive:
            record = read_sidecar(folder, workload.id)  # another run may have built it meanwhile
            if record is None:
                if exclusive:
                    _remove_stale_builds(folder)
                build_all(folder)
                record = read_sidecar(folder, workload.id)
        if record is None:
            raise ModelError(folder / model_file_name(workload.id),
                             "the default-model build finished but left no valid model",
                             f"delete {folder} and run again; report a bug if it persists")
    path = folder / model_file_name(workload.id)
    check_tflite_file(path)
    return ModelFile(path, SOURCE, note=NOTE, synthetic_weights=True, info=record)


def needs_build(workload_ids: list[str]) -> list[str]:
    """Which of these workloads would fall back to a default model that is not built yet."""
    folder = cache_folder()
    return [w for w in workload_ids if w in BUILT_WORKLOADS and read_sidecar(folder, w) is None]


def build_all(folder: Path, on_line: Callable[[str], None] | None = None) -> float:
    """Build all four defaults into `folder` in one TensorFlow subprocess; returns seconds taken.

    Callers hold the build lock. Files land via atomic rename, model first, then its record; a
    reader that sees a new model with an old record rejects it (sha256 mismatch) and waits on the lock.
    """
    missing = missing_build_packages()
    if missing:
        raise ModelError(folder, f"no model found, and {' and '.join(missing)} (needed to build the default "
                                 "architectures) is not installed",
                         "pass --models-dir / set TINYPERF_MODELS, run `tinyperf fetch models`, "
                         "or `pip install tensorflow tf-keras`")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=folder))
    started = time.monotonic()
    try:
        title = f"building default models with TensorFlow (first run only, {BUILD_ESTIMATE})"
        with console.status(title) as status:
            def show(line: str) -> None:
                kind, _, text = line.partition(": ")
                if kind == "done":
                    console.print(f"  {text}", style="dim", highlight=False, markup=False)
                else:
                    status.update(f"{escape(f'[{text}]')} {title}" if kind == "step" else title)
                if on_line:
                    on_line(line)

            _run_builder(tmp, show)
        for workload_id in BUILT_WORKLOADS:  # check everything before publishing anything
            if not (tmp / model_file_name(workload_id)).is_file() or not (tmp / sidecar_name(workload_id)).is_file():
                raise ModelError(tmp, f"the default-model build did not write {workload_id}",
                                 "run `python -m tinyperf.engine.build_default_models --out /tmp/x` to see why")
        for workload_id in BUILT_WORKLOADS:
            os.replace(tmp / model_file_name(workload_id), folder / model_file_name(workload_id))
            os.replace(tmp / sidecar_name(workload_id), folder / sidecar_name(workload_id))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - started
    console.print(f"built the default models in {elapsed:.0f} s, cached in {folder}")
    return elapsed


def missing_build_packages() -> list[str]:
    """Build-time packages that are absent (found without importing them)."""
    return [name for name in ("tensorflow", "tf_keras") if importlib.util.find_spec(name) is None]


def builder_command(out_dir: Path) -> list[str]:
    return module_command(BUILDER_MODULE, "--out", str(out_dir), "--seed", str(SEED))


#: the TensorFlow worker's environment (shared with quantization: tf_worker.worker_env)
builder_env = worker_env


def _spawn_builder(out_dir: Path, stderr) -> subprocess.Popen:
    return spawn(builder_command(out_dir), stderr)


def _run_builder(out_dir: Path, on_line: Callable[[str], None]) -> None:
    """Run the TensorFlow build process, relaying its progress lines; errors name its last words."""
    result = run_worker(lambda stderr: _spawn_builder(out_dir, stderr), on_line, BUILD_TIMEOUT_S, tail_lines=40)
    if result.returncode != 0:
        rc, tail = result.returncode, result.tail
        if rc < 0:
            why = f"the builder was stopped by signal {-rc}"
        else:
            why = tail[-1] if tail else f"exit status {rc}"
        raise ModelError(out_dir.parent, f"building the default models failed ({why})",
                         "run `python -m tinyperf.engine.build_default_models --out /tmp/x` to see the full error, "
                         "or pass --models-dir with real models")


def _remove_stale_builds(folder: Path) -> None:
    """Leftovers of builds whose parent was killed outright (we hold the lock: none is running)."""
    for stale in folder.glob(".build-*"):
        shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def _build_lock(folder: Path) -> Iterator[bool]:
    """One builder per cache folder across processes; yields whether the lock is exclusive.

    POSIX flock; where it does not exist (Windows) two builds may run at once, yet each file still
    appears whole thanks to os.replace.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield False
        return
    with open(folder / ".build.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
