"""ad01 log-mel front-end: matches the official *_hist_librosa.bin features of real ToyCar recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyperf.core.errors import TinyperfError
from tinyperf.workloads.catalog import AD01
from tinyperf.workloads.frontends import ad, read_wav


def _recordings(raw_dir: Path) -> list[Path]:
    wavs = sorted((raw_dir / "toycar").glob("*_id_*.wav"))
    assert len(wavs) >= 3
    return wavs


def test_matches_official_features_within_1e_4(raw_dir: Path) -> None:
    worst = 0.0
    for wav in _recordings(raw_dir):
        official = np.fromfile(wav.with_name(f"{wav.stem}_hist_librosa.bin"), dtype="<f4").reshape(200, 128)
        ours = ad.features_from_file(wav)
        assert ours.shape == (200, 128) and ours.dtype == np.float32
        worst = max(worst, float(np.abs(ours - official).max()))
    assert worst <= 1e-4  # measured 7.6e-6 (float32 rounding of the official files)


def test_sample_bytes_is_frame_major_little_endian_float32(raw_dir: Path) -> None:
    wav = _recordings(raw_dir)[0]
    data = ad.sample_bytes(wav)
    assert len(data) == AD01.sample_bytes
    frames = np.frombuffer(data, dtype="<f4").reshape(200, 128)
    np.testing.assert_array_equal(frames[0], ad.log_mel(read_wav(wav))[50].astype(np.float32))


def test_mel_basis_is_slaney_scaled_and_area_normalised() -> None:
    basis = ad.mel_basis()
    assert basis.shape == (128, 513)
    assert (basis >= 0).all() and (basis.sum(axis=1) > 0).all()
    # Slaney scale: linear (66.67 Hz per mel) below 1 kHz, log above; and its inverse
    np.testing.assert_allclose(ad.hz_to_mel([0.0, 1000.0, 2000.0]), [0.0, 15.0, 15.0 + np.log(2) / (np.log(6.4) / 27)])
    np.testing.assert_allclose(ad.mel_to_hz(ad.hz_to_mel(np.array([50.0, 999.0, 4321.0]))), [50.0, 999.0, 4321.0])
    # Slaney norm: each triangle has height 2 / (bandwidth in Hz)
    edges = ad.mel_to_hz(np.linspace(0, ad.hz_to_mel(8000.0), 130))
    np.testing.assert_allclose(basis.max(axis=1), 2.0 / (edges[2:] - edges[:-2]), rtol=0.35)


def test_too_short_recording_is_refused() -> None:
    with pytest.raises(TinyperfError) as err:
        ad.features(np.zeros(16000), "short.wav")
    line = err.value.one_line()
    assert "short.wav" in line and "1.00 s long" in line and "frames 50..249" in line and "ToyCar" in line
