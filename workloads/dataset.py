"""Reader for EnergyRunner-format sample sets: a folder of .bin files and `y_labels.csv`.

`y_labels.csv` has no header; rows are `file,classes,label` (ad01 adds `window_bytes,stride_bytes`).
Only listed files belong to the set; others are reported, never read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tinyperf.core.errors import DatasetError
from tinyperf.core.files import printable
from tinyperf.workloads.spec import Workload

LABELS_FILE = "y_labels.csv"


@dataclass(frozen=True)
class Sample:
    """One listed file of a set."""

    file: str
    label: int
    path: Path

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass(frozen=True)
class Item:
    """One inference's worth of input: a file, or one window of an ad01 file."""

    file: str
    window: int
    label: int
    data: bytes


def label_rows(labels_path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank row of a label file; a file that is not UTF-8
    is refused naming the line, never a UnicodeDecodeError."""
    raw = labels_path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DatasetError(f"{labels_path}:{line}", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                           f"save {labels_path.name} as UTF-8 (sample file names are plain ASCII in EnergyRunner "
                           "sets)") from None
    return [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
            if row and any(c.strip() for c in row)]


@dataclass
class Dataset:
    workload: Workload
    root: Path
    samples: list[Sample]
    unlisted: list[str] = field(default_factory=list)
    labels_file: Path | None = None

    @classmethod
    def open(cls, workload: Workload, root: Path, labels_name: str = LABELS_FILE) -> Dataset:
        """Parse and validate the whole set up front, so a bad row fails before any measurement."""
        root = Path(root)
        labels_path = root / labels_name
        if not root.is_dir():
            raise DatasetError(root, f"no {workload.id} sample folder here",
                               "point --data-dir / TINYPERF_DATA at a folder holding "
                               f"{workload.id}/{labels_name} (EnergyRunner format)")
        if not labels_path.is_file():
            raise DatasetError(labels_path, "missing; every EnergyRunner set needs its label file",
                               f"add {labels_name} with rows 'file,classes,label' "
                               "or build the set with `tinyperf datasets build`")
        samples: list[Sample] = []
        seen: set[str] = set()
        for lineno, row in label_rows(labels_path):
            samples.append(cls._parse_row(workload, root, labels_path, lineno, row, seen))
        if not samples:
            raise DatasetError(labels_path, "lists no samples", "add one row per .bin file: 'file,classes,label'")
        listed = {s.file for s in samples}
        unlisted = sorted(printable(p.name) for p in root.iterdir() if p.suffix == ".bin" and p.name not in listed)
        return cls(workload, root, samples, unlisted, labels_path)

    @staticmethod
    def _parse_row(workload: Workload, root: Path, labels_path: Path, lineno: int,
                   row: list[str], seen: set[str]) -> Sample:
        where = f"{labels_path}:{lineno}"
        expected = 5 if workload.window_bytes else 3
        if len(row) < 3:
            raise DatasetError(where, f"row {row!r} has {len(row)} field(s), expected {expected} "
                               f"({'file,classes,label,window_bytes,stride_bytes' if expected == 5 else 'file,classes,label'})",
                               "fix or delete the row")
        name, classes, label = (c.strip() for c in row[:3])
        try:
            n_classes, label_i = int(classes), int(label)
        except ValueError:
            raise DatasetError(where, f"classes '{classes}' and label '{label}' must be whole numbers",
                               "fix the row; the header-less format is 'file,classes,label'") from None
        n_expected = len(workload.labels)
        if n_classes != n_expected:
            raise DatasetError(where, f"classes is {n_classes}, but {workload.id} has {n_expected}",
                               f"is this a {workload.id} set? fix the row or point at the right folder")
        if not 0 <= label_i < n_expected:
            raise DatasetError(where, f"label {label_i} is outside 0..{n_expected - 1}", "fix the row")
        if workload.window_bytes and len(row) >= 5:
            try:
                wb, sb = int(row[3]), int(row[4])
            except ValueError:
                raise DatasetError(where, "window_bytes and stride_bytes must be whole numbers", "fix the row") from None
            if (wb, sb) != (workload.window_bytes, workload.stride_bytes):
                raise DatasetError(where, f"window/stride {wb}/{sb} bytes differ from {workload.id}'s "
                                   f"{workload.window_bytes}/{workload.stride_bytes}", "fix the row")
        if name in seen:
            raise DatasetError(where, f"'{name}' is listed twice", "delete the duplicate row")
        normal = os.path.normpath(name)
        if os.path.isabs(name) or normal == ".." or normal.startswith(".." + os.sep) or not name:
            raise DatasetError(where, f"names '{name}', outside the set folder {root}",
                               "list the sample files by their name inside the folder; a sample set is self-contained")
        seen.add(name)
        path = root / name
        if not path.is_file():
            raise DatasetError(where, f"names '{name}', which is not in {root}",
                               "restore the file or delete its row")
        size = path.stat().st_size
        if size != workload.sample_bytes:
            raise DatasetError(path, f"is {size} bytes; a {workload.id} sample is {workload.sample_bytes} bytes",
                               "rebuild it with `tinyperf datasets build` or remove it from y_labels.csv")
        return Sample(name, label_i, path)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def n_items(self) -> int:
        return len(self.samples) * self.workload.windows_per_file

    def items(self, samples: list[Sample] | None = None, windows: bool = True) -> Iterator[Item]:
        """Inference inputs in file order; ad01 files yield every window unless `windows` is False."""
        wl = self.workload
        for s in samples if samples is not None else self.samples:
            for w, data in enumerate(wl.windows(s.read(), None if windows else 1)):
                yield Item(s.file, w, s.label, data)

    def performance_items(self, count: int = 5) -> list[Item]:
        """The rules' performance samples: the first files of y_labels.csv (ad01: window 0)."""
        return list(self.items(self.samples[:count], windows=False))

    @cached_property
    def content_sha256(self) -> str:
        """Digest of the label file and every listed sample, so runs on different data never merge."""
        h = hashlib.sha256()
        assert self.labels_file is not None
        h.update(self.labels_file.read_bytes())
        for s in self.samples:
            h.update(s.file.encode())
            h.update(s.read())
        return h.hexdigest()
