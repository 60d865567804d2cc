"""Every workload tinyperf knows: the `tinyperf.workloads` entry-point group (built-ins included).

Adding a workload is one module holding a `Workload` and an entry point naming it:

    [project.entry-points."tinyperf.workloads"]
    my01 = "my_package.workload:MY01"
"""

from __future__ import annotations

import difflib

from tinyperf.core.errors import TinyperfError
from tinyperf.core.registry import Broken, Registry
from tinyperf.workloads.mlperf_tiny import AD01, IC01, KWS01, REFERENCE, VWW01
from tinyperf.workloads.spec import Workload

GROUP = "tinyperf.workloads"
WORKLOAD_REGISTRY: Registry[Workload] = Registry(GROUP, "workload")
#: workloads registered but unusable (import failed, not a Workload, id differs from its name): why
BROKEN: dict[str, str] = {}


def _discover() -> dict[str, Workload]:
    found: dict[str, Workload] = {}
    for name, w in WORKLOAD_REGISTRY.load_all().items():
        if isinstance(w, Broken):
            BROKEN[name] = w.reason
        elif not isinstance(w, Workload):
            BROKEN[name] = f"{WORKLOAD_REGISTRY.entries()[name].value} is not a tinyperf Workload"
        elif w.id != name:
            BROKEN[name] = f"entry point '{name}' names workload '{w.id}': the two must agree"
        else:
            found[name] = w
    order = [w.id for w in REFERENCE if w.id in found] + sorted(n for n in found if n not in {r.id for r in REFERENCE})
    return {n: found[n] for n in order}


WORKLOADS: dict[str, Workload] = _discover()


def get_workload(workload_id: str) -> Workload:
    """The workload named (any case: `KWS01` is kws01); an unknown name gets a "did you mean"."""
    return WORKLOADS[workload_arg(workload_id)]


def workload_arg(text: str) -> str:
    """A workload id as typed on the command line, normalized; the argparse `type` of every
    workload option, so a typo is one line with a suggestion rather than the whole usage."""
    wanted = str(text).strip().lower()
    if wanted in WORKLOADS:
        return wanted
    for name in (str(text), wanted):
        if name in BROKEN:
            raise TinyperfError(None, f"workload '{name}' cannot be used: {BROKEN[name]}",
                                "reinstall or fix the package that provides it")
    close = difflib.get_close_matches(wanted, list(WORKLOADS), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise TinyperfError(None, f"unknown workload '{text}'",
                        f"{hint}use one of {', '.join(WORKLOADS)} (`tinyperf list workloads`)")


__all__ = ["AD01", "IC01", "KWS01", "VWW01", "WORKLOADS", "get_workload", "workload_arg"]
