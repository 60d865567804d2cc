"""Comparisons and leaderboards: merge what is comparable, refuse what is not, flag what breaks the rules."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Group

from tinyperf.outputs.compare import compare_renderables, leaderboard_renderables
from tinyperf.core.errors import ResultsError
from tinyperf.outputs.leaderboard import OURS, compare, leaderboard, merge_runs
from tinyperf.engine.rundir import load_run
from tinyperf.outputs.site import write_site
from tests.harness.cli_helpers import only_run_dir, rendered, run_cli as tinyperf


@pytest.fixture(scope="module")
def two_runs(models_dir: Path, data_dir: Path, tmp_path_factory) -> list[Path]:
    """ic01 and ad01 with two kernel back-ends; 0.2 s windows, so not valid MLPerf Tiny results."""
    runs = []
    for kernels in ("xnnpack", "builtin"):
        out = tmp_path_factory.mktemp(kernels)
        r = tinyperf("run", "--workload", "ic01", "--workload", "ad01", "--models-dir", models_dir,
                     "--data-dir", data_dir, "--min-window", "0.2", "--kernels", kernels, "--out", out)
        assert r.returncode == 0, r.stderr
        runs.append(only_run_dir(out))
    return runs


@pytest.fixture(scope="module")
def accuracy_only_run(models_dir: Path, data_dir: Path, tmp_path_factory) -> Path:
    """ic01 scored but never timed: its throughput is not measured."""
    out = tmp_path_factory.mktemp("accuracy-only")
    r = tinyperf("run", "--workload", "ic01", "--mode", "accuracy", "--models-dir", models_dir,
                 "--data-dir", data_dir, "--out", out)
    assert r.returncode == 0, r.stderr
    return only_run_dir(out)


def copy_with_dataset_sha(run: Path, dest: Path, workload: str, sha: str) -> Path:
    """A copy of a real run that claims another sample set for one workload."""
    shutil.copytree(run, dest)
    journal = dest / "run.json"
    meta = json.loads(journal.read_text())
    meta["workloads"][workload]["dataset"]["sha256"] = sha
    journal.write_text(json.dumps(meta))
    return dest


def render(renderables: list, width: int = 80) -> str:
    return rendered(Group(*renderables), width)


def summary(run: Path) -> pd.DataFrame:
    return load_run(run).summary.set_index(["workload", "mode"])


def test_compare_puts_runs_side_by_side_per_workload(two_runs: list[Path]) -> None:
    table = compare(two_runs)
    # one row per (workload, run), grouped by workload, with speed and quality on the same row
    assert list(zip(table["workload"], table["run"])) == [("ic01", "A"), ("ic01", "B"), ("ad01", "A"), ("ad01", "B")]
    assert list(table["kernels"]) == ["xnnpack", "builtin", "xnnpack", "builtin"]
    assert table["throughput_ips"].notna().all()
    assert table.loc[table["workload"] == "ic01", "top1_pct"].notna().all()
    assert table.loc[table["workload"] == "ad01", "auc"].notna().all()
    for wl, group in table.groupby("workload"):
        assert group["speedup_vs_first"].iloc[0] == 1.0
        assert group["speedup_vs_first"].iloc[1] == pytest.approx(group["latency_ms"].iloc[0] / group["latency_ms"].iloc[1])
        for run, (_, row) in zip(two_runs, group.iterrows()):
            s = summary(run)
            assert row["throughput_ips"] == pytest.approx(s.loc[(wl, "performance"), "throughput_ips"])
            quality = "auc" if wl == "ad01" else "top1_pct"
            assert row[quality] == pytest.approx(s.loc[(wl, "accuracy"), quality])
    r = tinyperf("compare", *two_runs)
    assert r.returncode == 0 and "speed-" in r.stdout


def test_compare_fits_80_columns_without_cutting_numbers(two_runs: list[Path], accuracy_only_run: Path) -> None:
    runs = [*two_runs, accuracy_only_run]
    table = compare(runs)
    text = render(compare_renderables(table))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for run in runs:  # the legend maps each short label to its full run id
        assert load_run(run).meta["run_id"] in text
    for label, run in zip("ABC", runs):
        assert f"{label} = {load_run(run).meta['run_id']}" in text
    for run in two_runs:
        s = summary(run)
        for wl in ("ic01", "ad01"):
            assert f"{s.loc[(wl, 'performance'), 'throughput_ips']:,.1f}*" in text  # whole, and marked invalid
        assert f"AUC {s.loc[('ad01', 'accuracy'), 'auc']:.3f}" in text  # labelled like `tinyperf show`
        assert f"{s.loc[('ic01', 'accuracy'), 'top1_pct']:.1f} %" in text


def test_compare_marks_invalid_runs_as_show_does(two_runs: list[Path]) -> None:
    reason = summary(two_runs[0]).loc[("ic01", "performance"), "invalid_reason"]
    assert "min-window" in reason
    shown = tinyperf("show", two_runs[0], env={"COLUMNS": "80"}).stdout
    text = render(compare_renderables(compare(two_runs)))
    tp = f"{summary(two_runs[0]).loc[('ic01', 'performance'), 'throughput_ips']:,.1f}*"
    assert tp in shown and tp in text
    assert "* not a valid MLPerf Tiny result" in shown and "* not a valid MLPerf Tiny result" in text
    # every flagged cell is explained by a footnote naming its run and workload, with that row's reason
    # (reasons can differ between rows: a window that fell short is named with its measured length)
    flat = " ".join(text.split())
    notes = re.findall(r"\* not valid MLPerf Tiny results \(([^)]*)\): (.*?)(?= \* not valid|$)", flat)
    named = {(label, wl) for which, _ in notes for part in which.split("; ")
             for label, wls in [part.split(" ", 1)] for wl in wls.split(", ")}
    assert named == {(label, wl) for label in "AB" for wl in ("ic01", "ad01")}, notes
    for label, run in zip("AB", two_runs):
        for wl in ("ic01", "ad01"):
            why = summary(run).loc[(wl, "performance"), "invalid_reason"]
            assert any(why in note_reason and any(part.startswith(f"{label} ") and wl in part
                                                  for part in which.split("; "))
                       for which, note_reason in notes), (label, wl, why, notes)


def test_compare_shows_not_measured_as_a_dash(two_runs: list[Path], accuracy_only_run: Path) -> None:
    table = compare([two_runs[0], accuracy_only_run])
    row = table[(table["workload"] == "ic01") & (table["run"] == "B")].iloc[0]
    assert pd.isna(row["throughput_ips"]) and pd.isna(row["speedup_vs_first"]) and pd.notna(row["top1_pct"])
    text = render(compare_renderables(table))
    line = next(ln for ln in text.splitlines() if "│ B " in ln)
    cells = [c.strip() for c in line.strip("│").split("│")]
    assert cells[3:6] == ["–", "–", "–"]  # inf/s, latency, speed-up: never 0, never blank
    assert cells[6] == f"{row['top1_pct']:.1f} %"
    assert "*" not in line  # accuracy alone is not judged by the timing rules
    assert "– = not measured" in text


def test_compare_withholds_only_quality_measured_on_different_data(two_runs: list[Path], tmp_path: Path) -> None:
    other = copy_with_dataset_sha(two_runs[1], tmp_path / "other", "ic01", "0" * 64)
    table = compare([two_runs[0], other])
    ic, ad = table[table["workload"] == "ic01"], table[table["workload"] == "ad01"]
    assert ic["top1_pct"].isna().all() and ic["throughput_ips"].notna().all()
    assert ad["auc"].notna().all() and ad["quality_withheld"].isna().all()
    real_sha = summary(two_runs[0]).loc[("ic01", "accuracy"), "dataset_sha256"]
    why = ic["quality_withheld"].iloc[0]
    assert "different ic01 sample sets" in why and f"A dataset sha256 {real_sha[:12]}" in why and "B dataset sha256 000000000000" in why
    r = tinyperf("compare", two_runs[0], other)
    assert r.returncode == 0, r.stderr
    assert "–‡" in r.stdout and "ic01 quality withheld" in r.stdout and real_sha[:12] in r.stdout
    assert f"AUC {summary(two_runs[0]).loc[('ad01', 'accuracy'), 'auc']:.3f}" in r.stdout


def test_repeated_runs_merge_by_median_and_conflicts_are_refused(two_runs: list[Path], tmp_path: Path) -> None:
    a = load_run(two_runs[0])
    merged = merge_runs([a, a])
    perf = merged[(merged["mode"] == "performance") & (merged["workload"] == "ic01")].iloc[0]
    assert perf["runs"] == 2 and perf["throughput_ips"] == summary(two_runs[0]).loc[("ic01", "performance"), "throughput_ips"]
    b = load_run(two_runs[0])
    b.summary["harness_version"] = "9.9.9"
    with pytest.raises(ResultsError, match="different harness_version"):
        merge_runs([a, b])


def test_merged_rows_name_every_run_and_refusals_name_each_value(two_runs: list[Path], tmp_path: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(two_runs[0], again)
    board = leaderboard([two_runs[0], again])
    ours = board[(board["Model"] == "ic") & (board["Organization"] == OURS)].iloc[0]
    assert ours["Runs"] == 2 and str(two_runs[0]) in ours["Source"] and str(again) in ours["Source"]
    assert "(tinyperf run) (2 runs)" in render(leaderboard_renderables(board, 10), width=200)
    other = copy_with_dataset_sha(two_runs[0], tmp_path / "other", "ic01", "f" * 64)
    real_sha = summary(two_runs[0]).loc[("ic01", "performance"), "dataset_sha256"]
    with pytest.raises(ResultsError, match="different dataset_sha256") as err:
        leaderboard([two_runs[0], other])
    assert f"{two_runs[0]} has {real_sha[:16]}" in str(err.value) and f"{other} has {'f' * 16}" in str(err.value)


def test_leaderboard_with_published_table_and_site(two_runs: list[Path], shared_root: Path, tmp_path: Path) -> None:
    published = shared_root / "published" / "tiny_results_v1.2_summary.csv"
    board = leaderboard(two_runs, published)
    ic = board[board["Model"] == "ic"]
    assert list(ic["Rank"]) == list(range(1, len(ic) + 1))
    assert ic["Result"].is_monotonic_decreasing
    ours = ic[ic["Organization"] == OURS]
    assert len(ours) == 2 and ours["Accuracy"].between(80, 90).all()
    for run in two_runs:  # each system's own quality (xnnpack and builtin score differently)
        row = ours[ours["Source"] == str(run)].iloc[0]
        assert row["Accuracy"] == summary(run).loc[("ic01", "accuracy"), "top1_pct"]
    assert not ours["Valid"].any()  # 0.2 s windows are flagged, not hidden
    pub = pd.read_csv(published)
    assert len(board) == len(pub) + 4  # ic01 and ad01 of each run
    assert board.loc[board["HasPower"].astype(str).str.lower() != "true", "Power"].isna().all()  # 0 = not measured
    index = write_site(board, tmp_path / "site")
    text = index.read_text()
    assert "<svg" in text and "Image classification (ic01)" in text and "not a valid MLPerf result: --min-window" in text
    r = tinyperf("leaderboard", *two_runs, "--published", published, "--html", tmp_path / "site2", "--csv", tmp_path / "b.csv")
    assert r.returncode == 0 and (tmp_path / "site2" / "index.html").is_file()
    assert len(pd.read_csv(tmp_path / "b.csv")) == len(board)


def test_leaderboard_terminal_says_what_it_leaves_out(two_runs: list[Path], shared_root: Path) -> None:
    published = shared_root / "published" / "tiny_results_v1.2_summary.csv"
    board = leaderboard(two_runs, published)
    text = " ".join(render(leaderboard_renderables(board, 3)).split())
    for wl, model in (("ic01", "ic"), ("ad01", "ad"), ("kws01", "kws"), ("vww01", "vww")):
        assert f"{wl}: fastest first" in text
        assert f"top 3 of {(board['Model'] == model).sum()}; all rows in --csv/--html" in text
    assert "ic: fastest" not in text and "…" not in text
    ours = board[(board["Organization"] == OURS) & (board["Rank"] <= 3)]
    assert len(ours)
    for _, r in ours.iterrows():  # invalid runs keep their rank and carry show's mark, numbers whole
        assert f"{r['Result']:,.1f}*" in text
    assert "* not a valid MLPerf Tiny result" in text and "--min-window 0.2 s" in text
    ad = board[board["Model"] == "ad"].head(3)
    assert all(f"AUC {a:.3f}" in text for a in ad["Accuracy"].dropna())
    words = set(re.split(r"[\s│┃]+", render(leaderboard_renderables(board, 5))))
    shown = board.groupby("Model").head(5)
    assert "STMicroelectronics" in set(shown["Organization"])  # the longest word in the published table
    for name in [*shown["Organization"], *shown["BoardName"]]:  # at 80 columns names wrap at words, never split
        assert all(word in words for word in str(name).split()), name


def test_leaderboard_skips_folders_without_a_run(two_runs: list[Path], tmp_path: Path) -> None:
    results = tmp_path / "results"
    for run in two_runs:
        shutil.copytree(run, results / run.name)
    (results / "quantize").mkdir()  # what `tinyperf quantize` leaves beside the runs
    r = tinyperf("leaderboard", *sorted(results.iterdir()), "--csv", tmp_path / "b.csv")
    assert r.returncode == 0, r.stderr
    assert f"skipped {results / 'quantize'}: not a run directory" in r.stderr
    assert len(pd.read_csv(tmp_path / "b.csv")) == 4
    r = tinyperf("leaderboard", results / "quantize")
    assert r.returncode != 0 and "not a tinyperf run directory" in r.stderr
    r = tinyperf("leaderboard", *two_runs, tmp_path / "no-such-run")
    assert r.returncode != 0 and f"{tmp_path / 'no-such-run'}: does not exist" in r.stderr


def test_compare_names_a_boards_model_and_the_system_plainly(host_run: Path, serial_run: Path) -> None:
    """A board keeps its model: the row says what it reports running, as `tinyperf show` does."""
    lines = render(compare_renderables(compare([host_run, serial_run]))).splitlines()
    text = " ".join(" ".join(lines).split())
    start = next(i for i, ln in enumerate(lines) if "│ B " in ln)  # the board's row; its cells may fold onto more lines
    block = [ln for ln in lines[start:start + 3] if ln.startswith("│") and (ln is lines[start] or "│ B " not in ln)]
    model_cell = " ".join(ln.strip("│").split("│")[2].strip() for ln in block).split()
    assert " ".join(model_cell).startswith("kws01 (device)") and "on tinyperf emulator" not in text
    assert "B = " + load_run(serial_run).meta["run_id"] + " · serial · tinyperf emulator · device firmware" in text
    assert "1 thread" in text and "1.0 thread" not in text


def test_partial_accuracy_is_withheld_from_the_leaderboard(host_run: Path, tmp_path: Path) -> None:
    """An accuracy row short of files never ranks as a result: withheld, and the notes say why."""
    from tinyperf.engine.rundir import JOURNAL
    from tinyperf.outputs.leaderboard import leaderboard_rows

    run_dir = tmp_path / host_run.name
    shutil.copytree(host_run, run_dir)
    lines = (run_dir / JOURNAL).read_text().splitlines(keepends=True)
    kws_samples = [i for i, line in enumerate(lines)
                   if json.loads(line)["kind"] == "sample" and json.loads(line)["workload"] == "kws01"]
    dropped = set(kws_samples[len(kws_samples) // 2:])
    (run_dir / JOURNAL).write_text("".join(line for i, line in enumerate(lines) if i not in dropped))
    rows = leaderboard_rows([load_run(run_dir)]).set_index("MlperfModel")
    kws = rows.loc["kws"]
    assert pd.isna(kws["Accuracy"]) and f"accuracy withheld: partial ({len(kws_samples) // 2} files)" in kws["SoftwareNotes"]
    assert pd.notna(rows.loc["ic", "Accuracy"]) and "partial" not in rows.loc["ic", "SoftwareNotes"]  # complete: kept
