"""Decoding images for the image front-ends (vww01, ic01) with one clear error per bad file."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from tinyperf.core.errors import TinyperfError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")


def load_rgb(path: str | Path) -> Image.Image:
    """The fully decoded image as 8-bit RGB (palette, grey, alpha and CMYK are converted)."""
    path = Path(path)
    if not path.is_file():
        raise TinyperfError(path, "no such image file", "check the path")
    try:
        with Image.open(path) as img:
            img.load()  # decode now: a truncated file fails here, not later in a resize
            return img.convert("RGB")
    except UnidentifiedImageError:
        raise TinyperfError(path, "is not an image Pillow can read",
                            "pass a PNG or JPEG file (re-export or re-download it)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TinyperfError(path, f"is a corrupt or truncated image ({detail})",
                            "re-download or re-export the image") from None
