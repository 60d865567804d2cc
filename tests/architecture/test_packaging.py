"""What the distribution installs: one import package, `tinyperf`, and every sub-package of it."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib

from tests.architecture.layers import FOLDERS, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = set()
    for folder, name in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            on_disk.add(".".join((name, *init.parent.relative_to(ROOT / folder).parts)))
    assert on_disk == listed


def test_only_tinyperf_is_a_top_level_package() -> None:
    packages = PYPROJECT["tool"]["setuptools"]["packages"]
    assert {p.split(".")[0] for p in packages} == {"tinyperf"}
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {
        "tinyperf": "harness", "tinyperf.workloads": "workloads", "tinyperf.device_runners": "device_runners"}


def test_version_is_the_same_in_pyproject_and_the_package() -> None:
    from tinyperf.core.version import __version__

    assert PYPROJECT["project"]["version"] == __version__


def test_the_repository_folders_are_not_importable_by_their_own_names(tmp_path) -> None:
    for folder in FOLDERS:
        proc = subprocess.run([sys.executable, "-c", f"import {folder}"], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode != 0
        assert "pip install -e ." in proc.stderr or "No module named" in proc.stderr


def test_importing_a_workload_or_a_runner_loads_no_pandas_or_tensorflow() -> None:
    code = ("import sys, tinyperf.workloads.catalog, tinyperf.device_runners.serial.runner, "
            "tinyperf.device_runners.host, tinyperf\n"
            "bad = [m for m in ('pandas', 'pyarrow', 'tensorflow') if m in sys.modules]\n"
            "print(','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_public_api_is_lazy_and_complete() -> None:
    tinyperf = importlib.import_module("tinyperf")
    for name in ("load_run", "Run", "Runner", "RunnerConfig", "DeviceSession", "Inference", "__version__"):
        assert hasattr(tinyperf, name)
