"""`tinyperf fetch firmware-sources`: the pinned third-party sources the virtual board is built from.

TFLM, CMSIS-NN, CMSIS 6 Core, Cortex_DFP, flatbuffers, gemmlowp, ruy, kissfft (at the commits that
TFLM's own download scripts pin) and mlcommons/tiny's DUT-side API, as `git archive` zips. Each
archive's sha256 is pinned here (a public fact about the file, like a model's digest) and checked
before it is unpacked into the cache (cache_dir()/firmware-sources/<key>/), all or nothing. The
archives come from a mirror (a flat folder or server of these file names: `--mirror DIR` or
TINYPERF_MIRROR); GitHub's own zips of the same commits have other bytes, so they are refused by
the digest rather than trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyperf.core import config
from tinyperf.fetch.archive import extract, extracted_from
from tinyperf.fetch.cache import downloads_folder
from tinyperf.fetch.catalog import Resource
from tinyperf.fetch.download import FetchError, fetch, shared_progress


@dataclass(frozen=True)
class SourceArchive:
    key: str  # the name the firmware build description uses
    repo: str
    version: str  # commit or tag
    top: str  # the one folder the archive unpacks to
    sha256: str
    size: int

    @property
    def name(self) -> str:
        """File name in the cache and on a mirror (the firmware-sources folder's names)."""
        return ARCHIVE_NAMES[self.key]

    @property
    def resource(self) -> Resource:
        return Resource(name=self.name, url=f"https://github.com/{self.repo}/archive/{self.version}.zip",
                        kind="archive", sha256=self.sha256, size=self.size,
                        note=f"{self.repo}@{self.version} (git archive)")


ARCHIVE_NAMES = {
    "tflite-micro": "tflite-micro-90b983c2b3f1480642e040bbd2ddb37b998f3424.zip",
    "cmsis-nn": "CMSIS-NN-4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae.zip",
    "cmsis": "CMSIS_6-5782d6f8057906d360f4b95ec08a2354afe5c9b9.zip",
    "cortex-dfp": "Cortex_DFP-c2c70a97a20fb355815e2ead3d4a40e35a4a3cdf.zip",
    "flatbuffers": "flatbuffers-v25.9.23.zip",
    "gemmlowp": "gemmlowp-719139ce755a0f31cbf1c37f7f98adcc7fc9f425.zip",
    "ruy": "ruy-d37128311b445e758136b8602d1bbd2a755e115d.zip",
    "kissfft": "kissfft-v130.zip",
    "mlperf-tiny-api": "mlperf-tiny-api-1afd2c9820f795965a6134facd0b4dfae41ef23f.zip",
}

ARCHIVES: tuple[SourceArchive, ...] = (
    SourceArchive("tflite-micro", "tensorflow/tflite-micro", "90b983c2b3f1480642e040bbd2ddb37b998f3424",
                  "tflite-micro-90b983c2b3f1480642e040bbd2ddb37b998f3424",
                  "e12acd04aaaa46d3fe38e3f00d6dd60d231925346d750d69d1ba79f5f7818538", 12_985_674),
    SourceArchive("cmsis-nn", "ARM-software/CMSIS-NN", "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae",
                  "CMSIS-NN-4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae",
                  "1a9cfc447430fcf17da98c5324004c86a89cb99ade40bfe15f30bfe646e61bc3", 8_422_303),
    SourceArchive("cmsis", "ARM-software/CMSIS_6", "5782d6f8057906d360f4b95ec08a2354afe5c9b9",
                  "CMSIS_6-5782d6f8057906d360f4b95ec08a2354afe5c9b9",
                  "3a5cad89dbd177d6e6561448bb0e0f66e6fdf223cd5c36d748b2da5b9d1c2845", 9_456_900),
    SourceArchive("cortex-dfp", "ARM-software/Cortex_DFP", "c2c70a97a20fb355815e2ead3d4a40e35a4a3cdf",
                  "Cortex_DFP-c2c70a97a20fb355815e2ead3d4a40e35a4a3cdf",
                  "7b434254cbbe569a5b8e1809e38caf7a680952bfa7f0c1d69bf157e7a4bcb9c9", 383_454),
    SourceArchive("flatbuffers", "google/flatbuffers", "v25.9.23", "flatbuffers-25.9.23",
                  "18c9425e993d60287c3614f1c03687d6a7960e5904dc4aa35356f7d5a400234b", 3_363_717),
    SourceArchive("gemmlowp", "google/gemmlowp", "719139ce755a0f31cbf1c37f7f98adcc7fc9f425",
                  "gemmlowp-719139ce755a0f31cbf1c37f7f98adcc7fc9f425",
                  "4776cbfa797bcd9b3f000f648ff54916d4ddefb0181bf2412ef8ac0acb0416ed", 919_173),
    SourceArchive("ruy", "google/ruy", "d37128311b445e758136b8602d1bbd2a755e115d",
                  "ruy-d37128311b445e758136b8602d1bbd2a755e115d",
                  "1d66eae15a5ff4c65af98984871ea77efd736c9b929e71d860f5e130667b7bd3", 373_197),
    SourceArchive("kissfft", "mborgerding/kissfft", "v130", "kissfft-130",
                  "23475e847f6f4fc90a858501c0f2debd5afc79cde4f6f9242780cb9b5d1cd225", 60_513),
    SourceArchive("mlperf-tiny-api", "mlcommons/tiny", "1afd2c9820f795965a6134facd0b4dfae41ef23f",
                  "tiny-1afd2c9820f795965a6134facd0b4dfae41ef23f",
                  "12567e3aac1eabdba747927596237d1290842598c3d3d256ca638b78ad667cd3", 666_133),
)


def sources_folder() -> Path:
    return config.cache_dir() / "firmware-sources"


@dataclass(frozen=True)
class UnpackedSources:
    roots: dict[str, Path]  # key -> the tree's top folder
    versions: dict[str, str]  # key -> commit or tag
    fetched: tuple[str, ...]  # archive names copied or downloaded now


def _root(archive: SourceArchive) -> Path:
    return sources_folder() / archive.key / archive.top


def cached_sources() -> UnpackedSources | None:
    """The unpacked trees if every one is complete and came from its pinned archive."""
    for a in ARCHIVES:
        if extracted_from(sources_folder() / a.key) != a.sha256 or not _root(a).is_dir():
            return None
    return UnpackedSources({a.key: _root(a) for a in ARCHIVES}, {a.key: a.version for a in ARCHIVES}, ())


def fetch_firmware_sources(mirror: str | None = None, offline: bool = False) -> UnpackedSources:
    """Every pinned archive, verified (sha256) and unpacked; what is already unpacked is kept."""
    fetched: list[str] = []
    with shared_progress() as bar:
        for a in ARCHIVES:
            dest = sources_folder() / a.key
            if extracted_from(dest) == a.sha256 and _root(a).is_dir():
                continue
            got = fetch(a.resource, downloads_folder(), mirror=mirror, offline=offline, progress=bar)
            extract(got.path, dest, a.sha256)
            if not _root(a).is_dir():
                raise FetchError(got.path, f"does not unpack to {a.top}/", "delete it and fetch again")
            if got.downloaded:
                fetched.append(a.name)
    return UnpackedSources({a.key: _root(a) for a in ARCHIVES}, {a.key: a.version for a in ARCHIVES}, tuple(fetched))
