"""vww01 front-end: any photo -> 96x96 RGB uint8, HWC, as the MobileNetV1 reference model reads.

The VWW images of MLPerf Tiny were made by the Silicon Labs script the MLPerf Tiny sources point
to (buildPersonDetectionDatabase.py): `skimage.transform.resize(img, (96, 96), anti_aliasing=True)`
and `(255 * img).astype(uint8)`. That is reproduced here with scipy.ndimage (scikit-image is not a
dependency):
- pixels as float in [0, 1]; grey images become RGB;
- anti-aliasing: Gaussian blur with sigma = max(0, (scale - 1) / 2) per axis, mirror edges;
- bilinear sampling at pixel centres ((r + 0.5) * scale - 0.5), no aspect-ratio preservation;
- clip to the input's value range, scale by 255 and truncate to uint8.
An image that is already 96x96 (e.g. from the pre-resized vw_coco2014_96 archive) passes through
unchanged. No official vww01 sample comes from a photo available here, so the recipe is checked
for shape, range and determinism, and against scikit-image itself where that is installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from tinyperf.workloads.frontends.image import load_rgb

SIZE = 96


def resize(pixels: np.ndarray, size: int = SIZE) -> np.ndarray:
    """[H, W, 3] uint8 -> [size, size, 3] uint8 as skimage.transform.resize(anti_aliasing=True) + truncation."""
    pixels = np.asarray(pixels)
    height, width = pixels.shape[:2]
    if (height, width) == (size, size):
        return pixels.astype(np.uint8)
    image = pixels.astype(np.float64) / 255.0
    scale = np.array([height / size, width / size])
    sigma = np.maximum(0.0, (scale - 1.0) / 2.0)
    blurred = ndimage.gaussian_filter(image, sigma=(sigma[0], sigma[1], 0.0), mode="mirror")
    out = ndimage.affine_transform(blurred, matrix=(scale[0], scale[1], 1.0),
                                   offset=(0.5 * scale[0] - 0.5, 0.5 * scale[1] - 0.5, 0.0),
                                   output_shape=(size, size, image.shape[2]), order=1, mode="mirror")
    out = np.clip(out, image.min(), image.max())
    return (255.0 * out).astype(np.uint8)


def features(img: Image.Image) -> np.ndarray:
    """[96, 96, 3] uint8 RGB."""
    return resize(np.asarray(img.convert("RGB"), dtype=np.uint8))


def features_from_file(path: str | Path) -> np.ndarray:
    return features(load_rgb(path))


def sample_bytes(path: str | Path) -> bytes:
    """The 27,648-byte vww01 `.bin` content for an image file."""
    return features_from_file(path).tobytes()
