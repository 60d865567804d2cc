"""Hold what native libraries write to file descriptor 2, and let through only what matters.

TensorFlow and LiteRT log from C++ before (or regardless of) any Python setting: CUDA probing,
converter parameters, "Created delegate" lines. Such chatter buries progress and results, yet when
something fails it may be the only clue, so everything is written back if an exception leaves.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def native_stderr(keep_line: Callable[[str], bool], replay_all_on_error: bool = True) -> Iterator[None]:
    """Within the block, fd 2 goes to a temporary file; afterwards the lines `keep_line` accepts
    are written to stderr (all of them when the block raised, unless `replay_all_on_error` is
    False because the exception itself carries the library's message)."""
    sys.stderr.flush()
    saved = os.dup(2)
    failed = False
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if (failed and replay_all_on_error) or keep_line(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)
