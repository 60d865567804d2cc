"""Every download path of `tinyperf fetch`, against a real HTTP server on 127.0.0.1.

The server serves the real reference files from ../shared (read only) and deliberately corrupt,
truncated or failing answers; no test reaches the internet (every fetch goes through a mirror
URL pointing at the local server, or is offline).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from tinyperf.core import config
from tinyperf.cli import main
from tinyperf.fetch import catalog
from tinyperf.fetch.archive import MARKER, extract
from tinyperf.fetch.cache import downloads_folder, leftovers, models_folder, status
from tinyperf.fetch.catalog import DATASETS, MODELS, Resource
from tinyperf.fetch.datasets import fetch_dataset
from tinyperf.fetch.download import FetchError, fetch, load_records, source_url
from tinyperf.fetch.models import fetch_models
from tinyperf.engine.models import resolve_model
from tinyperf.workloads.catalog import KWS01, WORKLOADS


# -- a local HTTP server with scripted answers ----------------------------------------------------

class Route:
    """How the server answers one path."""

    def __init__(self, body: bytes, status: int = 200, declared: int | None = None,
                 gate: threading.Event | None = None):
        self.body, self.status, self.declared, self.gate = body, status, declared, gate
        self.half_sent = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self.server.hits.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        if route.status != 200:
            self.send_error(route.status)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(route.declared if route.declared is not None else len(route.body)))
        self.end_headers()
        if route.gate is not None:  # half now, the rest once the test has looked at the cache
            half = len(route.body) // 2
            self.wfile.write(route.body[:half])
            self.wfile.flush()
            route.half_sent.set()
            route.gate.wait(10)
            self.wfile.write(route.body[half:])
        else:
            self.wfile.write(route.body)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    hits: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve(self, name: str, body: bytes, **kw) -> None:
        self.routes[f"/{name}"] = Route(body, **kw)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.routes, srv.hits = {}, []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh user cache per test (fetch state must not leak between tests)."""
    root = tmp_path / "cache"
    monkeypatch.setenv("TINYPERF_CACHE", str(root))
    monkeypatch.delenv("TINYPERF_MIRROR", raising=False)
    monkeypatch.delenv("TINYPERF_OFFLINE", raising=False)
    return root


@pytest.fixture
def kws_model(models_dir) -> tuple[Resource, bytes]:
    resource = next(m for m in MODELS if m.workload == "kws01" and not m.float_model)
    return resource, (models_dir / resource.name).read_bytes()


def _no_partials(folder: Path) -> None:
    assert not list(folder.glob(".*.part")), "a temporary download file was left behind"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the catalogue --------------------------------------------------------------------------------

def test_catalogue_pins_the_real_reference_models(models_dir):
    """Every pinned model digest and size is that of the public file; names match the workloads."""
    assert len(MODELS) == 8
    for m in MODELS:
        data = (models_dir / m.name).read_bytes()
        assert _sha(data) == m.sha256 and len(data) == m.size, m.name
        w = WORKLOADS[m.workload]
        assert m.name == (w.reference_float_model if m.float_model else w.reference_model)
        assert m.url.startswith(f"https://raw.githubusercontent.com/mlcommons/tiny/{catalog.MLCOMMONS_TINY_COMMIT}/")
        assert m.url.endswith(f"/trained_models/{m.name}")


def test_catalogue_pins_the_official_index_file(indices_dir):
    idx = catalog.IC01_PERF_INDICES
    data = (indices_dir / idx.name).read_bytes()
    assert _sha(data) == idx.sha256 and len(data) == idx.size


def test_mirror_urls_are_flat_and_accept_a_folder(tmp_path, kws_model):
    resource, _ = kws_model
    assert source_url(resource) == resource.url
    assert source_url(resource, "http://mirror.example/tiny/") == "http://mirror.example/tiny/kws_ref_model.tflite"
    assert source_url(resource, str(tmp_path)) == (tmp_path / resource.name).resolve().as_uri()


# -- models: good file, cache, end to end ---------------------------------------------------------

