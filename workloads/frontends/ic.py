"""ic01 front-end: a CIFAR-10 image -> 32x32 RGB uint8, HWC, as the ResNet-8 reference model reads.

CIFAR-10 images are already 32x32, so an image file is only decoded; CIFAR's own python batch
files store each image as three 1024-byte planes (R, G, B), which are transposed to HWC. Other
image sizes are refused rather than resized: ic01 is defined on CIFAR-10 images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyperf.core.errors import TinyperfError
from tinyperf.workloads.frontends.image import load_rgb

SIZE = 32
PIXELS = SIZE * SIZE * 3


def planes_to_hwc(data: np.ndarray) -> np.ndarray:
    """CIFAR batch rows [N, 3072] (or one row [3072]) in R,G,B plane order -> [N, 32, 32, 3] uint8."""
    data = np.asarray(data, dtype=np.uint8)
    rows = data.reshape(-1, PIXELS) if data.ndim == 1 else data
    if rows.ndim != 2 or rows.shape[1] != PIXELS:
        raise ValueError(f"CIFAR rows must have {PIXELS} values, got shape {data.shape}")
    return rows.reshape(-1, 3, SIZE, SIZE).transpose(0, 2, 3, 1)


def features_from_file(path: str | Path) -> np.ndarray:
    """[32, 32, 3] uint8 RGB of a CIFAR-10 image file."""
    img = load_rgb(path)
    if img.size != (SIZE, SIZE):
        raise TinyperfError(path, f"is {img.size[0]}x{img.size[1]}; ic01 takes 32x32 CIFAR-10 images",
                            "pass a CIFAR-10 image (or resize it to 32x32 yourself if you accept the change)")
    return np.asarray(img, dtype=np.uint8)


def sample_bytes(path: str | Path) -> bytes:
    """The 3,072-byte ic01 `.bin` content for an image file."""
    return features_from_file(path).tobytes()
