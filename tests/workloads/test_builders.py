"""Dataset builders: EnergyRunner sets from the public sources, faithful to the official files."""

from __future__ import annotations

import csv
import pickle
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinyperf.device_runners.host import LiteRTModel
from tinyperf.core.errors import DatasetError, TinyperfError
from tinyperf.workloads.builders import build_set
from tinyperf.workloads.builders import speech_commands as sc
from tinyperf.workloads.catalog import AD01, IC01, KWS01, VWW01
from tinyperf.workloads.dataset import Dataset
from tinyperf.workloads.spec import Workload


def _rows(labels: Path) -> list[list[str]]:
    with labels.open(newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def _top1(model: LiteRTModel, wl: Workload, folder: Path) -> float:
    ds = Dataset.open(wl, folder)
    right = 0
    for item in ds.items():
        model.set_input(model.quantize_input(wl.decode(item.data)))
        model.interpreter.invoke()
        right += int(np.argmax(model.get_output())) == item.label
    return 100.0 * right / len(ds)


# --- kws01 ------------------------------------------------------------------------------------

def test_kws01_rebuild_matches_the_official_set(raw_dir: Path, data_dir: Path, models_dir: Path, tmp_path: Path) -> None:
    """Acceptance: all 1000 clips; >= 99 % of values within 1 LSB; reference top-1 within 0.5 points."""
    started = time.perf_counter()
    result = build_set("kws01", raw_dir / "speech_commands_kws01", tmp_path / "kws01", progress=False)
    seconds = time.perf_counter() - started
    official = data_dir / "kws01"
    assert result.samples == 1000 and result.source == "labels CSV labels.csv"
    assert (tmp_path / "kws01" / "y_labels.csv").read_text() == (official / "y_labels.csv").read_text()
    ours = np.stack([np.fromfile(tmp_path / "kws01" / r[0], np.int8) for r in _rows(official / "y_labels.csv")])
    theirs = np.stack([np.fromfile(official / r[0], np.int8) for r in _rows(official / "y_labels.csv")])
    diff = np.abs(ours.astype(int) - theirs.astype(int))
    within_1, exact = float((diff <= 1).mean()), float((diff == 0).mean())
    model = LiteRTModel(models_dir / KWS01.reference_model, "reference")
    acc_ours, acc_official = _top1(model, KWS01, tmp_path / "kws01"), _top1(model, KWS01, official)
    print(f"kws01 rebuild: {seconds:.2f} s, {100 * within_1:.3f} % within 1 LSB, {100 * exact:.3f} % exact, "
          f"top-1 {acc_ours:.1f} % (official files {acc_official:.1f} %)")
    assert within_1 >= 0.99
    assert abs(acc_ours - acc_official) <= 0.5  # build speed is reported above, not asserted here


def _speech_tree(raw_dir: Path, root: Path, layout: str) -> dict[str, int]:
    """A small Speech Commands tree from real clips; returns expected output name -> label."""
    clips = sorted((raw_dir / "speech_commands_kws01").glob("*.wav"))
    expected: dict[str, int] = {}
    words = {"yes": clips[0], "stop": clips[1], "marvin": clips[2], "_silence_": clips[3], "_unknown_": clips[4]}
    listed = []
    for word, clip in words.items():
        if layout == "main" and word == "_unknown_":
            continue  # the main archive has no _unknown_ folder
        (root / word).mkdir(parents=True)
        for k in range(2):
            shutil.copy(clip, root / word / f"abcd{k}_nohash_0.wav")
            if layout == "main" and word != "_silence_" and k == 1:
                continue  # only the first clip of each word is in testing_list.txt
            listed.append(f"{word}/abcd{k}_nohash_0.wav")
            expected[f"{word.strip('_')}_abcd{k}_nohash_0.bin"] = sc.label_of_word(word)
    if layout == "main":
        (root / "testing_list.txt").write_text("\n".join(w for w in listed if not w.startswith("_silence_")) + "\n")
        (root / sc.BACKGROUND).mkdir()
        shutil.copy(raw_dir / "toycar" / "normal_id_01_00000000.wav", root / sc.BACKGROUND / "car.wav")  # 11 s
        for start in range(0, 176000 - 16000, 8000):  # tfds: 1 s pieces at a 0.5 s hop
            expected[f"background_car_{start}.bin"] = 10
    return expected


@pytest.mark.parametrize("layout", ["test_archive", "main"])
def test_kws01_from_speech_commands_folders(raw_dir: Path, data_dir: Path, tmp_path: Path, layout: str) -> None:
    expected = _speech_tree(raw_dir, tmp_path / "src" / "speech_commands", layout)  # one level down
    result = build_set("kws01", tmp_path / "src", tmp_path / "out", progress=False)
    got = {r[0]: int(r[2]) for r in _rows(tmp_path / "out" / "y_labels.csv")}
    assert got == expected
    assert {KWS01.labels[v] for v in got.values()} == {"yes", "stop", "unknown", "silence"}
    assert got["marvin_abcd0_nohash_0.bin"] == 11 and got["yes_abcd0_nohash_0.bin"] == 9
    assert len(Dataset.open(KWS01, tmp_path / "out")) == result.samples == len(expected)
    same_clip = sorted((raw_dir / "speech_commands_kws01").glob("*.wav"))[0]  # copied as yes/abcd0_nohash_0.wav
    official = (data_dir / "kws01" / f"{same_clip.stem}.bin").read_bytes()
    built = (tmp_path / "out" / "yes_abcd0_nohash_0.bin").read_bytes()
    assert np.abs(np.frombuffer(built, np.int8).astype(int) - np.frombuffer(official, np.int8)).max() <= 1


def test_kws01_labels_csv_variants_and_errors(raw_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "clips"
    src.mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        shutil.copy(raw_dir / "speech_misc" / "test_yes.wav", src / name)
    (tmp_path / "plain.csv").write_text("a.wav,9\nb.wav,_silence_\nc.wav,bird\n")  # no header; index or word
    build_set("kws01", src, tmp_path / "o1", labels=tmp_path / "plain.csv", progress=False)
    assert _rows(tmp_path / "o1" / "y_labels.csv") == [["a.bin", "12", "9"], ["b.bin", "12", "10"], ["c.bin", "12", "11"]]

    (tmp_path / "clash.csv").write_text("file,label_index,label_name\na.wav,9,no\n")
    with pytest.raises(DatasetError) as err:
        build_set("kws01", src, tmp_path / "o2", labels=tmp_path / "clash.csv", progress=False)
    assert "clash.csv:2" in err.value.one_line() and "disagrees with label name 'no'" in err.value.one_line()
    assert not (tmp_path / "o2" / "y_labels.csv").exists()

    (tmp_path / "missing.csv").write_text("file,label_index,label_name\nzzz.wav,9,yes\n")
    with pytest.raises(DatasetError, match=r"missing.csv:2: names 'zzz.wav'"):
        build_set("kws01", src, tmp_path / "o3", labels=tmp_path / "missing.csv", progress=False)


# --- ic01 ------------------------------------------------------------------------------------

def _write_cifar_batch(path: Path, data: np.ndarray, labels: list[int], names: list[str]) -> None:
    """CIFAR-10's own python format: a pickled dict with bytes keys and [N, 3072] R,G,B-plane rows."""
    batch = {b"batch_label": b"testing batch 1 of 1", b"labels": labels, b"data": data,
             b"filenames": [n.encode() for n in names]}
    raw = pickle.dumps(batch, protocol=2)
    # the published files were written with numpy 1.x, which names the array module numpy.core
    path.write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))


