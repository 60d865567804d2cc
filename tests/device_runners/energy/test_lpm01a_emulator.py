"""The LPM01A emulator's own protocol behaviour, and `tinyperf emulate lpm01a` as a process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tinyperf.device_runners.emulators.clock import EmulatedClock
from tinyperf.device_runners.emulators.lpm01a import LPM01AEmulator
from tinyperf.device_runners.energy.lpm01a import LPM01A, LPM01AResource, parse_values

REPO = Path(__file__).resolve().parents[3]


class Wire:
    """Collects what the emulator sends, as the host would read it."""

    def __init__(self) -> None:
        self.data = b""

    def __call__(self, data: bytes) -> None:
        self.data += data

    def text(self) -> str:
        return self.data.decode("ascii")


@pytest.fixture
def emu():
    clock = EmulatedClock(follow_wall=False)
    emulator = LPM01AEmulator(clock, 5.0, 1800, values_per_line=4)
    wire = Wire()
    emulator.emit = wire
    yield clock, emulator, wire
    emulator.close()


def start(emulator: LPM01AEmulator) -> None:
    for cmd in ("htc", "eventsrc d7 fal", "output energy", "format ascii_dec", "freq 1k", "volt 1800m",
                "pwr on nostatus", "start"):
        emulator.receive(cmd.encode() + b"\r\n")


def test_acks_prompt_and_errors(emu):
    _, emulator, wire = emu
    emulator.receive(b"htc\n")
    emulator.receive(b'lcd 1 "far too long for the lcd"\r')
    emulator.receive(b"frobnicate\n")
    text = wire.text()
    assert text.startswith("ack htc\r\nPowerShield > ")
    assert 'error lcd 1 "far too long for the lcd"\r\nError detail: string longer than 16 characters' in text
    assert "error frobnicate\r\nError detail: unknown command 'frobnicate', type help" in text


def test_help_lists_the_command_set(emu):
    _, emulator, wire = emu
    emulator.receive(b"help\n")
    for cmd in ("powershield", "version", "status", "htc", "hrc", "lcd", "psrst", "volt", "freq", "acqtime",
                "output", "format", "trigsrc", "trigdelay", "pwr", "eventsrc", "start", "stop"):
        assert re.search(rf"^{cmd}\b", wire.text(), re.M), cmd


def test_stream_places_events_and_status_lines(emu):
    clock, emulator, wire = emu
    start(emulator)
    t0 = emulator.acquisition_start_us
    emulator.event_at(t0 + 1_234_400)  # -> position 1234
    emulator.event_at(t0 + 2_000_000)  # -> position 2000, right after the second status line
    clock.advance_us(2_500_000)
    emulator.receive(b"stop\n")
    lines = wire.text().split("ack start\r\n", 1)[1].split("\r\n")
    count, marks = 0, []
    for line in lines:
        if line.startswith("event") or line.startswith("TimeStamp"):
            marks.append((line, count))
        elif line and line[0].isdigit():
            count += len(parse_values(line))
    assert count == 2500 == emulator.stats.samples
    assert marks == [("TimeStamp: 001s 000ms, buff 00%", 1000), ("event 00 ris", 1234),
                     ("TimeStamp: 002s 000ms, buff 00%", 2000), ("event 01 ris", 2000)]
    assert "ack stop\r\n" in wire.text() and wire.text().endswith("Acquisition completed\r\nPowerShield > ")


def test_an_event_goes_out_with_its_samples_before_event_at_returns(emu):
    """The MLPerf Tiny runner reads the monitor as soon as `infer` returns: the window must be there."""
    clock, emulator, wire = emu
    start(emulator)
    t0 = emulator.acquisition_start_us
    emulator.event_at(t0 + 300_000)
    clock.advance_us(1_200_000)
    emulator.event_at(t0 + 1_500_000)
    tail = wire.text().split("ack start\r\n", 1)[1]
    assert tail.rstrip().endswith("event 01 ris")  # sent at once, no wait for the emitter thread
    before = tail.split("event 01 ris")[0]
    values = sum(len(parse_values(line)) for line in before.split("\r\n") if line[:1].isdigit())
    assert values == 1500


def test_pwr_off_is_accepted_while_acquiring(emu):
    """The official runner switches the DUT off before `stop`, as the real firmware allows."""
    clock, emulator, wire = emu
    start(emulator)
    emulator.receive(b"pwr off\n")
    assert "ack pwr off\r\n" in wire.text() and emulator.acquiring and not emulator.powered
    clock.advance_us(5_000)
    emulator.receive(b"stop\n")
    assert wire.text().endswith("Acquisition completed\r\nPowerShield > ")


def test_configuration_is_refused_while_acquiring(emu):
    _, emulator, wire = emu
    start(emulator)
    emulator.receive(b"freq 10k\n")
    assert "error freq 10k\r\nError detail: acquisition in progress, send stop first" in wire.text()


def test_start_needs_the_energy_configuration(emu):
    _, emulator, wire = emu
    emulator.receive(b"start\n")  # still output current, freq 100
    assert "error start\r\nError detail: this emulator streams only output energy" in wire.text()


def test_no_events_without_an_event_source(emu):
    clock, emulator, wire = emu
    for cmd in ("output energy", "freq 1k", "start"):
        emulator.receive(cmd.encode() + b"\n")
    emulator.event_at(emulator.acquisition_start_us + 5000)
    clock.advance_us(10_000)
    emulator.receive(b"stop\n")
    assert "event" not in wire.text() and emulator.stats.events == 0


def test_emulate_lpm01a_command_runs_until_interrupted(tmp_path):
    """`add_lpm01a_subcommand` wired into an argparse tree, run as a process like `tinyperf emulate lpm01a`."""
    script = ("import argparse, sys\n"
              "from tinyperf.device_runners.emulators.lpm01a import add_lpm01a_subcommand\n"
              "p = argparse.ArgumentParser(prog='tinyperf emulate')\n"
              "add_lpm01a_subcommand(p.add_subparsers(dest='device'))\n"
              "a = p.parse_args(sys.argv[1:])\n"
              "sys.exit(a.handler(a))\n")
    proc = subprocess.Popen([sys.executable, "-c", script, "lpm01a", "--power-mw", "2.0", "--voltage-mv", "3000",
                             "--tcp", "0", "--pulse-every", "0.3"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        line = proc.stdout.readline()
        m = re.search(r"on (socket://127\.0\.0\.1:\d+) \(2\.0 mW at 3000 mV, firmware 1\.0\.6\)", line)
        assert m, line + proc.stderr.read()
        with LPM01A(LPM01AResource(m[1])) as monitor:
            monitor.start(3000)
            monitor.wait_for_events(2, timeout=10)
            w = monitor.window(0, 1)
            assert w.duration_s == pytest.approx(0.3, abs=0.1)
            assert w.average_power_w * 1e3 == pytest.approx(2.0, rel=0.01)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
