"""Decoding .bin bytes must reproduce exactly the int8 input the reference firmware feeds."""

from __future__ import annotations

import numpy as np

from tinyperf.device_runners.host import LiteRTModel
from tinyperf.workloads import AD01, IC01, KWS01, VWW01, WORKLOADS


def test_catalog_is_consistent() -> None:
    for w in WORKLOADS.values():
        assert w.upload_bytes in (490, 27648, 3072, 2560)
        assert w.windows_per_file == (196 if w.id == "ad01" else 1)


def test_decode_then_quantize_round_trips_reference_inputs(models_dir) -> None:
    rng = np.random.default_rng(0)
    for wl in (KWS01, VWW01, IC01):
        m = LiteRTModel(models_dir / wl.reference_model, "reference")
        raw = rng.integers(0, 256, wl.upload_bytes, dtype=np.uint8).tobytes()
        q = m.quantize_input(wl.decode(raw)).ravel()
        if wl is KWS01:
            expected = np.frombuffer(raw, np.int8)
        else:  # q = pixel - 128
            expected = (np.frombuffer(raw, np.uint8).astype(np.int16) - 128).astype(np.int8)
        assert np.array_equal(q, expected), wl.id


def test_ad01_postprocess_is_window_mse() -> None:
    x = np.arange(640, dtype=np.float32).reshape(1, 640)
    y = x + 2.0
    assert AD01.postprocess(x, y).tolist() == [4.0]
