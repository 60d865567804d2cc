"""The virtual board's fixtures: the pinned sources from ../shared/firmware-sources, unpacked and
built once per session into the session's cache (never the user's, never ../shared)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED

FIRMWARE_SOURCES = SHARED / "firmware-sources"
TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm")


def session_cache(tmp_path_factory) -> Path:
    """The folder tests/conftest.py's autouse fixture points TINYPERF_CACHE at."""
    return tmp_path_factory.getbasetemp() / "tinyperf-cache"


@pytest.fixture(scope="session")
def mirror() -> Path:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"virtual board needs {', '.join(missing)} (apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)")
    if not (FIRMWARE_SOURCES / "SHA256SUMS").is_file():
        pytest.skip(f"pinned firmware sources not found at {FIRMWARE_SOURCES}")
    return FIRMWARE_SOURCES


@pytest.fixture(scope="session")
def sources(mirror, tmp_path_factory):
    from tinyperf.device_runners.qemu.build import FirmwareSources
    from tinyperf.fetch.firmware import fetch_firmware_sources

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYPERF_CACHE", str(session_cache(tmp_path_factory)))
        got = fetch_firmware_sources(str(mirror))
    return FirmwareSources(got.roots, got.versions)


@pytest.fixture(scope="session")
def build(sources, tmp_path_factory):
    """build(workload, model, **options) -> FirmwareImage, in the session's firmware-build cache."""
    from tinyperf.device_runners.qemu.build import BuildOptions, build_firmware
    from tinyperf.workloads.catalog import get_workload

    out = session_cache(tmp_path_factory) / "firmware-build"

    def _build(workload: str, model: Path, **options):
        t0 = time.monotonic()
        image = build_firmware(BuildOptions(get_workload(workload), Path(model), **options), sources, out)
        print(f"\nfirmware {workload} {options or ''}: {'warm (cached)' if image.cached else 'built'} "
              f"in {time.monotonic() - t0:.1f} s")
        return image

    return _build


@pytest.fixture(scope="session")
def kws01_image(build, models_dir):
    return build("kws01", models_dir / "kws_ref_model.tflite")
