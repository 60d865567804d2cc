"""One door for every extension: a named group of entry points, built-ins and plugins alike.

Runners, energy monitors, output formats and workloads are each an entry-point group; tinyperf's
own are declared in its pyproject.toml exactly as a third-party package declares its own, so a
plugin is never second-class. A plugin that fails to import is reported by name, never fatal to
the rest.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint, distributions
from typing import Any, Generic, TypeVar

from tinyperf.core.errors import TinyperfError

T = TypeVar("T")

#: sys.path -> group -> its entry points: reading every distribution's metadata costs tens of ms
#: (hundreds of distributions beside TensorFlow), and one command asks several registries
_SCANS: dict[tuple[str, ...], dict[str, list[EntryPoint]]] = {}


def _group(group: str) -> list[EntryPoint]:
    """Entry points of `group`, read once per sys.path (a path added later, e.g. by a test, is read anew)."""
    key = tuple(sys.path)
    scan = _SCANS.get(key)
    if scan is None:
        scan = {}
        seen: set[str] = set()
        for dist in distributions():  # as entry_points() does: the first distribution of a name on sys.path wins
            name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
            if name in seen:
                continue
            seen.add(name)
            for ep in dist.entry_points:
                scan.setdefault(ep.group, []).append(ep)
        _SCANS.clear()  # only the current path matters
        _SCANS[key] = scan
    return scan.get(group, [])


@dataclass(frozen=True)
class Broken:
    """Stands in for a plugin that could not be loaded, saying why."""

    name: str
    reason: str


class Registry(Generic[T]):
    """The entry points of `group`, loaded lazily (importing a plugin may be costly)."""

    def __init__(self, group: str, kind: str) -> None:
        self.group = group
        self.kind = kind  # "runner", "energy monitor", ... for messages

    def entries(self) -> dict[str, EntryPoint]:
        found: dict[str, EntryPoint] = {}
        for ep in _group(self.group):
            found.setdefault(ep.name, ep)  # the first distribution wins; duplicates are reported by clashes()
        return dict(sorted(found.items()))

    def clashes(self) -> dict[str, list[str]]:
        """Names registered by more than one distribution: name -> the entry points' values."""
        seen: dict[str, list[str]] = {}
        for ep in _group(self.group):
            seen.setdefault(ep.name, []).append(ep.value)
        return {n: v for n, v in seen.items() if len(set(v)) > 1}

    def names(self) -> list[str]:
        return list(self.entries())

    def _clash(self, name: str, clashes: dict[str, list[str]]) -> str | None:
        if name not in clashes:
            return None
        return (f"the name '{name}' is registered by two packages ({' and '.join(dict.fromkeys(clashes[name]))}); "
                "uninstall one, or rename its entry point")

    def load(self, name: str) -> T:
        entries = self.entries()
        if name not in entries:
            raise TinyperfError(None, f"no {self.kind} named '{name}'",
                                f"use one of {', '.join(entries) or '(none installed)'}; "
                                "is the package that provides it installed (`pip install -e .`)?")
        clash = self._clash(name, self.clashes())
        if clash:
            raise TinyperfError(None, f"{self.kind} '{name}': {clash}", None)
        try:
            return entries[name].load()
        except Exception as exc:  # a broken plugin is named, with its own error
            raise TinyperfError(None, f"{self.kind} '{name}' ({entries[name].value}) failed to import: {exc}",
                                "reinstall or fix the package that provides it") from None

    def load_all(self) -> dict[str, T | Broken]:
        """Every entry loaded; one that fails to import becomes a `Broken` naming the error."""
        out: dict[str, Any] = {}
        clashes = self.clashes()
        for name, ep in self.entries().items():
            clash = self._clash(name, clashes)
            if clash:  # which one would win is an accident of sys.path order: use neither
                out[name] = Broken(name, clash)
                continue
            try:
                out[name] = ep.load()
            except Exception as exc:  # a broken third-party plugin must not break the harness
                out[name] = Broken(name, f"{ep.value} failed to import: {exc}")
        return out
