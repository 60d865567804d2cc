"""What `tinyperf fetch` can download: public URLs with the digests that pin their content.

A digest here is the identity of a public file, not a measurement: a download whose bytes hash
differently is not the file the benchmark was defined with, so it is refused.

Reference models come from the mlcommons/tiny repository pinned at one commit (raw files at a
commit never change). Source archives come from their original hosts; where a host publishes no
sha256 (Zenodo lists md5), the published digest is checked and the sha256 is recorded on first
download (trust-on-first-use) so that later use of the cached copy is still verified.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyperf.workloads.catalog import WORKLOADS

#: mlcommons/tiny commit the reference models are pinned at (master at the v1.x releases);
#: the sha256 of every model below equals the file at this commit.
MLCOMMONS_TINY_COMMIT = "4addd0fa08d216e20637637874e084895f289da4"
MLCOMMONS_TINY_RAW = f"https://raw.githubusercontent.com/mlcommons/tiny/{MLCOMMONS_TINY_COMMIT}"


@dataclass(frozen=True)
class Resource:
    """One downloadable public file and everything needed to trust it."""

    name: str  # file name in the cache and on a mirror (a mirror is a flat folder of these names)
    url: str
    kind: str  # "model", "archive" or "index"
    sha256: str | None = None  # pinned content digest; None = recorded on first download
    md5: str | None = None  # digest the host publishes, when it publishes no sha256
    size: int | None = None  # bytes, when known: a server offering another size is refused early
    workload: str | None = None  # workload id for models and indices
    float_model: bool = False
    note: str = ""  # where the pin comes from

    @property
    def pinned(self) -> bool:
        return bool(self.sha256 or self.md5)


def _model(workload_id: str, task_dir: str, float_model: bool, sha256: str, size: int) -> Resource:
    workload = WORKLOADS[workload_id]
    name = workload.reference_float_model if float_model else workload.reference_model
    return Resource(
        name=name,
        url=f"{MLCOMMONS_TINY_RAW}/benchmark/training/{task_dir}/trained_models/{name}",
        kind="model",
        sha256=sha256,
        size=size,
        workload=workload_id,
        float_model=float_model,
        note=f"mlcommons/tiny@{MLCOMMONS_TINY_COMMIT[:8]}",
    )


MODELS: tuple[Resource, ...] = (
    _model("kws01", "keyword_spotting", False,
           "aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae", 53_936),
    _model("kws01", "keyword_spotting", True,
           "e5004c6f1012246e33fa068d8488325538e0444073cd361f5a7edb40c73f12d2", 43_392),
    _model("vww01", "visual_wake_words", False,
           "597a384c8c2c8a1276f04702f25013b7838f2f814f1ca7c174d295b73e3d6b7b", 333_288),
    _model("vww01", "visual_wake_words", True,
           "115bbc094d2119561320a21f01b6500a18bea8cc8589282ab007097bec8af38c", 866_284),
    _model("ic01", "image_classification", False,
           "3c002613d1b2475eb51dd78dfb85a546c8ae658dee71cf6ade43b022fe205415", 98_496),
    _model("ic01", "image_classification", True,
           "b5c0046d6e0328b4956afd6baa29555a29b1f1c65bdd45aaed75b7cd484d9f79", 318_144),
    _model("ad01", "anomaly_detection", False,
           "87cf24194ef93d1d9b11a591d805526b98008e351655d29883c825c9c106ba24", 276_976),
    _model("ad01", "anomaly_detection", True,
           "c66636f4d7f8af8b10518e7be750a22c9d8d46ec97326b40b0d94c097e0aad9b", 1_067_648),
)

CIFAR10_ARCHIVE = Resource(
    name="cifar-10-python.tar.gz",
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    kind="archive",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    md5="c58f30108f718f92721af3b95e74349a",
    size=170_498_071,
    workload="ic01",
    note="md5 published on the CIFAR page; sha256 as pinned by keras.datasets.cifar10",
)

SPEECH_COMMANDS_TEST_ARCHIVE = Resource(
    name="speech_commands_test_set_v0.02.tar.gz",
    url="https://storage.googleapis.com/download.tensorflow.org/data/speech_commands_test_set_v0.02.tar.gz",
    kind="archive",
    sha256="cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df",
    size=112_563_277,
    workload="kws01",
    note="sha256 and size of the published Speech Commands v0.02 test set",
)

TOYCAR_DEV_ARCHIVE = Resource(
    name="dev_data_ToyCar.zip",
    url="https://zenodo.org/records/3678171/files/dev_data_ToyCar.zip?download=1",
    kind="archive",
    sha256=None,  # Zenodo publishes md5 only: the sha256 is recorded on first download
    md5="4dec75ca8d9f666aa9e4c1894a740501",
    size=1_816_443_231,
    workload="ad01",
    note="md5 published by Zenodo record 3678171 (DCASE 2020 task 2 development data)",
)

#: official sample selections that turn a source dataset into the MLPerf Tiny set
IC01_PERF_INDICES = Resource(
    name="perf_samples_idxs.npy",
    url=f"{MLCOMMONS_TINY_RAW}/benchmark/training/image_classification/perf_samples_idxs.npy",
    kind="index",
    sha256="3bd4a88eeb4c50fad652d0f24c8af13bc9219ba2878aea47c6536bfbeb43024d",
    size=1_728,
    workload="ic01",
    note=f"CIFAR-10 test indices of the ic01 set, mlcommons/tiny@{MLCOMMONS_TINY_COMMIT[:8]}",
)


@dataclass(frozen=True)
class DatasetSource:
    """A public source dataset and how to turn it into one workload's EnergyRunner set."""

    name: str  # CLI name: cifar10, speech-commands, toycar
    workload: str
    archive: Resource
    members: tuple[str, ...] = ()  # archive path prefixes to extract; empty = everything
    indices: tuple[Resource, ...] = ()  # official selection fetched alongside (the builder's `indices`)
    subset: str = "all"  # the builder's `subset` (ad01: "mlperf" = the recordings of the official set)
    description: str = ""


DATASETS: dict[str, DatasetSource] = {
    "cifar10": DatasetSource(
        name="cifar10", workload="ic01", archive=CIFAR10_ARCHIVE,
        members=("cifar-10-batches-py/test_batch", "cifar-10-batches-py/batches.meta"),
        indices=(IC01_PERF_INDICES,),
        description="CIFAR-10 python batches (test batch) -> ic01 (official class-balanced 200)",
    ),
    "speech-commands": DatasetSource(
        name="speech-commands", workload="kws01", archive=SPEECH_COMMANDS_TEST_ARCHIVE,
        description="Speech Commands v0.02 test set (word folders, 16 kHz wav) -> kws01",
    ),
    "toycar": DatasetSource(
        name="toycar", workload="ad01", archive=TOYCAR_DEV_ARCHIVE,
        members=("ToyCar/test/",), subset="mlperf",
        description="DCASE 2020 task 2 ToyCar development data (test split) -> ad01 (official recordings)",
    ),
}

RESOURCES: tuple[Resource, ...] = MODELS + tuple(
    dict.fromkeys(r for d in DATASETS.values() for r in (d.archive, *d.indices)))


def models_for(workload_ids: list[str] | None = None, include_float: bool = False) -> list[Resource]:
    """Catalogue entries of the reference models of these workloads (all when None)."""
    wanted = set(workload_ids) if workload_ids else set(WORKLOADS)
    return [m for m in MODELS if m.workload in wanted and (include_float or not m.float_model)]
