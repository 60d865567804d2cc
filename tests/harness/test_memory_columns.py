"""RAM (TFLM tensor arena) and flash in every table a run feeds: summary, show, compare, leaderboard, site."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tinyperf.core import memory
from tinyperf.engine.rundir import load_run
from tinyperf.engine.summary import MEMORY_COLUMNS, NO_DEVICE_MEMORY
from tinyperf.outputs.leaderboard import compare, leaderboard
from tinyperf.outputs.site import write_site
from tests.harness.cli_helpers import tinyperf
from tinyperf.workloads.catalog import WORKLOADS

pytest.importorskip("tflite_micro")


def test_summary_carries_each_models_arena_and_flash(host_run: Path) -> None:
    run = load_run(host_run)
    s = run.summary
    assert set(MEMORY_COLUMNS) <= set(s.columns)
    for _, row in s.iterrows():
        path = Path(run.meta["workloads"][row["workload"]]["model"]["path"])
        measured = memory.model_memory(path)
        assert row["arena_bytes"] == measured["arena_bytes"] > 0
        assert row["arena_nonpersistent_bytes"] + row["arena_persistent_bytes"] <= row["arena_bytes"]
        assert row["model_flash_bytes"] == path.stat().st_size
        assert "TFLM" in row["arena_method"] or "smallest arena" in row["arena_method"]
    assert s["arena_bytes"].dtype == "Int64"
    shown = tinyperf("show", host_run).stdout
    assert "RAM KB" in shown and "flash KB" in shown and "tensor arena" in shown
    for v in s["arena_bytes"].unique():
        assert f"{v / 1024:,.1f}" in shown


def test_a_board_that_reports_no_memory_leaves_it_missing(serial_run: Path) -> None:
    s = load_run(serial_run).summary
    assert s["arena_bytes"].isna().all() and s["model_flash_bytes"].isna().all()
    assert (s["memory_note"] == NO_DEVICE_MEMORY).all()
    assert "RAM (tensor arena) not measured for kws01" in tinyperf("show", serial_run).stdout


def test_compare_leaderboard_and_site_show_the_arena(host_run: Path, serial_run: Path, tmp_path: Path) -> None:
    s = load_run(host_run).summary.set_index(["workload", "mode"])
    table = compare([host_run, serial_run])
    assert {"arena_bytes", "model_flash_bytes"} <= set(table.columns)
    board = leaderboard([host_run, serial_run])
    ours = board.set_index("Model")
    for wl in ("kws01", "ic01"):
        model = {"kws01": "kws", "ic01": "ic"}[wl]
        host_rows = ours.loc[[model]]
        host_row = host_rows[host_rows["SystemDesc"].str.startswith("host")].iloc[0]
        assert host_row["ArenaBytes"] == s.loc[(wl, "performance"), "arena_bytes"]
        assert host_row["FlashBytes"] == s.loc[(wl, "performance"), "model_flash_bytes"]
    serial_row = board[board["SystemDesc"].str.startswith("serial")].iloc[0]
    assert pd.isna(serial_row["ArenaBytes"])
    index = write_site(board, tmp_path / "site")
    html = index.read_text()
    # the page shows RAM and flash in KB under their own headings; the CSV beside it keeps the bytes
    assert "RAM<br>KB" in html and "flash<br>KB" in html
    assert f">{s.loc[('kws01', 'performance'), 'arena_bytes'] / 1024:,.1f}</td>" in html
    assert "ArenaBytes" in (tmp_path / "site" / "leaderboard.csv").read_text().splitlines()[0]


def test_memory_figures_are_cached_by_sha256(models_dir: Path, monkeypatch) -> None:
    path = models_dir / WORKLOADS["kws01"].reference_model
    first = memory.model_memory(path)
    monkeypatch.setattr(memory, "probe", lambda *a: pytest.fail("measured again despite the cache"))
    assert memory.model_memory(path) == first


def test_the_arena_is_the_smallest_that_works(models_dir: Path) -> None:
    """Whichever way it was found, one byte less must not load (checked on the ad01 model, whose
    allocator report omits the planner's temporary room, and kws01, whose report is exact)."""
    for wl in ("ad01", "kws01"):
        path = models_dir / WORKLOADS[wl].reference_model
        found = memory.measure(path)
        assert memory.probe(path, found["arena_bytes"])["ok"]
        assert not memory.probe(path, found["arena_bytes"] - 1)["ok"]
