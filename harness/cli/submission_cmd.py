"""`tinyperf submission`: a MLPerf Tiny submission tree from run directories, for the official checker."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyperf.core.console import console, err_console


def register(sub: argparse._SubParsersAction) -> None:
    from tinyperf.outputs.submission import DEFAULT_VERSION, DIVISIONS, VERSIONS

    p = sub.add_parser("submission", help="write a MLPerf Tiny submission tree the official checker accepts",
                       description="Turn run directories into <out>/<division>/<submitter>/{results,systems,code} "
                       "with results.txt, log.txt and results.json per benchmark and mode in the official runner's "
                       "formats. Check it with: python submission_checker.py --input OUT --version v1.3")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories (or run ids) to export")
    p.add_argument("--out", required=True, metavar="TREE", help="root folder of the submission tree")
    p.add_argument("--submitter", required=True, metavar="NAME", help="organisation (a folder name, no spaces)")
    p.add_argument("--system", required=True, metavar="NAME", help="system name (a folder name, e.g. NUCLEO_L4R5ZI-P)")
    p.add_argument("--division", choices=DIVISIONS, default="closed", help="default closed")
    p.add_argument("--system-json", metavar="FILE", type=Path,
                   help="system description fields (a systems/<system>.json of a real submission is a template); "
                   "fields it leaves out are filled from the runs' provenance or left empty")
    p.add_argument("--code", metavar="DIR", type=Path, help="folder to copy into code/<system>/ (default: a README "
                   "naming the models, firmware and commands used)")
    p.add_argument("--version", choices=VERSIONS, default=DEFAULT_VERSION, help=f"checker version (default {DEFAULT_VERSION})")
    p.add_argument("--include-invalid", action="store_true",
                   help="also export results the rules reject, written with the official runner's ERROR lines")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from tinyperf.cli.show_cmd import locate
    from tinyperf.engine.rundir import load_run
    from tinyperf.outputs.submission import export_submission, load_system_json

    runs = [load_run(locate(d)) for d in args.run_dirs]
    given = load_system_json(args.system_json) if args.system_json else None
    done = export_submission(runs, Path(args.out), args.submitter, args.system, division=args.division,
                             system_json=given, code_dir=args.code, version=args.version,
                             include_invalid=args.include_invalid)
    for benchmark, mode, folder in done.entries:
        console.print(f"{benchmark:4} {mode:12} {folder}", highlight=False, soft_wrap=True)
    for problem in done.invalid:
        err_console.print(f"[yellow]exported although invalid:[/] {problem}", highlight=False, soft_wrap=True)
    console.print(f"submission tree: {done.root} (check: python submission_checker.py --input {done.root} "
                  f"--version {args.version})", highlight=False, soft_wrap=True)
    return 0
