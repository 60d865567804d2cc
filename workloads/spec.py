"""What a workload is: its model I/O, sample format, labels, scoring and run defaults.

A workload is plain data plus the `Scoring` object it carries; runners never look inside it
beyond `decode`/`postprocess`. Workloads are found through the `tinyperf.workloads` entry-point
group, so adding one is one module (a `Workload` value) and its entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyperf.workloads.scoring import Scoring


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

    @property
    def n_results(self) -> int:
        """Values a DUT reports per inference (`m-results-[...]`)."""
        return self.scoring.n_results(int(np.prod(self.output_shape)))

    def windows(self, raw: bytes, count: int | None = None) -> list[bytes]:
        """The inference inputs of one sample file: the file itself, or (ad01) its first `count`
        windows of `window_bytes` every `stride_bytes` (default: all of them)."""
        if not self.window_bytes:
            return [raw]
        n = self.windows_per_file if count is None else min(count, self.windows_per_file)
        step = int(self.stride_bytes or self.window_bytes)
        return [raw[w * step:w * step + self.window_bytes] for w in range(n)]

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
        return self.scoring.outputs(real_input, real_output)
