"""`tinyperf show`: finds runs by id, says plainly when a path is missing, fits 80 columns."""

from __future__ import annotations

from pathlib import Path

from tests.harness.cli_helpers import run_cli as tinyperf


def test_a_missing_path_is_said_not_to_exist(tmp_path: Path) -> None:
    r = tinyperf("show", tmp_path / "no-such-run")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "no-such-run: does not exist" in r.stderr and "no run.json" not in r.stderr


def test_a_folder_without_run_json_is_still_named_as_such(tmp_path: Path) -> None:
    r = tinyperf("show", tmp_path)
    assert r.returncode != 0 and "no run.json" in r.stderr


def test_a_run_id_is_found_in_the_results_folder(host_run: Path, tmp_path: Path) -> None:
    r = tinyperf("show", host_run.name, cwd=tmp_path, env={"TINYPERF_RESULTS": str(host_run.parent)})
    assert r.returncode == 0, r.stderr
    assert f"tinyperf run {host_run.name}" in r.stdout
    (tmp_path / "results").symlink_to(host_run.parent)  # the default: results/ under the working folder
    r = tinyperf("show", host_run.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"tinyperf run {host_run.name}" in r.stdout


def test_an_unknown_run_id_names_where_it_looked(tmp_path: Path) -> None:
    r = tinyperf("show", "20261125-171054_host_vm", cwd=tmp_path, env={"TINYPERF_RESULTS": str(tmp_path / "res")})
    assert r.returncode != 0
    assert "does not exist" in r.stderr and str(tmp_path / "res" / "20261125-171054_host_vm") in r.stderr


def test_incomplete_run_at_80_columns_cuts_nothing(incomplete_run: Path) -> None:
    r = tinyperf("show", incomplete_run, "--windows", env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout
    assert "xnnpack / tflm-reference" in r.stdout and "pretrainedResnet_quant" in r.stdout
    assert "status incomplete" in r.stdout and "--resume" in r.stdout


def test_plot_labels_the_latency_tail_open_ended(host_run: Path) -> None:
    r = tinyperf("show", host_run, "--plot", env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    assert "≥ " in r.stdout and "◀ median" in r.stdout


def test_serial_run_provenance_names_no_missing_hash(serial_run: Path) -> None:
    r = tinyperf("show", serial_run, env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    assert "kws01 (device)" in r.stdout and "model on the device" in r.stdout
    assert "sha256 None" not in r.stdout
