"""Runner discovery through the `tinyperf.runners` entry-point group (built-ins included)."""

from __future__ import annotations

from importlib.metadata import entry_points

from tinyperf.device_runners.base import Runner
from tinyperf.core.errors import TinyperfError

GROUP = "tinyperf.runners"


def available_runners() -> dict[str, type[Runner]]:
    """Every registered runner class by name; a plugin that fails to import is reported, not fatal."""
    found: dict[str, type[Runner]] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken third-party plugin must not break the harness
            found[ep.name] = _broken(ep.name, f"{ep.value} failed to import: {exc}")
            continue
        found[ep.name] = cls
    return dict(sorted(found.items()))


def get_runner(name: str) -> type[Runner]:
    runners = available_runners()
    if name not in runners:
        raise TinyperfError(None, f"no runner named '{name}'",
                            f"use one of {', '.join(runners) or '(none installed)'}; "
                            "is the package installed (`pip install -e .`)?")
    cls = runners[name]
    reason = cls.availability()
    if reason:
        raise TinyperfError(None, f"runner '{name}' cannot run here: {reason}", None)
    return cls


def _broken(name: str, reason: str) -> type[Runner]:
    class Broken(Runner):
        summary = f"(unavailable) {reason}"

        @classmethod
        def availability(cls) -> str | None:
            return reason

    Broken.name = name
    return Broken