def _planes(pixels: np.ndarray) -> np.ndarray:
    return np.concatenate([pixels[:, :, c].reshape(-1) for c in range(3)])


def test_ic01_balanced_set_from_a_cifar_test_batch(raw_dir: Path, indices_dir: Path, tmp_path: Path) -> None:
    """A 10,000-image batch in CIFAR's format, holding at the official indices the names and labels of
    ic01_balanced_y_labels.csv and, at index 62, the real CIFAR test image 62 (bullfrog_s_000196)."""
    idxs = np.load(indices_dir / "perf_samples_idxs.npy")
    balanced = _rows(indices_dir / "ic01_balanced_y_labels.csv")
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, (10000, 3072), dtype=np.uint8)
    labels = [int(x) for x in rng.integers(0, 10, 10000)]
    names = [f"filler_s_{i:06d}.png" for i in range(10000)]
    for i, row in zip(idxs, balanced):
        names[i], labels[i] = row[0].replace(".bin", ".png"), int(row[2])
    frog = np.asarray(Image.open(raw_dir / "cifar10" / "0062_frog_bullfrog_s_000196.png").convert("RGB"))
    assert names[62] == "bullfrog_s_000196.png" and labels[62] == 6  # the official indices agree with the real image
    data[62] = _planes(frog)
    src = tmp_path / "cifar-10-batches-py"
    src.mkdir()
    _write_cifar_batch(src / "test_batch", data, labels, names)

    result = build_set("ic01", tmp_path, tmp_path / "ic01", indices=indices_dir / "perf_samples_idxs.npy", progress=False)
    out = tmp_path / "ic01"
    assert (out / "y_labels.csv").read_text() == (indices_dir / "ic01_balanced_y_labels.csv").read_text()
    assert result.samples == 200 and set(result.counts.values()) == {20}
    assert np.array_equal(np.fromfile(out / "bullfrog_s_000196.bin", np.uint8).reshape(32, 32, 3), frog)
    first = balanced[0][0]
    assert np.array_equal(np.fromfile(out / first, np.uint8).reshape(32, 32, 3),
                          data[idxs[0]].reshape(3, 32, 32).transpose(1, 2, 0))
    assert len(Dataset.open(IC01, out)) == 200


