"""WAV reading for the audio front-ends: formats, and one clear line for every bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from tinyperf.core.errors import TinyperfError
from tinyperf.workloads.frontends import FrontendWarning, kws, read_wav


def _clip(raw_dir: Path) -> tuple[int, np.ndarray]:
    return wavfile.read(raw_dir / "speech_misc" / "test_yes.wav")


def test_int16_int32_float_and_uint8_wavs_give_the_same_samples(raw_dir: Path, tmp_path: Path) -> None:
    rate, pcm16 = _clip(raw_dir)
    reference = read_wav(raw_dir / "speech_misc" / "test_yes.wav")
    np.testing.assert_array_equal(reference, pcm16 / 32768.0)
    variants = {
        "i32.wav": pcm16.astype(np.int32) << 16,
        "f32.wav": (pcm16 / 32768.0).astype(np.float32),
        "f64.wav": pcm16 / 32768.0,
    }
    for name, data in variants.items():
        wavfile.write(tmp_path / name, rate, data)
        np.testing.assert_allclose(read_wav(tmp_path / name), reference, atol=1e-7, err_msg=name)
        assert np.array_equal(kws.features_from_file(tmp_path / name), kws.features_from_file(raw_dir / "speech_misc" / "test_yes.wav"))
    wavfile.write(tmp_path / "u8.wav", rate, ((pcm16 >> 8) + 128).astype(np.uint8))
    np.testing.assert_allclose(read_wav(tmp_path / "u8.wav"), reference, atol=1.0 / 128)


def test_unreadable_wav_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(TinyperfError) as err:
        read_wav(bad)
    line = err.value.one_line()
    assert "\n" not in line and str(bad) in line and "not a readable WAV file" in line and "ffmpeg" in line


def test_truncated_wav_is_refused(raw_dir: Path, tmp_path: Path) -> None:
    whole = (raw_dir / "speech_misc" / "test_yes.wav").read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[:30])  # inside the header
    with pytest.raises(TinyperfError, match="cut.wav: is not a readable WAV file"):
        read_wav(cut)
    cut.write_bytes(whole[:1000])  # inside the samples: scipy would return a short clip
    with pytest.raises(TinyperfError, match="cut.wav: is truncated .*Reached EOF prematurely"):
        read_wav(cut)


def test_missing_and_empty_wavs(tmp_path: Path) -> None:
    with pytest.raises(TinyperfError, match="no such audio file"):
        read_wav(tmp_path / "absent.wav")
    wavfile.write(tmp_path / "empty.wav", 16000, np.zeros(0, dtype=np.int16))
    with pytest.raises(TinyperfError, match="empty.wav: holds no audio samples"):
        read_wav(tmp_path / "empty.wav")


def test_stereo_is_refused_naming_the_file_and_the_fix(raw_dir: Path, tmp_path: Path) -> None:
    stereo = raw_dir / "speech_misc" / "marvin_617de221_0.wav"  # a real 2-channel clip
    with pytest.raises(TinyperfError) as err:
        read_wav(stereo)
    line = err.value.one_line()
    assert str(stereo) in line and "2 channels" in line and "mono" in line and "-ac 1" in line
    rate, mono = _clip(raw_dir)
    wavfile.write(tmp_path / "one_channel_2d.wav", rate, mono[:, None])  # [n, 1] is mono
    np.testing.assert_array_equal(read_wav(tmp_path / "one_channel_2d.wav"), mono / 32768.0)


def test_wrong_sample_rate_is_resampled_with_a_warning(raw_dir: Path, tmp_path: Path) -> None:
    """Policy: resample (scipy.signal.resample_poly) and say so; resample=False refuses instead."""
    src = raw_dir / "speech_misc" / "test_yes.wav"
    rate, pcm16 = _clip(raw_dir)
    upsampled = tmp_path / "yes_48k.wav"
    from scipy.signal import resample_poly

    wavfile.write(upsampled, 48000, np.clip(resample_poly(pcm16.astype(np.float64), 3, 1), -32768, 32767).astype(np.int16))
    with pytest.warns(FrontendWarning) as caught:
        back = read_wav(upsampled)
    message = str(caught[0].message)
    assert str(upsampled) in message and "48000 Hz" in message and "resampled to 16000 Hz" in message
    assert back.size == pcm16.size
    original = kws.features_from_file(src).astype(int)
    with pytest.warns(FrontendWarning):
        resampled = kws.features_from_file(upsampled).astype(int)
    assert np.mean(np.abs(resampled - original) <= 1) > 0.95  # close, not exact: hence the warning
    with pytest.raises(TinyperfError) as err:
        read_wav(upsampled, resample=False)
    assert "48000 Hz" in err.value.one_line() and "-ar 16000" in err.value.one_line()


def test_copy_of_a_real_clip_reads_identically(raw_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.WAV"
    shutil.copy(raw_dir / "speech_misc" / "test_go.wav", copy)
    np.testing.assert_array_equal(read_wav(copy), read_wav(raw_dir / "speech_misc" / "test_go.wav"))
