"""Runner discovery: the `tinyperf.runners` entry-point group (built-ins declared the same way)."""

from __future__ import annotations

import argparse

from tinyperf.core.errors import TinyperfError
from tinyperf.core.registry import Broken, Registry
from tinyperf.device_runners.base import Runner

GROUP = "tinyperf.runners"
RUNNERS: Registry[type[Runner]] = Registry(GROUP, "runner")


def available_runners() -> dict[str, type[Runner]]:
    """Every registered runner class by name; a plugin that fails to import is reported, not fatal."""
    out: dict[str, type[Runner]] = {}
    for name, cls in RUNNERS.load_all().items():
        if isinstance(cls, Broken):
            out[name] = _broken(name, cls.reason)
        elif not (isinstance(cls, type) and issubclass(cls, Runner)):
            out[name] = _broken(name, f"{RUNNERS.entries()[name].value} is not a tinyperf.Runner subclass")
        else:
            out[name] = cls
    return out


def get_runner(name: str) -> type[Runner]:
    cls = RUNNERS.load(name)
    if not (isinstance(cls, type) and issubclass(cls, Runner)):
        raise TinyperfError(None, f"runner '{name}' ({RUNNERS.entries()[name].value}) is not a tinyperf.Runner subclass",
                            "fix the package that provides it")
    reason = cls.availability()
    if reason:
        raise TinyperfError(None, f"runner '{name}' cannot run here: {reason}", None)
    return cls


def _default_first(runners: dict[str, type[Runner]], first: str) -> list[tuple[str, type[Runner]]]:
    return sorted(runners.items(), key=lambda item: item[0] != first)


def all_kernels(runners: dict[str, type[Runner]] | None = None, first: str = "host") -> list[str]:
    """Every kernel back-end some runner declares, in the order the runners (`first` first) declare them."""
    runners = available_runners() if runners is None else runners
    return list(dict.fromkeys(k for _, cls in _default_first(runners, first) for k in cls.kernels))


def kernels_help(runners: dict[str, type[Runner]] | None = None, first: str = "host") -> str:
    """Per runner, its back-ends and defaults, as the runners declare them (for `--kernels` help)."""
    runners = available_runners() if runners is None else runners
    parts = []
    for name, cls in _default_first(runners, first):
        if not cls.kernels:
            continue
        per_mode = cls.default_kernels
        if len(set(per_mode.values())) == 1:
            defaults = next(iter(per_mode.values()))
        else:
            defaults = ", ".join(f"{k} for {m}" for m, k in per_mode.items())
        parts.append(f"{name}: {'|'.join(cls.kernels)}" + (f" (default {defaults})" if defaults else ""))
    return "; ".join(parts)


def add_runner_options(parser: argparse.ArgumentParser, runners: dict[str, type[Runner]] | None = None) -> None:
    """Each runner's own options in a group of its own; a name two plugins both claim is an error naming both.

    Options the command itself defines (e.g. --threads) are already taken: a runner claiming one
    clashes with tinyperf. A runner that cannot be imported adds nothing (`tinyperf list runners` says why).
    """
    runners = available_runners() if runners is None else runners
    owner: dict[str, str] = {s: "tinyperf" for a in parser._actions for s in a.option_strings}
    declared: set = set()  # a subclass inheriting its parent's options shares them, it does not clash
    for name, cls in runners.items():
        func = getattr(cls.add_arguments, "__func__", cls.add_arguments)
        if func in declared:
            continue
        declared.add(func)
        probe = argparse.ArgumentParser(add_help=False)
        try:
            cls.add_arguments(probe.add_argument_group())
        except Exception as exc:  # a plugin's broken add_arguments is named, not ignored
            raise TinyperfError(None, f"runner '{name}' cannot declare its options: {exc}",
                                "fix or uninstall the package that provides it") from None
        for action in probe._actions:
            for opt in action.option_strings:
                if opt in owner:
                    raise TinyperfError(None, f"option {opt} is claimed by both runner '{name}' ({_where(name)}) "
                                        f"and {_who(owner[opt])}",
                                        "rename the option in one of the two plug-ins, or uninstall one")
                owner[opt] = name
        if probe._actions:
            cls.add_arguments(parser.add_argument_group(f"{name} runner"))


def _where(name: str) -> str:
    ep = RUNNERS.entries().get(name)
    return ep.value if ep else "?"


def _who(owner: str) -> str:
    return "tinyperf's own `run` options" if owner == "tinyperf" else f"runner '{owner}' ({_where(owner)})"


def _broken(name: str, reason: str) -> type[Runner]:
    class Broken(Runner):
        summary = f"(unavailable) {reason}"

        @classmethod
        def availability(cls) -> str | None:
            return reason

    Broken.name = name
    return Broken
