"""`tinyperf show`: print a run directory (complete or partial)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyperf.core.config import ENV_RESULTS, results_dir
from tinyperf.core.console import console
from tinyperf.core.errors import ResultsError
from tinyperf.outputs.report import MISSING, FittedTable, fmt, summary_table, warnings_of
from tinyperf.engine.rundir import load_run

WINDOW_FORMATS = {"elapsed_s": ".3f", "throughput_ips": ",.1f", "lat_median_us": ",.1f"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="print a run's summary, provenance and warnings",
                       description="Print a run directory written by `tinyperf run`, even an interrupted one.")
    p.add_argument("run_dir", help="run directory (e.g. results/20261125-150000_host_myhost), or a run id "
                   f"looked up in the results folder (env {ENV_RESULTS}, default results/)")
    p.add_argument("--windows", action="store_true", help="also list the performance windows")
    p.add_argument("--plot", action="store_true", help="plot per-window throughput and the per-inference latency histogram")
    p.set_defaults(handler=handle)


def locate(run_dir: str | Path) -> Path:
    """The run directory: the path as given, else a run id under the results folder."""
    path = Path(run_dir)
    if path.exists():
        return path
    in_results = results_dir() / path
    if not path.is_absolute() and in_results.exists():
        return in_results
    looked = f" (nor is there {in_results})" if not path.is_absolute() else ""
    raise ResultsError(path, f"does not exist{looked}",
                       f"pass a run directory or the run id of one under {results_dir()}/ "
                       f"(set {ENV_RESULTS} or `cd` to where `tinyperf run` wrote it)")


def handle(args: argparse.Namespace) -> int:
    path = locate(args.run_dir)
    if not (path / "run.json").is_file() and _has_results_txt(path):
        return _show_results_files(path)
    run = load_run(path)
    console.print(summary_table(run))
    m = run.meta.get("machine", {})
    console.print(f"[dim]machine: {m.get('hostname')} · {m.get('cpu')} · {m.get('os')} · Python {m.get('python')} · "
                  f"tinyperf {m.get('harness_version')} · started {run.meta.get('created')}[/]", highlight=False)
    for wl, info in run.meta.get("workloads", {}).items():
        model = info.get("model") or {}
        ds = info.get("dataset") or {}
        where = f"model {model['path']}" if model.get("path") else "model on the device"
        console.print(f"[dim]{wl}: {where}{' sha256 ' + model['sha256'][:16] if model.get('sha256') else ''} · "
                      f"data {ds.get('path', 'synthetic inputs')}"
                      f"{' sha256 ' + ds['sha256'][:16] if ds.get('sha256') else ''}[/]", highlight=False)
    if args.windows and not run.windows.empty:
        t = FittedTable(title="performance windows")
        cols = ["workload", "mode", "window", "file", "n", "elapsed_s", "throughput_ips", "lat_median_us"]
        for c in cols:
            t.add_column(c, justify="right" if c in ("window", "n", "elapsed_s", "throughput_ips", "lat_median_us") else "left")
        for _, r in run.windows.iterrows():
            t.add_row(*(fmt(r.get(c), WINDOW_FORMATS[c]) if c in WINDOW_FORMATS else str(r.get(c)) for c in cols))
        console.print(t)
    if args.plot and not run.windows.empty:
        _plots(run)
    for w in warnings_of(run):
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    if not run.complete:
        console.print(f"[yellow]status {run.status}: continue with `tinyperf run --resume {run.path}`[/]")
    return 0


def _has_results_txt(path: Path) -> bool:
    return path.name == "results.txt" if path.is_file() else next(path.rglob("results.txt"), None) is not None


def _show_results_files(path: Path) -> int:
    """A folder of results.txt files without a run.json: an official runner session or a submission tree."""
    from tinyperf.outputs.results_txt import FIGURES, read_results_files

    table = read_results_files(path)
    heads = {"throughput_ips": "inf./sec.", "top1_pct": "top-1 %", "auc": "AUC", "energy_uj_per_inf": "uJ/inf.",
             "power_mw": "mW"}
    shown = [c for c in FIGURES if table[c].notna().any()]
    t = FittedTable(title=f"results.txt files under {path}")
    t.add_column("benchmark")
    t.add_column("mode")
    for c in shown:
        t.add_column(heads[c], justify="right")
    t.add_column("official runner errors")
    for _, r in table.iterrows():
        t.add_row(str(r["benchmark"]), r["mode"] or MISSING,
                  *(fmt(r[c], ".4f" if c == "energy_uj_per_inf" else ".3f") for c in shown), r["errors"] if isinstance(r["errors"], str) else MISSING)
    console.print(t)
    return 0


def _plots(run) -> None:
    import numpy as np

    from tinyperf.engine.journal import load_latencies
    from tinyperf.outputs.plots import latency_histogram, window_bars

    for (wl, mode), w in run.windows.groupby(["workload", "mode"], sort=False):
        console.print(window_bars(list(w["throughput_ips"]), f"{wl} {mode}: throughput per window"))
        loaded = [load_latencies(run.path, f) for f in w.get("latencies_file", []) if isinstance(f, str)]
        parts = [a for a in loaded if not isinstance(a, str)]  # the unusable ones are named in the warnings
        if parts:
            lat = np.concatenate(parts).astype(np.float64) / 1000.0
            console.print(latency_histogram(lat, f"{wl} {mode}: per-inference latency ({len(lat):,} inferences)"))
