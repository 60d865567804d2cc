"""How busy the machine is: recorded before and after host measurements, so a slow run can be explained.

A benchmark on a CPU shared with other programs measures them too (an ad01 run beside another
run: 39k instead of 194k inf/s). The load average lags by a minute and counts our own process, so
the verdict rests on a direct measurement: other processes' CPU time over a short interval
(/proc/<pid>/stat), plus the CPU frequency governor where the kernel exposes it (a `powersave`
governor and a `performance` one are different settings, not the same machine). Linux only; where
/proc is missing the snapshot says so and nothing is judged.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

#: other processes together using at least this share of one CPU make the machine "busy"
BUSY_CPU_PCT = 25.0
#: a process at or above this share of one CPU is listed by name
LIST_CPU_PCT = 5.0
SAMPLE_S = 0.25


def _cpu_ticks() -> dict[int, tuple[str, int]]:
    out: dict[int, tuple[str, int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.find("(") + 1:raw.rfind(")")]
        fields = raw[raw.rfind(")") + 2:].split()
        try:
            out[int(d.name)] = (name, int(fields[11]) + int(fields[12]))  # utime + stime
        except (IndexError, ValueError):
            continue
    return out


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def snapshot(sample_s: float = SAMPLE_S) -> dict[str, Any]:
    """Load average, CPUs, other busy processes (share of one CPU over `sample_s`), governor, frequency."""
    snap: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        snap["loadavg_1m"] = round(os.getloadavg()[0], 2)
    except OSError:
        snap["loadavg_1m"] = None
    governors = sorted({g for g in (_read(str(p)) for p in Path("/sys/devices/system/cpu").glob(
        "cpu[0-9]*/cpufreq/scaling_governor")) if g})
    snap["governor"] = ",".join(governors) or None
    freqs = [int(f) for f in (_read(str(p)) for p in Path("/sys/devices/system/cpu").glob(
        "cpu[0-9]*/cpufreq/scaling_cur_freq")) if f and f.isdigit()]
    snap["cpu_mhz"] = round(sum(freqs) / len(freqs) / 1000.0) if freqs else None
    if not Path("/proc/self/stat").exists():
        snap["busy_processes"] = None
        return snap
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    me = os.getpid()
    first = _cpu_ticks()
    t0 = time.monotonic()
    time.sleep(sample_s)
    second = _cpu_ticks()
    dt = time.monotonic() - t0
    busy = []
    for pid, (name, ticks) in second.items():
        if pid == me or pid not in first:
            continue
        pct = 100.0 * (ticks - first[pid][1]) / hz / dt
        if pct >= LIST_CPU_PCT:
            busy.append({"pid": pid, "name": name, "cpu_pct": round(pct, 1)})
    snap["busy_processes"] = sorted(busy, key=lambda p: -p["cpu_pct"])
    return snap


def is_busy(snap: dict[str, Any] | None) -> bool | None:
    """True when other processes used BUSY_CPU_PCT of a CPU or more; None when not measured."""
    if not snap or snap.get("busy_processes") is None:
        return None
    return sum(p.get("cpu_pct", 0.0) for p in snap["busy_processes"]) >= BUSY_CPU_PCT


def describe(snap: dict[str, Any]) -> str:
    """'2 other processes used 180 % of a CPU (yes 99 %, python3 81 %); load average 3.2 on 2 CPUs'."""
    procs = snap.get("busy_processes") or []
    total = sum(p.get("cpu_pct", 0.0) for p in procs)
    names = ", ".join(f"{p['name']} {p['cpu_pct']:.0f} %" for p in procs[:4]) + (", ..." if len(procs) > 4 else "")
    parts = [f"{len(procs)} other process{'es' if len(procs) != 1 else ''} used {total:.0f} % of a CPU"
             + (f" ({names})" if names else "")]
    if snap.get("loadavg_1m") is not None:
        parts.append(f"load average {snap['loadavg_1m']:g} on {snap.get('cpus')} CPUs")
    if snap.get("governor"):
        parts.append(f"governor {snap['governor']}")
    return "; ".join(parts)
