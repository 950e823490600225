"""Process-wide run settings (the Blender add-on's preferences set them).

- CPU threads for the Whisper transcriber (CTranslate2), the stage that
  gains from them: :func:`set_threads` wins, then ``VISEMO_THREADS`` in the
  environment, then ``min(4, cpu count)``.  pocketsphinx (alignment, phone
  recognition) is single-threaded; the text encoders and the small ONNX
  emotion models run on one thread by measurement
  (:data:`visemo.emotion.encoders.ENCODER_THREADS`).
- The models folder: see :func:`visemo.paths.set_models_dir`.
"""

from __future__ import annotations

import os

from .errors import VisemoError

ENV_THREADS = "VISEMO_THREADS"

_threads: int | None = None


def set_threads(count: int | None) -> None:
    """Use ``count`` CPU threads from now on (None or 0: automatic)."""
    global _threads
    if count is None or int(count) == 0:
        _threads = None
        return
    if int(count) < 0:
        raise VisemoError(f"thread count must be >= 0 (0 = automatic), got {count}")
    _threads = int(count)


def threads() -> int:
    """The number of CPU threads inference may use (>= 1)."""
    if _threads is not None:
        return _threads
    env = os.environ.get(ENV_THREADS, "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise VisemoError(f"{ENV_THREADS}={env!r} is not a whole number of threads") from None
        if n > 0:
            return n
    return max(1, min(4, os.cpu_count() or 1))
