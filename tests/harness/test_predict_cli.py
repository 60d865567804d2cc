"""`tinyperf predict`: raw input -> official front-end -> reference model -> class (or anomaly score)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tinyperf.cli import main
from tests.harness.cli_helpers import run_cli as tinyperf


def _json(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> list[dict]:
    assert main(["predict", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_yes_clip_prints_yes(raw_dir: Path, models_dir: Path) -> None:
    """Acceptance, through the console script exactly as a user types it."""
    r = tinyperf("predict", "kws01", raw_dir / "speech_misc" / "yes_1000ms.wav", "--models-dir", models_dir)
    assert r.returncode == 0, r.stderr
    assert "yes_1000ms.wav: yes (probability 0.99" in r.stdout
    assert "top-3" in r.stdout and "kws_ref_model.tflite" in r.stdout


def test_labelled_speech_clips_are_classified(raw_dir: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clips = sorted((raw_dir / "speech_misc").glob("test_*.wav"))
    labelled = {c: c.stem.removeprefix("test_").strip("_") for c in clips if c.stem != "test_tone"}
    assert len(labelled) == 12
    predictions = _json(capsys, "kws01", *labelled, "--models-dir", models_dir)
    got = {Path(p["file"]): p["class"] for p in predictions}
    assert got == labelled  # every one of the 12 classes, right
    assert all(0.5 < p["probability"] <= 1.0 and len(p["top"]) == 3 for p in predictions)


def test_several_files_print_one_table(raw_dir: Path, models_dir: Path) -> None:
    files = [raw_dir / "speech_misc" / n for n in ("test_go.wav", "test_stop.wav", "silence_1000ms.wav")]
    r = tinyperf("predict", "kws01", *files, "--models-dir", models_dir)
    assert r.returncode == 0, r.stderr
    assert "kws01 predictions" in r.stdout
    for f, cls in zip(files, ("go", "stop")):
        line = next(l for l in r.stdout.splitlines() if f.name in l)
        assert f" {cls} " in line


def test_bin_sample_and_raw_clip_agree(raw_dir: Path, data_dir: Path, models_dir: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    wav = raw_dir / "speech_commands_kws01" / "tst_000007_Yes_9.wav"
    from_wav, from_bin = _json(capsys, "kws01", wav, data_dir / "kws01" / "tst_000007_Yes_9.bin", "--models-dir", models_dir)
    assert from_wav["class"] == from_bin["class"] == "yes"


def test_ad01_anomaly_score_of_a_recording(raw_dir: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wavs = sorted((raw_dir / "toycar").glob("*_id_*.wav"))
    bins = [w.with_name(f"{w.stem}_hist_librosa.bin") for w in wavs]
    scores = _json(capsys, "ad01", *wavs, *bins, "--models-dir", models_dir)
    assert all(s["windows"] == 196 and s["anomaly_score"] > 0 for s in scores)
    for raw, official in zip(scores[:len(wavs)], scores[len(wavs):]):  # our features vs the official ones
        assert raw["anomaly_score"] == pytest.approx(official["anomaly_score"], rel=1e-3)
    r = tinyperf("predict", "ad01", wavs[0], "--models-dir", models_dir)
    assert r.returncode == 0 and "anomaly score" in r.stdout and wavs[0].name in r.stdout


def test_image_workloads(raw_dir: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cifar = {raw_dir / "cifar10" / n: c for n, c in (("cifar10_00_3.png", "cat"), ("cifar10_01_8.png", "ship"),
                                                       ("0062_frog_bullfrog_s_000196.png", "frog"))}
    assert {Path(p["file"]): p["class"] for p in _json(capsys, "ic01", *cifar, "--models-dir", models_dir)} == cifar
    photos = sorted((raw_dir / "coco").glob("*.jpg"))
    vww = _json(capsys, "vww01", *photos, "--models-dir", models_dir)
    assert [p["class"] for p in vww] and all(p["class"] in ("person", "no person") for p in vww)
    assert all(len(p["top"]) == 2 for p in vww)


def _one_clear_line(returncode: int, stderr: str, *needles: str) -> None:
    assert returncode == 2, stderr
    err = " ".join(stderr.split())
    assert err.startswith("error: ") and "Traceback" not in stderr and "Fix:" in err, stderr
    for n in needles:
        assert n in err, (n, err)


def test_stereo_input_is_one_clear_line_from_the_console_script(raw_dir: Path, models_dir: Path) -> None:
    stereo = raw_dir / "speech_misc" / "marvin_617de221_0.wav"
    r = tinyperf("predict", "kws01", stereo, "--models-dir", models_dir)
    _one_clear_line(r.returncode, r.stderr, stereo.name, "2 channels", "-ac 1")


def test_bad_inputs_are_one_clear_line(raw_dir: Path, models_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    def check(workload: str, path: Path, *needles: str, models: Path = models_dir) -> None:
        code = main(["predict", workload, str(path), "--models-dir", str(models)])
        _one_clear_line(code, capsys.readouterr().err, *needles)

    bad_wav = tmp_path / "broken.wav"
    bad_wav.write_bytes(b"RIFF0000WAVE")
    check("kws01", bad_wav, "broken.wav", "not a readable WAV")
    bad_img = tmp_path / "broken.png"
    bad_img.write_bytes((raw_dir / "cifar10" / "cifar10_00_3.png").read_bytes()[:60])
    check("ic01", bad_img, "broken.png", "corrupt or truncated")
    short = tmp_path / "short.bin"
    short.write_bytes(b"\x00" * 100)
    check("kws01", short, "short.bin", "a kws01 sample is 490 bytes")
    check("kws01", raw_dir / "cifar10" / "cifar10_00_3.png", "not a raw input the kws01 front-end reads")
    check("kws01", tmp_path / "absent.wav", "absent.wav", "no such audio file")
    (tmp_path / "models").mkdir()
    check("kws01", raw_dir / "speech_misc" / "test_yes.wav", "kws_ref_model.tflite", "reference model not found",
          models=tmp_path / "models")


def test_resampled_input_is_classified_with_a_warning(raw_dir: Path, models_dir: Path, tmp_path: Path) -> None:
    import numpy as np
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    rate, pcm = wavfile.read(raw_dir / "speech_misc" / "test_left.wav")
    wavfile.write(tmp_path / "left_44k.wav", 44100,
                  np.clip(resample_poly(pcm.astype(float), 441, 160), -32768, 32767).astype(np.int16))
    r = tinyperf("predict", "kws01", tmp_path / "left_44k.wav", "--models-dir", models_dir)
    assert r.returncode == 0, r.stderr
    assert "left (probability" in r.stdout
    warn = " ".join(r.stderr.split())
    assert "warning:" in warn and "left_44k.wav" in warn and "44100 Hz; resampled to 16000 Hz" in warn


def test_model_option_overrides_the_reference(raw_dir: Path, models_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "mine.tflite"
    shutil.copy(models_dir / "kws_ref_model_float32.tflite", model)
    (p,) = _json(capsys, "kws01", raw_dir / "speech_misc" / "test_up.wav", "--model", model)
    assert p["class"] == "up"
