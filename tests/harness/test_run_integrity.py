"""A run directory never loses or misreports a measurement (issue 8, items 2-6 and 10).

Partial figures say they are partial; one run has one writer (a real flock); a torn journal tail
is cut before appending; outputs are on disk before a run says complete and are rebuilt from the
journal when missing; a run plan read back from run.json is refused rather than completed with
defaults; journal paths stay inside the run directory.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest

from tinyperf import load_run
from tinyperf.engine.journal import read_journal
from tinyperf.engine.rundir import JOURNAL, RUN_JSON, RunLock
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tests.harness.test_interrupt_resume import _interrupt_halfway
from tinyperf.outputs.results_txt import parse_results_txt


def _ic01_args(models_dir: Path, data_dir: Path) -> list:
    return ["run", "--mode", "accuracy", "--workload", "ic01", "--models-dir", models_dir, "--data-dir", data_dir]


@pytest.fixture
def interrupted_ic01(models_dir: Path, data_dir: Path, tmp_path: Path) -> Path:
    """An ic01 accuracy run (200 files) stopped with Ctrl-C after 50 samples."""
    return _interrupt_halfway(_ic01_args(models_dir, data_dir), tmp_path / "runs", at=50, sig=signal.SIGINT)


def _sample_keys(run_dir: Path) -> list[tuple[str, int]]:
    return [(r.file, r.window) for r in read_journal(run_dir).records if r.kind == "sample"]


def test_partial_figures_never_look_like_results(interrupted_ic01: Path) -> None:
    run_dir = interrupted_ic01
    assert not (run_dir / "ic01" / "results.txt").exists()  # the submission checker finds nothing to accept
    partial = (run_dir / "ic01" / "results.partial.txt").read_text()
    assert partial.startswith("PARTIAL (run incomplete)") and "Top 1% = " in partial and "--resume" in partial
    assert set(load_run(run_dir).summary["run_status"]) == {"incomplete"}
    shown = tinyperf("show", run_dir)
    assert "partial" in shown.stdout and "incomplete" in shown.stdout
    r = tinyperf("run", "--resume", run_dir)
    assert r.returncode == 0, r.stderr
    assert parse_results_txt((run_dir / "ic01" / "results.txt").read_text())["top1_pct"] == 86.5
    assert not (run_dir / "ic01" / "results.partial.txt").exists()


def test_a_second_writer_is_refused_while_the_lock_is_held(interrupted_ic01: Path) -> None:
    lock = RunLock.acquire(interrupted_ic01)  # as a running `tinyperf run --resume` holds it
    try:
        assert load_run(interrupted_ic01).status == "running"
        r = tinyperf("run", "--resume", interrupted_ic01)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert "another tinyperf process" in " ".join(r.stderr.split()), r.stderr
    finally:
        lock.release()
    before = len(_sample_keys(interrupted_ic01))
    assert load_run(interrupted_ic01).status == "incomplete"  # the lock died with its holder
    r = tinyperf("run", "--resume", interrupted_ic01)
    assert r.returncode == 0, r.stderr
    keys = _sample_keys(interrupted_ic01)
    assert len(keys) == len(set(keys)) == 200 and before < 200


def test_concurrent_resumes_write_each_sample_once(interrupted_ic01: Path) -> None:
    import subprocess

    from tests.harness.cli_helpers import TINYPERF

    procs = [subprocess.Popen([*TINYPERF, "run", "--resume", str(interrupted_ic01)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes[0] == 0, outs
    loser = outs[[p.returncode for p in procs].index(codes[1])][1]
    # the second either met the lock or arrived after the first had finished
    assert codes[1] == 2 and ("another tinyperf process" in loser or "already complete" in loser), outs
    keys = _sample_keys(interrupted_ic01)
    assert len(keys) == len(set(keys)) == 200


def test_torn_journal_tail_is_cut_before_appending(interrupted_ic01: Path) -> None:
    journal = interrupted_ic01 / JOURNAL
    done = len(_sample_keys(interrupted_ic01))
    with journal.open("ab") as fh:
        fh.write(b'{"kind": "sample", "workload": "ic01", "mode": "accu')  # a kill mid-write
    shown = tinyperf("show", interrupted_ic01)
    assert shown.returncode == 0 and "cut short" in " ".join(shown.stdout.split())
    r = tinyperf("run", "--resume", interrupted_ic01)
    assert r.returncode == 0, r.stderr
    assert "cut short" in " ".join(r.stdout.split())
    lines = journal.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])  # every line whole
    keys = _sample_keys(interrupted_ic01)
    assert len(keys) == len(set(keys)) == 200 and done < 200
    meta = json.loads((interrupted_ic01 / RUN_JSON).read_text())
    assert meta["status"] == "complete" and meta["journal_repairs"][0]["torn_bytes"] > 0
    assert load_run(interrupted_ic01).problems == []


def test_complete_run_with_missing_outputs_is_rebuilt_from_the_journal(models_dir: Path, data_dir: Path,
                                                                       tmp_path: Path) -> None:
    r = tinyperf(*_ic01_args(models_dir, data_dir), "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    run_dir = only_run_dir(tmp_path)
    results = (run_dir / "ic01" / "results.txt").read_text()
    samples_csv = (run_dir / "samples.csv").read_text()
    (run_dir / "samples.parquet").write_bytes(b"")  # what a kill during the table writes left
    (run_dir / "summary.csv").unlink()
    (run_dir / "ic01" / "results.txt").unlink()
    r = tinyperf("run", "--resume", run_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rebuilding" in " ".join(r.stdout.split())
    assert (run_dir / "ic01" / "results.txt").read_text() == results
    assert (run_dir / "samples.csv").read_text() == samples_csv
    assert (run_dir / "samples.parquet").stat().st_size > 0 and (run_dir / "summary.csv").is_file()
    r = tinyperf("run", "--resume", run_dir)  # now nothing is missing
    assert r.returncode == 2 and "already complete" in r.stderr


def test_a_run_is_marked_complete_only_after_its_outputs(models_dir: Path, data_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tinyperf.engine import orchestrator
    from tinyperf.engine.orchestrator import RunPlan, start

    def killed_while_writing(run) -> None:
        (run.path / "samples.parquet").write_bytes(b"")
        raise KeyboardInterrupt

    monkeypatch.setattr(orchestrator, "write_outputs", killed_while_writing)
    plan = RunPlan(workloads=["ic01"], mode="accuracy", models_dir=str(models_dir), data_dir=str(data_dir),
                   out=str(tmp_path), workloads_explicit=True)
    with pytest.raises(KeyboardInterrupt):
        start(plan)
    run_dir = only_run_dir(tmp_path)
    assert json.loads((run_dir / RUN_JSON).read_text())["status"] == "incomplete"
    monkeypatch.undo()
    r = tinyperf("run", "--resume", run_dir)  # every sample is journalled: only the outputs are written
    assert r.returncode == 0, r.stderr
    assert parse_results_txt((run_dir / "ic01" / "results.txt").read_text())["top1_pct"] == 86.5


def _edit_config(run_dir: Path, edit) -> None:
    meta = json.loads((run_dir / RUN_JSON).read_text())
    edit(meta)
    (run_dir / RUN_JSON).write_text(json.dumps(meta))


@pytest.mark.parametrize("edit, needle", [
    (lambda m: m["config"].pop("mode"), "field 'config.mode' is missing"),
    (lambda m: m.pop("config"), "has no 'config'"),
    (lambda m: m.__setitem__("config", [1, 2]), "field 'config' is a list"),
    (lambda m: m["config"].__setitem__("turbo", True), "field 'config.turbo' is not a run-plan field"),
    (lambda m: m["config"].__setitem__("runner_options", []), "field 'config.runner_options' is a list"),
    (lambda m: m["config"].__setitem__("workloads", "ic01"), "field 'config.workloads' is text"),
    (lambda m: m["config"].__setitem__("mode", "everything"), "field 'config.mode' is 'everything'"),
    (lambda m: m["config"].__setitem__("min_window", -1), "config.min_window"),
])
def test_a_malformed_plan_in_run_json_is_refused_not_defaulted(incomplete_run: Path, tmp_path: Path, edit,
                                                               needle: str) -> None:
    run_dir = tmp_path / incomplete_run.name
    shutil.copytree(incomplete_run, run_dir)
    journal_before = (run_dir / JOURNAL).read_bytes()
    _edit_config(run_dir, edit)
    r = tinyperf("run", "--resume", run_dir)
    err = " ".join(r.stderr.split())
    assert r.returncode == 2 and "Traceback" not in r.stderr and err.startswith("error: "), r.stderr
    assert str(run_dir / RUN_JSON) in err and needle in err and "Fix:" in err, err
    assert (run_dir / JOURNAL).read_bytes() == journal_before  # nothing appended, nothing measured


@pytest.mark.parametrize("meta, needle", [("[1, 2]", "holds a JSON list"), ('{"config": 3}', "field 'config' is a int"),
                                          (b'{"config": {"x": "\xff"}}', "not UTF-8"),
                                          ('{"config": {}, "workloads": "kws01"}', "field 'workloads' is a str")])
def test_show_refuses_a_malformed_run_json_in_one_line(incomplete_run: Path, tmp_path: Path, meta, needle: str) -> None:
    run_dir = tmp_path / incomplete_run.name
    shutil.copytree(incomplete_run, run_dir)
    (run_dir / RUN_JSON).write_bytes(meta if isinstance(meta, bytes) else meta.encode())
    for command in (["show", run_dir], ["compare", run_dir, run_dir], ["leaderboard", run_dir]):
        r = tinyperf(*command)
        err = " ".join(r.stderr.split())
        assert r.returncode == 2 and "Traceback" not in r.stderr and needle in err, (command, r.stderr)


BAD_LINES = [b"[1, 2]\n", b'"x"\n', b'{"workload": "kws01"}\n', b'{"kind": "sample", "file": "\xff\xfe"}\n',
             b'{"kind": "window", "workload": 3}\n', b"not json at all\n"]


def test_unusable_journal_lines_are_skipped_and_counted(incomplete_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / incomplete_run.name
    shutil.copytree(incomplete_run, run_dir)
    before = load_run(run_dir)
    with (run_dir / JOURNAL).open("ab") as fh:
        fh.writelines(BAD_LINES)
    run = load_run(run_dir)
    assert len(run.samples) == len(before.samples) and len(run.windows) == len(before.windows)
    assert run.journal is not None and len(run.journal.problems) == len(BAD_LINES)
    for command in (["show", run_dir], ["compare", run_dir, run_dir], ["leaderboard", run_dir]):
        r = tinyperf(*command)
        assert "Traceback" not in r.stderr + r.stdout, (command, r.stderr)
        assert r.returncode in (0, 1), (command, r.stdout, r.stderr)
    shown = " ".join(tinyperf("show", run_dir).stdout.split())
    assert f"{len(BAD_LINES)} unreadable line(s) skipped" in shown and "not an object" in shown


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/etc/passwd", "not-an-array"])
def test_latencies_files_stay_inside_the_run_and_must_be_arrays(host_run: Path, tmp_path: Path, target: str) -> None:
    run_dir = tmp_path / host_run.name
    shutil.copytree(host_run, run_dir)
    (run_dir / "latencies" / "not-an-array").write_text("hello")
    if target == "not-an-array":
        target = "latencies/not-an-array"
    lines = (run_dir / JOURNAL).read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    first = next(i for i, r in enumerate(rows) if r["kind"] == "window" and r.get("latencies_file"))
    rows[first]["latencies_file"] = target
    (run_dir / JOURNAL).write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = load_run(run_dir)
    row = run.summary[(run.summary["workload"] == rows[first]["workload"]) & (run.summary["mode"] == "performance")].iloc[0]
    assert "latency percentiles leave out a window" in row["warnings"]
    assert row["lat_median_us"] > 0  # the other windows still count
    shown = tinyperf("show", run_dir, "--plot")
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
