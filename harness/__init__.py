"""tinyperf harness: orchestration, modes, statistics, results and the CLI."""

__version__ = "0.1.0"
