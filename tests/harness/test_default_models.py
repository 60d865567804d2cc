"""Built-in default models: built once with TensorFlow in a subprocess, cached, never half-written.

The first test that asks for `defaults` builds all four into the session-wide cache (conftest
points TINYPERF_CACHE there), so one build (~20 s on 2 cores) serves every test of the session.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tinyperf.device_runners.host import LiteRTModel
from tinyperf.engine import default_models as dm
from tinyperf.core.errors import ModelError
from tinyperf.core.modelfile import ModelFile
from tinyperf.engine.models import resolve_model
from tinyperf.workloads import WORKLOADS
from tinyperf.workloads.spec import Workload

REPO = Path(__file__).resolve().parents[2]
REFERENCE_PAIRS = {w.id: w.reference_model for w in WORKLOADS.values()}


@pytest.fixture
def defaults() -> dict[str, ModelFile]:
    """All four default models from the session cache (built by the first caller only)."""
    return {w.id: dm.default_model(w) for w in WORKLOADS.values()}


def synthetic_bytes(workload: Workload, rng: np.random.Generator) -> bytes:
    """One upload in the workload's own sample format (ad01: log-mel dB in its real range)."""
    stored = np.dtype(workload.encoding.dtype)
    count = workload.upload_bytes // stored.itemsize
    if stored.kind in "iu":
        info = np.iinfo(stored)
        return rng.integers(info.min, info.max, size=count, endpoint=True).astype(stored).tobytes()
    return rng.uniform(-75.0, 10.0, size=count).astype(stored).tobytes()


def op_names(model: LiteRTModel) -> list[str]:
    return [op["op_name"] for op in model.interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]


def constant_elements(model: LiteRTModel) -> int:
    """Weights and biases: tensors that ops read but no op writes, the graph input aside."""
    ops = model.interpreter._get_ops_details()
    shapes = {t["index"]: t["shape"] for t in model.interpreter.get_tensor_details()}
    produced = {t for op in ops for t in op["outputs"]}
    read = {t for op in ops for t in op["inputs"] if t >= 0}
    return sum(int(np.prod(shapes[t])) for t in read - produced - {model.input["index"]})


