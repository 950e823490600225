"""Per-frame loudness and voice activity at the animation frame rate.

Frame ``i`` describes the window centred on ``t = i / fps`` seconds (the time
of animation frame ``i``), ``max(1/fps, 25 ms)`` wide, clipped at the ends of
the audio.  Every function returns ``T = ceil(duration * fps)`` values.
"""

from __future__ import annotations

import math

import numpy as np

from ..animation import frame_count
from .load import Audio

DB_FLOOR = -100.0
"""Level reported for digital silence (dBFS)."""

MIN_WINDOW = 0.025
"""Shortest analysis window (seconds), used when ``1/fps`` is shorter."""


def rms_db(audio: Audio, fps: float) -> np.ndarray:
    """Per-frame RMS level in dBFS (0 dB = full-scale square wave), float32 [T].

    Digital silence reads :data:`DB_FLOOR` (-100 dB).
    """
    _check_fps(fps)
    x = np.asarray(audio.samples, dtype=np.float64)
    sr = audio.sample_rate
    T = frame_count(audio.duration, fps)
    half = max(1.0 / fps, MIN_WINDOW) * sr / 2.0
    centres = np.arange(T) * (sr / fps)
    lo = np.clip(np.round(centres - half).astype(np.int64), 0, len(x))
    hi = np.clip(np.round(centres + half).astype(np.int64), 0, len(x))
    hi = np.maximum(hi, np.minimum(lo + 1, len(x)))
    csum = np.concatenate([[0.0], np.cumsum(x * x)])
    energy = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    energy = np.maximum(energy, 0.0)  # cumsum round-off
    db = 10.0 * np.log10(np.maximum(energy, 10 ** (DB_FLOOR / 10)))
    return db.astype(np.float32)


def loudness(audio: Audio, fps: float, range_db: float = 35.0) -> np.ndarray:
    """Normalised loudness envelope in [0, 1], float32 [T], for scaling jaw opening.

    Linear in dB: 1 at the utterance's speech level (95th percentile of voiced
    frames; louder frames clip at 1), 0 at ``range_db`` dB below it or at the
    noise floor + 6 dB, whichever is higher.  Independent of the file's gain.
    """
    db = rms_db(audio, fps).astype(np.float64)
    voiced = voice_activity(audio, fps)
    ref_frames = db[voiced] if voiced.any() else db
    ref = float(np.percentile(ref_frames, 95))
    floor = max(ref - range_db, _noise_floor(db) + 6.0)
    if ref - floor < 3.0:  # (nearly) stationary signal: all equally loud
        return np.where(db > floor, 1.0, 0.0).astype(np.float32)
    return np.clip((db - floor) / (ref - floor), 0.0, 1.0).astype(np.float32)


def loudness_envelope(audio: Audio, fps: float, frames: int | None = None) -> np.ndarray:
    """:func:`loudness` padded with 0 / cut to exactly ``frames`` values (default T)."""
    env = loudness(audio, fps)
    if frames is None or frames == len(env):
        return env
    out = np.zeros(int(frames), dtype=np.float32)
    n = min(len(env), int(frames))
    out[:n] = env[:n]
    return out


def voice_activity(
    audio: Audio,
    fps: float,
    min_gap: float = 0.08,
    min_run: float = 0.05,
) -> np.ndarray:
    """Energy-based voice activity with hysteresis, bool [T].

    Thresholds adapt to the recording: between the noise floor (10th
    percentile of frame levels, clamped at -80 dBFS so digital silence does not
    count as a floor) and the speech peak (98th percentile), a frame turns
    voice *on* above 40 % of that dB range and stays on until it falls below
    20 %.  Frames quieter than -55 dBFS are never voice.  Gaps shorter than
    ``min_gap`` seconds are closed and runs shorter than ``min_run`` seconds
    dropped.  A steady signal (range < 10 dB) above -55 dBFS is all voice.
    """
    db = rms_db(audio, fps).astype(np.float64)
    absolute = -55.0
    floor = max(_noise_floor(db), -80.0)
    peak = float(np.percentile(db, 98))
    if peak < absolute:
        return np.zeros(len(db), dtype=bool)
    span = peak - floor
    if span < 10.0:
        return db > absolute
    on = max(floor + 0.4 * span, absolute)
    off = max(floor + 0.2 * span, absolute)
    active = np.zeros(len(db), dtype=bool)
    state = False
    for i, v in enumerate(db):
        state = v > on if not state else v > off
        active[i] = state
    active = _close_gaps(active, int(round(min_gap * fps)))
    return _drop_short(active, int(round(min_run * fps)))


# ---------------------------------------------------------------------- helpers
def _noise_floor(db: np.ndarray) -> float:
    return float(np.percentile(db, 10))


def _check_fps(fps: float) -> None:
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps!r}")


def _runs(mask: np.ndarray, value: bool) -> list[tuple[int, int]]:
    """[start, end) index runs where ``mask == value``."""
    m = np.concatenate([[False], mask == value, [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _close_gaps(active: np.ndarray, max_len: int) -> np.ndarray:
    out = active.copy()
    for a, b in _runs(active, False):
        if 0 < a and b < len(active) and b - a < max_len:
            out[a:b] = True
    return out


def _drop_short(active: np.ndarray, min_len: int) -> np.ndarray:
    out = active.copy()
    for a, b in _runs(active, True):
        if b - a < min_len:
            out[a:b] = False
    return out
