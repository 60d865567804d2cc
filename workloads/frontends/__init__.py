"""Front-ends: raw audio or images -> the exact bytes of an EnergyRunner sample file.

Each module reproduces one official MLPerf Tiny recipe (see the shared spec, section Front-ends)
with numpy/scipy/pillow only, so preparing data never needs TensorFlow. `sample_bytes` is the one
entry point that builders and `tinyperf predict` share: raw file in, `.bin` content out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tinyperf.core.errors import TinyperfError
from tinyperf.workloads.frontends import ad, ic, kws, vww
from tinyperf.workloads.frontends.audio import AUDIO_SUFFIXES, FrontendWarning, read_wav
from tinyperf.workloads.frontends.image import IMAGE_SUFFIXES, load_rgb

#: raw-file suffixes each workload's front-end accepts
RAW_SUFFIXES: dict[str, tuple[str, ...]] = {
    "kws01": AUDIO_SUFFIXES,
    "ad01": AUDIO_SUFFIXES,
    "vww01": IMAGE_SUFFIXES,
    "ic01": IMAGE_SUFFIXES,
}

_SAMPLE_BYTES: dict[str, Callable[[str | Path], bytes]] = {
    "kws01": kws.sample_bytes,
    "ad01": ad.sample_bytes,
    "vww01": vww.sample_bytes,
    "ic01": ic.sample_bytes,
}


def sample_bytes(workload_id: str, path: str | Path) -> bytes:
    """The `.bin` content the official recipe makes from one raw input file."""
    try:
        convert = _SAMPLE_BYTES[workload_id]
    except KeyError:
        raise TinyperfError(None, f"no front-end for workload '{workload_id}'",
                            f"use one of {', '.join(_SAMPLE_BYTES)}") from None
    suffix = Path(path).suffix.lower()
    if suffix not in RAW_SUFFIXES[workload_id]:
        raise TinyperfError(path, f"is not a raw input the {workload_id} front-end reads "
                            f"(it takes {', '.join(RAW_SUFFIXES[workload_id])})",
                            f"pass a {' or '.join(RAW_SUFFIXES[workload_id][:2])} file, or a {workload_id} .bin sample")
    return convert(path)


__all__ = ["AUDIO_SUFFIXES", "IMAGE_SUFFIXES", "RAW_SUFFIXES", "FrontendWarning", "ad", "ic", "kws",
           "load_rgb", "read_wav", "sample_bytes", "vww"]