def python_in_subprocess(script: str, cache: Path, **popen) -> subprocess.Popen:
    env = dict(os.environ, TINYPERF_CACHE=str(cache), PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def test_each_default_model_runs_on_decoded_input(defaults: dict[str, ModelFile]) -> None:
    rng = np.random.default_rng(7)
    for workload in WORKLOADS.values():
        model_file = defaults[workload.id]
        assert model_file.source == "default-architecture" and model_file.synthetic_weights
        assert model_file.note == "architecture only, synthetic weights"
        assert model_file.path == dm.cache_folder() / f"{workload.id}_arch_int8.tflite"
        record = model_file.info
        assert record["sha256"] == model_file.sha256 and record["recipe_version"] == dm.RECIPE_VERSION
        assert record["seed"] == dm.SEED and record["tensorflow"].count(".") >= 1
        model = LiteRTModel(model_file.path, kernels="reference")
        assert model.input_shape == workload.input_shape and model.input_dtype == "int8"
        assert tuple(model.output["shape"]) == workload.output_shape and np.dtype(model.output["dtype"]) == np.int8
        real = workload.decode(synthetic_bytes(workload, rng))
        model.set_input(model.quantize_input(real))
        model.interpreter.invoke()
        output = model.dequantize_output(model.get_output())
        values = workload.postprocess(real, output)
        assert np.all(np.isfinite(values))
        if workload.scoring.classifies:  # an int8 softmax: probabilities that sum to about 1
            assert values.shape == (len(workload.labels),) and abs(values.sum() - 1.0) < 0.05
        else:  # reconstruction error in dB^2: positive, and not absurd for an output in the input's range
            assert values.shape == (1,) and 0 < values[0] < 1e4


def test_integer_samples_feed_through_bit_exactly(defaults: dict[str, ModelFile]) -> None:
    """Input quantization equals the reference I/O contract: a .bin byte becomes the same int8 value."""
    rng = np.random.default_rng(3)
    for workload in WORKLOADS.values():
        stored = np.dtype(workload.encoding.dtype)
        if stored.kind not in "iu":
            continue
        raw = synthetic_bytes(workload, rng)
        model = LiteRTModel(defaults[workload.id].path)
        fed = model.quantize_input(workload.decode(raw)).reshape(-1).astype(np.int16)
        expected = np.frombuffer(raw, dtype=stored).astype(np.int16) - (128 if stored.kind == "u" else 0)
        np.testing.assert_array_equal(fed, expected, err_msg=workload.id)


def test_same_graph_as_the_reference_models(defaults: dict[str, ModelFile], models_dir: Path) -> None:
    """Same op sequence, weight count and I/O quantization as the MLPerf Tiny reference .tflite files."""
    for workload in WORKLOADS.values():
        ours = LiteRTModel(defaults[workload.id].path)
        ref = LiteRTModel(models_dir / workload.reference_model)
        assert op_names(ours) == op_names(ref), workload.id
        assert constant_elements(ours) == constant_elements(ref), workload.id
        for detail in ("input", "output"):
            (s1, z1), (s2, z2) = getattr(ours, detail)["quantization"], getattr(ref, detail)["quantization"]
            assert z1 == z2 and s1 == pytest.approx(s2, rel=1e-5), (workload.id, detail)
        size_ratio = defaults[workload.id].size / (models_dir / workload.reference_model).stat().st_size
        assert 0.75 < size_ratio < 1.25, (workload.id, size_ratio)  # same weights; converter metadata differs


def test_cached_models_are_reused_without_a_build(defaults: dict[str, ModelFile], monkeypatch) -> None:
    before = {k: (m.path.stat().st_mtime_ns, m.sha256) for k, m in defaults.items()}

    def no_build(*args, **kwargs):
        raise AssertionError("the builder was started although the cache is valid")

    monkeypatch.setattr(dm, "_spawn_builder", no_build)
    again = {w.id: dm.default_model(w) for w in WORKLOADS.values()}
    assert {k: (m.path.stat().st_mtime_ns, m.sha256) for k, m in again.items()} == before
    assert not list(dm.cache_folder().glob(".build-*"))


def test_resolve_model_falls_back_to_the_default(defaults: dict[str, ModelFile]) -> None:
    resolved = resolve_model(WORKLOADS["kws01"])  # conftest clears TINYPERF_MODELS; no cache of real models
    assert resolved.source == "default-architecture" and resolved.path == defaults["kws01"].path


def test_a_benchmarking_process_never_imports_tensorflow(defaults: dict[str, ModelFile]) -> None:
    script = """
        import sys
        from tinyperf.device_runners import RunnerConfig
        from tinyperf.device_runners.host import HostRunner
        from tinyperf.engine.default_models import default_model
        from tinyperf.workloads import WORKLOADS
        model = default_model(WORKLOADS["ic01"])
        assert "tensorflow" not in sys.modules, "default_model imported tensorflow"
        session = HostRunner().open(RunnerConfig(workload=WORKLOADS["ic01"], mode="performance", model=model))
        session.load(bytes(range(256)) * 12)
        inference = session.infer(3, 1)
        assert inference.results.shape == (10,)
        print("tensorflow" in sys.modules, "tf_keras" in sys.modules)
    """
    proc = python_in_subprocess(script, dm.cache_folder().parent)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.split() == ["False", "False"]


def test_killed_builder_leaves_no_model(tmp_path: Path, monkeypatch) -> None:
    """Kill the real TensorFlow build once it has written its first model: nothing reaches the cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TINYPERF_CACHE", str(cache))
    real_spawn = dm._spawn_builder
    killed = threading.Event()

    def spawn_then_kill(out_dir: Path, stderr):
        proc = real_spawn(out_dir, stderr)

        def kill_after_first_model() -> None:
            first = out_dir / dm.model_file_name("kws01")
            deadline = time.monotonic() + 120
            while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            proc.kill()
            killed.set()

        threading.Thread(target=kill_after_first_model, daemon=True).start()
        return proc

    monkeypatch.setattr(dm, "_spawn_builder", spawn_then_kill)
    with pytest.raises(ModelError, match="building the default models failed .the builder was stopped by signal"):
        dm.default_model(WORKLOADS["kws01"])
    assert killed.is_set()
    folder = cache / "default-models"
    leftovers = [p.name for p in folder.iterdir() if p.name != ".build.lock"]
    assert leftovers == []  # no model, no record, no temporary build folder


def test_ctrl_c_during_the_first_build_leaves_no_model(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C: parent and builder stop, cache stays empty."""
    cache = tmp_path / "cache"
    folder = cache / "default-models"
    proc = python_in_subprocess("""
        from tinyperf.engine.default_models import default_model
        from tinyperf.workloads import WORKLOADS
        default_model(WORKLOADS["ad01"])
    """, cache, start_new_session=True)
    try:
        wait_for(lambda: any(folder.glob(".build-*/kws01_arch_int8.tflite")), 120, "the first model of the build")
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert [p.name for p in folder.iterdir() if p.name != ".build.lock"] == []


@pytest.mark.skipif(sys.platform == "win32", reason="the build lock is POSIX flock")
def test_a_second_run_waits_for_the_first_build_and_reuses_it(defaults: dict[str, ModelFile], tmp_path: Path) -> None:
    """Two runs at once: the second blocks on the build lock, then finds the finished models and does not build."""
    cache = tmp_path / "cache"
    folder = cache / "default-models"
    with dm._build_lock(folder):  # this test plays the first run, mid-build
        proc = python_in_subprocess("""
            from tinyperf.engine.default_models import default_model
            from tinyperf.workloads import WORKLOADS
            print("asking", flush=True)
            print(default_model(WORKLOADS["vww01"]).sha256)
        """, cache)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "asking"
        time.sleep(1.5)
        assert proc.poll() is None and not list(folder.glob(".build-*"))  # waiting, not building
        for workload_id, model in defaults.items():  # "finish" the first run's build: models, then records
            (folder / model.name).write_bytes(model.path.read_bytes())
            sidecar = dm.sidecar_name(workload_id)
            (folder / sidecar).write_bytes((model.path.parent / sidecar).read_bytes())
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.split()[-1] == defaults["vww01"].sha256
    assert "built the default models" not in out and not list(folder.glob(".build-*"))


def test_stale_record_triggers_a_rebuild_check(defaults: dict[str, ModelFile], tmp_path: Path) -> None:
    """A model whose record names another sha256, or another recipe, is not trusted."""
    folder = tmp_path / "models"
    folder.mkdir()
    model = defaults["ad01"]
    (folder / model.name).write_bytes(model.path.read_bytes())
    record = (model.path.parent / dm.sidecar_name("ad01")).read_text()
    (folder / dm.sidecar_name("ad01")).write_text(record)
    assert dm.read_sidecar(folder, "ad01") is not None
    (folder / model.name).write_bytes(defaults["ic01"].path.read_bytes())
    assert dm.read_sidecar(folder, "ad01") is None
    (folder / model.name).write_bytes(model.path.read_bytes())
    (folder / dm.sidecar_name("ad01")).write_text(record.replace(f'"recipe_version": {dm.RECIPE_VERSION}',
                                                                 '"recipe_version": 0'))
    assert dm.read_sidecar(folder, "ad01") is None


def test_without_tensorflow_the_error_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dm, "missing_build_packages", lambda: ["tensorflow"])
    with pytest.raises(ModelError) as exc:
        dm.default_model(WORKLOADS["kws01"])
    line = exc.value.one_line()
    assert "tensorflow" in line and "--models-dir" in line and "pip install tensorflow tf-keras" in line
    assert not list((tmp_path / "cache" / "default-models").glob("*.tflite"))