def test_good_download_lands_verified_in_the_cache(server, cache, kws_model):
    resource, data = kws_model
    server.serve(resource.name, data)
    fetched = fetch(resource, models_folder(), mirror=server.url)
    assert fetched.downloaded and fetched.path == cache / "models" / resource.name
    assert fetched.path.read_bytes() == data and fetched.sha256 == resource.sha256
    assert fetched.verified_by == "sha256 (pinned)" and not fetched.first_use
    assert server.hits == [f"/{resource.name}"]
    _no_partials(models_folder())
    assert load_records()[resource.name]["sha256"] == resource.sha256


def test_all_models_fetched_then_served_from_cache_without_requests(server, cache, models_dir):
    for m in MODELS:
        server.serve(m.name, (models_dir / m.name).read_bytes())
    first = fetch_models(include_float=True, mirror=server.url)
    assert sorted(f.resource.name for f in first) == sorted(m.name for m in MODELS)
    assert all(f.downloaded for f in first) and len(server.hits) == 8
    again = fetch_models(include_float=True, mirror=server.url)
    assert not any(f.downloaded for f in again) and len(server.hits) == 8  # no new request
    int8_only = fetch_models(["ic01"], mirror=server.url)
    assert [f.resource.name for f in int8_only] == ["pretrainedResnet_quant.tflite"]


def test_a_local_folder_works_as_mirror(cache, models_dir):
    """The shared models folder is laid out as a mirror: fetch reads it through file:// URLs."""
    fetched = fetch_models(["vww01"], include_float=True, mirror=str(models_dir))
    assert [f.resource.name for f in fetched] == ["vww_96_int8.tflite", "vww_96_float.tflite"]
    assert all(f.downloaded and f.url.startswith("file://") for f in fetched)
    assert all((models_folder() / f.resource.name).read_bytes() == (models_dir / f.resource.name).read_bytes()
               for f in fetched)


def test_fetched_model_is_used_by_resolve_model_and_runs(server, cache, kws_model, data_dir):
    """End to end: fetched into the cache -> resolve_model finds it -> it classifies real kws01 samples."""
    from tinyperf.device_runners.host import HostSession
    from tinyperf.device_runners.base import RunnerConfig
    from tinyperf.workloads.dataset import Dataset

    resource, data = kws_model
    server.serve(resource.name, data)
    fetch_models(["kws01"], mirror=server.url)
    model = resolve_model(KWS01, allow_default=False)
    assert model.source == "cache" and model.path == models_folder() / resource.name
    assert model.sha256 == resource.sha256
    session = HostSession(RunnerConfig(workload=KWS01, mode="accuracy", model=model, kernels="reference"))
    samples = Dataset.open(KWS01, data_dir / "kws01").samples[:50]
    correct = 0
    for s in samples:
        session.load(s.read())
        correct += int(np.argmax(session.infer(1, 0).results)) == s.label
    assert correct / len(samples) * 100 >= KWS01.quality_target - 10  # it is the trained model, not noise


# -- refusals: digest, size, truncation, server errors --------------------------------------------

def test_wrong_digest_deletes_the_download_and_names_url_and_digests(server, cache, kws_model):
    resource, data = kws_model
    corrupt = bytearray(data)
    corrupt[1000] ^= 0xFF  # same size, one flipped byte
    server.serve(resource.name, bytes(corrupt))
    with pytest.raises(FetchError) as err:
        fetch(resource, models_folder(), mirror=server.url)
    message = err.value.one_line()
    assert f"{server.url}/{resource.name}" in message
    assert resource.sha256 in message and _sha(bytes(corrupt)) in message
    assert "mismatch" in message and "deleted" in message and "\n" not in message
    assert not (models_folder() / resource.name).exists()
    _no_partials(models_folder())


def test_other_size_is_refused_before_downloading(server, cache, kws_model):
    resource, data = kws_model
    server.serve(resource.name, data + b"extra bytes")
    with pytest.raises(FetchError, match=f"offers {len(data) + 11} bytes but {resource.name} is {len(data)} bytes"):
        fetch(resource, models_folder(), mirror=server.url)
    assert not (models_folder() / resource.name).exists()
    _no_partials(models_folder())


