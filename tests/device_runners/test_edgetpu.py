"""EdgeTPU runner: no EdgeTPU exists here, so only the delegate loader is a stand-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyperf.device_runners import RunnerConfig, available_runners
from tinyperf.device_runners.edgetpu import EdgeTPURunner, load_edgetpu_delegate
from tinyperf.core.errors import DeviceError
from tinyperf.core.modelfile import ModelFile
from tinyperf.workloads import KWS01, Dataset


def test_registered_and_says_why_it_cannot_run_here() -> None:
    assert available_runners()["edgetpu"] is EdgeTPURunner
    reason = EdgeTPURunner.availability()
    assert reason is None or "libedgetpu" in reason


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # LiteRT Delegate.__del__ after a failed load
def test_missing_runtime_is_a_clear_device_error() -> None:
    with pytest.raises(DeviceError, match="install Coral's libedgetpu runtime"):
        load_edgetpu_delegate("usb:0")


def test_everything_but_the_delegate_runs(models_dir: Path, data_dir: Path, monkeypatch) -> None:
    loaded = []

    def stand_in(device):  # where the real path returns libedgetpu's delegate
        loaded.append(device)
        return None

    monkeypatch.setattr(EdgeTPURunner, "delegate_loader", staticmethod(stand_in))
    monkeypatch.setattr("tinyperf.device_runners.edgetpu.EdgeTPUSession.__init__", _init_without_delegate)
    session = EdgeTPURunner().open(RunnerConfig(workload=KWS01, mode="accuracy", options={"edgetpu_device": "usb:0"},
                                                model=ModelFile(models_dir / KWS01.reference_model, "reference")))
    item = Dataset.open(KWS01, data_dir / "kws01").performance_items(1)[0]
    session.load(item.data)
    assert int(np.argmax(session.infer(1, 0).results)) == item.label
    d = session.describe()
    assert loaded == ["usb:0"] and d["runner"] == "edgetpu" and d["device"] == "EdgeTPU (usb:0)"


def _init_without_delegate(self, config, delegate):
    from tinyperf.device_runners.host import HostSession

    HostSession.__init__(self, config, delegates=None)
    self.device = config.options.get("edgetpu_device") or "default"