def test_ic01_batch_without_indices_and_bad_batches(tmp_path: Path) -> None:
    data = np.arange(4 * 3072, dtype=np.int64).astype(np.uint8).reshape(4, 3072)
    _write_cifar_batch(tmp_path / "test_batch", data, [0, 1, 2, 3], ["a_s_1.png", "b_s_2.png", "c_s_3.png", "d_s_4.png"])
    result = build_set("ic01", tmp_path / "test_batch", tmp_path / "out", progress=False)  # a batch file itself
    assert _rows(tmp_path / "out" / "y_labels.csv")[1] == ["b_s_2.bin", "10", "1"] and result.samples == 4

    (tmp_path / "idx.txt").write_text("3 9\n")
    with pytest.raises(DatasetError, match="selects index 9, but test_batch has 4 images"):
        build_set("ic01", tmp_path / "test_batch", tmp_path / "o2", indices=tmp_path / "idx.txt", progress=False)

    evil = tmp_path / "evil" / "test_batch"
    evil.parent.mkdir()

    class Boom:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    evil.write_bytes(pickle.dumps({b"data": Boom()}))
    with pytest.raises(DatasetError, match="not a CIFAR-10 python batch file .*refusing to load"):
        build_set("ic01", evil.parent, tmp_path / "o3", progress=False)
    assert not (tmp_path / "pwned").exists()
    (evil.parent / "test_batch").write_bytes(b"\x00garbage")
    with pytest.raises(DatasetError, match="not a CIFAR-10 python batch file"):
        build_set("ic01", evil.parent, tmp_path / "o4", progress=False)


