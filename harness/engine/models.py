"""The model store: find a workload's model, check it, and describe it for provenance.

Search order for a reference model: `--model`, then `--models-dir` / TINYPERF_MODELS, then the
user cache (`tinyperf fetch models`), then the built-in default architectures (synthetic weights).
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.core import config
from tinyperf.core.errors import ModelError
from tinyperf.core.modelfile import ModelFile, check_tflite_file
from tinyperf.workloads.spec import Workload

def resolve_model(workload: Workload, model: str | Path | None = None,
                  models_dir: str | Path | None = None, allow_default: bool = True,
                  float_model: bool = False) -> ModelFile:
    """The model to benchmark for `workload`; raises ModelError saying where it looked."""
    if model:
        path = Path(model).expanduser()
        check_tflite_file(path)
        return ModelFile(path, "user")
    file_name = workload.reference_float_model if float_model else workload.reference_model
    looked: list[str] = []
    directory = config.models_dir(models_dir)
    if directory is not None:
        candidate = directory / file_name
        if candidate.is_file():
            check_tflite_file(candidate)
            return ModelFile(candidate, "reference")
        if models_dir:  # the user asked for this folder explicitly: a miss is an error
            raise ModelError(candidate, f"{workload.id} reference model not found",
                             f"put {file_name} there, fix --models-dir, or run `tinyperf fetch models`")
        looked.append(str(candidate))
    cached = config.cache_dir() / "models" / file_name
    if cached.is_file():
        check_tflite_file(cached)
        return ModelFile(cached, "cache")
    looked.append(str(cached))
    if allow_default and not float_model:
        from tinyperf.engine.default_models import default_model  # builds (with TensorFlow) on first use only

        return default_model(workload)
    raise ModelError(looked[0], f"{workload.id} model not found (looked in {', '.join(looked)})",
                     "pass --models-dir, set TINYPERF_MODELS, or run `tinyperf fetch models`")