def test_truncated_transfer_is_refused(server, cache, kws_model):
    resource, data = kws_model
    server.serve(resource.name, data[:20_000], declared=len(data))  # promises all, sends part, closes
    with pytest.raises(FetchError) as err:
        fetch(resource, models_folder(), mirror=server.url)
    message = err.value.one_line()
    assert "truncated" in message and f"20000 of {len(data)} bytes" in message and "\n" not in message
    assert not (models_folder() / resource.name).exists()
    _no_partials(models_folder())


@pytest.mark.parametrize("code, reason", [(500, "Internal Server Error"), (404, "Not Found")])
def test_server_errors_are_one_clear_line(server, cache, kws_model, code, reason):
    resource, _ = kws_model
    if code != 404:  # 404: the path is simply not served
        server.serve(resource.name, b"", status=code)
    with pytest.raises(FetchError) as err:
        fetch(resource, models_folder(), mirror=server.url)
    message = err.value.one_line()
    assert f"HTTP {code} {reason}" in message and f"{server.url}/{resource.name}" in message
    assert "download https://raw.githubusercontent.com/" in message  # how to get it by hand
    assert "\n" not in message
    assert not (models_folder() / resource.name).exists()
    _no_partials(models_folder())


def test_unreachable_host_is_one_clear_line(cache, kws_model):
    resource, _ = kws_model
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]  # bound, then closed: nothing listens there
    with pytest.raises(FetchError, match="cannot download .*nothing was saved"):
        fetch(resource, models_folder(), mirror=f"http://127.0.0.1:{port}")
    assert not (models_folder() / resource.name).exists()


def test_no_half_written_file_under_the_final_name_during_a_download(server, cache, kws_model):
    resource, data = kws_model
    gate = threading.Event()
    server.serve(resource.name, data, gate=gate)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(f=fetch(resource, models_folder(), mirror=server.url)))
    worker.start()
    dest = models_folder() / resource.name
    assert server.routes[f"/{resource.name}"].half_sent.wait(10)
    for _ in range(500):  # until the first half has reached the temporary file
        parts = list(models_folder().glob(".*.part"))
        if parts and parts[0].stat().st_size >= len(data) // 2:
            break
        threading.Event().wait(0.01)
    assert parts and parts[0].stat().st_size >= len(data) // 2
    assert not dest.exists()  # mid-transfer: only the hidden temporary file exists
    gate.set()
    worker.join(10)
    assert result["f"].path == dest and dest.read_bytes() == data
    _no_partials(models_folder())


# -- offline --------------------------------------------------------------------------------------

def test_offline_with_cache_makes_no_request(server, cache, kws_model):
    resource, data = kws_model
    server.serve(resource.name, data)
    fetch_models(["kws01"], mirror=server.url)
    hits = len(server.hits)
    again = fetch_models(["kws01"], mirror=server.url, offline=True)
    assert len(server.hits) == hits  # nothing reached the server
    assert not again[0].downloaded and again[0].sha256 == resource.sha256


def test_offline_via_environment_with_unreachable_mirror(cache, kws_model, monkeypatch):
    resource, data = kws_model
    (models_folder()).mkdir(parents=True)
    (models_folder() / resource.name).write_bytes(data)  # placed by hand, as the offline hint says
    monkeypatch.setenv("TINYPERF_OFFLINE", "1")
    monkeypatch.setenv("TINYPERF_MIRROR", "http://127.0.0.1:9")  # would fail if contacted
    fetched = fetch(resource, models_folder())
    assert not fetched.downloaded and fetched.verified_by == "sha256 (pinned)"


def test_offline_without_cache_says_what_to_do(server, cache, kws_model):
    resource, _ = kws_model
    with pytest.raises(FetchError) as err:
        fetch(resource, models_folder(), mirror=server.url, offline=True)
    message = err.value.one_line()
    dest = models_folder() / resource.name
    assert "not in the cache" in message and "offline" in message
    assert f"download {resource.url} by hand and save it as {dest}" in message
    assert resource.sha256 in message and "\n" not in message
    assert server.hits == []


