"""An Arm Ethos-U NPU estimate from Arm's Vela compiler (`ethos-u-vela`, optional): never a measurement.

Vela compiles the .tflite for an Ethos-U configuration and reports, from its own performance
model, the SRAM and flash the compiled network uses and the cycles it expects. tinyperf runs it in
a child process on a temporary folder and reads its summary CSV; every figure is labelled an
estimate of that configuration and system, at Vela's assumed clock.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tinyperf.core.errors import ModelError, TinyperfError

DEFAULT_CONFIG = "ethos-u55-128"
#: Vela compiles a MLPerf Tiny model in seconds; a bound, not an expectation
TIMEOUT_S = 300.0


def vela_version() -> str | None:
    try:
        return version("ethos-u-vela")
    except PackageNotFoundError:
        return None


@dataclass(frozen=True)
class VelaEstimate:
    accelerator: str
    system: str
    clock_hz: float
    sram_bytes: float
    flash_bytes: float
    cycles: float
    inference_s: float
    npu_ops: int | None
    cpu_ops: int | None
    vela_version: str

    def line(self) -> str:
        head = (f"Ethos-U ESTIMATE (Vela {self.vela_version}, {self.accelerator}, {self.system}, "
                f"{self.clock_hz / 1e6:g} MHz; Vela's performance model, not a measurement)")
        if self.npu_ops == 0:
            return f"{head}: no op of this model runs on the NPU (Vela maps int8/int16 ops only): nothing to estimate"
        ops = ""
        if self.npu_ops is not None and self.cpu_ops is not None:
            ops = f"; ops on the NPU {self.npu_ops} of {self.npu_ops + self.cpu_ops}" + (
                " (the CPU ops' time is not included)" if self.cpu_ops else "")
        return (f"{head}: SRAM "
                f"{self.sram_bytes / 1024:,.1f} KB, flash {self.flash_bytes / 1024:,.1f} KB, {self.cycles:,.0f} cycles "
                f"= {self.inference_s * 1e3:.3f} ms per inference{ops}")


def _count(stdout: str, label: str) -> int | None:
    for line in stdout.splitlines():
        if line.strip().startswith(label):
            try:
                return int(line.split("=")[1].split()[0])
            except (IndexError, ValueError):
                return None
    return None


def estimate(path: Path, accelerator: str = DEFAULT_CONFIG) -> VelaEstimate:
    """Compile `path` with Vela for `accelerator` and read back its estimate."""
    found = vela_version()
    if found is None:
        raise TinyperfError(None, "the Ethos-U estimate needs Arm's Vela compiler",
                            "install it: `python -m pip install -e '.[vela]'` (ethos-u-vela)")
    with tempfile.TemporaryDirectory(prefix="tinyperf-vela-") as out:
        cmd = [sys.executable, "-c", "import sys; from ethosu.vela.vela import main; sys.exit(main())",
               str(path), "--accelerator-config", accelerator, "--output-dir", out]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ModelError(path, f"Vela did not finish within {TIMEOUT_S:g} s", "try a smaller model") from None
        summaries = sorted(Path(out).glob("*_summary_*.csv"))
        if r.returncode != 0 or not summaries:
            last = next((ln.strip() for ln in reversed((r.stderr or r.stdout).splitlines()) if ln.strip()), "no output")
            raise ModelError(path, f"Vela could not compile this model for {accelerator} ({last})",
                             "Vela takes int8/int16 TFLite models; check --vela-config (e.g. ethos-u55-128, ethos-u65-256)")
        with open(summaries[0], newline="") as fh:
            row = next(csv.DictReader(fh))
    return VelaEstimate(
        accelerator=row["accelerator_configuration"], system=row["system_config"],
        clock_hz=float(row["core_clock"]),
        sram_bytes=float(row["sram_memory_used"]) * 1024,  # Vela reports KiB
        flash_bytes=(float(row["off_chip_flash_memory_used"]) + float(row["on_chip_flash_memory_used"])) * 1024,
        cycles=float(row["cycles_total"]), inference_s=float(row["inference_time"]),
        npu_ops=_count(r.stdout, "NPU operators"), cpu_ops=_count(r.stdout, "CPU operators"), vela_version=found)
