"""Every bad input ends in one clear line (file, problem, fix) and no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.harness.cli_helpers import run_cli as tinyperf


def _assert_one_clear_line(r, *needles: str) -> None:
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    err = " ".join(r.stderr.split())  # rich may wrap long lines
    assert err.startswith("error: "), r.stderr
    assert "Fix:" in err or "fix" in err.lower()
    for n in needles:
        assert n in err, (n, err)


def _kws_subset(data_dir: Path, dst: Path, n: int = 3) -> Path:
    d = dst / "kws01"
    d.mkdir(parents=True)
    rows = (data_dir / "kws01" / "y_labels.csv").read_text().splitlines()[:n]
    for row in rows:
        shutil.copy(data_dir / "kws01" / row.split(",")[0], d)
    (d / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return d


def test_missing_model(tmp_path: Path) -> None:
    r = tinyperf("run", "--model", tmp_path / "nope.tflite", "--workload", "kws01", "--out", tmp_path / "o")
    _assert_one_clear_line(r, "nope.tflite", "does not exist")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())  # nothing half-made


def test_missing_reference_model_in_models_dir(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    r = tinyperf("run", "--workload", "kws01", "--models-dir", tmp_path / "models", "--out", tmp_path / "o")
    _assert_one_clear_line(r, "kws_ref_model.tflite", "reference model not found", "tinyperf fetch models")


def test_corrupt_and_truncated_models(models_dir: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"\x00" * 4000)
    _assert_one_clear_line(tinyperf("run", "--model", garbage, "--workload", "kws01", "--out", tmp_path),
                           "garbage.tflite", "TFL3")
    cut = tmp_path / "cut.tflite"
    cut.write_bytes((models_dir / "kws_ref_model.tflite").read_bytes()[:20000])
    _assert_one_clear_line(tinyperf("run", "--model", cut, "--workload", "kws01", "--out", tmp_path),
                           "cut.tflite", "corrupt or truncated")


def _kws_with_opcode(models_dir: Path, dest: Path, **changes) -> Path:
    """The reference kws01 model with its first operator code rewritten (a real flatbuffer, no TensorFlow)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel((models_dir / "kws_ref_model.tflite").read_bytes(), 0))
    for key, value in changes.items():
        setattr(model.operatorCodes[0], key, value)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    dest.write_bytes(builder.Output())
    return dest


def test_models_litert_cannot_run_are_not_called_corrupt(models_dir: Path, tmp_path: Path) -> None:
    custom = _kws_with_opcode(models_dir, tmp_path / "edgetpu.tflite", customCode="edgetpu-custom-op",
                              builtinCode=32, deprecatedBuiltinCode=32)  # 32 = BuiltinOperator.CUSTOM
    r = tinyperf("run", "--model", custom, "--workload", "kws01", "--out", tmp_path / "o")
    _assert_one_clear_line(r, "edgetpu.tflite", "edgetpu-custom-op", "--runner edgetpu")
    assert "corrupt" not in r.stderr and "INFO:" not in r.stderr  # LiteRT's delegate chatter stays out
    newer = _kws_with_opcode(models_dir, tmp_path / "newer.tflite", version=99)
    r = tinyperf("run", "--model", newer, "--workload", "kws01", "--out", tmp_path / "o")
    _assert_one_clear_line(r, "newer.tflite", "version '99'", "pip install -U ai-edge-litert")
    assert "corrupt" not in r.stderr
    assert not (tmp_path / "o").exists()  # refused before a run directory is made


def test_model_input_does_not_fit_workload(models_dir: Path, tmp_path: Path) -> None:
    r = tinyperf("run", "--model", models_dir / "kws_ref_model.tflite", "--workload", "ic01", "--out", tmp_path / "o",
                 "--min-window", "0.1")
    _assert_one_clear_line(r, "kws_ref_model.tflite", "does not fit ic01", "--workload")
    assert not (tmp_path / "o").exists()  # refused before a run directory is made


