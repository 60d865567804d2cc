"""Where fetched files live in the user cache, and what state they are in.

cache_dir()/models     reference .tflite files (tinyperf.engine.models.resolve_model looks here)
cache_dir()/downloads  source archives and official index files
cache_dir()/sources    archives unpacked (only the members a build needs)
cache_dir()/datasets   EnergyRunner sets built by `tinyperf fetch dataset` (default --out)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyperf.core import config
from tinyperf.fetch.catalog import RESOURCES, Resource
from tinyperf.fetch.download import hash_file, load_records, mismatches


def models_folder() -> Path:
    return config.cache_dir() / "models"


def downloads_folder() -> Path:
    return config.cache_dir() / "downloads"


def sources_folder() -> Path:
    return config.cache_dir() / "sources"


def datasets_folder() -> Path:
    return config.cache_dir() / "datasets"


def folder_for(resource: Resource) -> Path:
    return models_folder() if resource.kind == "model" else downloads_folder()


@dataclass(frozen=True)
class CacheEntry:
    resource: Resource
    path: Path
    state: str  # "ok", "missing", "corrupt", "unverified"
    sha256: str | None  # actual digest of the cached bytes
    detail: str  # which digest vouches, or what is wrong


def status() -> list[CacheEntry]:
    """Every catalogue file: present or not, and whether its bytes still match their digest."""
    records = load_records()
    rows = []
    for resource in RESOURCES:
        path = folder_for(resource) / resource.name
        if not path.is_file():
            rows.append(CacheEntry(resource, path, "missing", None, ""))
            continue
        sha256, md5 = hash_file(path)
        bad = mismatches(resource, sha256, md5, records)
        if bad:
            algo, exp, act = bad[0]
            rows.append(CacheEntry(resource, path, "corrupt", sha256, f"{algo} expected {exp}"))
        elif resource.sha256:
            rows.append(CacheEntry(resource, path, "ok", sha256,
                                   "sha256 pinned" + (" + md5 published" if resource.md5 else "")))
        elif resource.name in records:
            rows.append(CacheEntry(resource, path, "ok", sha256,
                                   ("md5 published + " if resource.md5 else "") + "sha256 recorded on first download"))
        else:
            rows.append(CacheEntry(resource, path, "ok" if resource.md5 else "unverified", sha256,
                                   "md5 published" if resource.md5 else "no digest known"))
    return rows


def leftovers() -> list[Path]:
    """Temporary files of interrupted downloads or extractions (safe to delete)."""
    found: list[Path] = []
    for folder in (models_folder(), downloads_folder(), sources_folder(), config.cache_dir()):
        if folder.is_dir():
            found.extend(sorted(p for p in folder.glob(".*.part")))
    return found
