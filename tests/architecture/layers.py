"""The layers of tinyperf, as data, and a reader of each module's imports.

A module may import its own layer and the layers below it. Imports under `if TYPE_CHECKING:` are
annotations only and do not count; imports inside functions do (they run).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: repository folder -> the import package it is installed as
FOLDERS = {"harness": "tinyperf", "workloads": "tinyperf.workloads", "device_runners": "tinyperf.device_runners"}

#: bottom first; each entry is a layer: the packages in it
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("floor", ("tinyperf.core",)),
    ("workloads", ("tinyperf.workloads",)),
    ("runners", ("tinyperf.device_runners",)),
    ("fetch", ("tinyperf.fetch", "tinyperf.firmware")),
    ("engine", ("tinyperf.engine",)),
    ("outputs", ("tinyperf.outputs",)),
    ("tools", ("tinyperf.quantize", "tinyperf.bench", "tinyperf.op_profile", "tinyperf.vela", "tinyperf.lab", "tinyperf.pytest_plugin")),
    ("cli", ("tinyperf.cli",)),
]


def layer_of(module: str) -> int | None:
    """Index of the layer holding `module`; the root package `tinyperf` itself is None."""
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for i, (_, packages) in enumerate(LAYERS):
        for pkg in packages:
            if module == pkg or module.startswith(pkg + "."):
                if best is None or len(pkg) > best[0]:
                    best = (len(pkg), i)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = list(rel.with_suffix("").parts)
    parts[0] = FOLDERS[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    out = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            out[module_name(path)] = path
    return out


@dataclass(frozen=True)
class Import:
    target: str
    line: int
    top_level: bool  # at module level (runs on import) rather than inside a function


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def imports_of(source: str, module: str, is_package: bool) -> list[Import]:
    """tinyperf modules imported by `source` (relative imports resolved)."""
    found: list[Import] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub, top)
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    pkg = module.split(".") if is_package else module.split(".")[:-1]
                    pkg = pkg[: len(pkg) - (child.level - 1)]
                    base = ".".join(pkg + ([base] if base else []))
                found.append(Import(base, child.lineno, top))
                for a in child.names:  # `from tinyperf.core import config` imports tinyperf.core.config
                    found.append(Import(f"{base}.{a.name}", child.lineno, top))
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, inner)

    visit(ast.parse(source), True)
    return [i for i in found if i.target == "tinyperf" or i.target.startswith("tinyperf.")]


def violations(mods: dict[str, Path] | None = None,
               sources: dict[str, str] | None = None) -> list[str]:
    """Every import of a higher layer, as 'file:line: module (layer) imports target (layer)'."""
    mods = modules() if mods is None else mods
    names = set(modules())
    out: list[str] = []
    for name, path in mods.items():
        src = sources[name] if sources and name in sources else path.read_text()
        mine = layer_of(name)
        for imp in imports_of(src, name, path.name == "__init__.py"):
            target = imp.target
            while target not in names and "." in target:  # `from pkg import function`
                target = target.rsplit(".", 1)[0]
            theirs = layer_of(target)
            if theirs is None:  # the root package: its __init__ is lazy and re-exports only
                continue
            if mine is None:  # the root may import only the floor eagerly
                if imp.top_level and theirs != 0:
                    out.append(f"{path.relative_to(ROOT)}:{imp.line}: tinyperf imports {target} at import time")
                continue
            if theirs > mine:
                out.append(f"{path.relative_to(ROOT)}:{imp.line}: {name} ({LAYERS[mine][0]}) imports "
                           f"{target} ({LAYERS[theirs][0]})")
    return list(dict.fromkeys(out))


def cycles(mods: dict[str, Path] | None = None) -> list[list[str]]:
    """Import cycles among module-level imports (those that run when a module is imported)."""
    mods = modules() if mods is None else mods
    names = set(mods)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for imp in imports_of(path.read_text(), name, path.name == "__init__.py"):
            if not imp.top_level:
                continue
            target = imp.target
            while target not in names and "." in target:
                target = target.rsplit(".", 1)[0]
            # a package's own __init__ importing its submodules is not a cycle worth reporting
            if target != name and target in names and not name.startswith(target + "."):
                deps.add(target)
        graph[name] = deps
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            if state.get(d) == 1:
                found.append(stack[stack.index(d):] + [d])
            elif d not in state:
                dfs(d)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            dfs(n)
    return found
