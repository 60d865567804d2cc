"""`tinyperf datasets build|check` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyperf.cli import main
from tests.harness.cli_helpers import run_cli as tinyperf


def test_build_then_check_kws01(raw_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "kws01"
    r = tinyperf("datasets", "build", "kws01", "--from", raw_dir / "speech_commands_kws01", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "wrote 1000 files + y_labels.csv" in r.stdout and "silence" in r.stdout
    assert (out / "y_labels.csv").read_text() == (data_dir / "kws01" / "y_labels.csv").read_text()
    r = tinyperf("datasets", "check", out)
    assert r.returncode == 0, r.stderr
    assert "kws01 set" in r.stdout and f"OK: {out}: 1000 files" in r.stdout


def test_build_ad01_in_process_and_check_infers_the_workload(raw_dir: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "build", "ad01", "--from", str(raw_dir / "toycar"), "--out", str(tmp_path / "ad")]) == 0
    assert "wrote 3 files" in capsys.readouterr().out
    assert main(["datasets", "check", str(tmp_path / "ad")]) == 0
    out = capsys.readouterr().out
    assert "ad01 set" in out and "(588 inferences)" in out
    assert main(["datasets", "build", "ad01", "--from", str(raw_dir / "toycar"), "--out", str(tmp_path / "ad")]) == 2
    assert "--overwrite" in " ".join(capsys.readouterr().err.split())


def test_check_reports_a_broken_set(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "y_labels.csv").write_text("a.bin,10,3\n")
    r = tinyperf("datasets", "check", tmp_path)
    assert r.returncode == 2 and "a.bin" in r.stderr and "Traceback" not in r.stderr


def test_empty_source_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = tinyperf("datasets", "build", "vww01", "--from", tmp_path / "empty", "--out", tmp_path / "out")
    err = " ".join(r.stderr.split())
    assert r.returncode == 2 and "holds no vww01 images" in err and "Fix:" in err and "Traceback" not in r.stderr
