"""ad01 front-end: a ToyCar recording -> the 200x128 float32 log-mel "hist_librosa" sample.

The MLPerf Tiny / DCASE 2020 task 2 baseline recipe uses librosa; this is the same computation
in numpy (librosa is not a dependency):
samples as librosa.load gives them (int16 / 32768) -> STFT with n_fft 1024, hop 512, periodic
Hann, centred frames (n_fft // 2 zeros each side, librosa >= 0.10's default; the kept frames
50..249 never reach the padding of a clip of 8 s or more, so older librosa's reflect padding gives
the same values) -> power 2 -> 128 Slaney-scale mel bands 0-8000 Hz with Slaney area norm
(librosa.filters.mel defaults) -> 10 * log10(mel + float64 machine epsilon) -> frames 50..249,
stored frame-major as little-endian float32. Computed in float64: matches the official files to
about 1e-5 dB.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

from tinyperf.core.errors import TinyperfError
from tinyperf.workloads.frontends.audio import SAMPLE_RATE, read_wav

N_FFT = 1024
HOP = 512
N_MELS = 128
POWER = 2.0
FIRST_FRAME, LAST_FRAME = 50, 250  # kept frames [50, 250)
MIN_SAMPLES = (LAST_FRAME - 1) * HOP  # centred framing: frame count is 1 + len // hop
EPSILON = sys.float_info.epsilon

# Slaney mel scale: linear below 1 kHz, logarithmic above (librosa's htk=False)
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, log_part, hz / _F_SP)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel - _MIN_LOG_MEL)), _F_SP * mel)


@lru_cache(maxsize=1)
def mel_basis() -> np.ndarray:
    """[128, 513] librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128) (Slaney scale and norm),
    rounded to float32 as librosa stores it."""
    fft_hz = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0), N_MELS + 2))
    widths = np.diff(edges_hz)
    ramps = np.subtract.outer(edges_hz, fft_hz)
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32).astype(np.float64)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)


def log_mel(samples: np.ndarray) -> np.ndarray:
    """[frames, 128] log-mel energies in dB of a whole clip (centred framing, 1 + len // 512 frames)."""
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    padded = np.pad(samples, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spectrum = np.fft.rfft(frames * _window(), axis=-1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    return 10.0 * np.log10(power @ mel_basis().T + EPSILON)


def features(samples: np.ndarray, where: str | Path | None = None) -> np.ndarray:
    """[200, 128] float32: frames 50..249 of the log-mel spectrogram, as in the official ad01 files."""
    samples = np.asarray(samples).reshape(-1)
    if samples.size < MIN_SAMPLES:
        raise TinyperfError(where, f"is {samples.size / SAMPLE_RATE:.2f} s long; ad01 keeps log-mel frames "
                            f"{FIRST_FRAME}..{LAST_FRAME - 1}, which needs at least {MIN_SAMPLES / SAMPLE_RATE:.2f} s "
                            f"at {SAMPLE_RATE} Hz", "use a full ToyCar recording (about 10 s)")
    return log_mel(samples)[FIRST_FRAME:LAST_FRAME].astype(np.float32)


def features_from_file(path: str | Path) -> np.ndarray:
    return features(read_wav(path), path)


def sample_bytes(path: str | Path) -> bytes:
    """The 102,400-byte ad01 `.bin` content (little-endian float32, frame-major) for a WAV file."""
    return features_from_file(path).astype("<f4").tobytes()
