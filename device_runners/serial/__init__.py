"""The serial runner: MLPerf Tiny / EEMBC firmware on a microcontroller, over a UART or a network URL.

resource.py (where: port/URL, baud) -> transport.py (bytes, lines, transcript) -> driver.py and
interface_board.py (how to talk: direct, or relayed by a board) -> protocol.py (what the harness
needs, with recovery) -> runner.py (the DeviceSession). parse.py holds the line shapes;
discovery.py finds and probes ports for `tinyperf devices`.
"""