def test_unwritable_cache_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TINYPERF_CACHE", str(blocker / "cache"))  # cannot be created, even by root
    with pytest.raises(ModelError) as exc:
        dm.default_model(WORKLOADS["kws01"])
    assert "cannot create the default-model cache" in exc.value.one_line()
    assert "TINYPERF_CACHE to a writable folder" in exc.value.one_line()


def test_unknown_workload_has_no_default() -> None:
    from dataclasses import replace

    custom = replace(WORKLOADS["ic01"], id="ic99")
    with pytest.raises(ModelError, match="no built-in default architecture"):
        dm.default_model(custom)


def test_op_mix_of_the_defaults(defaults: dict[str, ModelFile]) -> None:
    """The architectures themselves, independent of the reference files being present."""
    mix = {k: Counter(op_names(LiteRTModel(m.path))) for k, m in defaults.items()}
    assert mix["kws01"] == Counter({"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
                                    "FULLY_CONNECTED": 1, "SOFTMAX": 1})
    assert mix["vww01"] == Counter({"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
                                    "FULLY_CONNECTED": 1, "SOFTMAX": 1})
    assert mix["ic01"] == Counter({"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1,
                                   "FULLY_CONNECTED": 1, "SOFTMAX": 1})
    assert mix["ad01"] == Counter({"FULLY_CONNECTED": 10})
    params = {k: m.info["parameters"] for k, m in defaults.items()}  # Keras counts of the reference models
    assert params == {"kws01": 24908, "vww01": 221794, "ic01": 78666, "ad01": 269992}
