"""kws01 MFCC front-end: faithful to the official kws01 files and to tf.signal, no TensorFlow needed."""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from tinyperf.workloads.frontends import FrontendWarning, kws, read_wav


def _official_pairs(raw_dir: Path, data_dir: Path, limit: int | None = None) -> list[tuple[Path, Path]]:
    with (raw_dir / "speech_commands_kws01" / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    return [(raw_dir / "speech_commands_kws01" / r["file"], data_dir / "kws01" / (Path(r["file"]).stem + ".bin"))
            for r in rows]


def test_matches_official_kws01_files_on_a_subset(raw_dir: Path, data_dir: Path) -> None:
    pairs = _official_pairs(raw_dir, data_dir, limit=150)
    ours = kws.features_batch([read_wav(w) for w, _ in pairs]).astype(np.int64)
    official = np.stack([np.fromfile(b, dtype=np.int8).reshape(49, 10) for _, b in pairs]).astype(np.int64)
    diff = np.abs(ours - official)
    assert (diff <= 1).mean() >= 0.99
    assert (diff == 0).mean() >= 0.99  # measured 99.7 %: the rest is float noise in all-zero padded frames


def test_single_clip_equals_batch(raw_dir: Path) -> None:
    wav = raw_dir / "speech_misc" / "yes_1000ms.wav"
    one = kws.features_from_file(wav)
    assert one.shape == (49, 10) and one.dtype == np.int8
    assert np.array_equal(one, kws.features_batch([read_wav(wav)])[0])
    assert kws.sample_bytes(wav) == one.tobytes() and len(one.tobytes()) == 490


def test_quantization_truncates_and_wraps_like_the_official_files() -> None:
    scale = kws.QUANT_SCALE
    values = np.array([0.0, -0.1 * scale, 0.999 * scale, (127 - 83 + 2.5) * scale, (-128 - 83 - 0.5) * scale])
    # trunc(83)=83; trunc(82.9)=82; trunc(83.999)=83; trunc(129.5)=129 -> wraps to -127; trunc(-128.5)=-128
    assert kws.quantize(values).tolist() == [83, 82, 83, -127, -128]


def test_silent_clip_is_defined_and_short_clip_is_zero_padded() -> None:
    silent = kws.features(np.zeros(16000))
    assert silent.dtype == np.int8 and silent.shape == (49, 10)
    assert len(set(silent[:, 0].tolist())) == 1  # every frame the same: no NaN from 1/max(0)
    rng = np.random.default_rng(1)
    half = rng.standard_normal(8000)
    padded = np.concatenate([half, np.zeros(8000)])
    assert np.array_equal(kws.features(half), kws.features(padded))


def test_scaling_by_max_makes_the_features_gain_invariant() -> None:
    clip = np.random.default_rng(2).standard_normal(16000)
    assert np.array_equal(kws.features(clip), kws.features(clip * 0.01))


def test_longer_clip_uses_the_first_second_with_a_warning() -> None:
    clip = np.random.default_rng(3).standard_normal(24000)
    with pytest.warns(FrontendWarning, match="used the first second"):
        long = kws.features(clip, "long.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(long, kws.features(clip[:16000]))


def test_frontends_do_not_import_tensorflow(raw_dir: Path) -> None:
    code = ("import sys; import tinyperf.workloads.frontends as f; import tinyperf.workloads.builders; "
            f"f.kws.features_from_file(r'{raw_dir / 'speech_misc' / 'yes_1000ms.wav'}'); "
            "heavy = [m for m in ('tensorflow', 'tf_keras', 'librosa', 'skimage') if m in sys.modules]; "
            "assert not heavy, heavy")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_float_mfcc_equals_tf_signal(raw_dir: Path) -> None:
    """Debug aid: the numpy pipeline against tf.signal itself (TensorFlow is used in this test only)."""
    tf = pytest.importorskip("tensorflow")
    wavs = sorted((raw_dir / "speech_commands_kws01").glob("*.wav"))[:20]
    clips = np.stack([kws.prepare(read_wav(w)) for w in wavs]).astype(np.float32)
    stft = tf.signal.stft(clips, frame_length=480, frame_step=320, window_fn=tf.signal.hann_window)
    weights = tf.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20.0, 4000.0).numpy()
    np.testing.assert_allclose(kws.mel_matrix(), weights, atol=1e-5)
    log_mel = tf.math.log(tf.tensordot(tf.abs(stft), weights, 1) + 1e-6)
    expected = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :10].numpy()
    np.testing.assert_allclose(kws.mfcc(clips), expected, atol=2e-3)
