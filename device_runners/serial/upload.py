"""Staging one input on the DUT: `db load N`, hex chunks, and the read-back that proves it.

The protocol has no checksum. A hex digit flipped into another hex digit on the way to the
DUT is stored without complaint and changes the input silently, so unless verify="never",
every upload is read back with `db print` and compared byte for byte (the cost is in the
README: about twice the upload time).
"""

from __future__ import annotations

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.recovery import Channel, LinkTrouble
from tinyperf.core.errors import DeviceError
from tinyperf.workloads.spec import Workload

READBACK_TRIES = 4
ROW_CHARS = len("m-buffer-00-11-22-33-44-55-66-77\r\n")
#: a `db` chunk is answered in microseconds by any firmware: no need to wait the full --timeout
CHUNK_PATIENCE_S = 1.0


class Uploader:
    def __init__(self, channel: Channel, workload: Workload, chunk_size: int | None):
        self.channel = channel
        self.workload = workload
        self.chunk_size = self._check_chunk(chunk_size)
        self.staged: bytes | None = None
        channel.reupload = self._reupload

    def _check_chunk(self, chunk: int | None) -> int:
        link = self.channel.link
        limit = link.max_chunk()
        if chunk is None:
            return min(link.default_chunk, limit)
        if not 1 <= int(chunk) <= limit:
            why = ("an interface board relays one command of at most 64 bytes" if link.board
                   else "the DUT's 80-character command buffer would silently corrupt longer commands")
            raise DeviceError(None, f"--chunk-size {chunk} is outside 1..{limit}: {why}",
                              f"use at most {limit} (conventional: {link.default_chunk})")
        return int(chunk)

    def load(self, data: bytes) -> None:
        """Stage one input: `db load N` and hex chunks, each acknowledged before the next."""
        if len(data) > self.workload.upload_bytes:
            raise DeviceError(self.channel.where, f"refusing to upload {len(data)} bytes: {self.workload.id} firmware "
                              f"holds {self.workload.upload_bytes} (the reference firmware overflows its buffer)",
                              "pass samples of the workload's input size")
        self.staged = bytes(data)
        self.channel.recover(f"db load {len(data)}", lambda: self._upload(self.staged), needs_input=False)

    def _reupload(self) -> None:
        if self.staged is None:
            return
        self.channel.transcript.note("re-uploading the staged input")
        self.channel.recover(f"db load {len(self.staged)}", lambda: self._upload(self.staged), needs_input=False)

    def _upload(self, data: bytes) -> None:
        ch = self.channel
        n = len(data)
        lines = ch.command(f"db load {n}")
        if any(P.RE_OVERFLOW.fullmatch(l) for l in lines):
            raise DeviceError(ch.where, f"the DUT's input buffer is smaller than {n} bytes ({lines[0]})",
                              f"flash firmware built for {self.workload.id}")
        if not expect_exactly(ch, lines, [f"m-[Expecting {n} bytes]"]):
            raise LinkTrouble(f"`db load {n}` answered {lines!r}")
        ch.buffer_lost = False
        step = self.chunk_size
        last = (n - 1) // step
        hexed = data.hex()
        command = ch.command
        patience = min(ch.timeout, CHUNK_PATIENCE_S + ch.link.intra_reply_silence_s)
        for i in range(last + 1):
            lines = command("db " + hexed[2 * i * step:2 * (i + 1) * step], patience)
            if i < last:
                if lines and not expect_exactly(ch, lines, []):
                    raise LinkTrouble(f"unexpected reply to `db` chunk {i + 1} of {last + 1}: {lines!r}")
            elif lines != [P.LOAD_DONE] and not expect_exactly(ch, lines, [P.LOAD_DONE]):
                raise LinkTrouble(f"the last `db` chunk was answered {lines!r}, not m-load-done")
        if ch.verify != "never":
            self._read_back(data)

    def _read_back(self, data: bytes) -> None:
        """`db print` and compare: the DUT has no checksum, this is the only proof of an upload.

        Each 8-byte line that parses and matches confirms its bytes; a corrupted line is read
        again with the next `db print`. A stored byte that differs never confirms, so the upload
        is redone.
        """
        ch = self.channel
        rows = (len(data) + 7) // 8
        confirmed = [False] * rows
        differing: dict[int, bytes] = {}  # row -> what the DUT printed there instead, last time
        for _ in range(READBACK_TRIES):
            position = 0  # characters since the first row: each row is 32 + CRLF, so it locates rows
            seen: dict[int, bytes] = {}
            for line in ch.command("db print", max_bytes=rows * ROW_CHARS + 256):
                here = position
                position += len(line) + 2
                if not line.startswith("m-buffer-"):
                    continue
                try:
                    row = P.parse_buffer_lines([line])
                except P.GarbledLine:
                    continue
                guess = round(here / ROW_CHARS)
                near_rows = [i for i in range(max(0, guess - 2), min(rows, guess + 3))
                             if data[8 * i:8 * i + 8] == row]
                if len(near_rows) == 1 or guess in near_rows:  # identical neighbours: only at its place
                    confirmed[guess if guess in near_rows else near_rows[0]] = True
                elif here == guess * ROW_CHARS and guess < rows and len(row) == len(data[8 * guess:8 * guess + 8]):
                    seen[guess] = row  # intact line, exactly in place, other bytes
            if all(confirmed):
                ch.counters.confirmations += 1
                return
            stored_wrong = [i for i, row in seen.items() if differing.get(i) == row and not confirmed[i]]
            if stored_wrong:  # the same other bytes twice: they are in the DUT's buffer, upload again
                i = stored_wrong[0]
                raise LinkTrouble(f"read-back: bytes {8 * i}..{8 * i + 7} hold {seen[i].hex()} instead of "
                                  f"{data[8 * i:8 * i + 8].hex()} (corrupted on the way in)")
            differing = seen
            ch.trouble(f"read-back: {rows - sum(confirmed)} of {rows} rows not confirmed yet")
        raise LinkTrouble(f"the uploaded bytes could not be confirmed ({rows - sum(confirmed)} rows of 8 "
                          "differ or never arrived intact)")


def expect_exactly(channel: Channel, lines: list[str], expected: list[str]) -> bool:
    """The protocol lines of a reply are `expected` (fixed-text lines; corrupted characters
    tolerated, numbers not). Free text such as vendor debug output is ignored."""
    relevant = [l for l in lines if P.is_protocol_line(l) or P.looks_garbled(l)]
    if len(relevant) != len(expected) or not all(P.near(l, e) for l, e in zip(relevant, expected)):
        return False
    for got, want in zip(relevant, expected):
        if got != want:
            channel.trouble(f"{want!r} arrived as {got!r}")
    return True