def test_ic01_from_cifar_pngs(raw_dir: Path, indices_dir: Path, tmp_path: Path) -> None:
    result = build_set("ic01", raw_dir / "cifar10", tmp_path / "all", progress=False)
    rows = {r[0]: int(r[2]) for r in _rows(tmp_path / "all" / "y_labels.csv")}
    assert result.samples == len(list((raw_dir / "cifar10").glob("*.png")))
    assert rows["domestic_cat_s_000907.bin"] == 3 and rows["cifar10_01_8.bin"] == 8 and rows["plane_s_000026.bin"] == 0
    for png in (raw_dir / "cifar10").glob("*.png"):
        name = png.stem.split("_", 2)[2] if not png.stem.startswith("cifar10_") else png.stem
        pixels = np.asarray(Image.open(png).convert("RGB"))
        assert np.array_equal(np.fromfile(tmp_path / "all" / f"{name}.bin", np.uint8).reshape(32, 32, 3), pixels)
    # selecting by test index: image 62 is in the official balanced set, with the same name and label
    (tmp_path / "idx.txt").write_text("62\n")
    build_set("ic01", raw_dir / "cifar10", tmp_path / "one", indices=tmp_path / "idx.txt", progress=False)
    official_row = next(r for r in _rows(indices_dir / "ic01_balanced_y_labels.csv") if r[0] == "bullfrog_s_000196.bin")
    assert _rows(tmp_path / "one" / "y_labels.csv") == [official_row]
    with pytest.raises(DatasetError, match="selects 1 test index"):
        (tmp_path / "idx2.txt").write_text("7657\n")
        build_set("ic01", raw_dir / "cifar10", tmp_path / "two", indices=tmp_path / "idx2.txt", progress=False)


def test_ic01_from_class_subfolders(raw_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "src" / "frog").mkdir(parents=True)
    shutil.copy(raw_dir / "cifar10" / "cifar10_04_6.png", tmp_path / "src" / "frog" / "my_frog.png")
    build_set("ic01", tmp_path / "src", tmp_path / "out", progress=False)
    assert _rows(tmp_path / "out" / "y_labels.csv") == [["my_frog.bin", "10", "6"]]


# --- ad01 ------------------------------------------------------------------------------------

def test_ad01_from_toycar_matches_official_features(raw_dir: Path, tmp_path: Path) -> None:
    result = build_set("ad01", raw_dir / "toycar", tmp_path / "ad01", progress=False)
    rows = _rows(tmp_path / "ad01" / "y_labels.csv")
    assert rows == [["normal_id_01_00000000_hist_librosa.bin", "2", "0", "2560", "512"],
                    ["normal_id_01_00000001_hist_librosa.bin", "2", "0", "2560", "512"],
                    ["anomaly_id_01_00000000_hist_librosa.bin", "2", "1", "2560", "512"]]
    worst = max(float(np.abs(np.fromfile(tmp_path / "ad01" / r[0], "<f4") - np.fromfile(raw_dir / "toycar" / r[0], "<f4")).max())
                for r in rows)
    assert worst <= 1e-4
    assert Dataset.open(AD01, tmp_path / "ad01").n_items == 3 * 196 and result.counts == {"normal": 2, "anomaly": 1}


def test_ad01_mlperf_subset_and_dcase_layout(raw_dir: Path, tmp_path: Path) -> None:
    test = tmp_path / "dev_data" / "ToyCar" / "test"
    test.mkdir(parents=True)
    wav = raw_dir / "toycar" / "normal_id_01_00000000.wav"
    for name in ("anomaly_id_02_00000003", "normal_id_02_00000013", "normal_id_01_00000003", "normal_id_01_00000004",
                 "anomaly_id_01_00000013"):
        (test / f"{name}.wav").symlink_to(wav)
    build_set("ad01", tmp_path / "dev_data" / "ToyCar", tmp_path / "out", subset="mlperf", progress=False)
    assert [r[0] for r in _rows(tmp_path / "out" / "y_labels.csv")] == [
        "normal_id_01_00000003_hist_librosa.bin", "normal_id_02_00000013_hist_librosa.bin",
        "anomaly_id_01_00000013_hist_librosa.bin", "anomaly_id_02_00000003_hist_librosa.bin"]
    with pytest.raises(DatasetError) as err:
        build_set("ad01", raw_dir / "toycar", tmp_path / "o2", subset="mlperf", progress=False)
    assert "numbered ...3" in err.value.one_line() and "--subset all" in err.value.one_line()


