"""Native stderr chatter is held back; what matters, and everything on failure, gets through."""

from __future__ import annotations

import os

import pytest

from tinyperf.core.native_stderr import native_stderr


def test_only_kept_lines_reach_stderr(capfd) -> None:
    with native_stderr(lambda line: line.startswith("keep")):
        os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers\nkeep: this one\n")
    assert capfd.readouterr().err == "keep: this one\n"


def test_everything_is_replayed_when_the_block_fails(capfd) -> None:
    with pytest.raises(RuntimeError, match="converter failed"):
        with native_stderr(lambda line: False):
            os.write(2, b"fully_quantize: 0\nthe native reason\n")
            raise RuntimeError("converter failed")
    assert capfd.readouterr().err == "fully_quantize: 0\nthe native reason\n"
