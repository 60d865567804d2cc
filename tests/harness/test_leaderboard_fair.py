"""Fair leaderboards: rank only comparable, valid, closed results; show the rest apart and marked.

Our rows come from runs journalled on a simulated clock (`tests.harness.synthetic_runs`), the
published rows from the real v1.2 and v1.3 MLPerf Tiny tables in ../shared.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Group

from tinyperf.outputs.compare import leaderboard_renderables
from tinyperf.outputs.leaderboard import OURS, leaderboard
from tinyperf.outputs.site import write_site
from tests.harness.cli_helpers import rendered, tinyperf
from tests.harness.synthetic_runs import simulated_run


@pytest.fixture
def published(shared_root: Path) -> list[Path]:
    folder = shared_root / "published"
    return [folder / "tiny_results_v1.2_summary.csv", folder / "tiny_results_v1.3_STMicroelectronics_summary.csv"]


@pytest.fixture
def our_runs(tmp_path: Path) -> dict[str, Path]:
    """A default-like host run with synthetic weights, an invalid host run (1 s windows), and two board
    runs: one valid closed, one invalid (1 s windows)."""
    return {
        "synthetic": simulated_run(tmp_path, "synthetic", us_per_inference=40, synthetic_weights=True,
                                   model_source="default", seed=1),
        "invalid": simulated_run(tmp_path, "invalid", us_per_inference=40, min_window=1.0, seed=2,
                                 model_sha="b" * 64),
        "board": simulated_run(tmp_path, "board", us_per_inference=2_000, runner="serial", seed=3,
                               device="tinyperf emulator", kernels=None, model_sha="c" * 64),
        "board-invalid": simulated_run(tmp_path, "board-invalid", us_per_inference=1_000, runner="serial", seed=4,
                                       device="fast board", min_window=1.0, kernels=None, model_sha="d" * 64),
    }


def test_only_valid_closed_results_are_ranked_per_class(our_runs: dict[str, Path], published: list[Path]) -> None:
    board = leaderboard(list(our_runs.values()), published)
    assert set(board["Class"]) == {"microcontroller", "accelerator", "host CPU"}
    for (model, cls), group in board.groupby(["Model", "Class"]):
        ranked = group[group["Rank"].notna()]
        assert list(ranked["Rank"]) == list(range(1, len(ranked) + 1))
        assert ranked["Result"].is_monotonic_decreasing
        assert ranked["Unranked"].isna().all()
        assert (ranked["Division"].str.lower() == "closed").all() and ranked["Valid"].astype(bool).all()
        apart = group[group["Rank"].isna()]
        if len(apart):  # never above a ranked row
            assert group.index.get_loc(apart.index[0]) >= len(ranked)
    kws = board[board["Model"] == "kws"]
    micro = kws[kws["Class"] == "microcontroller"]
    ours = micro[micro["Organization"] == OURS]
    assert len(ours) == 2  # the two board runs
    valid_board = ours[ours["Unranked"].isna()].iloc[0]
    assert valid_board["Rank"] >= 1
    fast_invalid = ours[ours["Unranked"] == "invalid"].iloc[0]
    assert pd.isna(fast_invalid["Rank"]) and fast_invalid["Result"] > valid_board["Result"]  # faster, still not ranked
    host = kws[kws["Class"] == "host CPU"]
    assert host["Rank"].isna().all()  # the synthetic run (also open: not the reference model) and the invalid one
    assert set(host["Unranked"]) == {"synthetic, open", "invalid"}
    assert not (micro["Organization"].isin(["Qualcomm", "syntiant"])).any()  # accelerators have their own section
    # the terminal table marks them as tinyperf show does, under a rule after the ranked rows
    text = " ".join(rendered(Group(*leaderboard_renderables(board, 40)), 80).split())
    assert "kws01 · microcontroller: fastest first" in text and "kws01 · host CPU: fastest first" in text
    assert f"{fast_invalid['Result']:,.1f}*" in text
    assert "†°" in text and "† architecture only, synthetic weights" in text and "° open division" in text


def test_published_tables_of_v12_and_v13_import_with_units(published: list[Path]) -> None:
    board = leaderboard([], published)
    sww = board[board["Model"] == "sww"]
    assert len(sww) == 8 and (sww["PowerUnit"] == "mW").all()
    text = rendered(Group(*leaderboard_renderables(board, 10)), 80)
    block = text[text.index("sww · microcontroller"):]
    block = block[:block.index("vww01")] if "vww01" in block else block
    assert "mW" in block and "uJ/inf" not in block and "F1 0.898" in block and "0.9 %" not in block
    assert "3.98" in block  # NUCLEO-U385RG-Q's 3.9752 mW, in mW
    for cmd in (("leaderboard", "--published", published[0]), ("leaderboard", "--published", published[1]),
                ("leaderboard", "--published", published[0], "--published", published[1])):
        r = tinyperf(*cmd)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr


def test_leaderboard_of_accuracy_only_runs_says_so(tmp_path: Path, published: list[Path]) -> None:
    acc = simulated_run(tmp_path, "acc", us_per_inference=40, windows=0, accuracy=[("a.bin", 1, 1), ("b.bin", 2, 1)])
    r = tinyperf("leaderboard", acc)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "accuracy only, nothing to rank" in r.stderr
    r = tinyperf("leaderboard", acc, "--published", published[0])
    assert r.returncode == 0 and "accuracy only, nothing to rank" in r.stderr


def test_class_filter(our_runs: dict[str, Path], published: list[Path]) -> None:
    board = leaderboard(list(our_runs.values()), published, classes=["microcontroller"])
    assert set(board["Class"]) == {"microcontroller"}
    r = tinyperf("leaderboard", *our_runs.values(), "--class", "host CPU")
    assert r.returncode == 0 and "microcontroller" not in r.stdout and "host CPU" in r.stdout


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_site_fits_a_1280px_page_and_marks_unranked_rows(our_runs: dict[str, Path], published: list[Path],
                                                          tmp_path: Path) -> None:
    board = leaderboard(list(our_runs.values()), published)
    index = write_site(board, tmp_path / "site")
    page = index.read_text()
    assert "uJ/inf" in page and "mW" in page and "inf./s" in page and "log scale" in page
    assert 'fill="url(#hatch)"' in page  # unranked bars are hatched in the chart ...
    assert re.search(r"\d[*†°]+</text>", page)  # ... and carry their marks
    assert "85.500" not in page and "90.10000" not in page
    csv = (tmp_path / "site" / "leaderboard.csv").read_text()
    assert not re.search(r"\d\.\d{5,}", csv)  # rounded as published (energy has 4 decimals)
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium): the 1280 px layout is not checked")
    probe = tmp_path / "site" / "probe.html"
    probe.write_text(page.replace("</body>", "<script>document.body.setAttribute('data-width', "
                                  "document.documentElement.scrollWidth)</script></body>"))
    out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--window-size=1280,900", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    width = re.search(r'data-width="(\d+)"', out.stdout)
    assert width, out.stderr[-2000:]
    assert int(width.group(1)) <= 1280