# --- vww01 -----------------------------------------------------------------------------------

def test_vww01_from_person_folders(raw_dir: Path, tmp_path: Path) -> None:
    photos = sorted((raw_dir / "coco").glob("*.jpg"))
    (tmp_path / "src" / "Person").mkdir(parents=True)
    (tmp_path / "src" / "no_person").mkdir()
    for p in photos[2:]:
        shutil.copy(p, tmp_path / "src" / "Person")
    for p in photos[:2]:
        shutil.copy(p, tmp_path / "src" / "no_person")
    shutil.copy(photos[0], tmp_path / "src" / "no_person" / "holiday.JPG")
    result = build_set("vww01", tmp_path / "src", tmp_path / "out", progress=False)
    rows = {r[0]: int(r[2]) for r in _rows(tmp_path / "out" / "y_labels.csv")}
    assert rows == {"000000000042.bin": 0, "000000000073.bin": 0, "000000004108.bin": 1, "000000005356.bin": 1,
                    "holiday.bin": 0}
    assert result.counts == {"no person": 3, "person": 2}
    assert len(Dataset.open(VWW01, tmp_path / "out")) == 5


# --- all builders: safety and bad input -------------------------------------------------------

@pytest.mark.parametrize("workload", ["kws01", "ic01", "ad01", "vww01"])
def test_empty_source_folder_is_one_clear_line(workload: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError) as err:
        build_set(workload, tmp_path / "empty", tmp_path / "out", progress=False)
    line = err.value.one_line()
    assert "\n" not in line and line.startswith(f"{tmp_path / 'empty'}: holds no") and "Fix: point --from at" in line
    assert not (tmp_path / "out" / "y_labels.csv").exists()


def test_missing_source_and_misplaced_options(tmp_path: Path, raw_dir: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        build_set("kws01", tmp_path / "nope", tmp_path / "out")
    with pytest.raises(DatasetError, match="--indices applies to ic01 only"):
        build_set("kws01", raw_dir / "speech_commands_kws01", tmp_path / "out", indices=tmp_path / "i.npy")
    with pytest.raises(TinyperfError, match="unknown workload"):
        build_set("kws99", raw_dir, tmp_path / "out")


def test_existing_set_needs_overwrite(raw_dir: Path, tmp_path: Path) -> None:
    build_set("ad01", raw_dir / "toycar", tmp_path / "out", progress=False)
    with pytest.raises(DatasetError) as err:
        build_set("ad01", raw_dir / "toycar", tmp_path / "out", progress=False)
    assert "already exists" in err.value.one_line() and "--overwrite" in err.value.one_line()
    (tmp_path / "out" / "stale_hist_librosa.bin").write_bytes(b"x")
    build_set("ad01", raw_dir / "toycar", tmp_path / "out", overwrite=True, progress=False)
    assert len(Dataset.open(AD01, tmp_path / "out")) == 3


def test_interrupted_build_leaves_no_label_file_pointing_at_missing_files(raw_dir: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    build_set("ic01", raw_dir / "cifar10", tmp_path / "out", progress=False)  # an earlier, complete set
    from tinyperf.workloads.frontends import ic

    real = ic.sample_bytes
    calls = {"n": 0}

    def flaky(path):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(path)

    monkeypatch.setattr(ic, "sample_bytes", flaky)
    with pytest.raises(KeyboardInterrupt):
        build_set("ic01", raw_dir / "cifar10", tmp_path / "out", overwrite=True, progress=False)
    assert not (tmp_path / "out" / "y_labels.csv").exists()
    assert not list((tmp_path / "out").glob(".*.part"))
    with pytest.raises(DatasetError, match="y_labels.csv: missing"):
        Dataset.open(IC01, tmp_path / "out")
