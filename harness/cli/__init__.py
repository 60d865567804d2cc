"""`tinyperf` command line: one module per sub-command, each with `register(subparsers)`.

A sub-command module that is absent is simply not offered, so features land independently.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tinyperf.core.errors import TinyperfError

#: sub-command modules under tinyperf.cli, in `--help` order
COMMANDS = ("run", "show", "compare", "list", "bench", "datasets", "fetch", "predict", "devices", "lab", "emulate", "quantize",
            "profile", "submission")


def build_parser() -> argparse.ArgumentParser:
    from tinyperf.core.version import __version__

    parser = argparse.ArgumentParser(
        prog="tinyperf",
        description="Benchmark tiny ML models and hardware the MLPerf Tiny way: "
        "latency, throughput, accuracy and energy, with full provenance.",
        epilog="Start with `tinyperf run` (all four workloads on this machine). "
        "`tinyperf <command> --help` explains each command.",
    )
    parser.add_argument("--version", action="version", version=f"tinyperf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"tinyperf.cli.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name == f"tinyperf.cli.{name}_cmd":
                continue
            _register_broken(sub, name, exc)
            continue
        except ImportError as exc:
            _register_broken(sub, name, exc)
            continue
        module.register(sub)
    return parser


def _register_broken(sub: argparse._SubParsersAction, name: str, exc: Exception) -> None:
    """A command whose module fails to import must not take `tinyperf run` down with it."""
    p = sub.add_parser(name, help=f"(unavailable: {exc})", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)

    def handler(args: argparse.Namespace) -> int:
        raise TinyperfError(None, f"`tinyperf {name}` cannot start: {exc}",
                            "reinstall with `python -m pip install -e '.[dev]'`; if that does not help, report a bug")

    p.set_defaults(handler=handler)


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # an undecodable file name is printed as \xNN, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)  # an argument type may refuse a value with a TinyperfError (one line)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded with results
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except TinyperfError as exc:
        from tinyperf.core.console import err_console

        err_console.print(f"[bold red]error:[/] {exc.one_line()}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt as exc:
        from tinyperf.core.console import err_console

        terminated = getattr(exc, "exit_code", None)
        err_console.print("[yellow]terminated[/]" if terminated else "[yellow]interrupted[/]")
        return int(terminated or 130)  # 128 + the signal, as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