def test_bin_of_wrong_size(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    d = _kws_subset(data_dir, tmp_path / "data")
    victim = sorted(d.glob("*.bin"))[0]
    victim.write_bytes(victim.read_bytes()[:300])
    r = tinyperf("run", "--workload", "kws01", "--mode", "accuracy", "--models-dir", models_dir,
                 "--data-dir", tmp_path / "data", "--out", tmp_path / "o")
    _assert_one_clear_line(r, victim.name, "is 300 bytes", "490 bytes")


@pytest.mark.parametrize("row, needle", [("missing_file.bin,12,3", "names 'missing_file.bin'"),
                                         ("tst_000000_Stop_7.bin,12", "has 2 field(s)")])
def test_bad_label_rows(models_dir: Path, data_dir: Path, tmp_path: Path, row: str, needle: str) -> None:
    d = _kws_subset(data_dir, tmp_path / "data")
    (d / "y_labels.csv").write_text((d / "y_labels.csv").read_text() + row + "\n")
    r = tinyperf("run", "--workload", "kws01", "--mode", "accuracy", "--models-dir", models_dir,
                 "--data-dir", tmp_path / "data", "--out", tmp_path / "o")
    _assert_one_clear_line(r, "y_labels.csv:4", needle)


def test_unwritable_output_directory(models_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = tinyperf("run", "--workload", "ad01", "--mode", "performance", "--models-dir", models_dir,
                 "--min-window", "0.1", "--out", blocker / "results")
    _assert_one_clear_line(r, "a-file", "cannot write results here", "--out")


def test_accuracy_without_data(models_dir: Path, tmp_path: Path) -> None:
    r = tinyperf("run", "--mode", "accuracy", "--models-dir", models_dir, "--out", tmp_path)
    _assert_one_clear_line(r, "accuracy mode needs sample sets", "--data-dir")


def test_unknown_workload_and_runner(tmp_path: Path) -> None:
    r = tinyperf("run", "--runner", "warp-drive", "--out", tmp_path)
    _assert_one_clear_line(r, "no runner named 'warp-drive'")


def _kws_weight_without_data(models_dir: Path, dest: Path) -> Path:
    """The reference kws01 model with one weight tensor pointed at the empty buffer: it loads, then
    fails at invoke ('Input tensor 1 lacks data'), as a flipped byte in a buffer index does."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel((models_dir / "kws_ref_model.tflite").read_bytes(), 0))
    tensors = model.subgraphs[0].tensors
    victim = next(t for t in tensors if t.buffer and model.buffers[t.buffer].data is not None)
    assert model.buffers[0].data is None
    victim.buffer = 0
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    dest.write_bytes(builder.Output())
    return dest


def test_model_that_fails_at_invoke(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    bad = _kws_weight_without_data(models_dir, tmp_path / "mutated.tflite")
    for mode in ("performance", "accuracy"):
        r = tinyperf("run", "--model", bad, "--workload", "kws01", "--mode", mode, "--data-dir", data_dir,
                     "--min-window", "0.1", "--out", tmp_path / "o")
        _assert_one_clear_line(r, "mutated.tflite", "cannot run it", "lacks data", "re-download")
    assert not (tmp_path / "o").exists()  # refused before a run directory is made
    sample = sorted((data_dir / "kws01").glob("*.bin"))[0]
    r = tinyperf("predict", "kws01", sample, "--model", bad)
    _assert_one_clear_line(r, "mutated.tflite", "cannot run it")


def test_non_utf8_label_file(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    d = _kws_subset(data_dir, tmp_path / "data")
    (d / "y_labels.csv").write_bytes((d / "y_labels.csv").read_bytes() + b"caf\xe9\xff.bin,12,3\n")
    r = tinyperf("run", "--workload", "kws01", "--mode", "accuracy", "--models-dir", models_dir,
                 "--data-dir", tmp_path / "data", "--out", tmp_path / "o")
    _assert_one_clear_line(r, "y_labels.csv:4", "not UTF-8", "save y_labels.csv as UTF-8")
    assert not (tmp_path / "o").exists()
    r = tinyperf("datasets", "check", d)
    _assert_one_clear_line(r, "y_labels.csv:4", "not UTF-8")


@pytest.mark.parametrize("name", ["../outside.bin", "/etc/passwd", "sub/../../outside.bin"])
def test_label_rows_outside_the_set_folder(models_dir: Path, data_dir: Path, tmp_path: Path, name: str) -> None:
    d = _kws_subset(data_dir, tmp_path / "data")
    shutil.copy(sorted(d.glob("*.bin"))[0], tmp_path / "data" / "outside.bin")  # it exists: only containment refuses it
    (d / "y_labels.csv").write_text((d / "y_labels.csv").read_text() + f"{name},12,3\n")
    r = tinyperf("run", "--workload", "kws01", "--mode", "accuracy", "--models-dir", models_dir,
                 "--data-dir", tmp_path / "data", "--out", tmp_path / "o")
    _assert_one_clear_line(r, "y_labels.csv:4", "outside the set folder", "self-contained")
    r = tinyperf("datasets", "check", d)
    _assert_one_clear_line(r, "y_labels.csv:4", "outside the set folder")


def test_non_utf8_and_looping_data_dirs(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    import os

    odd = os.fsdecode(bytes(tmp_path) + b"/d\xffata")
    os.makedirs(odd)
    _kws_subset(data_dir, Path(odd))
    r = tinyperf("run", "--workload", "kws01", "--mode", "accuracy", "--models-dir", models_dir,
                 "--data-dir", odd, "--out", tmp_path / "o")
    _assert_one_clear_line(r, "--data-dir", "not a UTF-8 name", "rename it")
    assert not (tmp_path / "o").exists()
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    r = tinyperf("run", "--workload", "kws01", "--mode", "accuracy", "--models-dir", models_dir,
                 "--data-dir", loop, "--out", tmp_path / "o")
    _assert_one_clear_line(r, "--data-dir", "cannot be resolved", "loops back")
    r = tinyperf("datasets", "check", Path(odd) / "kws01")
    assert "Traceback" not in r.stderr, r.stderr
    r = tinyperf("datasets", "check", loop)
    assert "Traceback" not in r.stderr and r.returncode == 2, r.stderr


def test_absurd_min_window(models_dir: Path, tmp_path: Path) -> None:
    r = tinyperf("run", "--workload", "ad01", "--mode", "performance", "--models-dir", models_dir,
                 "--min-window", "1e12", "--out", tmp_path / "o")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--min-window" in r.stderr and "at most 3600" in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


def test_a_window_past_the_runners_limit_is_refused() -> None:
    from tinyperf.core.errors import TinyperfError
    from tinyperf.engine.modes import window_limit

    assert window_limit(2**32 - 1, 2**32 - 1, 10.0) == 2**32 - 1
    with pytest.raises(TinyperfError, match="more than the runner can run in one window"):
        window_limit(2**32, 2**32 - 1, 3600.0)


@pytest.mark.parametrize("command", [["run", "-w", "kws1"], ["predict", "vvw01", "x.bin"], ["datasets", "check", ".", "--workload", "IC1"],
                                     ["emulate", "dut", "-w", "adO1"]])
def test_a_mistyped_workload_gets_a_suggestion_not_the_usage(command: list[str], tmp_path: Path) -> None:
    r = tinyperf(*command, "--out", tmp_path) if command[0] == "run" else tinyperf(*command)
    _assert_one_clear_line(r, "unknown workload", "did you mean")
    assert "usage:" not in r.stderr


def test_workload_names_are_case_insensitive(models_dir: Path, tmp_path: Path) -> None:
    r = tinyperf("run", "-w", "KWS01", "--mode", "performance", "--min-window", "0.05", "--models-dir", models_dir,
                 "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    from tinyperf import load_run
    from tests.harness.cli_helpers import only_run_dir

    assert list(load_run(only_run_dir(tmp_path)).summary["workload"]) == ["kws01"]
