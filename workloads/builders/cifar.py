"""ic01 sets from CIFAR-10: the python batch files, or folders of PNGs.

- Batch files (`cifar-10-batches-py/test_batch`, CIFAR's own pickle: b'data' [N, 3072] in R,G,B
  planes, b'labels', b'filenames'): output names are CIFAR's file names with .png -> .bin
  (`emu_s_002009.png` -> `emu_s_002009.bin`), exactly as the official ic01 files are named.
  With `--indices perf_samples_idxs.npy` the rows are taken in the order of the indices: this is
  how MLPerf Tiny made its class-balanced ic01 set, so the result equals ic01_balanced_y_labels.csv.
  The pickle is read with an unpickler that only admits numpy arrays, so a hostile file cannot run code.
- PNG folders: `cifar10_<idx>_<label>.png`, `<idx>_<class>_<cifar name>.png` (-> `<cifar name>.bin`),
  or class sub-folders (`airplane/`, ..., `truck/`). `--indices` selects by the test index in the
  first two naming schemes.
"""

from __future__ import annotations

import csv
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.core.errors import DatasetError
from tinyperf.workloads.builders.progress import BuildProgress
from tinyperf.workloads.builders.writer import SetWriter
from tinyperf.workloads.catalog import IC01
from tinyperf.workloads.frontends import ic
from tinyperf.workloads.frontends.image import IMAGE_SUFFIXES

TEST_BATCH = "test_batch"
BATCHES_DIR = "cifar-10-batches-py"
CLASSES = {name: i for i, name in enumerate(IC01.labels)}
_INDEXED = re.compile(r"^cifar10_(?P<idx>\d+)_(?P<label>\d+)$")
_NAMED = re.compile(r"^(?P<idx>\d+)_(?P<cls>[a-z]+)_(?P<name>.+)$")
_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # protocol-2 pickles written by Python 3 carry bytes this way
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # type: ignore[override]
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


@dataclass(frozen=True)
class CifarBatch:
    images: np.ndarray  # [N, 32, 32, 3] uint8
    labels: np.ndarray  # [N] int
    filenames: list[str]


def _field(d: dict, key: str):
    for k in (key.encode(), key):
        if k in d:
            return d[k]
    raise KeyError(key)


