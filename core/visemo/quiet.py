"""Silencing what C libraries print: a file descriptor sent to /dev/null for a while.

Blender's C code prints "Saved: ..." on stdout for every render; mediapipe's
C++ side logs set-up chatter to stderr.  Python's ``sys.stdout``/``sys.stderr``
redirection does not reach them, so :func:`silenced` swaps the descriptor.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


@contextlib.contextmanager
def silenced(fd: int) -> Iterator[None]:
    """Send file descriptor ``fd`` (1: stdout, 2: stderr) to /dev/null inside the block."""
    (sys.stdout if fd == 1 else sys.stderr).flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
