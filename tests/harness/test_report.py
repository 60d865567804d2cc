"""The run summary table: complete values at any console width, and what a serial run knows."""

from __future__ import annotations

from pathlib import Path

from tinyperf import load_run
from tinyperf.outputs.report import summary_table
from tests.harness.cli_helpers import only_run_dir, rendered, run_cli as tinyperf


def _lines_fit(text: str, width: int) -> None:
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width
    assert "…" not in text  # rich's mark of a cut cell


def test_summary_at_80_columns_shows_every_value_whole(host_run: Path) -> None:
    run = load_run(host_run)
    text = rendered(summary_table(run), width=80)
    _lines_fit(text, 80)
    s = run.summary.set_index(["workload", "mode"])
    for wl, model in (("kws01", "kws_ref_model"), ("ic01", "pretrainedResnet_quant")):
        perf, acc = s.loc[(wl, "performance")], s.loc[(wl, "accuracy")]
        assert model in text
        assert f"{perf['throughput_ips']:,.1f}*" in text
        assert f"{perf['latency_ms']:.3f}" in text
        assert f"{perf['lat_p99_us']:,.1f}" in text
        assert f"{acc['top1_pct']:.1f} %" in text
    assert "kernels: xnnpack / tflm-reference" in text


def test_wide_console_keeps_one_table(host_run: Path) -> None:
    text = rendered(summary_table(load_run(host_run)), width=200)
    assert text.count("workload") == 1 and "quality" in text and "p99 us" in text


def test_incomplete_run_keeps_the_kernels_column_whole(incomplete_run: Path) -> None:
    run = load_run(incomplete_run)
    assert run.status == "incomplete"
    text = rendered(summary_table(run), width=80)
    _lines_fit(text, 80)
    assert "xnnpack / tflm-reference" in text  # kws01: both modes
    assert "kernels" in text and "kernels:" not in text  # differs per workload: a column, not a footer
    assert "pretrainedResnet_quant" in text


def test_narrowest_console_falls_back_to_one_block_per_row(host_run: Path) -> None:
    run = load_run(host_run)
    text = rendered(summary_table(run), width=34)
    _lines_fit(text, 34)
    assert "pretrainedResnet_quant" in text
    for tp in run.summary["throughput_ips"].dropna():
        assert f"{tp:,.1f}*" in text


def test_serial_run_names_the_devices_model_and_the_device_once(serial_run: Path) -> None:
    text = rendered(summary_table(load_run(serial_run)), width=80)
    _lines_fit(text, 80)
    assert "kws01 (device)" in text  # the model id the DUT reported in `profile`
    assert "on tinyperf emulator" not in text
    footer = " ".join(text.split())
    assert footer.count("tinyperf emulator") == 1 and "device: tinyperf emulator" in footer
    assert "kernels: device firmware" in footer and "device firmware / device firmware" not in footer


def test_the_same_kernels_in_both_modes_are_named_once(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    r = tinyperf("run", "-w", "ic01", "--kernels", "reference", "--min-window", "0.2", "--models-dir", models_dir,
                 "--data-dir", data_dir, "--out", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    run = load_run(only_run_dir(tmp_path))
    assert set(run.summary["kernels"]) == {"reference"} and len(run.summary) == 2
    footer = " ".join(rendered(summary_table(run), width=80).split())
    assert "kernels: reference" in footer and "reference / reference" not in footer
