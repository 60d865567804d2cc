"""kws01 front-end: 1 s of 16 kHz speech -> the 49x10 int8 MFCC the DS-CNN reference model reads.

The MLPerf Tiny recipe (its TensorFlow training pipeline), reproduced in numpy:
scale the clip by 1/max (max, not abs max) -> zero-pad to 16000 samples -> STFT (frame 480,
step 320, FFT 512, periodic Hann, no end padding: 49 frames x 257 bins) -> magnitude -> 40 HTK mel
bands 20-4000 Hz (tf.signal.linear_to_mel_weight_matrix) -> log(mel + 1e-6) -> DCT-II scaled as
tf.signal.mfccs_from_log_mel_spectrograms -> first 10 -> `int8(x / 0.5847029 + 83)`.

Two details matter for bit-faithfulness with the official kws01 files:
- the int8 conversion truncates toward zero and *wraps* out-of-range values (a plain numpy
  float -> int8 cast): a handful of official values above 127 are stored as negative numbers;
- the reference pipeline's clip to [-1, 1] after scaling is not applied (the official files were
  made without it: values below -1 survive the 1/max scaling).
Everything is batched: 1000 clips take well under a second.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from tinyperf.workloads.frontends.audio import SAMPLE_RATE, FrontendWarning, read_wav

CLIP_SAMPLES = 16000
FRAME = 480
STEP = 320
FFT = 512
MEL_BANDS = 40
LOW_HZ, HIGH_HZ = 20.0, 4000.0
LOG_OFFSET = 1e-6
N_MFCC = 10
FRAMES = 1 + (CLIP_SAMPLES - FRAME) // STEP  # 49
QUANT_SCALE = 0.5847029  # the recipe's literal constant (model input scale 0.5847029089927673)
QUANT_ZERO = 83
_BATCH = 64  # clips per vectorised step: keeps the frame buffer (~12 MB) in cache-friendly sizes


def _hertz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale as tf.signal uses it."""
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def mel_matrix() -> np.ndarray:
    """[257, 40] weights equal to tf.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20, 4000)."""
    n_bins = FFT // 2 + 1
    bin_mel = _hertz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2.0, n_bins)[1:])[:, None]  # DC bin is zeroed
    edges = np.linspace(_hertz_to_mel(LOW_HZ), _hertz_to_mel(HIGH_HZ), MEL_BANDS + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel - lower) / (centre - lower)
    falling = (upper - bin_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, [(1, 0), (0, 0)])


@lru_cache(maxsize=1)
def dct_matrix() -> np.ndarray:
    """[40, 10] DCT-II basis scaled as tf.signal.mfccs_from_log_mel_spectrograms (2*cos / sqrt(2N))."""
    n = np.arange(MEL_BANDS)[:, None]
    k = np.arange(N_MFCC)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * MEL_BANDS)) / np.sqrt(2.0 * MEL_BANDS)


@lru_cache(maxsize=1)
def hann_window() -> np.ndarray:
    """Periodic Hann of length 480 (tf.signal.hann_window default)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(FRAME) / FRAME)


def prepare(samples: np.ndarray, where: str | Path | None = None) -> np.ndarray:
    """One clip scaled by 1/max and zero-padded to 16000 samples (longer clips: first second).

    An all-zero clip has no max to divide by (the reference would produce NaN); it stays zero.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    if samples.size > CLIP_SAMPLES:
        warnings.warn(FrontendWarning(
            f"{where or 'clip'}: {samples.size / SAMPLE_RATE:.3f} s long; kws01 classifies 1 s clips, "
            "used the first second. Fix: cut the clip to the 1 s around the word"), stacklevel=2)
        samples = samples[:CLIP_SAMPLES]
    peak = samples.max()
    if peak != 0.0:
        samples = samples / peak
    return np.pad(samples, (0, CLIP_SAMPLES - samples.size))


def mfcc(clips: np.ndarray) -> np.ndarray:
    """[N, 16000] prepared clips -> [N, 49, 10] float MFCCs (before quantization)."""
    clips = np.atleast_2d(np.asarray(clips, dtype=np.float64))
    out = np.empty((clips.shape[0], FRAMES, N_MFCC))
    for start in range(0, clips.shape[0], _BATCH):
        chunk = clips[start:start + _BATCH]
        frames = np.lib.stride_tricks.sliding_window_view(chunk, FRAME, axis=1)[:, ::STEP]
        magnitude = np.abs(np.fft.rfft(frames * hann_window(), FFT, axis=-1))
        out[start:start + _BATCH] = np.log(magnitude @ mel_matrix() + LOG_OFFSET) @ dct_matrix()
    return out


def quantize(values: np.ndarray) -> np.ndarray:
    """`int8(x / 0.5847029 + 83)`: truncation toward zero, wrapping out-of-range values as the
    official files do (a numpy float -> int8 cast)."""
    q = np.trunc(np.asarray(values, dtype=np.float64) / QUANT_SCALE + QUANT_ZERO).astype(np.int64)
    return (((q + 128) % 256) - 128).astype(np.int8)


def features_batch(clips: Sequence[np.ndarray], where: Sequence[str | Path] | None = None) -> np.ndarray:
    """Raw float clips (any length, any scale) -> [N, 49, 10] int8 MFCCs."""
    names = list(where) if where is not None else [None] * len(clips)
    prepared = np.stack([prepare(c, w) for c, w in zip(clips, names)]) if len(clips) else np.zeros((0, CLIP_SAMPLES))
    return quantize(mfcc(prepared))


def features(samples: np.ndarray, where: str | Path | None = None) -> np.ndarray:
    """One raw clip -> [49, 10] int8 MFCC."""
    return features_batch([samples], [where])[0]


def features_from_file(path: str | Path) -> np.ndarray:
    return features(read_wav(path), path)


def sample_bytes(path: str | Path) -> bytes:
    """The 490-byte kws01 `.bin` content for a WAV file."""
    return features_from_file(path).tobytes()
