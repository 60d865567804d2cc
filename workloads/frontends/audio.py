"""Reading WAV files for the audio front-ends (kws01, ad01).

Policy, chosen so that a user's clip either gives the official features or a clear message:
- integer PCM (8/16/24/32-bit) and float WAVs are read and scaled to [-1, 1) the way librosa and
  tf.audio.decode_wav do (int16 / 32768 and so on);
- a sample rate other than 16 kHz is resampled with scipy.signal.resample_poly and reported with a
  `FrontendWarning` (the features are then close to, not exactly, what a 16 kHz recording gives);
  pass `resample=False` to refuse instead;
- more than one channel is refused: which channel (or which mix) a model expects is the user's
  call, and a silent downmix would hide it;
- an unreadable or empty file is refused with one line naming the file and the fix.
"""

from __future__ import annotations

import struct
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from tinyperf.core.errors import TinyperfError

SAMPLE_RATE = 16000
AUDIO_SUFFIXES = (".wav", ".wave")
CONVERT_HINT = "convert it to mono 16-bit PCM WAV at 16 kHz, e.g. `ffmpeg -i IN -ac 1 -ar 16000 OUT.wav`"


class FrontendWarning(UserWarning):
    """A raw input was adapted (resampled, cut) to fit a front-end; the result is not exact."""


def _to_float(data: np.ndarray, path: Path) -> np.ndarray:
    kind = data.dtype.kind
    if kind == "f":
        return data.astype(np.float64)
    if kind == "u":  # 8-bit WAV is unsigned, centred on 128
        half = float(2 ** (8 * data.dtype.itemsize - 1))
        return (data.astype(np.float64) - half) / half
    if kind == "i":
        return data.astype(np.float64) / float(2 ** (8 * data.dtype.itemsize - 1))
    raise TinyperfError(path, f"holds {data.dtype} samples, which no audio front-end reads", CONVERT_HINT)


def read_wav(path: str | Path, rate: int = SAMPLE_RATE, resample: bool = True) -> np.ndarray:
    """Mono samples of `path` as float64 in [-1, 1), at `rate` Hz."""
    path = Path(path)
    if not path.is_file():
        raise TinyperfError(path, "no such audio file", "check the path")
    try:
        with warnings.catch_warnings(record=True) as notes:  # unknown chunks (LIST, cue) are harmless
            warnings.simplefilter("always", wavfile.WavFileWarning)
            file_rate, data = wavfile.read(path)
    except (ValueError, OSError, EOFError, IndexError, TypeError, struct.error) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TinyperfError(path, f"is not a readable WAV file ({detail})", CONVERT_HINT) from None
    cut = [str(n.message) for n in notes if "prematurely" in str(n.message)]
    if cut:  # scipy returns the samples it found; a clipped clip would give silently wrong features
        raise TinyperfError(path, f"is truncated ({cut[0].rstrip('.')})", "copy or download the file again")
    if data.ndim == 2 and data.shape[1] == 1:
        data = data[:, 0]
    if data.ndim != 1:
        raise TinyperfError(path, f"has {data.shape[1]} channels; the audio front-ends take mono audio",
                            "downmix or pick one channel first, e.g. `ffmpeg -i IN -ac 1 OUT.wav`")
    if data.size == 0:
        raise TinyperfError(path, "holds no audio samples", "record or export the clip again")
    samples = _to_float(data, path)
    if file_rate != rate:
        if not resample:
            raise TinyperfError(path, f"is sampled at {file_rate} Hz; the front-end needs {rate} Hz",
                                f"resample it to {rate} Hz, e.g. `ffmpeg -i IN -ar {rate} OUT.wav`")
        ratio = Fraction(rate, int(file_rate))
        from scipy.signal import resample_poly  # ~0.5 s to import: only when resampling

        samples = resample_poly(samples, ratio.numerator, ratio.denominator)
        warnings.warn(FrontendWarning(
            f"{path}: sampled at {file_rate} Hz; resampled to {rate} Hz (scipy.signal.resample_poly), so the "
            f"features are close to, not exactly, those of a {rate} Hz recording. Fix: record or convert at {rate} Hz"),
            stacklevel=2)
    return samples
