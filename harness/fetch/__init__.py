"""Fetching public models and source datasets into the user cache, verified by pinned digests.

catalog   what can be fetched: URLs, sha256/md5 pins, sizes
download  one file: stream to a temporary file, verify, rename (FetchError on any failure)
archive   unpack a verified archive all-or-nothing
cache     the cache layout and the state of what is in it (`tinyperf fetch list`)
models    `tinyperf fetch models`
datasets  `tinyperf fetch dataset`
"""

from tinyperf.fetch.catalog import DATASETS, MODELS, RESOURCES, DatasetSource, Resource
from tinyperf.fetch.download import ENV_MIRROR, ENV_OFFLINE, Fetched, FetchError, fetch

__all__ = ["DATASETS", "ENV_MIRROR", "ENV_OFFLINE", "MODELS", "RESOURCES", "DatasetSource", "FetchError",
           "Fetched", "Resource", "fetch"]
