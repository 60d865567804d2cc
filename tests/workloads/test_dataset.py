"""The EnergyRunner reader on the real sets, and every kind of malformed set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinyperf.core.errors import DatasetError
from tinyperf.workloads import AD01, IC01, KWS01, VWW01, Dataset


def test_real_sets_open_with_expected_counts(data_dir: Path) -> None:
    assert len(Dataset.open(KWS01, data_dir / "kws01")) == 1000
    vww = Dataset.open(VWW01, data_dir / "vww01")
    assert len(vww) == 1000
    assert vww.unlisted == ["000000000872.bin", "000000271728.bin"]  # present but not part of the set
    assert len(Dataset.open(IC01, data_dir / "ic01")) == 200
    ad = Dataset.open(AD01, data_dir / "ad01")
    assert len(ad) == 248 and ad.n_items == 248 * 196 == 48608


def test_ad01_windows_are_five_frames_stride_one(data_dir: Path) -> None:
    ad = Dataset.open(AD01, data_dir / "ad01")
    items = list(ad.items(ad.samples[:1]))
    raw = ad.samples[0].read()
    assert len(items) == 196
    assert items[0].data == raw[:2560]
    assert items[1].data == raw[512:512 + 2560]
    assert items[-1].data == raw[-2560:]
    perf = ad.performance_items()
    assert [p.file for p in perf] == [s.file for s in ad.samples[:5]] and all(p.window == 0 for p in perf)


def test_ad01_alternative_label_file(data_dir: Path) -> None:
    alt = Dataset.open(AD01, data_dir / "ad01", labels_name="y_labels_alt.csv")
    assert len(alt) == 72


def _copy_set(src: Path, dst: Path, n: int = 5) -> Path:
    dst.mkdir()
    rows = (src / "y_labels.csv").read_text().splitlines()[:n]
    for row in rows:
        shutil.copy(src / row.split(",")[0], dst)
    (dst / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return dst


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda d: (d / "y_labels.csv").write_text((d / "y_labels.csv").read_text() + "gone.bin,12,3\n"),
         "names 'gone.bin', which is not in"),
        (lambda d: (d / "y_labels.csv").write_text("tst_000000_Stop_7.bin;12;7\n"), "has 1 field(s), expected 3"),
        (lambda d: (d / "y_labels.csv").write_text("tst_000000_Stop_7.bin,twelve,7\n"), "must be whole numbers"),
        (lambda d: (d / "y_labels.csv").write_text("tst_000000_Stop_7.bin,12,12\n"), "label 12 is outside 0..11"),
        (lambda d: (d / "y_labels.csv").write_text("tst_000000_Stop_7.bin,10,7\n"), "classes is 10, but kws01 has 12"),
        (lambda d: (d / "tst_000000_Stop_7.bin").write_bytes(b"\0" * 100), "is 100 bytes; a kws01 sample is 490 bytes"),
        (lambda d: (d / "y_labels.csv").unlink(), "missing; every EnergyRunner set needs its label file"),
        (lambda d: (d / "y_labels.csv").write_text("\n"), "lists no samples"),
    ],
)
def test_malformed_sets_name_file_problem_and_fix(data_dir: Path, tmp_path: Path, mutate, needle: str) -> None:
    d = _copy_set(data_dir / "kws01", tmp_path / "kws01")
    mutate(d)
    with pytest.raises(DatasetError) as exc:
        Dataset.open(KWS01, d)
    line = exc.value.one_line()
    assert needle in line
    assert str(d) in line and "Fix:" in line
    assert "\n" not in line


def test_content_hash_changes_with_content(data_dir: Path, tmp_path: Path) -> None:
    d = _copy_set(data_dir / "kws01", tmp_path / "kws01")
    before = Dataset.open(KWS01, d).content_sha256
    f = d / "tst_000000_Stop_7.bin"
    f.write_bytes(bytes(reversed(f.read_bytes())))
    assert Dataset.open(KWS01, d).content_sha256 != before
