"""tinyperf harness: orchestration, modes, statistics, results and the CLI.

Public API: `load_run(path)` loads a run directory into pandas tables.
"""

__version__ = "0.1.0"

from harness.results import Run, load_run  # noqa: E402

__all__ = ["Run", "__version__", "load_run"]
