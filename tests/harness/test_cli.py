"""The command line as a new user meets it."""

from __future__ import annotations

import sys

from tinyperf.cli import COMMANDS, build_parser
from tests.harness.cli_helpers import rendered, run_cli as tinyperf


def test_every_listed_command_is_offered() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    offered = set(sub.choices)
    assert {"run", "show", "compare", "leaderboard", "list", "bench", "datasets", "fetch", "predict"} <= offered
    for name in offered & set(COMMANDS):
        assert "unavailable" not in (sub.choices[name].description or ""), name


def test_help_explains_the_main_job() -> None:
    r = tinyperf("--help")
    assert r.returncode == 0 and "tinyperf run" in r.stdout
    r = tinyperf("run", "--help")
    assert r.returncode == 0
    for option in ("--workload", "--mode", "--runner", "--min-window", "--models-dir", "--data-dir", "--model",
                   "--out", "--resume", "--kernels", "--threads"):
        assert option in r.stdout, option
    assert "(default: None)" not in r.stdout


def test_list_workloads_and_runners() -> None:
    r = tinyperf("list", "workloads")
    assert r.returncode == 0 and all(w in r.stdout for w in ("kws01", "vww01", "ic01", "ad01"))
    r = tinyperf("list", "runners")
    assert r.returncode == 0 and "host" in r.stdout and "available" in r.stdout
    r = tinyperf("list", "energy-monitors")
    assert r.returncode == 0 and "lpm01a:<port-or-URL>" in r.stdout and "joulescope[:<serial>]" in r.stdout
    r = tinyperf("list", "outputs")
    assert r.returncode == 0 and "tables" in r.stdout and "results-txt" in r.stdout


def test_lists_cut_nothing_at_80_columns() -> None:
    from tinyperf.cli.list_cmd import runners_table, workloads_table
    from tinyperf.workloads.catalog import WORKLOADS

    text = rendered(workloads_table(), 80)
    assert max(map(len, text.splitlines())) <= 80 and "…" not in text
    flat = "".join(ch for ch in text if ch not in "│ \n")  # a folded name reads whole without the borders
    for w in WORKLOADS.values():
        assert w.reference_model in flat and f"{w.default_n}{w.default_warmup}" in flat
    text = rendered(runners_table(), 80)
    assert max(map(len, text.splitlines())) <= 80 and "…" not in text
    assert all(name in text for name in ("host", "serial", "edgetpu"))


def test_benchmark_run_does_not_import_tensorflow(models_dir, data_dir, tmp_path) -> None:
    import subprocess

    code = (
        "import sys; from tinyperf.cli import main; "
        f"rc = main(['run', '-w', 'kws01', '--models-dir', r'{models_dir}', '--data-dir', r'{data_dir}', "
        f"'--min-window', '0.1', '--out', r'{tmp_path}']); "
        "assert rc == 0, rc; print('TF' if 'tensorflow' in sys.modules else 'NO-TF')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.stdout.strip().endswith("NO-TF"), r.stdout[-500:] + r.stderr[-2000:]
