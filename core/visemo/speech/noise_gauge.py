"""How noisy is the speech? A causal signal-to-noise estimate from log-mel frames, and the closure prior it sets.

In noise a lip closure is no longer silent — the noise fills it — so the
articulation model gives P/B/M less probability than in clean speech; the
decoder gives them more weight when the speech is noisy.  The estimate is
causal (each frame sees only the frames before it, up to
:data:`HISTORY_ROWS` of them), so offline and streaming decoding apply the
same weights to the same frames:

- level of a frame: its mel power summed over bands, in dB;
- speech level: the 90th percentile of the recent levels; noise floor: the
  10th; their difference is the estimate (dB), updated every
  :data:`EVERY_ROWS` frames; before :data:`MIN_ROWS` frames there is too
  little to tell and the speech counts as clean.

:func:`closure_weight` turns the estimate into the P/B/M weight: the clean
weight above ``snr_db[1]``, the noisy weight below ``snr_db[0]``, geometric
in between (the model card's ``decoding.noise``, chosen on development
utterances by :mod:`visemo.train.articulation_decoding`).
"""

from __future__ import annotations

import numpy as np

HISTORY_ROWS = 1000
"""Frames (10 ms) of level history the estimate looks at: 10 s."""
EVERY_ROWS = 10
"""The estimate is updated every this many frames (100 ms)."""
MIN_ROWS = 100
"""Frames needed before the estimate counts (1 s); before that the speech counts as clean."""
CLEAN_DB = 99.0
"""The estimate while there is too little history."""
_DB = 10.0 / np.log(10.0)


def frame_levels(log_mel: np.ndarray) -> np.ndarray:
    """dB level of each log-mel frame [n, bands] (natural-log mel power) → float64 [n]."""
    m = np.asarray(log_mel, np.float64)
    if not len(m):
        return np.zeros(0)
    top = m.max(axis=1, keepdims=True)
    return _DB * (top[:, 0] + np.log(np.exp(m - top).sum(axis=1)))


def _percentiles(values: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """``np.percentile(values, qs)`` (linear interpolation) through one partial sort."""
    n = len(values)
    pos = [q / 100.0 * (n - 1) for q in qs]
    below = [int(p) for p in pos]
    above = [min(i + 1, n - 1) for i in below]
    part = np.partition(values, sorted(set(below + above)))
    return [float(part[i] + (p - i) * (part[j] - part[i])) for p, i, j in zip(pos, below, above)]


class NoiseGauge:
    """The causal SNR estimate (dB) per frame of log-mel frames pushed in order, in chunks of any size."""

    def __init__(self) -> None:
        self._history = np.zeros(0)   # the last HISTORY_ROWS levels before the next frame, oldest first
        self._seen = 0
        self._current = CLEAN_DB

    def push(self, log_mel: np.ndarray) -> np.ndarray:
        """The estimate for each of these frames, float64 [n] (the same whatever the chunking)."""
        levels = frame_levels(log_mel)
        n, before = len(levels), len(self._history)
        levels_so_far = np.concatenate([self._history, levels])
        out = np.empty(n)
        first = max(MIN_ROWS, -(-self._seen // EVERY_ROWS) * EVERY_ROWS)  # the next update at or after now
        done = 0
        for t in range(first, self._seen + n, EVERY_ROWS):   # absolute frame index of each update
            k = t - self._seen                                   # its row in this chunk
            window = levels_so_far[max(0, before + k - HISTORY_ROWS): before + k]
            out[done:k] = self._current
            lo, hi = _percentiles(window, (10.0, 90.0))
            self._current = hi - lo
            done = k
        out[done:] = self._current
        self._history = levels_so_far[-HISTORY_ROWS:]
        self._seen += n
        return out


def closure_weight(snr_db: np.ndarray, clean: float, noisy: float, band: tuple[float, float]) -> np.ndarray:
    """P/B/M weight per frame: ``clean`` above ``band[1]`` dB, ``noisy`` below ``band[0]``, geometric between."""
    lo, hi = band
    f = np.clip((np.asarray(snr_db, np.float64) - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    return np.exp(np.log(noisy) + f * (np.log(clean) - np.log(noisy)))
