"""EdgeTPU runner: the LiteRT interpreter with Coral's EdgeTPU delegate (libedgetpu).

Everything but the delegate is the host runner's code. The one part that touches the device is
`load_edgetpu_delegate`; no EdgeTPU is attached on development machines or CI, so tests exercise
the rest of the path with that function swapped out. Models must be compiled with
`edgetpu_compiler` (`*_edgetpu.tflite`); ops it could not map run on the CPU.
Note: the PyPI package named `pycoral` is an unrelated project; Coral's runtime comes from
Coral's own packages (libedgetpu1-std), which provide the shared library loaded here.
"""

from __future__ import annotations

import argparse
import ctypes.util
import platform
from typing import Any

from tinyperf.device_runners.base import RunnerConfig
from tinyperf.device_runners.host import HostRunner, HostSession
from tinyperf.core.errors import DeviceError

LIBEDGETPU = {"Linux": "libedgetpu.so.1", "Darwin": "libedgetpu.1.dylib", "Windows": "edgetpu.dll"}


def edgetpu_library() -> str:
    return LIBEDGETPU.get(platform.system(), "libedgetpu.so.1")


def load_edgetpu_delegate(device: str | None = None) -> Any:
    """The thin, device-touching part: load libedgetpu as a LiteRT delegate."""
    from ai_edge_litert.interpreter import load_delegate

    options = {"device": device} if device else {}
    try:
        return load_delegate(edgetpu_library(), options)
    except (ValueError, OSError) as exc:
        raise DeviceError(device or "EdgeTPU", f"cannot open the EdgeTPU delegate ({exc})",
                          "install Coral's libedgetpu runtime, plug in the device, and pass --edgetpu-device "
                          "(e.g. usb:0 or pci:0) if there are several") from None


class EdgeTPUSession(HostSession):
    runner_name = "edgetpu"

    def __init__(self, config: RunnerConfig, delegate: Any):
        super().__init__(config, delegates=[delegate])
        self.device = config.options.get("edgetpu_device") or "default"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "device": f"EdgeTPU ({self.device})", "delegate": edgetpu_library()}


class EdgeTPURunner(HostRunner):
    name = "edgetpu"
    summary = "Coral EdgeTPU through LiteRT's delegate (needs libedgetpu and an *_edgetpu.tflite model)"
    kernels = ("builtin",)  # ops the compiler left on the CPU run on LiteRT's builtin kernels
    default_kernels = {"accuracy": "builtin", "performance": "builtin"}
    #: swapped out only where no EdgeTPU can exist (tests); the real path loads libedgetpu
    delegate_loader = staticmethod(load_edgetpu_delegate)

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--edgetpu-device", metavar="DEV", help="EdgeTPU to use: usb:0, pci:0, ... (default: first)")

    @classmethod
    def availability(cls) -> str | None:
        base = super().availability()
        if base:
            return base
        if cls.delegate_loader is load_edgetpu_delegate and not ctypes.util.find_library("edgetpu"):
            return f"{edgetpu_library()} not found (install Coral's libedgetpu runtime)"
        return None

    @classmethod
    def check_model(cls, config: RunnerConfig) -> None:
        """Nothing to check without the delegate: a compiled model's edgetpu-custom-op needs it."""

    def open(self, config: RunnerConfig) -> EdgeTPUSession:
        return EdgeTPUSession(config, self.delegate_loader(config.options.get("edgetpu_device")))
