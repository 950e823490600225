"""Lip-sync accuracy measured on geometry: the gap between the lips per frame.

Used by the tests and ``benchmarks/bench_lipsync.py``.  Ground truth is a list
of phoneme segments with exact timings (e.g. from a TTS voice).  A frame's
lip gap comes from the face model (:meth:`visemo.face.model.FaceModel.lip_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .targets import BILABIALS

# Vowels that open the mouth wide when stressed; schwa-like AH is left out
# because unstressed "the"/"a" barely open.
OPEN_VOWELS_SCORED = frozenset({"AA", "AE", "AO", "AW", "AY"})
CLOSED_MM = 1.0   # lips count as closed below this gap
OPEN_MM = 4.0     # lips count as open above this gap
MIN_VOWEL_S = 0.06
MIN_PAUSE_S = 0.25
PAUSE_MARGIN_S = 0.1


@dataclass(frozen=True)
class LipsyncScore:
    """Recall of lip events within ±1 frame, and the timing lag in frames."""

    bilabial_recall: float
    open_recall: float
    silence_closure: float
    lag_frames: int
    bilabials: int
    open_vowels: int
    pause_frames: int


def _window(seg, fps: float, frames: int, tolerance: int = 1) -> np.ndarray:
    """Frames within ``tolerance`` frames of a segment (at least the nearest one)."""
    a = int(np.ceil(seg.start * fps - 1e-9)) - tolerance
    b = int(np.floor(seg.end * fps + 1e-9)) + tolerance
    mid = int(round(0.5 * (seg.start + seg.end) * fps))
    a, b = min(a, mid - tolerance), max(b, mid + tolerance)
    return np.arange(max(a, 0), min(b, frames - 1) + 1)


def lag_frames(gaps: np.ndarray, reference: np.ndarray, max_lag: int = 5) -> int:
    """Shift (frames) of ``gaps`` against ``reference`` with the best correlation.

    Positive: ``gaps`` lags behind the reference (the mouth moves late).
    """
    n = min(len(gaps), len(reference))
    g = gaps[:n] - gaps[:n].mean()
    r = reference[:n] - reference[:n].mean()
    best, best_lag = -np.inf, 0
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            c = float(np.dot(g[lag:], r[: n - lag]))
        else:
            c = float(np.dot(g[: n + lag], r[-lag:]))
        if c > best:
            best, best_lag = c, lag
    return best_lag


def score_lipsync(
    gaps_mm: np.ndarray,
    truth: Sequence,
    fps: float,
    reference_gaps_mm: np.ndarray | None = None,
    closed_mm: float = CLOSED_MM,
    open_mm: float = OPEN_MM,
) -> LipsyncScore:
    """Score lip gaps [T] (mm) against true phoneme segments (``phone``, ``start``, ``end``).

    * bilabial recall: P/B/M whose ±1-frame window holds a closed frame;
    * open recall: open vowels (≥ 60 ms) whose ±1-frame window holds an open frame;
    * silence closure: fraction of pause frames (pauses ≥ 0.25 s, 0.1 s in
      from each edge) with closed lips;
    * lag: see :func:`lag_frames` (0 without a reference).
    """
    gaps = np.asarray(gaps_mm, np.float64)
    frames = len(gaps)
    bil = [s for s in truth if s.phone in BILABIALS]
    vow = [s for s in truth if s.phone in OPEN_VOWELS_SCORED and s.end - s.start >= MIN_VOWEL_S]
    closed = [bool(gaps[_window(s, fps, frames)].min() < closed_mm) for s in bil]
    opened = [bool(gaps[_window(s, fps, frames)].max() > open_mm) for s in vow]
    pause_frames = []
    for s in truth:
        if s.phone == "SIL" and s.end - s.start >= MIN_PAUSE_S:
            a = int(np.ceil((s.start + PAUSE_MARGIN_S) * fps))
            b = int(np.floor((s.end - PAUSE_MARGIN_S) * fps))
            pause_frames.extend(range(max(a, 0), min(b, frames - 1) + 1))
    silent = gaps[pause_frames] < closed_mm if pause_frames else np.array([True])
    lag = 0 if reference_gaps_mm is None else lag_frames(gaps, np.asarray(reference_gaps_mm))
    return LipsyncScore(
        bilabial_recall=float(np.mean(closed)) if closed else 1.0,
        open_recall=float(np.mean(opened)) if opened else 1.0,
        silence_closure=float(np.mean(silent)),
        lag_frames=lag,
        bilabials=len(bil),
        open_vowels=len(vow),
        pause_frames=len(pause_frames),
    )


def pool_scores(scores: list[LipsyncScore]) -> dict:
    """Scores of many utterances as one: event-weighted ``bilabial``, ``open`` and ``silence`` rates,
    the median ``lag`` and the largest ``max|lag|`` (frames), and the event counts ``events``
    (bilabials / open vowels / pause frames)."""

    def rate(attr: str, count: str) -> float:
        return float(sum(getattr(s, attr) * getattr(s, count) for s in scores)
                     / max(1, sum(getattr(s, count) for s in scores)))

    lags = np.array([s.lag_frames for s in scores])
    return {"bilabial": rate("bilabial_recall", "bilabials"), "open": rate("open_recall", "open_vowels"),
            "silence": rate("silence_closure", "pause_frames"),
            "lag": float(np.median(lags)) if len(lags) else 0.0,
            "max|lag|": int(np.abs(lags).max()) if len(lags) else 0,
            "events": f"{sum(s.bilabials for s in scores)}/{sum(s.open_vowels for s in scores)}/"
                      f"{sum(s.pause_frames for s in scores)}"}
