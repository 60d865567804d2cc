"""The typed journal in-process: one writer, one reader, every kind round-trips, bad lines never fatal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyperf.engine.journal import (JOURNAL, KINDS, CalibrationRecord, JournalWriter, Sample, Session, Skipped,
                                     WarningRecord, Window, confined, load_latencies, read_journal)

EXAMPLES = [
    Session(workload="kws01", mode="performance", describe={"runner": "host"}),
    CalibrationRecord(workload="kws01", mode="performance", n=100, warmup=10, pilot_n=8, pilot_elapsed_s=0.01),
    Window(workload="kws01", mode="performance", window=0, file="a.bin", n=100, warmup=10, elapsed_s=10.2,
           throughput_ips=9.8, latencies_file="latencies/kws01_w0.npy", extra={"retries": 0}),
    Sample(workload="kws01", mode="accuracy", file="a.bin", window=0, label=3, predicted=3, score=0.9,
           results=[0.1, 0.9]),
    Skipped(workload="ad01", mode="accuracy", reason="no sample set"),
    WarningRecord(workload="kws01", mode="energy", source="serial", message="buffer at 7 %"),
]


def test_every_kind_round_trips_through_one_writer_and_reader(tmp_path: Path) -> None:
    assert {type(r) for r in EXAMPLES} == set(KINDS.values())  # each registered kind is exercised
    writer = JournalWriter(tmp_path)
    for r in EXAMPLES:
        writer.write(r)
    writer.close()
    journal = read_journal(tmp_path)
    assert journal.records == EXAMPLES and journal.problems == []
    assert journal.done_windows("kws01", "performance") == {0}
    assert journal.done_samples("kws01") == {("a.bin", 0)}
    assert journal.calibration("kws01", "performance").n == 100
    assert journal.has_session("kws01", "performance") and journal.has_skip("ad01", "accuracy")
    assert journal.warnings("kws01", "energy") == ["buffer at 7 %"]


def test_a_torn_tail_is_cut_before_the_next_append(tmp_path: Path) -> None:
    writer = JournalWriter(tmp_path)
    writer.write(EXAMPLES[0])
    writer.close()
    with (tmp_path / JOURNAL).open("ab") as fh:
        fh.write(b'{"kind": "sample", "workl')
    assert read_journal(tmp_path).torn_tail == len(b'{"kind": "sample", "workl')
    writer = JournalWriter(tmp_path)
    assert writer.repaired_bytes == len(b'{"kind": "sample", "workl')
    writer.write(EXAMPLES[4])
    writer.close()
    journal = read_journal(tmp_path)
    assert journal.records == [EXAMPLES[0], EXAMPLES[4]] and journal.problems == []


def test_a_whole_last_record_without_its_newline_is_kept(tmp_path: Path) -> None:
    (tmp_path / JOURNAL).write_text(json.dumps(EXAMPLES[4].to_dict()))  # only the "\n" was lost
    writer = JournalWriter(tmp_path)
    assert writer.repaired_bytes == 0
    writer.write(EXAMPLES[0])
    writer.close()
    assert read_journal(tmp_path).records == [EXAMPLES[4], EXAMPLES[0]]


@pytest.mark.parametrize("line, why", [
    (b"[1, 2]", "a JSON list, not an object"), (b'"x"', "a JSON str, not an object"), (b"{}", "no 'kind'"),
    (b'{"kind": "x"}', "unknown kind 'x'"), (b'{"kind": "sample", "file": "\xff"}', "not UTF-8"),
    (b'{"kind": "skipped", "workload": "kws01", "mode": "accuracy"}', "without 'reason'"),
    (b'{"kind": "window", "workload": "kws01", "mode": "performance", "window": "0", "file": "a", "n": 1, '
     b'"warmup": 0, "elapsed_s": 1.0}', "'window' of a window record is str, not an integer"),
    (b"{truncated", "not JSON"),
])
def test_unusable_lines_are_counted_not_fatal(tmp_path: Path, line: bytes, why: str) -> None:
    good = json.dumps(EXAMPLES[0].to_dict()).encode()
    (tmp_path / JOURNAL).write_bytes(good + b"\n" + line + b"\n" + good + b"\n")
    journal = read_journal(tmp_path)
    assert journal.records == [EXAMPLES[0], EXAMPLES[0]]
    assert len(journal.problems) == 1 and journal.problems[0].startswith("line 2: ") and why in journal.problems[0]
    assert "1 unreadable line(s) skipped" in journal.problem_summary()


def test_journal_paths_stay_inside_the_run(tmp_path: Path) -> None:
    (tmp_path / "latencies").mkdir()
    np.save(tmp_path / "latencies" / "ok.npy", np.arange(5, dtype=np.uint32))
    np.save(tmp_path / "latencies" / "floats.npy", np.ones(3))
    assert confined(tmp_path, "latencies/ok.npy") == (tmp_path / "latencies" / "ok.npy").resolve()
    for bad in ("../x.npy", "/etc/passwd", "latencies/../../x.npy", "", None, 3):
        assert confined(tmp_path, bad) is None
    assert list(load_latencies(tmp_path, "latencies/ok.npy")) == [0, 1, 2, 3, 4]
    assert "not a path inside the run directory" in load_latencies(tmp_path, "../../etc/passwd")
    assert "not a 1-D integer array" in load_latencies(tmp_path, "latencies/floats.npy")
    (tmp_path / "latencies" / "text.npy").write_text("hello")
    assert "is not a .npy array" in load_latencies(tmp_path, "latencies/text.npy")
    assert "is missing" in load_latencies(tmp_path, "latencies/nope.npy")
