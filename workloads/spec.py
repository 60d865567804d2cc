"""What a workload is: its model I/O, sample format, labels, scoring and run defaults.

A workload is plain data; runners never look inside it beyond `decode`/`postprocess`,
so adding a workload touches only the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Scoring = Literal["top1", "auc"]


@dataclass(frozen=True)
class InputEncoding:
    """How the bytes of an EnergyRunner sample map to real (float) model-input values.

    real = (stored - offset) * scale, with `stored` read as `dtype`. For the reference int8
    models this round-trips exactly to the quantized input the firmware feeds.
    """

    dtype: str  # numpy dtype of the stored bytes: "int8", "uint8", "<f4"
    scale: float = 1.0
    offset: float = 0.0

    def to_real(self, raw: bytes) -> np.ndarray:
        stored = np.frombuffer(raw, dtype=np.dtype(self.dtype))
        if self.dtype == "<f4" and self.scale == 1.0 and self.offset == 0.0:
            return stored.astype(np.float32)
        return ((stored.astype(np.float32) - np.float32(self.offset)) * np.float32(self.scale)).astype(np.float32)


@dataclass(frozen=True)
class Workload:
    id: str
    task: str
    labels: tuple[str, ...]
    input_shape: tuple[int, ...]  # model input, batch included
    output_shape: tuple[int, ...]
    encoding: InputEncoding
    sample_bytes: int  # size of one .bin file
    scoring: Scoring
    quality_target: float  # top-1 percent, or AUC
    reference_model: str  # int8 reference file name
    reference_float_model: str
    default_n: int  # official runner defaults for `infer N W`
    default_warmup: int
    window_bytes: int | None = None  # ad01: a sample file is cut into windows
    stride_bytes: int | None = None
    published: dict[str, float] = field(default_factory=dict)  # reference-device figures
    architecture: str = ""

    @property
    def upload_bytes(self) -> int:
        """Bytes uploaded for one inference (`db load <N>`)."""
        return self.window_bytes or self.sample_bytes

    @property
    def windows_per_file(self) -> int:
        if not self.window_bytes:
            return 1
        return (self.sample_bytes - self.window_bytes) // int(self.stride_bytes or 1) + 1

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_shape))

    def decode(self, raw: bytes) -> np.ndarray:
        """Real-valued model input (batch shape) for one uploaded sample or window."""
        if len(raw) != self.upload_bytes:
            raise ValueError(f"{self.id} expects {self.upload_bytes} bytes per inference, got {len(raw)}")
        return self.encoding.to_real(raw).reshape(self.input_shape)

    def postprocess(self, real_input: np.ndarray, real_output: np.ndarray) -> np.ndarray:
        """The values a DUT prints in `m-results-[...]` for this inference.

        Classifiers report their (dequantized) output vector; the anomaly detector reports the
        mean squared reconstruction error of the window, as the reference firmware does.
        """
        if self.scoring == "auc":
            diff = real_output.reshape(-1).astype(np.float64) - real_input.reshape(-1).astype(np.float64)
            return np.array([np.mean(diff * diff)])
        return real_output.reshape(-1).astype(np.float64)
