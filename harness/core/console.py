"""Shared rich consoles: tables and progress on stdout, problems on stderr."""

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
