"""Without labgrid, ports and URLs still work; a place says how to install labgrid."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.device_runners.serial import helpers as H

BLOCKED = ("import sys; sys.modules['labgrid'] = None; from tinyperf.cli import main; "
           "sys.exit(main(sys.argv[1:]))")


def test_lab_check_without_labgrid(models_dir, tmp_path) -> None:
    rig = H.rig(models_dir, "kws01")
    try:
        inv = tmp_path / "lab.yaml"
        inv.write_text(f"coordinator: 127.0.0.1:9\nboards:\n  - name: local\n    port: {rig.url}\n"
                       "  - name: shared\n    place: somewhere\n")
        proc = subprocess.run([sys.executable, "-c", BLOCKED, "lab", "check", str(inv), "--json"], cwd=H.REPO,
                              capture_output=True, text=True, timeout=120)
    finally:
        rig.close()
    assert proc.returncode == 1, proc.stderr
    rows = {r["board"]: r for r in json.loads(proc.stdout)}
    assert rows["local"]["reachable"] and rows["local"]["firmware"] == "kws01" and rows["local"]["ok"]
    assert not rows["shared"]["reachable"] and "labgrid is not installed" in rows["shared"]["note"]
    assert "pip install -e '.[lab]'" in rows["shared"]["note"]