def test_corrupt_cached_file_is_replaced_online_and_refused_offline(server, cache, kws_model):
    resource, data = kws_model
    models_folder().mkdir(parents=True)
    dest = models_folder() / resource.name
    dest.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(FetchError, match="cached copy is corrupt"):
        fetch(resource, models_folder(), mirror=server.url, offline=True)
    assert server.hits == []
    server.serve(resource.name, data)
    fetched = fetch(resource, models_folder(), mirror=server.url)
    assert fetched.downloaded and dest.read_bytes() == data


# -- files without a published sha256 -------------------------------------------------------------

def test_trust_on_first_use_records_and_then_enforces(server, cache):
    first, second = b"version one of an unpinned file", b"version two, changed upstream"
    resource = Resource("unpinned.bin", "https://example.invalid/unpinned.bin", "archive")
    server.serve(resource.name, first)
    fetched = fetch(resource, downloads_folder(), mirror=server.url)
    assert fetched.first_use and "trust-on-first-use" in fetched.verified_by
    assert load_records()[resource.name]["sha256"] == _sha(first)
    (downloads_folder() / resource.name).unlink()
    server.serve(resource.name, second)
    with pytest.raises(FetchError, match=r"sha256 \(recorded\) mismatch .*digests.json"):
        fetch(resource, downloads_folder(), mirror=server.url)
    assert not (downloads_folder() / resource.name).exists()


def test_md5_only_file_is_checked_by_md5_and_its_sha256_recorded(server, cache):
    body = b"an archive whose host publishes md5 only"
    good = Resource("md5only.zip", "https://example.invalid/md5only.zip", "archive",
                    md5=hashlib.md5(body).hexdigest(), size=len(body))
    server.serve(good.name, body)
    fetched = fetch(good, downloads_folder(), mirror=server.url)
    assert fetched.first_use and fetched.verified_by.startswith("md5 (published)")
    assert load_records()[good.name]["sha256"] == _sha(body)
    cached = fetch(good, downloads_folder(), mirror=server.url, offline=True)
    assert "md5 (published)" in cached.verified_by and "recorded" in cached.verified_by
    bad = dataclasses.replace(good, name="md5bad.zip", md5="0" * 32)
    server.serve(bad.name, body)
    with pytest.raises(FetchError, match=r"md5 \(published\) mismatch"):
        fetch(bad, downloads_folder(), mirror=server.url)


def test_toycar_archive_is_pinned_by_published_md5_and_size():
    toycar = DATASETS["toycar"].archive
    assert toycar.sha256 is None and toycar.md5 == "4dec75ca8d9f666aa9e4c1894a740501"
    assert toycar.size == 1_816_443_231
    cifar = DATASETS["cifar10"].archive
    assert cifar.md5 == "c58f30108f718f92721af3b95e74349a" and cifar.sha256 and cifar.size == 170_498_071


# -- archives -------------------------------------------------------------------------------------

def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_extract_takes_only_wanted_members_and_is_skipped_when_done(tmp_path):
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar_gz({"top/keep/x.bin": b"x", "top/skip/y.bin": b"y"}))
    dest = extract(archive, tmp_path / "out", "digest-1", ("top/keep/",))
    assert (dest / "top/keep/x.bin").read_bytes() == b"x" and not (dest / "top/skip").exists()
    assert (dest / MARKER).read_text().strip() == "digest-1"
    (dest / "top/keep/x.bin").write_bytes(b"touched")
    extract(archive, dest, "digest-1", ("top/keep/",))  # same archive: nothing redone
    assert (dest / "top/keep/x.bin").read_bytes() == b"touched"
    extract(archive, dest, "digest-2", ("top/keep/",))  # another archive: redone from scratch
    assert (dest / "top/keep/x.bin").read_bytes() == b"x"
    assert not list(tmp_path.glob(".*.part"))


