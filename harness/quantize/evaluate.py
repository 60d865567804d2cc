"""Accuracy and speed of each variant, measured exactly as `tinyperf run` measures a model.

Every variant becomes ordinary run directories (full provenance, resumable, loadable with
`load_run`) under `<out>/runs/<variant>/`: one accuracy run (TFLM arithmetic where TFLM runs the
variant, else LiteRT reference kernels: the host default; every sample;
ad01 every window) and one performance run per kernel back-end. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.core.console import console
from tinyperf.engine.orchestrator import RunPlan, start
from tinyperf.engine.rundir import Run
from tinyperf.engine.summary import accuracy_summary
from tinyperf.workloads.spec import Workload


@dataclass
class Evaluation:
    """What the runs of one variant measured; errors say which step failed and why."""

    variant: str
    accuracy: dict[str, Any] = field(default_factory=dict)
    heldout: dict[str, Any] = field(default_factory=dict)
    performance: dict[str, dict[str, Any]] = field(default_factory=dict)  # per kernel back-end
    runs: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _row(run: Run, mode: str) -> dict[str, Any]:
    rows = run.summary[run.summary["mode"] == mode] if not run.summary.empty else run.summary
    return rows.iloc[0].to_dict() if len(rows) else {}


def heldout_summary(workload: Workload, run: Run, exclude: set[str]) -> dict[str, Any]:
    """The accuracy figures again, without the files that calibrated the variants."""
    samples = run.samples
    if samples.empty:
        return {}
    kept = samples[~samples["file"].isin(exclude)]
    return accuracy_summary(workload.id, kept, run.meta)


def evaluate_model(workload: Workload, variant: str, model: Path, data_dir: str, out: Path, min_window: float,
                   kernels: list[str], threads: int | None, exclude: set[str]) -> Evaluation:
    """Accuracy on the full set (TFLM, else LiteRT reference kernels), then performance per kernel back-end."""
    result = Evaluation(variant)
    steps: list[tuple[str, RunPlan]] = [("accuracy", RunPlan(
        workloads=[workload.id], mode="accuracy", model=str(model), data_dir=data_dir,
        out=str(out / variant / "accuracy"), threads=threads, workloads_explicit=True))]
    for kernel in kernels:
        steps.append((f"performance-{kernel}", RunPlan(
            workloads=[workload.id], mode="performance", model=str(model), data_dir=data_dir,
            out=str(out / variant / f"performance-{kernel}"), min_window=min_window, kernels=kernel,
            threads=threads, workloads_explicit=True)))
    for name, plan in steps:
        console.print(f"[bold]{variant}[/]: {name.replace('-', ' (')}{')' if '-' in name else ''}", highlight=False)
        try:
            run = start(plan)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one variant LiteRT cannot run must not stop the study
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            result.errors.append(f"{name}: {message}")
            console.print(f"  [red]✗ {variant} {name} failed: {message}[/]", highlight=False)
            continue
        result.runs[name] = str(run.path)
        if not run.complete:
            result.errors.append(f"{name}: run incomplete ({run.path})")
        if name == "accuracy":
            result.accuracy = _row(run, "accuracy")
            result.heldout = heldout_summary(workload, run, exclude)
        else:
            result.performance[name.removeprefix("performance-")] = _row(run, "performance")
    return result
