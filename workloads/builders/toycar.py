"""ad01 sets from DCASE 2020 task 2 ToyCar recordings (`test/normal_id_XX_*.wav`, `anomaly_id_XX_*.wav`).

Each recording becomes `<stem>_hist_librosa.bin` (200 log-mel frames, see frontends.ad), label
0 for normal and 1 for anomaly, with the window/stride columns of the ad01 y_labels.csv.
Order as in the official set: all normal files (by machine id, then number), then all anomalies.
`subset="mlperf"` keeps only the recordings numbered ...3 (3, 13, 23, ...), which is how the
official 248-file ad01 set was drawn from the ToyCar development test data; `subset="all"` keeps
every recording.
"""

from __future__ import annotations

import re
from pathlib import Path

from tinyperf.core.errors import DatasetError
from tinyperf.workloads.builders.progress import BuildProgress
from tinyperf.workloads.builders.writer import SetWriter
from tinyperf.workloads.frontends import ad

_NAME = re.compile(r"^(?P<kind>normal|anomaly)_id_(?P<id>\d+)_(?P<num>\d+)$")
SUBSETS = ("all", "mlperf")
LABELS = {"normal": 0, "anomaly": 1}


def _folders(source: Path) -> list[Path]:
    """`source`, its `test/`, and `*/test/` (the unpacked archive holds ToyCar/test/)."""
    return [source, source / "test", *sorted(source.glob("*/test"))]


def find_recordings(source: Path, subset: str = "all") -> list[tuple[Path, int]]:
    if subset not in SUBSETS:
        raise DatasetError(None, f"unknown ad01 subset '{subset}'", f"use one of {', '.join(SUBSETS)}")
    found: dict[str, tuple[tuple[int, int, int], Path, int]] = {}
    for folder in _folders(source):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            m = _NAME.match(path.stem)
            if not (m and path.is_file() and path.suffix.lower() == ".wav"):
                continue
            if subset == "mlperf" and int(m["num"]) % 10 != 3:
                continue
            label = LABELS[m["kind"]]
            found.setdefault(path.stem, ((label, int(m["id"]), int(m["num"])), path, label))
    if not found:
        which = " numbered ...3 (--subset mlperf)" if subset == "mlperf" else ""
        raise DatasetError(source, f"holds no ToyCar recordings{which} (normal_id_XX_NNNNNNNN.wav / "
                           "anomaly_id_XX_NNNNNNNN.wav, here or in test/)",
                           "point --from at the unpacked DCASE 2020 task 2 ToyCar folder (the one holding test/)"
                           + ("; or use --subset all" if subset == "mlperf" else ""))
    return [(path, label) for _, path, label in sorted(found.values(), key=lambda v: v[0])]


def build(source: Path, writer: SetWriter, subset: str = "all", progress: bool = True) -> str:
    recordings = find_recordings(source, subset)
    with BuildProgress("ad01 <- ToyCar recordings", len(recordings), progress) as bar:
        for path, label in recordings:
            writer.add(f"{path.stem}_hist_librosa.bin", ad.sample_bytes(path), label)
            bar.advance()
    return f"ToyCar recordings ({subset})"