def test_extract_refuses_unsafe_and_damaged_archives(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    evil.write_bytes(_tar_gz({"../escape.txt": b"x"}))
    with pytest.raises(FetchError, match="damaged, unsafe"):
        extract(evil, tmp_path / "out", "d")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out").exists()
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(_tar_gz({"a/b.bin": bytes(5000)})[:40])
    with pytest.raises(FetchError, match="delete it and run the fetch again"):
        extract(broken, tmp_path / "out", "d")
    assert not list(tmp_path.glob(".*.part")) and not (tmp_path / "out").exists()


# -- datasets -------------------------------------------------------------------------------------

def _cifar_test_batch(images: np.ndarray, labels: list[int]) -> bytes:
    """A CIFAR-10 python batch: rows of 1024 R, 1024 G, 1024 B values, as the real files store them."""
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return pickle.dumps({b"batch_label": b"testing batch 1 of 1", b"labels": labels, b"data": rows,
                         b"filenames": [f"img_{i}.png".encode() for i in range(len(images))]})


def _served_source(server: _Server, name: str, archive: bytes) -> catalog.DatasetSource:
    """The catalogue entry of `name`, pinned to the test's archive and served by the local server."""
    base = DATASETS[name]
    source = dataclasses.replace(base, archive=dataclasses.replace(
        base.archive, sha256=_sha(archive), md5=None, size=len(archive)))
    server.serve(source.archive.name, archive)
    return source


def test_fetch_dataset_cifar10_builds_the_official_selection(server, cache, tmp_path, indices_dir,
                                                             monkeypatch, capsys):
    """CLI end to end: archive in CIFAR's own format -> verified -> unpacked -> ic01 set in index order."""
    from tinyperf.workloads.catalog import IC01
    from tinyperf.workloads.dataset import Dataset

    rng = np.random.default_rng(3)
    index_bytes = (indices_dir / "perf_samples_idxs.npy").read_bytes()
    indices = np.load(indices_dir / "perf_samples_idxs.npy")
    n = int(indices.max()) + 1  # a test batch long enough for the official indices
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    archive = _tar_gz({"cifar-10-batches-py/test_batch": _cifar_test_batch(images, labels),
                       "cifar-10-batches-py/batches.meta": pickle.dumps({b"num_cases_per_batch": n}),
                       "cifar-10-batches-py/data_batch_1": b"not needed"})
    monkeypatch.setitem(DATASETS, "cifar10", _served_source(server, "cifar10", archive))
    server.serve(catalog.IC01_PERF_INDICES.name, index_bytes)  # the real official index file
    out = tmp_path / "sets"
    assert main(["fetch", "dataset", "cifar10", "--out", str(out), "--mirror", server.url]) == 0
    printed = capsys.readouterr().out
    assert "ic01 set ready" in printed and f"{len(indices)} samples" in printed
    unpacked = cache / "sources" / "cifar10" / "cifar-10-batches-py"
    assert (unpacked / "test_batch").is_file() and not (unpacked / "data_batch_1").exists()
    assert (downloads_folder() / "perf_samples_idxs.npy").read_bytes() == index_bytes
    built = Dataset.open(IC01, out / "ic01")
    assert len(built) == len(indices)
    for sample, index in zip(built.samples, indices):
        assert sample.label == labels[index]
        assert sample.read() == images[index].tobytes()  # HWC bytes of the selected test image
    hits = len(server.hits)
    assert main(["fetch", "dataset", "cifar10", "--out", str(out), "--offline"]) == 2  # set exists, no --overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main(["fetch", "dataset", "cifar10", "--out", str(out), "--offline", "--overwrite"]) == 0
    assert len(server.hits) == hits  # offline rebuild from the cached archive: no request


def test_fetch_dataset_toycar_takes_the_test_split_and_builds_ad01(server, cache, raw_dir):
    """A zip laid out like dev_data_ToyCar.zip; the official recordings are those numbered ...3."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(raw_dir / "toycar" / "normal_id_01_00000000.wav", "ToyCar/test/normal_id_01_00000003.wav")
        zf.write(raw_dir / "toycar" / "anomaly_id_01_00000000.wav", "ToyCar/test/anomaly_id_01_00000013.wav")
        zf.write(raw_dir / "toycar" / "normal_id_01_00000001.wav", "ToyCar/test/normal_id_01_00000001.wav")
        zf.write(raw_dir / "toycar" / "normal_id_01_00000001.wav", "ToyCar/train/normal_id_01_00000003.wav")
    source = _served_source(server, "toycar", buf.getvalue())
    result = fetch_dataset("toycar", mirror=server.url, source=source)
    assert result.set_dir == cache / "datasets" / "ad01" and result.samples == 2
    assert not (result.extracted / "ToyCar" / "train").exists()
    for built, official in (("normal_id_01_00000003", "normal_id_01_00000000"),
                            ("anomaly_id_01_00000013", "anomaly_id_01_00000000")):
        ours = np.frombuffer((result.set_dir / f"{built}_hist_librosa.bin").read_bytes(), "<f4")
        ref = np.frombuffer((raw_dir / "toycar" / f"{official}_hist_librosa.bin").read_bytes(), "<f4")
        assert np.max(np.abs(ours - ref)) < 1e-4
    again = fetch_dataset("toycar", mirror=server.url, source=source)  # default location: rebuilt in place
    assert again.samples == 2 and not again.archive.downloaded


def test_fetch_dataset_speech_commands_builds_from_word_folders(server, cache, tmp_path, raw_dir, data_dir):
    clips = raw_dir / "speech_commands_kws01"
    chosen = {"tst_000007_Yes_9": "yes", "tst_000009_No_3": "no", "tst_000014_Silence_10": "_silence_"}
    archive = _tar_gz({f"./{word}/{stem}.wav": (clips / f"{stem}.wav").read_bytes()
                       for stem, word in chosen.items()})
    source = _served_source(server, "speech-commands", archive)
    result = fetch_dataset("speech-commands", out=tmp_path / "sets", mirror=server.url, source=source)
    assert result.samples == 3 and result.set_dir == tmp_path / "sets" / "kws01"
    for stem, word in chosen.items():
        ours = np.frombuffer((result.set_dir / f"{word.strip('_')}_{stem}.bin").read_bytes(), np.int8)
        official = np.frombuffer((data_dir / "kws01" / f"{stem}.bin").read_bytes(), np.int8)
        assert np.max(np.abs(ours.astype(int) - official.astype(int))) <= 1


def test_fetch_dataset_offline_without_cache_says_what_to_do(cache):
    with pytest.raises(FetchError, match="download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz by hand"):
        fetch_dataset("cifar10", offline=True)


# -- CLI ------------------------------------------------------------------------------------------

def test_cli_fetch_models_and_list(server, cache, kws_model, capsys, monkeypatch):
    from tinyperf.core.console import console

    monkeypatch.setattr(console, "width", 160)  # a digest fits on one line
    resource, data = kws_model
    server.serve(resource.name, data)
    assert main(["fetch", "models", "--workload", "kws01", "--mirror", server.url]) == 0
    out = capsys.readouterr().out
    assert resource.name in out and "downloaded" in out and resource.sha256 in out and "sha256 (pinned)" in out
    assert str(models_folder()) in out.replace("\n", "")
    assert main(["fetch", "list"]) == 0
    listing = capsys.readouterr().out
    line = next(ln for ln in listing.splitlines() if resource.name in ln)
    assert " ok " in line and resource.sha256 in line
    assert " missing " in next(ln for ln in listing.splitlines() if "vww_96_int8.tflite" in ln)
    rows = {r.resource.name: r for r in status()}
    assert rows[resource.name].state == "ok" and rows["vww_96_int8.tflite"].state == "missing"
    (models_folder() / resource.name).write_bytes(b"garbage")
    assert {r.resource.name: r.state for r in status()}[resource.name] == "corrupt"
    assert main(["fetch", "list"]) == 1  # a corrupt cached file fails the listing


def test_cli_offline_error_is_one_line_without_traceback(cache, capsys):
    assert main(["fetch", "models", "--workload", "vww01", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "vww_96_int8.tflite" in err and "Traceback" not in err
    assert "by hand" in err


def test_cli_unknown_dataset_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["fetch", "dataset", "imagenet"])
    assert "invalid choice" in capsys.readouterr().err


def test_leftovers_are_reported(cache):
    models_folder().mkdir(parents=True)
    stale = models_folder() / ".kws_ref_model.tflite.abc.part"
    stale.write_bytes(b"half")
    assert leftovers() == [stale]
    assert config.cache_dir() == cache
