"""`tinyperf fetch models`: the MLPerf Tiny reference models into the user cache.

tinyperf.engine.models.resolve_model looks in the same folder after --models-dir / TINYPERF_MODELS, so a
fetched model is used by every command without further configuration.
"""

from __future__ import annotations

from tinyperf.fetch.cache import models_folder
from tinyperf.fetch.catalog import models_for
from tinyperf.fetch.download import Fetched, fetch, shared_progress
from tinyperf.workloads.catalog import get_workload


def fetch_models(workload_ids: list[str] | None = None, include_float: bool = False,
                 mirror: str | None = None, offline: bool = False) -> list[Fetched]:
    """Verified reference models of these workloads (all four when None), downloading what is missing.

    Stops at the first failure: a FetchError names the file, the URL and the fix.
    """
    for workload_id in workload_ids or []:
        get_workload(workload_id)  # unknown ids fail with the list of valid ones
    fetched: list[Fetched] = []
    with shared_progress() as bar:
        for resource in models_for(workload_ids, include_float):
            fetched.append(fetch(resource, models_folder(), mirror=mirror, offline=offline, progress=bar))
    return fetched
