"""The runner reaches a DUT through an interface board (STM32H573I-DK or Arduino IO manager)."""

from __future__ import annotations

import numpy as np
import pytest

from tinyperf.core.errors import DeviceError
from tests.device_runners.serial import helpers as H


@pytest.fixture(scope="module")
def three(data_dir, models_dir):
    batch = H.items(data_dir, "kws01", 3)
    return batch, [H.as_printed("kws01", v) for v in H.host_reference(models_dir, "kws01", batch)]


@pytest.mark.parametrize("board", ["stm32h573", "arduino"])
def test_accuracy_through_a_board(board, three, models_dir, tmp_path) -> None:
    batch, expected = three
    r = H.rig(models_dir, "kws01", interface_board=board)
    s = H.session(r.url, interface_board=board, run_dir=tmp_path)
    try:
        d = s.describe()
        for item, ref in zip(batch, expected):
            s.load(item.data)
            np.testing.assert_array_equal(s.infer(1, 0).results, ref)
    finally:
        s.close()
        r.close()
    assert d["interface_board"] == board and d["dut_baud"] == 9600 and d["chunk_size"] == 26
    assert d["board_name"] == ("tinyML Enhanced Interface Board" if board == "stm32h573" else "m-name-[io-manager]")
    sent = [l for l in (tmp_path / "serial-transcript.log").read_text().splitlines() if l[13:15] == "> "]
    chunks = [l[15:] for l in sent if l[15:].startswith("dut db ") and "load" not in l]
    assert chunks and all(len(c) <= 64 for c in chunks)  # `dut db <52 hex>%`: one relay buffer
    assert max(len(c) for c in chunks) == len("dut db %") + 52


def test_chunks_through_a_board_fit_64_bytes(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="stm32h573")
    try:
        with pytest.raises(DeviceError, match="64 bytes"):
            H.session(r.url, interface_board="stm32h573", chunk_size=29)
    finally:
        r.close()


def test_setbaud_fixes_the_boards_dut_rate(three, models_dir) -> None:
    batch, expected = three
    # the board relays at 115200 but the DUT (energy firmware) runs at 9600
    r = H.rig(models_dir, "kws01", interface_board="stm32h573", dut_baud=115200, baud=9600)
    try:
        with pytest.raises(DeviceError) as err:
            H.session(r.url, interface_board="stm32h573", timeout=0.5)
        assert "--dut-baud 9600" in err.value.one_line() and "checkbaud" in err.value.one_line()
        r.board._relaying = False  # the real board would need a power cycle here
        s = H.session(r.url, interface_board="stm32h573", dut_baud=9600)
        try:
            assert s.describe()["dut_baud"] == 9600 and r.board.dut_baud == 9600
            s.load(batch[0].data)
            np.testing.assert_array_equal(s.infer(1, 0).results, expected[0])
        finally:
            s.close()
    finally:
        r.close()


def test_forgetting_the_board_option_is_explained(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="stm32h573")
    try:
        with pytest.raises(DeviceError, match="pass --interface-board stm32h573"):
            H.session(r.url)
    finally:
        r.close()


def test_an_arduino_io_manager_is_not_a_dut(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="arduino")
    try:
        with pytest.raises(DeviceError, match="not as a DUT"):
            H.session(r.url)
    finally:
        r.close()
