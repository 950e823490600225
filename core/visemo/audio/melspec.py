"""Log-mel frames of 16 kHz speech: the input of the speech → articulation model.

One definition, used by training, offline inference and streaming alike, so
that they cannot drift apart:

- 100 frames per second (hop ``HOP`` = 160 samples); frame ``t`` is the
  ``WINDOW`` = 400-sample (25 ms) Hann window centred on ``t / 100`` s, the
  signal taken as zero before its start and after its end;
- power spectrum (512-point FFT) → ``N_MELS`` = 64 triangular mel bands
  (HTK mel scale, 60–7600 Hz) → natural log with a floor of ``LOG_FLOOR``.

:class:`MelStream` gives the same frames from audio that arrives in chunks:
after all the audio has been pushed and :meth:`MelStream.finish` called, the
frames are exactly those of :func:`log_mel` on the whole signal.
"""

from __future__ import annotations

import functools

import numpy as np

SAMPLE_RATE = 16000
HOP = 160
WINDOW = 400
N_FFT = 512
N_MELS = 64
F_MIN, F_MAX = 60.0, 7600.0
LOG_FLOOR = 1e-8
FRAME_RATE = SAMPLE_RATE / HOP
"""Frames per second (100)."""


def _mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


@functools.lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """Triangular mel filterbank float32 [N_MELS, N_FFT // 2 + 1]."""
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    edges = 700.0 * (10 ** (np.linspace(_mel(np.array(F_MIN)), _mel(np.array(F_MAX)), N_MELS + 2) / 2595.0) - 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lo) / (mid - lo)
    down = (hi - freqs[None]) / (hi - mid)
    return np.clip(np.minimum(up, down), 0.0, None).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return np.hanning(WINDOW + 2)[1:-1].astype(np.float32)


def frame_count(samples: int) -> int:
    """Frames :func:`log_mel` gives for ``samples`` samples: ``samples // HOP + 1`` (0 for none)."""
    return samples // HOP + 1 if samples > 0 else 0


def _frames_of(padded: np.ndarray, count: int) -> np.ndarray:
    """log-mel [count, N_MELS] of the windows starting at 0, HOP, ... of ``padded``."""
    if count <= 0:
        return np.zeros((0, N_MELS), np.float32)
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.fft import rfft

    windows = sliding_window_view(padded[: (count - 1) * HOP + WINDOW], WINDOW)[::HOP]
    spec = rfft(windows * _window(), n=N_FFT, axis=1)  # complex64 for float32 input
    power = spec.real ** 2 + spec.imag ** 2
    return np.log(np.maximum(power @ mel_filters().T, LOG_FLOOR)).astype(np.float32)


def log_mel(samples: np.ndarray) -> np.ndarray:
    """Log-mel frames float32 [``frame_count(len(samples))``, N_MELS] of 16 kHz mono ``samples``."""
    x = np.asarray(samples, np.float32).reshape(-1)
    n = frame_count(len(x))
    half = WINDOW // 2
    padded = np.concatenate([np.zeros(half, np.float32), x, np.zeros(half + HOP, np.float32)])
    return _frames_of(padded, n)


class MelStream:
    """:func:`log_mel` for audio that arrives in chunks.

    :meth:`push` returns the frames whose windows are complete so far;
    :meth:`finish` returns the rest (the end padded with zeros).  All frames
    together equal ``log_mel`` of the concatenated audio.
    """

    def __init__(self) -> None:
        self._buffer = np.zeros(WINDOW // 2, np.float32)  # the zeros before the start
        self._start = 0          # sample index (in padded coordinates) of buffer[0]
        self._next = 0           # next frame to emit
        self._samples = 0        # audio samples received

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Frames float32 [n, N_MELS] completed by ``samples`` (16 kHz mono)."""
        x = np.asarray(samples, np.float32).reshape(-1)
        self._samples += len(x)
        self._buffer = np.concatenate([self._buffer, x])
        ready = (self._start + len(self._buffer) - WINDOW) // HOP + 1 - self._next
        ready = min(ready, frame_count(self._samples) - self._next)
        return self._emit(max(ready, 0))

    def finish(self) -> np.ndarray:
        """The remaining frames, with the signal's end padded with zeros."""
        self._buffer = np.concatenate([self._buffer, np.zeros(WINDOW // 2 + HOP, np.float32)])
        return self._emit(frame_count(self._samples) - self._next)

    def _emit(self, count: int) -> np.ndarray:
        offset = self._next * HOP - self._start
        out = _frames_of(self._buffer[offset:], count)
        self._next += count
        drop = self._next * HOP - self._start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._start += drop
        return out
