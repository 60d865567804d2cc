"""`tinyperf run`: benchmark workloads on a runner (default: all four, on this machine)."""

from __future__ import annotations

import argparse

from tinyperf.cli import options
from tinyperf.cli.options import DefaultsFormatter
from tinyperf.device_runners.registry import add_runner_options, all_kernels, available_runners, kernels_help
from tinyperf.core.console import console
from tinyperf.core.errors import TinyperfError
from tinyperf.engine.orchestrator import MODE_CHOICES, RunPlan, resume, start
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
    out.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run without redoing finished samples")
    add_runner_options(p, runners)


def handle(args: argparse.Namespace) -> int:
    if args.resume:
        run = resume(args.resume, command=_argv(args))
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


def _argv(args: argparse.Namespace) -> list[str]:
    """The command as the user typed it (`python -m tinyperf.cli` shown as `tinyperf`)."""
    return ["tinyperf", *args.argv]  # set by tinyperf.cli.main
