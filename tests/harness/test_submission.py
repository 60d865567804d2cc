"""`tinyperf submission`: trees the official MLPerf Tiny submission checker (../shared) accepts.

The checker runs as a separate process, unmodified, from a scratch folder (it writes its CSV into
the working directory). Host: all four workloads, windows of 2 s (5 of them last over 10 s together,
so the official runner's format prints the median and the checker accepts it; tinyperf's own rules
call such a run invalid, so it is exported with --include-invalid). Serial: the emulated DUT, whose
emulated windows last the rules' 10 s, with energy mode behind an interface board and an LPM01A.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.outputs.results_txt import parse_results_txt

MODELS = {"kws": "kws01", "vww": "vww01", "ic": "ic01", "ad": "ad01"}


@pytest.fixture(scope="module")
def tools(shared_root) -> Path:
    path = shared_root / "tools"
    if not (path / "submission_checker.py").is_file():
        pytest.skip(f"the official submission checker is not at {path}")
    return path


def check(tools: Path, tree: Path, scratch: Path) -> tuple[int, str, Path]:
    """Run the official checker on `tree`; (its main() return value, its log, its CSV)."""
    scratch.mkdir(parents=True, exist_ok=True)
    csv = scratch / "summary.csv"
    r = subprocess.run([sys.executable, str(tools / "submission_checker.py"), "--input", str(tree), "--version", "v1.3",
                        "--csv", str(csv)], cwd=scratch, capture_output=True, text=True, timeout=300)
    log = r.stdout + r.stderr
    m = re.search(r"function main\(\) returned (\d+)", log)
    assert m, log
    return int(m[1]), log, csv


def results_of(log: str) -> dict[str, str]:
    return dict(re.findall(r"INFO:main:Results closed/\S+/results/\S+/(\w+) (.+)", log))


@pytest.fixture(scope="module")
def host_run(models_dir, data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("host")
    r = tinyperf("run", "--models-dir", models_dir, "--data-dir", data_dir, "--min-window", "2", "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return only_run_dir(out)


def test_host_run_of_all_four_workloads_passes_the_checker(host_run, tools, tmp_path) -> None:
    tree = tmp_path / "tree"
    refused = tinyperf("submission", host_run, "--out", tree, "--submitter", "tinyperf", "--system", "vm-host")
    assert refused.returncode == 2 and "below the rules' 10 s" in refused.stderr and "--include-invalid" in refused.stderr
    assert not tree.exists()  # nothing half-written
    r = tinyperf("submission", host_run, "--out", tree, "--submitter", "tinyperf", "--system", "vm-host",
                 "--include-invalid")
    assert r.returncode == 0, r.stdout + r.stderr
    base = tree / "closed" / "tinyperf"
    for bench in MODELS:
        for mode in ("performance", "accuracy"):
            folder = base / "results" / "vm-host" / bench / mode
            assert sorted(p.name for p in folder.iterdir()) == ["log.txt", "results.json", "results.txt"], folder
            assert b"\n" not in (folder / "results.txt").read_bytes().replace(b"\r\n", b"")  # CRLF only
    system = json.loads((base / "systems" / "vm-host.json").read_text())
    assert system["Status"] == "Available" and system["Division"] == "Closed" and system["Submitter"] == "tinyperf"
    assert "kws_ref_model.tflite" in (base / "code" / "vm-host" / "README.md").read_text()
    status, log, csv = check(tools, tree, tmp_path / "checker")
    assert status == 0 and "SUMMARY: submission looks OK" in log, log
    found = results_of(log)
    assert sorted(found) == sorted(MODELS), log
    summary = __import__("pandas").read_parquet(host_run / "summary.parquet").set_index(["workload", "mode"])
    for bench, wl in MODELS.items():
        assert float(found[bench]) == round(summary.loc[(wl, "performance"), "throughput_ips"], 3)
    text = csv.read_text()
    assert text.startswith("Organization,Availability,Division,BoardName") and text.count('"tinyperf"') == 4
    # the official final-report script turns the checker's CSV into its spreadsheet
    r = subprocess.run([sys.executable, str(tools / "generate_final_report.py"), "--input", str(csv), "--version", "1.3"],
                       cwd=tmp_path / "checker", capture_output=True, text=True, timeout=300)
    if r.returncode != 0 and "xlsxwriter" in (r.stderr + r.stdout).lower():
        pytest.skip("generate_final_report.py needs XlsxWriter (pip install -e '.[dev]')")
    assert r.returncode == 0, r.stdout + r.stderr
    with zipfile.ZipFile(csv.with_suffix(".xlsx")) as book:
        assert 'name="closed"' in book.read("xl/workbook.xml").decode()


def test_a_run_the_runner_rejects_is_written_with_its_error_line(models_dir, data_dir, tools, tmp_path) -> None:
    r = tinyperf("run", "--workload", "kws01", "--models-dir", models_dir, "--data-dir", data_dir,
                 "--min-window", "0.2", "--out", tmp_path / "runs")
    assert r.returncode == 0, r.stdout + r.stderr
    tree = tmp_path / "tree"
    r = tinyperf("submission", only_run_dir(tmp_path / "runs"), "--out", tree, "--submitter", "tinyperf",
                 "--system", "vm-host", "--include-invalid")
    assert r.returncode == 0 and "exported although invalid" in r.stderr, r.stdout + r.stderr
    perf = (tree / "closed" / "tinyperf" / "results" / "vm-host" / "kws" / "performance" / "results.txt").read_text()
    assert parse_results_txt(perf) == {"errors": ["ERROR 2 - loop exited before 10 seconds elapsed."]}
    status, log, _ = check(tools, tree, tmp_path / "checker")
    assert status == 1 and "SUMMARY: submission has errors" in log and not results_of(log)


def test_bad_names_and_system_files_are_one_line_errors(host_run, tmp_path) -> None:
    r = tinyperf("submission", host_run, "--out", tmp_path / "t", "--submitter", "my org", "--system", "x",
                 "--include-invalid")
    assert r.returncode == 2 and "--submitter: 'my org' cannot be a submission folder name" in r.stderr
    assert "Traceback" not in r.stderr
    bad = tmp_path / "system.json"
    bad.write_text('{"Status": "Sold out"}')
    r = tinyperf("submission", host_run, "--out", tmp_path / "t", "--submitter", "org", "--system", "x",
                 "--include-invalid", "--system-json", bad)
    assert r.returncode == 2 and "Status 'Sold out' is not one the checker accepts" in r.stderr
    good = tmp_path / "good.json"
    good.write_text('{"Status": "Preview", "Board Name": "My Board", "Hardware Notes": "fan on"}')
    code = tmp_path / "code"
    (code / "src" / "__pycache__").mkdir(parents=True)
    (code / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    (code / "src" / "__pycache__" / "x.pyc").write_bytes(b"")
    (code / "empty").mkdir()
    r = tinyperf("submission", host_run, "--out", tmp_path / "t", "--submitter", "org", "--system", "x",
                 "--include-invalid", "--system-json", good, "--code", code, "--division", "open")
    assert r.returncode == 0, r.stderr
    base = tmp_path / "t" / "open" / "org"
    system = json.loads((base / "systems" / "x.json").read_text())
    assert (system["Status"], system["Board Name"], system["Hardware Notes"], system["Division"]) == \
        ("Preview", "My Board", "fan on", "Open")
    assert sorted(str(p.relative_to(base / "code" / "x")) for p in (base / "code" / "x").rglob("*")) == ["src", "src/main.c"]


def test_serial_run_with_energy_passes_the_checker(models_dir, data_dir, tools, tmp_path) -> None:
    """The emulated DUT at 150 ms per inference (windows of the rules' 10 s, emulated), energy at 5 mW and 1.8 V."""
    dut = ("--workload", "kws01", "--models-dir", str(models_dir), "--pty", "--us-per-inference", "150000")
    with H.emulator_process(*dut, tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--port", info["port"], "--workload", "kws01",
                     "--data-dir", data_dir, "--out", tmp_path / "runs")
        assert r.returncode == 0, r.stdout + r.stderr
    with H.emulator_process(*dut, "--mode", "energy", "--interface-board", "stm32h573", "--energy-monitor", "lpm01a",
                            "--power-mw", "5.0", tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--mode", "energy", "--port", info["port"], "--interface-board",
                     "stm32h573", "--energy-monitor", f"lpm01a:{info['monitor']}", "--workload", "kws01",
                     "--data-dir", data_dir, "--out", tmp_path / "runs")
        assert r.returncode == 0, r.stdout + r.stderr
    runs = sorted(d for d in (tmp_path / "runs").iterdir() if d.is_dir())
    tree = tmp_path / "tree"
    r = tinyperf("submission", *runs, "--out", tree, "--submitter", "tinyperf", "--system", "emulated-dut")
    assert r.returncode == 0, r.stdout + r.stderr  # valid: nothing to override
    energy = tree / "closed" / "tinyperf" / "results" / "emulated-dut" / "kws" / "energy"
    text = (energy / "results.txt").read_bytes().decode()
    assert text.startswith("Power Edition Output\r\nEnergy data for trial 0\r\n")
    assert "\r\nMedian energy cost is 750.0000 uJ/inf.\r\n" in text  # 5 mW x 150 ms
    assert "  Power         : 5.0000 mW.\r\n" in text
    windows = json.loads((energy / "results.json").read_text())
    assert len(windows) == 5 and all(w["power"]["voltage"] == 1.8 for w in windows)
    status, log, _ = check(tools, tree, tmp_path / "checker")
    assert status == 0 and "SUMMARY: submission looks OK" in log, log
    assert results_of(log) == {"kws": "6.667000 with power_metric = 750.000000"}
    # `show` reads a tree of official results.txt files too (no run.json needed)
    shown = tinyperf("show", tree)
    assert shown.returncode == 0 and "750.0000" in shown.stdout and "6.667" in shown.stdout, shown.stdout + shown.stderr


def test_the_reader_takes_every_results_txt_format(shared_root) -> None:
    old = "Median throughput is 5.497 inf./sec.\nTop-1: 90.1%\nAUC: 0.86\nMedian energy cost is 909.500 uJ/inf.\n"
    assert parse_results_txt(old) == {"throughput_ips": 5.497, "top1_pct": 90.1, "auc": 0.86, "energy_uj_per_inf": 909.5}
    real = shared_root / "submission-example" / "closed" / "STMicroelectronics" / "results" / "NUCLEO_L4R5ZI-P"
    assert parse_results_txt((real / "kws" / "performance" / "results.txt").read_text()) == {"throughput_ips": 23.032}
    assert parse_results_txt((real / "kws" / "accuracy" / "results.txt").read_text()) == {"top1_pct": 90.2, "auc": 0.995}
    assert parse_results_txt((real / "kws" / "energy" / "results.txt").read_text()) == {"energy_uj_per_inf": 1430.6681}
