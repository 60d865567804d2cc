"""`tinyperf fetch dataset`: public source archive -> verified download -> unpacked -> EnergyRunner set.

Download and unpacking are all-or-nothing (see download.py and archive.py); the set itself is
written by the dataset builders of `tinyperf datasets build`, so both commands produce the same
bytes from the same source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyperf.core.errors import TinyperfError
from tinyperf.fetch.archive import extract
from tinyperf.fetch.cache import datasets_folder, downloads_folder, sources_folder
from tinyperf.fetch.catalog import DATASETS, DatasetSource
from tinyperf.fetch.download import Fetched, fetch, shared_progress
from tinyperf.workloads.builders import BuildResult, build_set
from tinyperf.workloads.catalog import get_workload
from tinyperf.workloads.dataset import Dataset


@dataclass(frozen=True)
class DatasetFetch:
    source: DatasetSource
    archive: Fetched
    indices: tuple[Fetched, ...]
    extracted: Path  # the unpacked source folder
    set_dir: Path  # the EnergyRunner set (<out>/<workload>)
    samples: int  # files listed in the built y_labels.csv, as read back
    build: BuildResult


def get_source(name: str) -> DatasetSource:
    try:
        return DATASETS[name]
    except KeyError:
        raise TinyperfError(None, f"unknown source dataset '{name}'",
                            f"use one of {', '.join(DATASETS)}") from None


def fetch_dataset(name: str, out: str | Path | None = None, mirror: str | None = None,
                  offline: bool = False, overwrite: bool = False,
                  source: DatasetSource | None = None) -> DatasetFetch:
    """Download, verify and unpack a source dataset, then build its workload's set in `out`/<workload>.

    Without `out` the set goes to the cache and is rebuilt on every call; an explicit `out` that
    already holds a set is replaced only with `overwrite`. `source` overrides the catalogue entry
    (a test, or a private mirror with other digests).
    """
    source = source or get_source(name)
    with shared_progress() as bar:
        archive = fetch(source.archive, downloads_folder(), mirror=mirror, offline=offline, progress=bar)
        indices = tuple(fetch(r, downloads_folder(), mirror=mirror, offline=offline, progress=bar)
                        for r in source.indices)
    extracted = extract(archive.path, sources_folder() / source.name, archive.sha256, source.members)
    set_dir = (Path(out).expanduser() if out else datasets_folder()) / source.workload
    built = build_energyrunner_set(source, extracted, indices, set_dir, overwrite=overwrite or not out)
    listed = Dataset.open(get_workload(source.workload), set_dir)  # read back as `tinyperf run` will
    return DatasetFetch(source, archive, indices, extracted, set_dir, len(listed), built)


def build_energyrunner_set(source: DatasetSource, extracted: Path, indices: tuple[Fetched, ...],
                           set_dir: Path, overwrite: bool = False) -> BuildResult:
    """Write `set_dir` (.bin files + y_labels.csv) with the builders of `tinyperf datasets build`."""
    return build_set(source.workload, extracted, set_dir,
                     indices=indices[0].path if indices else None,
                     subset=source.subset, overwrite=overwrite)
