"""`tinyperf run`: benchmark workloads on a runner (default: all four, on this machine)."""

from __future__ import annotations

import argparse

from tinyperf.cli import options
from tinyperf.cli.options import DefaultsFormatter
from tinyperf.device_runners.registry import add_runner_options, all_kernels, available_runners, kernels_help
from tinyperf.core.console import console
from tinyperf.core.argtypes import positive_float
from tinyperf.core.errors import TinyperfError
from tinyperf.engine.orchestrator import MODE_CHOICES, RELOCATE_OPTIONS, RunPlan, resume, start
from tinyperf.outputs.report import summary_table, warnings_of
from tinyperf.workloads.catalog import WORKLOADS


HELP = "benchmark workloads (performance and accuracy) and write a run directory"


def register(sub: argparse._SubParsersAction) -> None:
    runners = available_runners()
    try:  # two plug-ins claiming one option: found before the command exists, reported when it is used
        _options(argparse.ArgumentParser(add_help=False), runners)
    except TinyperfError as exc:
        _register_refusal(sub, exc)
        return
    p = sub.add_parser(
        "run", help=HELP,
        description="Benchmark MLPerf Tiny workloads. With no options: all four workloads on this machine's "
        "LiteRT interpreter, performance mode (5 windows of >= 10 s, as the rules require) plus accuracy "
        "mode wherever sample sets are found. Models come from --models-dir / TINYPERF_MODELS, the cache "
        "(`tinyperf fetch models`), or else built-in reference architectures with synthetic weights.",
        formatter_class=DefaultsFormatter)
    _options(p, runners)
    p.set_defaults(handler=handle)


def _register_refusal(sub: argparse._SubParsersAction, exc: TinyperfError) -> None:
    """`tinyperf run` says why it cannot start (the other commands still work)."""
    # no option prefix: every argument, '-w' included, is swallowed so the refusal itself is what is said
    p = sub.add_parser("run", help=f"{HELP} (unavailable: {exc.one_line()})", add_help=False, prefix_chars="\0")
    p.add_argument("rest", nargs="*")

    def refuse(args: argparse.Namespace) -> int:
        raise exc

    p.set_defaults(handler=refuse)


def _options(p: argparse.ArgumentParser, runners: dict) -> None:
    what = p.add_argument_group("what to run")
    options.add_workload(what)
    what.add_argument("--mode", "-m", choices=MODE_CHOICES, default="all",
                      help="performance (latency/throughput), accuracy (every sample), energy (serial runner "
                      "with an energy monitor), or all = performance + accuracy")
    what.add_argument("--runner", "-r", default="host", help=f"runner plugin: {', '.join(runners)} (`tinyperf list runners`)")
    options.add_min_window(what, 10.0, "minimum length of each performance window in seconds (the rules require 10)")
    inputs = p.add_argument_group("models and data")
    options.add_models_dir(inputs)
    options.add_data_dir(inputs)
    options.add_model(inputs)
    execution = p.add_argument_group("execution (runners with kernel back-ends)")
    options.add_kernels(execution, all_kernels(runners),
                        "kernel back-end, as each runner declares them: " + kernels_help(runners))
    options.add_threads(execution)
    out = p.add_argument_group("output")
    options.add_out(out, "parent folder of run directories (default results/, env TINYPERF_RESULTS)")
    out.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run without redoing finished samples "
                     "(a lab run directory: only the boards not complete); --port/--baud given with it say where "
                     "the board is now")
    lab = p.add_argument_group("device lab")
    lab.add_argument("--lab", metavar="LAB_YAML",
                     help="run on every board of this lab inventory at once (serial runner, one run directory "
                     "per board, one merged leaderboard)")
    lab.add_argument("--boards", metavar="A,B", help="with --lab: only these boards (comma-separated names)")
    lab.add_argument("--wait", action="store_true",
                     help="with --lab: wait for a labgrid place held by someone else instead of skipping it")
    lab.add_argument("--wait-timeout", type=positive_float, default=600.0, metavar="S",
                     help="with --wait: give up on a place still held after S seconds")
    add_runner_options(p, runners)


def handle(args: argparse.Namespace) -> int:
    if args.lab or (args.resume and _is_lab_run(args.resume)):
        return handle_lab(args)
    if args.resume:
        relocate = {k: getattr(args, k, None) for k in RELOCATE_OPTIONS}
        run = resume(args.resume, command=_argv(args), relocate=relocate)
    else:
        cls = available_runners().get(args.runner)
        runner_options = {k: getattr(args, k) for k in cls.option_names() if hasattr(args, k)} if cls else {}
        plan = RunPlan(workloads=args.workload or list(WORKLOADS), mode=args.mode, runner=args.runner,
                       runner_options=runner_options, min_window=args.min_window, models_dir=args.models_dir,
                       data_dir=args.data_dir, model=args.model, out=args.out, kernels=args.kernels,
                       threads=args.threads, workloads_explicit=bool(args.workload))
        run = start(plan, command=_argv(args))
    console.print(summary_table(run))
    for w in warnings_of(run):
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    console.print(f"results: [bold]{run.path}[/] (load with `tinyperf.load_run('{run.path}')`)")
    return 0 if run.complete else 1


def _is_lab_run(path: str) -> bool:
    from tinyperf.lab.labrun import is_lab_run

    return is_lab_run(path)


def handle_lab(args: argparse.Namespace) -> int:
    """`--lab`: the suite on every selected board in parallel; then boards, and the merged leaderboard."""
    from tinyperf.lab.labrun import LabPlan, resume_lab, start_lab
    from tinyperf.lab.report import boards_table, leaderboard_table

    if args.resume:
        lab = resume_lab(args.resume, wait=args.wait, wait_timeout=args.wait_timeout)
    else:
        if args.runner not in ("host", "serial") or args.model or args.kernels or args.threads:
            raise TinyperfError("--lab", "a lab runs the boards' own firmware through the serial runner",
                                "leave --runner, --model, --kernels and --threads out")
        names = [n.strip() for n in args.boards.split(",") if n.strip()] if args.boards else []
        plan = LabPlan(inventory=args.lab, boards=names, workloads=args.workload or list(WORKLOADS), mode=args.mode,
                       min_window=args.min_window, data_dir=args.data_dir, models_dir=args.models_dir,
                       wait=args.wait, wait_timeout=args.wait_timeout)
        lab = start_lab(plan, out=args.out, command=_argv(args))
    console.print(boards_table(lab))
    board = leaderboard_table(lab)
    if board is not None:
        console.print(board)
    wall = lab.meta["attempts"][-1]["wall_s"]
    alone = [s.wall_s for s in lab.states.values() if s.wall_s is not None]
    if alone:
        console.print(f"wall time {wall:.1f} s; per board (their processes, side by side): slowest {max(alone):.1f} s, "
                      f"sum {sum(alone):.1f} s")
    if not lab.complete:
        console.print(f"[yellow]lab run incomplete; continue with: tinyperf run --resume {lab.dir}[/]")
    console.print(f"lab results: [bold]{lab.dir}[/] (leaderboard.csv, one run directory per board)")
    return 0 if lab.complete else 1


def _argv(args: argparse.Namespace) -> list[str]:
    """The command as the user typed it (`python -m tinyperf.cli` shown as `tinyperf`)."""
    return ["tinyperf", *args.argv]  # set by tinyperf.cli.main