def load_batch(path: Path) -> CifarBatch:
    """A CIFAR-10 python batch file, planes transposed to HWC."""
    try:
        with path.open("rb") as fh:
            d = _NumpyOnlyUnpickler(fh, encoding="bytes").load()
        data = np.asarray(_field(d, "data"), dtype=np.uint8)
        labels = np.asarray(_field(d, "labels"), dtype=np.int64)
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in _field(d, "filenames")]
        images = ic.planes_to_hwc(data)
    except (pickle.UnpicklingError, EOFError, AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise DatasetError(path, f"is not a CIFAR-10 python batch file ({type(exc).__name__}: {exc})",
                           "pass cifar-10-batches-py/test_batch from cifar-10-python.tar.gz") from None
    if not len(images) == len(labels) == len(names):
        raise DatasetError(path, f"has {len(images)} images, {len(labels)} labels and {len(names)} file names",
                           "re-download cifar-10-python.tar.gz")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise DatasetError(path, "holds labels outside 0..9: not a CIFAR-10 batch", "use CIFAR-10, not CIFAR-100")
    return CifarBatch(images, labels, names)


def read_indices(path: Path) -> np.ndarray:
    """Test-set indices from a .npy file or a text/CSV file of whole numbers."""
    if not path.is_file():
        raise DatasetError(path, "no such indices file", "pass perf_samples_idxs.npy (or a text file of indices)")
    try:
        if path.suffix == ".npy":
            values = np.load(path, allow_pickle=False)
        else:
            with path.open(newline="") as fh:
                values = np.array([int(c) for row in csv.reader(fh, delimiter=",") for c in
                                   (x for cell in row for x in cell.split()) if c.strip()])
    except (ValueError, OSError) as exc:
        raise DatasetError(path, f"is not a list of whole-number indices ({exc})",
                           "pass a .npy array or a text file of whole numbers") from None
    values = np.asarray(values).reshape(-1)
    if values.size == 0 or values.dtype.kind not in "iu":
        raise DatasetError(path, "holds no whole-number indices", "pass perf_samples_idxs.npy")
    if len(set(values.tolist())) != values.size:
        raise DatasetError(path, "lists an index twice", "each sample may appear once")
    return values.astype(np.int64)


def _find_batch(source: Path) -> Path | None:
    if source.is_file():
        return source
    for candidate in (source / TEST_BATCH, source / BATCHES_DIR / TEST_BATCH):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class _Png:
    path: Path
    name: str
    label: int
    index: int | None


def _parse_png(path: Path, folder_label: int | None) -> _Png | None:
    stem = path.stem
    if m := _INDEXED.match(stem):
        label = int(m["label"])
        return _Png(path, f"{stem}.bin", label, int(m["idx"])) if label < len(CLASSES) else None
    if (m := _NAMED.match(stem)) and m["cls"] in CLASSES:
        return _Png(path, f"{Path(m['name']).stem}.bin", CLASSES[m["cls"]], int(m["idx"]))
    if folder_label is not None:
        return _Png(path, f"{stem}.bin", folder_label, None)
    return None


def find_pngs(source: Path) -> list[_Png]:
    images = [p for p in sorted(source.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    found = [png for p in images if (png := _parse_png(p, None))]
    for folder in sorted(d for d in source.iterdir() if d.is_dir() and d.name.lower() in CLASSES):
        label = CLASSES[folder.name.lower()]
        found += [_parse_png(p, label) for p in sorted(folder.iterdir())  # type: ignore[misc]
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return found


def _select(pngs: list[_Png], indices: np.ndarray, indices_path: Path) -> list[_Png]:
    by_index = {p.index: p for p in pngs if p.index is not None}
    missing = [int(i) for i in indices if int(i) not in by_index]
    if missing:
        raise DatasetError(indices_path, f"selects {len(missing)} test index(es) with no image in the PNG folder "
                           f"(first: {missing[:5]})", "use a folder with every CIFAR-10 test image, named "
                           "cifar10_<idx>_<label>.png or <idx>_<class>_<name>.png, or the test_batch file")
    return [by_index[int(i)] for i in indices]


def build(source: Path, writer: SetWriter, indices: Path | None = None, progress: bool = True) -> str:
    selection = read_indices(indices) if indices is not None else None
    batch_path = _find_batch(source)
    if batch_path is not None:
        batch = load_batch(batch_path)
        order = selection if selection is not None else np.arange(len(batch.labels))
        if len(order) and (order.min() < 0 or order.max() >= len(batch.labels)):
            raise DatasetError(indices, f"selects index {int(order.max())}, but {batch_path.name} has "
                               f"{len(batch.labels)} images", "use the indices made for this batch (the CIFAR-10 test set)")
        with BuildProgress(f"ic01 <- {batch_path.name}", len(order), progress) as bar:
            for i in order:
                writer.add(f"{Path(batch.filenames[i]).stem}.bin", batch.images[i].tobytes(), int(batch.labels[i]))
                bar.advance()
        return f"CIFAR-10 batch {batch_path.name}" + (f", indices {indices.name}" if indices else "")
    pngs = find_pngs(source)
    if not pngs:
        raise DatasetError(source, "holds no CIFAR-10 data (no test_batch, no cifar10_<idx>_<label>.png or "
                           "<idx>_<class>_<name>.png files, no class sub-folders such as airplane/)",
                           "point --from at cifar-10-batches-py (or its test_batch) or at a folder of CIFAR-10 PNGs")
    if selection is not None:
        pngs = _select(pngs, selection, indices)  # type: ignore[arg-type]
    with BuildProgress("ic01 <- PNG images", len(pngs), progress) as bar:
        for png in pngs:
            writer.add(png.name, ic.sample_bytes(png.path), png.label)
            bar.advance()
    return "CIFAR-10 PNG images" + (f", indices {indices.name}" if indices else "")
