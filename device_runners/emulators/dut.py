"""A virtual MLPerf Tiny DUT: the EEMBC test-harness firmware, quirks included.

It behaves as the reference firmware does, byte for byte where a host could notice:
- commands end with `%`; the command buffer holds 80 characters, and characters past the 80th
  land in one spare slot that the terminator then overwrites, so an over-long command is cut
  to its first 80 characters without any error; a stray CR/LF is part of the next command
  (-> `e-[Unknown command: ...]`, printed with the CR/LF inside it);
- tokens are split on single or repeated spaces; numbers are read like C's atoi;
- `db load N`: `m-[Expecting N bytes]`, or for N above the buffer the bare
  `Supplied buffer size N exceeds maximum of M` (ended by LF only) while still accepting N;
  `db <hex>` answers nothing until the N-th byte (`m-load-done`), ignores digits after it,
  `e-[Insufficent number of hex digits]` (sic) for an odd count, `e-[Invalid hex digit 'xx']`
  (bytes before the bad pair are already stored); `db print` prints the buffer 8 bytes a line
  and, when its size is not a multiple of 8, one extra empty line;
- `infer` defaults to N=1 and W=10; a short buffer prints `Input db has N elemented, expected M`
  (LF only) and infers on the previous input, as the reference does;
- results: kws01 truncated to 3 decimals, vww01 `%0.3f` with the trailing comma, ic01 `%0.3f`,
  ad01 the window MSE with 6 decimals (`--result-format` chooses others);
- boot banner `m-timestamp-mode-<mode>`, one timestamp, `m-init-done`, `m-ready` (ad01 adds
  `Initialized`, as its reference firmware does).

Outputs come from the real model on LiteRT's reference kernels (= TFLite Micro's arithmetic)
through `Workload.decode`/`postprocess`, so the DUT reports what the host runner computes.
Time comes from an `EmulatedClock` advanced by `us_per_inference` per inference: a 10 s window
costs no wall time, and the two window timestamps differ by exactly N x us_per_inference. With
`realtime=True` the firmware instead sleeps for the emulated compute time (the clock follows the
wall), so a host that checks wall-clock time (the official MLPerf Tiny runner) sees a 10 s window
take 10 s; the timestamps still differ by exactly N x us_per_inference.
`m-lap-us` is the clock masked to 32 bits. In energy mode timestamps print nothing and call the
`on_timestamp(clock_us)` listeners instead (an energy-monitor emulator subscribes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinyperf.device_runners.emulators.clock import EmulatedClock
from tinyperf.device_runners.emulators.faults import FaultPlan
from tinyperf.workloads.spec import Workload

CMD_SIZE = 80
FW_VERSION = "ULPMark for tinyML Firmware V0.0.1"
DEFAULT_VENDOR = "tinyperf emulator"
RESULT_FORMATS = ("reference", "fixed3", "fixed6", "truncated3")
LAP_MASK = 0xFFFFFFFF
HELP_LINES = (FW_VERSION, "", "help         : Print this information", "name         : Print the name of the device",
              "timestsamp   : Generate a timetsamp", "db SUBCMD    : Manipulate a generic byte buffer",
              "  load N     : Allocate N bytes and set load counter", "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes",
              "  print [N=16] [offset=0]", "             : Print N bytes at offset as hex",
              "infer N [W=0]: Load input, execute N inferences after W warmup loops",
              "results      : Return the result fp32 vector")


def atoi(text: str) -> int:
    """C atoi: optional blanks and sign, then digits up to the first non-digit (0 if none)."""
    s = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    digits = ""
    for ch in s:
        if not ch.isdigit() or not ch.isascii():
            break
        digits += ch
    value = sign * int(digits) if digits else 0
    return ((value + 2**31) % 2**32) - 2**31  # int overflow wraps like a 32-bit int


def format_results(workload_id: str, values: np.ndarray, style: str = "reference") -> str:
    """The text inside `m-results-[...]`, as the firmware for `workload_id` prints it."""
    v32 = [np.float32(x) for x in np.asarray(values).reshape(-1)]
    if style == "reference":
        style = {"kws01": "truncated3", "ad01": "fixed6"}.get(workload_id, "fixed3")
    if style == "truncated3":
        # the KWS reference avoids %f: "0.%d" of int(v*10), then the next two digits, in float math
        parts = [f"0.{int(v * np.float32(10))}{int(v * np.float32(100)) % 10}{int(v * np.float32(1000)) % 10}"
                 for v in v32]
    else:
        fmt = "%0.3f" if style == "fixed3" else "%f"
        parts = [fmt % float(v) for v in v32]
    if workload_id == "vww01":  # the reference loops to nresults=3 for 2 classes: trailing comma
        return "".join(p + "," for p in parts)
    return ",".join(parts)


class DutFirmware:
    """The firmware's command interpreter; bytes in through `receive`, out through `emit`."""

    def __init__(self, workload: Workload, model_path: str | Path, *, clock: EmulatedClock | None = None,
                 us_per_inference: float | None = None, mode: str = "performance", vendor: str = DEFAULT_VENDOR,
                 result_format: str = "reference", faults: FaultPlan | None = None,
                 model_id: str | None = None, realtime: bool = False):
        from tinyperf.device_runners.host import LiteRTModel

        if mode not in ("performance", "energy"):
            raise ValueError(f"mode must be performance or energy, not {mode!r}")
        if result_format not in RESULT_FORMATS:
            raise ValueError(f"result format must be one of {RESULT_FORMATS}")
        self.workload = workload
        self.model = LiteRTModel(model_path, "reference", 1)
        if int(np.prod(self.model.input_shape)) != workload.input_size:
            raise ValueError(f"{model_path} does not take {workload.id}'s input {list(workload.input_shape)}")
        self.clock = clock or EmulatedClock()
        if us_per_inference is None:
            us_per_inference = workload.published.get("latency_ms", 10.0) * 1000.0
        self.us_per_inference = float(us_per_inference)
        self.realtime = realtime
        self.mode = mode
        self.vendor = vendor
        self.model_id = model_id or workload.id
        self.result_format = result_format
        self.faults = faults or FaultPlan()
        self.input_bytes = workload.upload_bytes
        self.element_size = np.dtype(workload.encoding.dtype).itemsize
        self.emit: Callable[[bytes], None] = lambda data: None
        self._listeners: list[Callable[[int], None]] = []
        self._lock = threading.RLock()
        self.commands = 0
        self.boots = 0
        self.lap_values: list[int] = []  # every m-lap-us value printed (for tests)
        self._power_on()

    # -- state -------------------------------------------------------------------------------
    def _power_on(self) -> None:
        self._cmd = bytearray(CMD_SIZE + 1)
        self._pos = 0
        self.buffer = bytearray(self.input_bytes)  # gp_buff[MAX_DB_INPUT_SIZE]
        self.buff_size = 0
        self.buff_pos = 0
        self.parser_enabled = False
        self._real_input = np.zeros(self.workload.input_shape, dtype=np.float32)
        self.model.set_input(self.model.quantize_input(self._real_input))  # a zeroed arena after reset
        self._tensor_stale = True
        self._output: np.ndarray | None = None
        self._out_pending = bytearray()

    def add_timestamp_listener(self, listener: Callable[[int], None]) -> None:
        """`listener(clock_us)` runs at every energy-mode timestamp pulse (the GPIO edge)."""
        self._listeners.append(listener)

    on_timestamp = add_timestamp_listener

    # -- output ------------------------------------------------------------------------------
    def _print(self, text: str) -> None:
        """th_printf: whole lines go out at once (the wire then times them byte by byte)."""
        self._out_pending += text.encode("latin-1")
        if text.endswith("\n"):
            self._flush()

    def _flush(self) -> None:
        if self._out_pending:
            data = bytes(self._out_pending)
            self._out_pending.clear()
            self.emit(self.faults.tx(data))

    # -- boot --------------------------------------------------------------------------------
    def boot(self) -> None:
        """ee_benchmark_initialize: banner, one timestamp, init-done, ready."""
        with self._lock:
            self.boots += 1
            self._print(f"m-timestamp-mode-{self.mode}\r\n")
            self._timestamp()
            if self.workload.id == "ad01":
                self._print("Initialized\r\n")
            self._print("m-init-done\r\n")
            self.parser_enabled = True
            self._print("m-ready\r\n")

    def reset(self) -> None:
        """A reset: the loaded input, results and partial command are gone; the banner comes again."""
        with self._lock:
            self._power_on()
            self.boot()

    # -- input -------------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        """ee_serial_callback for each byte: assemble, dispatch on `%`."""
        data = self.faults.rx(data)
        with self._lock:
            start = 0
            while start < len(data):
                end = data.find(b"%", start)
                segment = data[start:] if end < 0 else data[start:end]
                self._assemble(segment)
                if end < 0:
                    break
                command = bytes(self._cmd[:self._pos])
                self._pos = 0
                self._dispatch(command.decode("latin-1"))
                start = end + 1

    def _assemble(self, segment: bytes) -> None:
        if not segment:
            return
        room = CMD_SIZE - self._pos
        if len(segment) <= room:
            self._cmd[self._pos:self._pos + len(segment)] = segment
            self._pos += len(segment)
            return
        if room > 0:
            self._cmd[self._pos:CMD_SIZE] = segment[:room]
            self._pos = CMD_SIZE
        self._cmd[CMD_SIZE] = segment[-1]  # the spare slot, overwritten by every further character

    # -- commands ----------------------------------------------------------------------------
    def _dispatch(self, command: str) -> None:
        if not self.parser_enabled:
            return
        self.commands += 1
        k = self.commands
        f = self.faults
        if k in f.resets:
            f.count("reset")
            self.reset()
            return
        delay = f.stalls.get(k, 0.0) + f.slow_at.get(k, 0.0) + f.slow
        if delay:
            f.count("stall" if k in f.stalls else "slow")
            time.sleep(delay)
        if k in f.errors:
            f.count("error")
            self._print(f"e-[Simulated fault: command {k} refused]\r\n")
            self._print("m-ready\r\n")
            return
        tokens = [t for t in command.split(" ") if t]
        tok = tokens[0] if tokens else None
        if tok == "name":
            self._print(f"m-name-dut-[{self.vendor}]\r\n")
        elif tok == "timestamp":
            self._timestamp()
        elif tok == "clock":  # not in real firmware: says the timer is simulated (no host-clock checks)
            self._print("m-clock-[virtual]\r\n")
        elif tok == "profile":
            self._print(f"m-profile-[{FW_VERSION}]\r\n")
            self._print(f"m-model-[{self.model_id}]\r\n")
        elif tok == "help":
            for line in HELP_LINES:
                self._print(line + "\r\n")
        elif tok == "db":
            self._db(tokens[1:])
        elif tok == "infer":
            self._infer_command(tokens[1:])
        elif tok == "results":
            self._results()
        else:
            self._print(f"e-[Unknown command: {tok if tok is not None else '(null)'}]\r\n")
        self._print("m-ready\r\n")

    def _db(self, args: list[str]) -> None:
        if not args:
            self._print("e-[Command 'db' requires a subcommand]\r\n")
        elif args[0] == "load":
            if len(args) < 2:
                self._print("e-[Command 'db load' requires the # of bytes]\r\n")
                return
            size = atoi(args[1])
            if size == 0:
                self._print("e-[Command 'db load' must be >0 bytes]\r\n")
                return
            self.buff_size = size if size > 0 else size + 2**64  # size_t
            self.buff_pos = 0
            if self.buff_size > len(self.buffer):
                self._print(f"Supplied buffer size {size} exceeds maximum of {len(self.buffer)}\n")
            else:
                self._print(f"m-[Expecting {size} bytes]\r\n")
        elif args[0] == "print":
            count = min(self.buff_size, len(self.buffer))
            for i in range(0, count, 8):
                self._print("m-buffer-" + "-".join(f"{b:02x}" for b in self.buffer[i:min(i + 8, count)]) + "\r\n")
            if count % 8:
                self._print("\r\n")
        else:
            self._db_hex(args[0][:CMD_SIZE])

    def _db_hex(self, digits: str) -> None:
        if len(digits) % 2:
            self._print("e-[Insufficent number of hex digits]\r\n")
            return
        for i in range(0, len(digits), 2):
            pair = digits[i:i + 2]
            try:
                if not all(c in "0123456789abcdefABCDEF" for c in pair):
                    raise ValueError
                value = int(pair, 16)
            except ValueError:
                self._print(f"e-[Invalid hex digit '{pair}']\r\n")
                return
            if self.buff_pos < len(self.buffer):
                self.buffer[self.buff_pos] = value
                self._tensor_stale = True
            self.buff_pos += 1  # past the buffer end the reference writes over other memory
            if self.buff_pos == self.buff_size:
                self._print("m-load-done\r\n")
                return

    def _infer_command(self, args: list[str]) -> None:
        n, w = 1, 10
        if args:
            i = atoi(args[0])
            if i <= 0:
                self._print("e-[Inference iterations must be >0]\r\n")
                return
            n = i
            if len(args) > 1:
                i = atoi(args[1])
                if i < 0:
                    self._print("e-[Inference warmup must be >=0]\r\n")
                    return
                w = i
        self._infer(n, w)

    def _load_tensor(self) -> None:
        """th_load_tensor: a short buffer is reported and the previous input stays."""
        have = min(self.input_bytes, self.buff_pos)
        if have != self.input_bytes:
            self._print(f"Input db has {have // self.element_size} elemented, "
                        f"expected {self.input_bytes // self.element_size}\n")
            return
        if self._tensor_stale:
            self._real_input = self.workload.decode(bytes(self.buffer[:self.input_bytes]))
            self.model.set_input(self.model.quantize_input(self._real_input))
            self._tensor_stale = False
            self._output = None

    def _run_model(self) -> None:
        if self._output is None:
            self.model.interpreter.invoke()
            raw = self.model.dequantize_output(self.model.get_output())
            self._output = self.workload.postprocess(self._real_input, raw)

    def _infer(self, n: int, w: int) -> None:
        self._load_tensor()
        self._print(f"m-warmup-start-{w}\r\n")
        self._run_model()  # the result depends on the input only: compute it once, off the clock
        self._compute(round(w * self.us_per_inference))
        self._print("m-warmup-done\r\n")
        self._print(f"m-infer-start-{n}\r\n")
        start = self._timestamp()
        window = round(n * self.us_per_inference)
        self._compute(window, since_us=start)
        self._timestamp(start + window)
        self._print("m-infer-done\r\n")
        self._results()

    def _compute(self, us: int, since_us: int | None = None) -> None:
        """Emulated compute time: the clock jumps ahead, or (realtime) the firmware is busy that long."""
        if not self.realtime:
            self.clock.advance_us(us)
            return
        self._flush()
        target = (self.clock.now_us() if since_us is None else since_us) + us
        while (left := target - self.clock.now_us()) > 0:
            time.sleep(left / 1e6)

    def _results(self) -> None:
        if self._output is None:
            # nothing ran on this input yet: the output tensor still holds what the last run left
            self._run_model()
        self._print(f"m-results-[{format_results(self.workload.id, self._output, self.result_format)}]\r\n")

    def _timestamp(self, at_us: int | None = None) -> int:
        """th_timestamp: print the 32-bit microsecond counter, or pulse the GPIO in energy mode."""
        now = self.clock.now_us() if at_us is None else at_us
        if self.mode == "performance":
            value = now & LAP_MASK
            self.lap_values.append(value)
            self._print(f"m-lap-us-{value}\r\n")
        else:
            self._flush()
            for listener in self._listeners:
                listener(now)
        return now
