"""Image front-ends: ic01 (CIFAR-10 -> HWC bytes) and vww01 (photo -> 96x96 RGB), with bad-input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinyperf.core.errors import TinyperfError
from tinyperf.workloads.catalog import IC01, VWW01
from tinyperf.workloads.frontends import ic, load_rgb, sample_bytes, vww


def test_ic_png_bytes_are_the_pixels_in_hwc_order(raw_dir: Path) -> None:
    pngs = sorted((raw_dir / "cifar10").glob("*.png"))
    assert len(pngs) >= 20
    for png in pngs:
        pixels = np.asarray(Image.open(png).convert("RGB"))
        data = ic.sample_bytes(png)
        assert len(data) == IC01.sample_bytes
        assert np.array_equal(np.frombuffer(data, dtype=np.uint8).reshape(32, 32, 3), pixels)
        # pixel (row 0, column 1) starts at byte 3: HWC, not planes
        assert data[3:6] == bytes(pixels[0, 1])


def test_cifar_planes_are_transposed_to_hwc(raw_dir: Path) -> None:
    pixels = np.asarray(Image.open(raw_dir / "cifar10" / "cifar10_00_3.png").convert("RGB"))
    planes = np.concatenate([pixels[:, :, c].reshape(-1) for c in range(3)])  # CIFAR batch row: R, G, B planes
    assert np.array_equal(ic.planes_to_hwc(planes)[0], pixels)
    assert np.array_equal(ic.planes_to_hwc(np.stack([planes, planes]))[1], pixels)


def test_ic_refuses_non_cifar_sizes(raw_dir: Path) -> None:
    with pytest.raises(TinyperfError) as err:
        ic.sample_bytes(raw_dir / "coco" / "COCO_val2014_000000000042.jpg")
    assert "is 640x478; ic01 takes 32x32 CIFAR-10 images" in err.value.one_line()


def test_vww_resize_shape_range_and_determinism(raw_dir: Path) -> None:
    for photo in sorted((raw_dir / "coco").glob("*.jpg")):
        a = vww.features_from_file(photo)
        assert a.shape == (96, 96, 3) and a.dtype == np.uint8
        assert 30 < a.std() and a.min() < 50 and a.max() > 200  # a real photo, not a flat or clipped image
        assert sample_bytes("vww01", photo) == a.tobytes() and len(a.tobytes()) == VWW01.sample_bytes
        # the downscale is a blurred average of the photo: colours stay close to a box-filtered version
        box = np.asarray(Image.open(photo).convert("RGB").resize((96, 96), Image.Resampling.BOX), dtype=np.float64)
        assert np.abs(a - box).mean() < 8


def test_vww_keeps_no_aspect_ratio_and_is_anti_aliased() -> None:
    stripes = np.zeros((300, 600, 3), dtype=np.uint8)
    stripes[:, ::2] = 255  # 1-pixel stripes: aliasing would turn these into solid black or white
    out = vww.resize(stripes)
    assert out.shape == (96, 96, 3)
    assert 100 < out.mean() < 155 and out.std() < 10
    flat = vww.resize(np.full((40, 70, 3), 200, np.uint8)).astype(int)  # upscaling, other aspect ratio
    assert flat.shape == (96, 96, 3) and np.abs(flat - 200).max() <= 1  # <= 1: truncation of 255 * x
    already = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    assert np.array_equal(vww.resize(already), already)  # pre-resized inputs pass through


def test_vww_grey_and_alpha_images_become_rgb(tmp_path: Path) -> None:
    Image.new("L", (120, 80), 90).save(tmp_path / "grey.png")
    Image.new("RGBA", (120, 80), (10, 20, 30, 0)).save(tmp_path / "alpha.png")
    assert np.abs(vww.features_from_file(tmp_path / "grey.png").astype(int) - 90).max() <= 1
    assert np.abs(vww.features_from_file(tmp_path / "alpha.png").astype(int) - [10, 20, 30]).max() <= 1


def test_vww_matches_scikit_image_where_installed(raw_dir: Path) -> None:
    """The official recipe is skimage.transform.resize(anti_aliasing=True) then (255 * x).astype(uint8)."""
    skimage_transform = pytest.importorskip("skimage.transform")
    for photo in sorted((raw_dir / "coco").glob("*.jpg")):
        pixels = np.asarray(Image.open(photo).convert("RGB"))
        expected = (255 * skimage_transform.resize(pixels, (96, 96), anti_aliasing=True)).astype(np.uint8)
        diff = np.abs(vww.features_from_file(photo).astype(int) - expected)
        assert diff.max() <= 1 and (diff == 0).mean() > 0.999


def test_no_official_vww01_sample_comes_from_the_coco_photos_here(raw_dir: Path, data_dir: Path) -> None:
    """Why the vww resize is checked for shape/range/determinism and not against official files."""
    official = {p.stem for p in (data_dir / "vww01").glob("*.bin")}
    ids = {p.stem.rsplit("_", 1)[-1] for p in (raw_dir / "coco").glob("COCO_*.jpg")}
    assert ids and not ids & official


def test_corrupt_and_truncated_images_are_one_clear_line(raw_dir: Path, tmp_path: Path) -> None:
    text = tmp_path / "photo.jpg"
    text.write_text("not an image")
    with pytest.raises(TinyperfError) as err:
        load_rgb(text)
    assert str(text) in err.value.one_line() and "not an image Pillow can read" in err.value.one_line()
    truncated = tmp_path / "half.jpg"
    truncated.write_bytes((raw_dir / "coco" / "COCO_val2014_000000000042.jpg").read_bytes()[:5000])
    with pytest.raises(TinyperfError) as err:
        vww.features_from_file(truncated)
    line = err.value.one_line()
    assert "\n" not in line and str(truncated) in line and "corrupt or truncated" in line and "re-download" in line
    with pytest.raises(TinyperfError, match="no such image file"):
        ic.sample_bytes(tmp_path / "absent.png")


def test_sample_bytes_refuses_the_wrong_kind_of_input(raw_dir: Path) -> None:
    with pytest.raises(TinyperfError) as err:
        sample_bytes("kws01", raw_dir / "cifar10" / "cifar10_00_3.png")
    assert "is not a raw input the kws01 front-end reads" in err.value.one_line()
