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


class NoiseGauge:
    """The causal SNR estimate (dB) per frame of log-mel frames pushed in order, in chunks of any size."""

    def __init__(self) -> None:
        self._levels = np.zeros(HISTORY_ROWS)
        self._seen = 0
        self._current = CLEAN_DB

    def push(self, log_mel: np.ndarray) -> np.ndarray:
        """The estimate for each of these frames, float64 [n] (the same whatever the chunking)."""
        levels = frame_levels(log_mel)
        out = np.empty(len(levels))
        for i, level in enumerate(levels):
            if self._seen % EVERY_ROWS == 0 and self._seen >= MIN_ROWS:
                hist = self._levels[: min(self._seen, HISTORY_ROWS)]
                lo, hi = np.percentile(hist, (10.0, 90.0))
                self._current = float(hi - lo)
            out[i] = self._current
            self._levels[self._seen % HISTORY_ROWS] = level
            self._seen += 1
        return out


def closure_weight(snr_db: np.ndarray, clean: float, noisy: float, band: tuple[float, float]) -> np.ndarray:
    """P/B/M weight per frame: ``clean`` above ``band[1]`` dB, ``noisy`` below ``band[0]``, geometric between."""
    lo, hi = band
    f = np.clip((np.asarray(snr_db, np.float64) - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    return np.exp(np.log(noisy) + f * (np.log(clean) - np.log(noisy)))
