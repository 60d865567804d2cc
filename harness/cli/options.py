"""Options several commands share, each defined once: name, type, metavar, environment variable.

A command picks the ones it needs (`add_models_dir(group)`); a command whose wording differs
(what `--out` holds) passes its own `help`, never its own definition.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from tinyperf.core.argtypes import positive_int, window_seconds

Parser = argparse.ArgumentParser | argparse._ArgumentGroup


class DefaultsFormatter(argparse.HelpFormatter):
    """Show defaults that exist; '(default: None)' tells a user nothing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        h = action.help or ""
        if action.default not in (None, argparse.SUPPRESS, False) and "%(default)" not in h:
            h += " (default: %(default)s)"
        return h


def _workload_ids() -> list[str]:
    from tinyperf.workloads.catalog import WORKLOADS

    return list(WORKLOADS)


def add_workload(p: Parser, *, repeatable: bool = True, required: bool = False, short: bool = True,
                 help: str | None = None, sort: bool = False, **kw: Any) -> argparse.Action:
    """--workload/-w ID: one of the registered workloads (repeatable unless told otherwise)."""
    from tinyperf.workloads.catalog import workload_arg  # any case; a typo gets "did you mean", not the usage

    ids = _workload_ids()
    flags = ("--workload", "-w") if short else ("--workload",)
    extra: dict[str, Any] = {"action": "append"} if repeatable else {}
    if required:
        extra["required"] = True
    kw.setdefault("metavar", "ID")
    return p.add_argument(*flags, type=workload_arg, **extra, **kw,
                          help=help or f"workload to run, repeatable ({', '.join(sorted(ids) if sort else ids)}); default: all")


def add_workload_positional(p: Parser, help: str | None = None, **kw: Any) -> argparse.Action:
    from tinyperf.workloads.catalog import workload_arg

    ids = _workload_ids()
    kw.setdefault("metavar", "WORKLOAD")
    return p.add_argument("workload", type=workload_arg, help=help or f"one of {', '.join(ids)}", **kw)


def add_models_dir(p: Parser, help: str | None = None) -> argparse.Action:
    return p.add_argument("--models-dir", metavar="DIR",
                          help=help or "folder of reference .tflite models (env TINYPERF_MODELS)")


def add_data_dir(p: Parser, help: str | None = None) -> argparse.Action:
    return p.add_argument("--data-dir", metavar="DIR",
                          help=help or "folder of EnergyRunner sets, one sub-folder per workload (env TINYPERF_DATA)")


def add_model(p: Parser, help: str | None = None) -> argparse.Action:
    return p.add_argument("--model", metavar="FILE", help=help or "benchmark this .tflite instead of the reference model")


def add_kernels(p: Parser, choices: Sequence[str] | None, help: str, **kw: Any) -> argparse.Action:
    """--kernels: `choices` come from the runners that declare them (never a list written here)."""
    return p.add_argument("--kernels", choices=list(choices) if choices is not None else None, help=help, **kw)


def add_threads(p: Parser, help: str | None = None) -> argparse.Action:
    return p.add_argument("--threads", type=positive_int, metavar="N", help=help or "interpreter threads (default 1)")


def add_min_window(p: Parser, default: float, help: str) -> argparse.Action:
    return p.add_argument("--min-window", type=window_seconds, default=default, metavar="S", help=help)


def add_out(p: Parser, help: str, short: bool = True, **kw: Any) -> argparse.Action:
    return p.add_argument(*(("--out", "-o") if short else ("--out",)), metavar="DIR", help=help, **kw)
