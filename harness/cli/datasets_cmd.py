"""`tinyperf datasets build|check`: EnergyRunner sets from the public source datasets, and validation."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from tinyperf.core.console import console, err_console
from tinyperf.core.errors import DatasetError
from tinyperf.workloads.builders import BuildResult, build_set
from tinyperf.workloads.builders.toycar import SUBSETS
from tinyperf.workloads.catalog import WORKLOADS, get_workload, workload_arg
from tinyperf.workloads.dataset import LABELS_FILE, Dataset, label_rows

SOURCES = {
    "kws01": "Speech Commands v2: the test archive's word folders, the main archive (testing_list.txt), "
             "or a flat folder of clips with a labels CSV",
    "ic01": "CIFAR-10: cifar-10-batches-py (test_batch) or a folder of CIFAR PNGs",
    "ad01": "DCASE 2020 task 2 ToyCar folder (test/normal_id_XX_*.wav, anomaly_id_XX_*.wav)",
    "vww01": "image folders person/ and non_person/",
}
MAX_WARNINGS_SHOWN = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="build EnergyRunner sample sets from public data; check a set",
                       description="Build MLPerf Tiny sample sets (.bin files + y_labels.csv, the EnergyRunner "
                       "format) from the original public datasets with the official front-ends, or check a set.")
    dsub = p.add_subparsers(dest="datasets_what", metavar="<action>", required=True)

    b = dsub.add_parser("build", help="write a workload's set from a source dataset",
                        description="Write <workload>'s EnergyRunner set into --out. Sources: "
                        + "; ".join(f"{k}: {v}" for k, v in SOURCES.items()) + ".")
    b.add_argument("workload", type=workload_arg, metavar="WORKLOAD", help="which set to build")
    b.add_argument("--from", dest="source", required=True, metavar="SOURCE", help="the unpacked source dataset")
    b.add_argument("--out", required=True, metavar="DIR", help="folder to write the .bin files and y_labels.csv into")
    b.add_argument("--labels", metavar="CSV", help="kws01: labels CSV for a flat folder of clips "
                   "('file,label_index,label_name' with a header; default: SOURCE/labels.csv if present)")
    b.add_argument("--indices", metavar="FILE", help="ic01: CIFAR-10 test indices selecting and ordering the "
                   "images (.npy or text); perf_samples_idxs.npy gives the official class-balanced ic01 set")
    b.add_argument("--subset", choices=SUBSETS, default="all",
                   help="ad01: all recordings, or mlperf = those numbered ...3, as in the official ad01 set "
                   "(default: all)")
    b.add_argument("--overwrite", action="store_true", help="replace a set already in --out")
    b.set_defaults(handler=handle_build)

    c = dsub.add_parser("check", help="validate a set (y_labels.csv rows, file sizes) and summarise it",
                        description="Open a set the way `tinyperf run` does and report problems or a summary. "
                        "The workload is inferred from y_labels.csv unless --workload is given.")
    c.add_argument("folder", metavar="DIR", help="the set's folder (holding y_labels.csv)")
    c.add_argument("--workload", type=workload_arg, metavar="ID", help="the workload the set is for (default: inferred)")
    c.set_defaults(handler=handle_check)


def _counts_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title)
    table.add_column("class")
    table.add_column("files", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    table.add_row("[bold]total[/]", f"[bold]{sum(counts.values())}[/]")
    return table


def print_build(result: BuildResult) -> None:
    console.print(_counts_table(f"{result.workload} set", result.counts))
    console.print(f"wrote {result.samples} files + {LABELS_FILE} to {result.out} in {result.seconds:.1f} s "
                  f"(source: {result.source})", highlight=False, soft_wrap=True)
    for message in result.warnings[:MAX_WARNINGS_SHOWN]:
        err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
    if len(result.warnings) > MAX_WARNINGS_SHOWN:
        err_console.print(f"[yellow]warning:[/] ... and {len(result.warnings) - MAX_WARNINGS_SHOWN} more input(s) "
                          "adapted the same way", highlight=False)


def handle_build(args: argparse.Namespace) -> int:
    result = build_set(args.workload, args.source, args.out, labels=args.labels, indices=args.indices,
                       subset=args.subset, overwrite=args.overwrite)
    print_build(result)
    return 0


def infer_workload(folder: Path) -> str:
    """The workload a set is for, from its first y_labels.csv row (classes count and row width)."""
    labels = folder / LABELS_FILE
    if not labels.is_file():
        raise DatasetError(labels, "missing; every EnergyRunner set needs its label file",
                           "check the folder, or build the set with `tinyperf datasets build`")
    row = next((r for _, r in label_rows(labels)), None)
    if row is None:
        raise DatasetError(labels, "lists no samples", "add one row per .bin file: 'file,classes,label'")
    classes = row[1].strip() if len(row) > 1 else ""
    candidates = [w for w in WORKLOADS.values()
                  if str(len(w.labels)) == classes and bool(w.window_bytes) == (len(row) >= 5)]
    if len(candidates) != 1:
        raise DatasetError(f"{labels}:1", f"cannot tell the workload from row {row!r}", "pass --workload")
    return candidates[0].id


def handle_check(args: argparse.Namespace) -> int:
    folder = Path(args.folder).expanduser()
    wl = get_workload(args.workload or infer_workload(folder))
    ds = Dataset.open(wl, folder)
    counts = {name: 0 for name in wl.labels}
    for s in ds.samples:
        counts[wl.labels[s.label]] += 1
    console.print(_counts_table(f"{wl.id} set", {k: v for k, v in counts.items() if v}))
    inferences = f" ({ds.n_items} inferences)" if wl.window_bytes else ""
    console.print(f"OK: {folder}: {len(ds)} files{inferences}, every listed file present with {wl.sample_bytes} bytes; "
                  f"content sha256 {ds.content_sha256}", highlight=False, soft_wrap=True)
    if ds.unlisted:
        console.print(f"{len(ds.unlisted)} .bin file(s) not in {LABELS_FILE} are ignored "
                      f"(first: {', '.join(ds.unlisted[:3])})", highlight=False, soft_wrap=True)
    return 0
