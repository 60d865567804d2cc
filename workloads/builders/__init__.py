"""Building EnergyRunner-format sets (.bin files + y_labels.csv) from the public source datasets.

One entry point, `build_set`, used by `tinyperf datasets build` and `tinyperf fetch dataset`, so
both produce the same bytes from the same source. The source-specific conventions live in
speech_commands (kws01), cifar (ic01), toycar (ad01) and image_folders (vww01).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tinyperf.core.errors import DatasetError
from tinyperf.workloads.builders import cifar, image_folders, speech_commands, toycar
from tinyperf.workloads.builders.writer import SetWriter
from tinyperf.workloads.catalog import get_workload
from tinyperf.workloads.frontends.audio import FrontendWarning


@dataclass(frozen=True)
class BuildResult:
    workload: str
    out: Path
    labels_file: Path
    source: str  # how the source was read, e.g. "labels CSV labels.csv"
    samples: int
    counts: dict[str, int]  # class name -> files
    seconds: float
    warnings: list[str] = field(default_factory=list)  # inputs adapted by a front-end (resampled, cut)


def _only_for(option: str, value: object, allowed: str, workload_id: str) -> None:
    if value not in (None, "all") and workload_id != allowed:
        raise DatasetError(None, f"{option} applies to {allowed} only, not {workload_id}", f"drop {option}")


def build_set(workload_id: str, source: str | Path, out: str | Path, *, labels: str | Path | None = None,
              indices: str | Path | None = None, subset: str = "all", overwrite: bool = False,
              progress: bool = True) -> BuildResult:
    """Build `workload_id`'s set from `source` into the folder `out`.

    labels: kws01 labels CSV for a flat folder of clips. indices: ic01 test-set indices (.npy or
    text) selecting and ordering the images. subset: ad01 "all" or "mlperf" (recordings numbered ...3).
    overwrite: replace an existing set in `out`.
    """
    wl = get_workload(workload_id)
    src = Path(source).expanduser()
    if not src.exists():
        raise DatasetError(src, "does not exist", "pass the unpacked source dataset to --from")
    if not src.is_dir() and wl.id != "ic01":
        raise DatasetError(src, f"is a file; a {wl.id} source is a folder", "pass the unpacked dataset folder to --from")
    _only_for("--labels", labels, "kws01", wl.id)
    _only_for("--indices", indices, "ic01", wl.id)
    _only_for("--subset", subset, "ad01", wl.id)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FrontendWarning)
        writer = SetWriter(wl, out, overwrite=overwrite)
        if wl.id == "kws01":
            kind = speech_commands.build(src, writer, Path(labels).expanduser() if labels else None, progress)
        elif wl.id == "ic01":
            kind = cifar.build(src, writer, Path(indices).expanduser() if indices else None, progress)
        elif wl.id == "ad01":
            kind = toycar.build(src, writer, subset, progress)
        else:
            kind = image_folders.build(src, writer, progress)
        labels_file = writer.commit()
    for w in caught:  # only front-end notes are collected; anything else is shown as usual
        if not issubclass(w.category, FrontendWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    counts = writer.counts()
    return BuildResult(
        workload=wl.id, out=writer.out, labels_file=labels_file, source=kind, samples=len(writer.rows),
        counts={wl.labels[i]: counts[i] for i in range(len(wl.labels)) if counts[i]},
        seconds=time.perf_counter() - started,
        warnings=[str(w.message) for w in caught if issubclass(w.category, FrontendWarning)],
    )


__all__ = ["BuildResult", "SetWriter", "build_set"]
