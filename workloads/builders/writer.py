"""Writing an EnergyRunner set so that an interrupted build never leaves a broken one.

Order of operations: an existing y_labels.csv is removed first (with the .bin files it listed),
each .bin is written to a hidden temporary name and renamed into place, and y_labels.csv is
written last, the same way. Until the build finishes there is no label file, so no reader can
mistake a half-built folder for a set; after it, every listed file exists with the right size.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from pathlib import Path

from tinyperf.core.errors import DatasetError
from tinyperf.workloads.dataset import LABELS_FILE
from tinyperf.workloads.spec import Workload


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary sibling and a rename (all or nothing)."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _listed_files(labels: Path) -> list[str]:
    with labels.open(newline="") as fh:
        return [row[0].strip() for row in csv.reader(fh) if row and row[0].strip()]


class SetWriter:
    """Collects the samples of one set; `commit()` makes it a set by writing y_labels.csv."""

    def __init__(self, workload: Workload, out: str | Path, overwrite: bool = False):
        self.workload = workload
        self.out = Path(out).expanduser()
        self.rows: list[tuple[str, int]] = []
        self._names: set[str] = set()
        labels = self.out / LABELS_FILE
        if self.out.exists() and not self.out.is_dir():
            raise DatasetError(self.out, "is a file, not a folder", "pass a folder to --out")
        if labels.exists():
            if not overwrite:
                raise DatasetError(labels, "already exists: this folder holds a sample set",
                                   "pass --overwrite to replace it, or choose another --out")
            old = _listed_files(labels)
            labels.unlink()  # first: from here on the folder is not a set until commit()
            for name in old:
                if "/" not in name and "\\" not in name and name.endswith(".bin"):
                    (self.out / name).unlink(missing_ok=True)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(self.out, f"cannot create the output folder ({exc.strerror})",
                               "choose a writable --out") from None

    def add(self, name: str, data: bytes, label: int) -> None:
        wl = self.workload
        if len(data) != wl.sample_bytes:  # a front-end bug, not a user error
            raise ValueError(f"{name}: {len(data)} bytes, a {wl.id} sample is {wl.sample_bytes}")
        if not 0 <= label < len(wl.labels):
            raise ValueError(f"{name}: label {label} outside 0..{len(wl.labels) - 1}")
        if name in self._names:
            raise DatasetError(self.out / name, "would be written twice: two source files map to this name",
                               "rename one of the source files, or build them into separate folders")
        self._names.add(name)
        write_atomic(self.out / name, data)
        self.rows.append((name, label))

    def counts(self) -> Counter[int]:
        return Counter(label for _, label in self.rows)

    def commit(self) -> Path:
        """Write y_labels.csv (no header; ad01 rows carry window/stride bytes) and return its path."""
        wl = self.workload
        if not self.rows:
            raise DatasetError(self.out, "no samples were written", "check --from: it held nothing to build")
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for name, label in self.rows:
            row: list[object] = [name, len(wl.labels), label]
            if wl.window_bytes:
                row += [wl.window_bytes, wl.stride_bytes]
            writer.writerow(row)
        labels = self.out / LABELS_FILE
        write_atomic(labels, buf.getvalue().encode())
        return labels
