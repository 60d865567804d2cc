"""`tinyperf predict`: run the official front-end and a model on raw inputs, as a quick sanity check.

The raw file goes through the same path as a benchmark sample: front-end -> the bytes of an
EnergyRunner .bin -> workload.decode -> the host runner's session (quantize, invoke, postprocess).
Classifiers print the class and its probability; ad01 prints the anomaly score of the recording,
the mean window reconstruction error over all its windows, as the accuracy-mode scoring uses it.
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from tinyperf.device_runners.base import RunnerConfig
from tinyperf.cli import options
from tinyperf.device_runners.host import HostRunner
from tinyperf.core.console import console, err_console
from tinyperf.core.errors import TinyperfError
from tinyperf.core.modelfile import ModelFile
from tinyperf.engine.models import resolve_model
from tinyperf.workloads.catalog import get_workload
from tinyperf.workloads.frontends import RAW_SUFFIXES, FrontendWarning, sample_bytes
from tinyperf.workloads.spec import Workload

TOP_K = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="classify raw inputs (wav / image / .bin) with a model",
                       description="Run a workload's official front-end and model on raw inputs and print the "
                       "class with its probability (ad01: the anomaly score, the mean window reconstruction "
                       "error; higher = more anomalous). Accepts .wav for kws01/ad01, images for vww01/ic01, "
                       "and EnergyRunner .bin samples for any workload.")
    options.add_workload_positional(p, help="which workload's front-end and model")
    p.add_argument("inputs", nargs="+", metavar="FILE", help="raw inputs (.wav, .png/.jpg, or .bin samples)")
    options.add_model(p, help="a .tflite model instead of the workload's reference model")
    options.add_models_dir(p)
    options.add_kernels(p, HostRunner.kernels,
                        help="kernels (default: tflm-reference, TensorFlow Lite Micro itself, where it runs the model; "
                        "else reference, LiteRT's reference kernels)")
    p.add_argument("--json", action="store_true", help="print the predictions as JSON instead of tables")
    p.set_defaults(handler=handle)


@dataclass(frozen=True)
class Prediction:
    file: str
    scores: np.ndarray  # class probabilities; ad01: one value per window
    workload: Workload

    @property
    def ranked(self) -> list[tuple[str, float]]:
        order = np.argsort(-self.scores, kind="stable")[:TOP_K]
        return [(self.workload.labels[i], float(self.scores[i])) for i in order]

    @property
    def anomaly_score(self) -> float:
        return float(np.mean(self.scores))

    def as_dict(self) -> dict:
        if not self.workload.scoring.classifies:
            return {"file": self.file, "anomaly_score": self.anomaly_score, "windows": int(self.scores.size)}
        return {"file": self.file, "class": self.ranked[0][0], "probability": self.ranked[0][1],
                "top": [{"class": c, "probability": p} for c, p in self.ranked]}


def input_bytes(wl: Workload, path: Path) -> bytes:
    """The EnergyRunner sample bytes for one input: a .bin as is, anything else through the front-end."""
    if path.suffix.lower() != ".bin":
        return sample_bytes(wl.id, path)
    if not path.is_file():
        raise TinyperfError(path, "no such sample file", "check the path")
    data = path.read_bytes()
    if len(data) != wl.sample_bytes:
        raise TinyperfError(path, f"is {len(data)} bytes; a {wl.id} sample is {wl.sample_bytes} bytes",
                            f"pass a {wl.id} .bin sample, or a raw input ({', '.join(RAW_SUFFIXES[wl.id][:2])})")
    return data


def predict(wl: Workload, model: ModelFile, paths: list[Path], kernels: str | None = None,
            used: dict | None = None) -> list[Prediction]:
    """One prediction per input; ad01 scores every window of the recording. `used` receives the
    session's description (which arithmetic ran), for the caller to say."""
    config = RunnerConfig(workload=wl, mode="accuracy", model=model, kernels=kernels)
    HostRunner.check_model(config)  # the checks `tinyperf run` makes: a model that loads but cannot run is named
    session = HostRunner().open(config)
    if used is not None:
        used.update(session.describe())
    try:
        predictions = []
        for path in paths:
            data = input_bytes(wl, path)
            scores = []
            for window in wl.windows(data):  # the same windows accuracy mode scores
                session.load(window)
                scores.append(session.infer(1, 0).results)
            values = scores[0] if wl.scoring.classifies else np.concatenate(scores)
            predictions.append(Prediction(str(path), np.asarray(values, dtype=np.float64), wl))
        return predictions
    finally:
        session.close()


def _display_names(predictions: list[Prediction]) -> list[str]:
    """File names alone where they are unique (long paths make tables unreadable), else full paths."""
    names = [Path(p.file).name for p in predictions]
    return names if len(set(names)) == len(names) else [p.file for p in predictions]


def _table(predictions: list[Prediction]) -> Table:
    wl = predictions[0].workload
    names = _display_names(predictions)
    if not wl.scoring.classifies:
        table = Table(title=f"{wl.id} anomaly scores (mean window reconstruction error; higher = more anomalous)")
        for col in ("file", "anomaly score", "windows"):
            table.add_column(col, justify="left" if col == "file" else "right", overflow="fold")
        for name, p in zip(names, predictions):
            table.add_row(name, f"{p.anomaly_score:.4f}", str(p.scores.size))
        return table
    if len(predictions) == 1:
        p = predictions[0]
        table = Table(title=f"{wl.id} top-{len(p.ranked)}: {names[0]}")
        for col in ("rank", "class", "probability"):
            table.add_column(col, justify="left" if col == "class" else "right")
        for rank, (name, prob) in enumerate(p.ranked, start=1):
            table.add_row(str(rank), name, f"{prob:.3f}")
        return table
    table = Table(title=f"{wl.id} predictions")
    table.add_column("file", overflow="fold")
    table.add_column("class")
    table.add_column("probability", justify="right")
    for i in range(2, min(TOP_K, len(wl.labels)) + 1):
        table.add_column(f"#{i}")
    for name, p in zip(names, predictions):
        ranked = p.ranked
        table.add_row(name, ranked[0][0], f"{ranked[0][1]:.3f}", *(f"{c} {q:.2f}" for c, q in ranked[1:]))
    return table


def handle(args: argparse.Namespace) -> int:
    wl = get_workload(args.workload)
    model = resolve_model(wl, args.model, args.models_dir, allow_default=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FrontendWarning)
        used: dict = {}
        predictions = predict(wl, model, [Path(f).expanduser() for f in args.inputs], args.kernels, used)
    for w in caught:
        err_console.print(f"[yellow]warning:[/] {w.message}", highlight=False, soft_wrap=True)
    if args.json:
        print(json.dumps([p.as_dict() for p in predictions], indent=2))
        return 0
    console.print(f"model {model.path} ({model.source}), {used.get('arithmetic')}", highlight=False,
                  soft_wrap=True)
    if wl.scoring.classifies and len(predictions) == 1:
        name, prob = predictions[0].ranked[0]
        console.print(f"{predictions[0].file}: [bold]{name}[/] (probability {prob:.3f})", highlight=False,
                      soft_wrap=True)
    console.print(_table(predictions))
    return 0
