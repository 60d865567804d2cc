"""Run `tinyperf` as a user would: in this process through `tinyperf.cli.main` (`run_cli`), or as
a fresh `python -m tinyperf.cli` process (`tinyperf`) where the process itself is under test
(signals, what gets imported, the console script, environment set before start-up)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

TINYPERF = [sys.executable, "-m", "tinyperf.cli"]


def tinyperf(*args: str | Path, cwd: Path | None = None, timeout: float = 600, env: dict | None = None
             ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([*TINYPERF, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=full_env)


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict | None = None, timeout: float | None = None,
            width: int = 200) -> subprocess.CompletedProcess[str]:
    """`tinyperf ARGS` in this process: `main()` with stdout/stderr captured, as `tinyperf()` returns them.

    Saves a Python start-up and the imports per call; `timeout` is accepted for symmetry (the
    commands bound their own waits). TINYPERF_TESTS_SUBPROCESS=1 runs a subprocess instead, to
    measure what that costs.
    """
    if os.environ.get("TINYPERF_TESTS_SUBPROCESS"):  # the old way, for comparing the suite's time
        return tinyperf(*args, cwd=cwd, env={**({"COLUMNS": str(width)}), **(env or {})}, timeout=timeout or 600)
    from tinyperf.cli import main
    from tinyperf.core.console import console, err_console

    if env and "COLUMNS" in env:  # the terminal width a subprocess would have been given
        width = int(env["COLUMNS"])
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    env = {"COLUMNS": str(width), **(env or {})}  # argparse's help wraps at $COLUMNS
    saved_env = {k: os.environ.get(k) for k in env}
    saved_width = (console._width, err_console._width)
    saved_cwd = Path.cwd()
    try:
        os.environ.update({k: str(v) for k, v in env.items()})
        console.width = err_console.width = width
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        os.chdir(saved_cwd)
        console._width, err_console._width = saved_width
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(["tinyperf", *argv], code, out.getvalue(), err.getvalue())


def only_run_dir(out: Path) -> Path:
    dirs = [d for d in out.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def rendered(renderable, width: int = 80) -> str:
    """What a terminal `width` columns wide shows for a rich renderable (plain text)."""
    import io

    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()
