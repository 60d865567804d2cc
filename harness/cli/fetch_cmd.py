"""`tinyperf fetch models|dataset|list`: public models and data into the user cache, verified."""

from __future__ import annotations

import argparse

from rich.table import Table

from tinyperf.cli import options
from tinyperf.core import config
from tinyperf.cli.datasets_cmd import print_build
from tinyperf.core.console import console
from tinyperf.fetch.cache import datasets_folder, leftovers, models_folder, status
from tinyperf.fetch.catalog import DATASETS
from tinyperf.fetch.datasets import fetch_dataset
from tinyperf.fetch.download import ENV_MIRROR, ENV_OFFLINE, Fetched, record_path
from tinyperf.fetch.models import fetch_models
from tinyperf.workloads.catalog import WORKLOADS

MIRROR_HELP = (f"fetch from this base URL (or local folder) instead of the public hosts; it must hold the files "
               f"under their own names, e.g. <URL>/kws_ref_model.tflite (default: ${ENV_MIRROR})")
OFFLINE_HELP = f"never touch the network: use (and verify) cached files only (also ${ENV_OFFLINE}=1)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch", help="download reference models and source datasets (pinned digests)",
                       description="Download the MLPerf Tiny reference models and public source datasets into "
                       "the user cache, verifying pinned digests. A file that does not match is deleted.")
    fsub = p.add_subparsers(dest="fetch_what", metavar="<what>", required=True)

    m = fsub.add_parser("models", help="the reference .tflite models",
                        description="Download the MLPerf Tiny reference models (int8; --float adds the float32 "
                        "ones) into the cache, where `tinyperf run` finds them automatically.")
    options.add_workload(m, short=False, sort=True, help=f"only this workload (repeatable; one of {', '.join(WORKLOADS)}; default: all)")
    m.add_argument("--float", action="store_true", dest="include_float",
                   help="also fetch the float32 reference models")
    _network_options(m)
    m.set_defaults(handler=handle_models)

    d = fsub.add_parser("dataset", help="a public source dataset, built into an EnergyRunner set",
                        description="Download, verify and unpack a public source dataset, then build the "
                        "workload's EnergyRunner set (.bin files + y_labels.csv) from it.")
    d.add_argument("name", choices=list(DATASETS),
                   help="; ".join(f"{k}: {v.description}" for k, v in DATASETS.items()))
    d.add_argument("--out", metavar="DIR",
                   help="write the set to DIR/<workload> (default: the cache, "
                   f"{datasets_folder()}/<workload>)")
    d.add_argument("--overwrite", action="store_true",
                   help="replace a set already in --out (the default cache location is always rebuilt)")
    _network_options(d)
    d.set_defaults(handler=handle_dataset)

    fw = fsub.add_parser("firmware-sources", help="the pinned TFLM / CMSIS-NN / MLPerf Tiny API sources the "
                         "virtual board is built from", description="Verifies the pinned source archives (sha256) "
                         "and unpacks them into the cache (firmware-sources/).")
    _network_options(fw)
    fw.set_defaults(handler=handle_firmware_sources)

    ls = fsub.add_parser("list", help="what is cached, with digests and status",
                         description="Show every fetchable file, whether it is cached, and whether its bytes "
                         "still match the pinned (or recorded) digest.")
    ls.set_defaults(handler=handle_list)


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mirror", metavar="URL", help=MIRROR_HELP)
    parser.add_argument("--offline", action="store_true", help=OFFLINE_HELP)


def _fetched_table(title: str, rows: list[Fetched]) -> Table:
    table = Table(title=title)
    table.add_column("file", no_wrap=True)
    table.add_column("status")
    table.add_column("sha256 / verified by", overflow="fold")
    for f in rows:
        status = "[green]downloaded[/]" if f.downloaded else "cached"
        verified = f"[yellow]{f.verified_by}[/]" if f.first_use else f"[dim]{f.verified_by}[/]"
        table.add_row(f.resource.name, status, f"{f.sha256}\n{verified}")
    return table


def _first_use_notes(rows: list[Fetched]) -> None:
    for f in rows:
        if f.first_use:
            console.print(f"[yellow]trust-on-first-use:[/] no sha256 is published for {f.resource.name}; "
                          f"recorded {f.sha256} in {record_path()} and every later use is checked against it",
                          highlight=False, soft_wrap=True)


def handle_models(args: argparse.Namespace) -> int:
    fetched = fetch_models(args.workload, args.include_float, args.mirror, args.offline)
    console.print(_fetched_table("reference models", fetched))
    _first_use_notes(fetched)
    console.print(f"models are in {models_folder()}; `tinyperf run` uses them automatically "
                  "(after --models-dir / TINYPERF_MODELS)", highlight=False, soft_wrap=True)
    return 0


def handle_dataset(args: argparse.Namespace) -> int:
    result = fetch_dataset(args.name, args.out, args.mirror, args.offline, args.overwrite)
    rows = [result.archive, *result.indices]
    console.print(_fetched_table(f"{args.name} source files", rows))
    _first_use_notes(rows)
    console.print(f"unpacked in {result.extracted}", highlight=False, soft_wrap=True)
    print_build(result.build)
    console.print(f"[green]{result.source.workload} set ready:[/] {result.samples} samples in {result.set_dir}; "
                  f"use it with --data-dir {result.set_dir.parent}", highlight=False, soft_wrap=True)
    return 0


def handle_list(args: argparse.Namespace) -> int:
    table = Table(title=f"tinyperf fetch cache ({config.cache_dir()})",
                  caption="missing files show the digest they must have, dimmed")
    table.add_column("file", no_wrap=True)
    table.add_column("state")
    table.add_column("sha256 / verified by", overflow="fold")
    style = {"ok": "green", "missing": "dim", "corrupt": "bold red", "unverified": "yellow"}
    rows = status()
    for row in rows:
        r = row.resource
        what = f"{r.workload} {'float32 model' if r.float_model else 'int8 model' if r.kind == 'model' else r.kind}"
        digest = row.sha256 or (f"[dim]{r.sha256}[/]" if r.sha256 else f"[dim]md5 {r.md5}[/]" if r.md5 else "-")
        detail = f"\n[dim]{row.detail}[/]" if row.detail else ""
        table.add_row(f"{r.name}\n[dim]{what}[/]", f"[{style[row.state]}]{row.state}[/]", digest + detail)
    console.print(table)
    for path in leftovers():
        console.print(f"[yellow]leftover of an interrupted fetch:[/] {path} (safe to delete)", highlight=False)
    built = sorted(p.parent.name for p in datasets_folder().glob("*/y_labels.csv"))
    if built:
        console.print(f"built sets in {datasets_folder()}: {', '.join(built)}", highlight=False)
    return 1 if any(r.state == "corrupt" for r in rows) else 0


def handle_firmware_sources(args: argparse.Namespace) -> int:
    from tinyperf.fetch.firmware import ARCHIVES, fetch_firmware_sources

    got = fetch_firmware_sources(args.mirror, args.offline)
    table = Table(title="firmware sources")
    for col in ("source", "version", "folder"):
        table.add_column(col)
    for a in ARCHIVES:
        table.add_row(a.repo, a.version[:12], str(got.roots[a.key]))
    console.print(table)
    console.print(f"{len(got.fetched)} archive(s) copied and unpacked now, {len(ARCHIVES) - len(got.fetched)} "
                  "already in the cache (sha256 verified before unpacking)", highlight=False)
    return 0
