"""The same runner over the network: socket:// to a TCP port, rfc2217:// through ser2net."""

from __future__ import annotations

import numpy as np
import pytest

from tinyperf.core.errors import DeviceError

from tests.device_runners.serial import helpers as H


@pytest.fixture(scope="module")
def batch(data_dir, models_dir):
    items = H.items(data_dir, "kws01", 25)
    return items, [H.as_printed("kws01", v) for v in H.host_reference(models_dir, "kws01", items)]


def check(url, batch) -> dict:
    items, expected = batch
    s = H.session(url)
    try:
        for item, ref in zip(items, expected):
            s.load(item.data)
            np.testing.assert_array_equal(s.infer(1, 0).results, ref)
        return s.describe()
    finally:
        s.close()


def test_socket_url(models_dir, batch) -> None:
    r = H.rig(models_dir, "kws01", tcp_port=0)
    try:
        assert check(r.url, batch)["port"].startswith("socket://127.0.0.1:")
    finally:
        r.close()


def test_rfc2217_through_ser2net(models_dir, batch, tmp_path) -> None:
    r = H.rig(models_dir, "kws01")
    try:
        with H.ser2net(r.url, tmp_path) as url:
            assert check(url, batch)["port"] == url
            # the baud rate travels over RFC 2217: ser2net sets it on the pty and the emulated
            # 115200 DUT then answers a 9600 host with garbage, as a real board would
            with pytest.raises(DeviceError, match="baud"):
                H.session(url, baud=9600, timeout=0.5)
    finally:
        r.close()
