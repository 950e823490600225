"""Coarticulation: blend per-phoneme poses with dominance functions.

Each sound pulls the mouth towards its pose with a weight that is full
inside its own segment and decays exponentially outside it (Cohen & Massaro's
dominance functions).  The pose at time t is the dominance-weighted mean of
the nearby poses, so shapes flow into each other with no popping and strong
sounds (F, W, SH) win over weak ones (K, HH) that borrow from neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .. import arkit
from .targets import DIPHTHONGS, dominance, pose_vector


@dataclass(frozen=True)
class Gesture:
    """One articulatory target: ``pose`` [52] held over [start, end] seconds."""

    phone: str
    start: float
    end: float
    pose: np.ndarray
    strength: float
    spread: float


def gestures(segments: Iterable) -> list[Gesture]:
    """Turn phoneme segments (``.phone``, ``.start``, ``.end`` in s) into gestures.

    Diphthongs become two gestures, one per half.
    """
    out: list[Gesture] = []
    for seg in segments:
        phone, start, end = seg.phone, float(seg.start), float(seg.end)
        if end <= start:
            continue
        parts = DIPHTHONGS.get(phone)
        if parts:
            mid = 0.5 * (start + end)
            for part, (a, b) in zip(parts, ((start, mid), (mid, end))):
                d = dominance(part)
                out.append(Gesture(phone, a, b, pose_vector(part), d.strength, d.spread))
        else:
            d = dominance(phone)
            out.append(Gesture(phone, start, end, pose_vector(phone), d.strength, d.spread))
    return out


def blend(gesture_list: Sequence[Gesture], times: np.ndarray) -> np.ndarray:
    """Dominance-weighted pose at each time.

    ``times``: float64 [T] seconds.  Returns float32 [T, 52].  A gesture's
    dominance is ``strength`` inside its segment and
    ``strength * exp(-(distance / spread)**2)`` outside it.
    """
    T = len(times)
    if T == 0 or not gesture_list:
        return np.zeros((T, arkit.COUNT), np.float32)
    starts = np.array([g.start for g in gesture_list])
    ends = np.array([g.end for g in gesture_list])
    strength = np.array([g.strength for g in gesture_list])
    spread = np.array([g.spread for g in gesture_list])
    poses = np.stack([g.pose for g in gesture_list]).astype(np.float64)  # [K, 52]
    out = np.zeros((T, arkit.COUNT), np.float64)
    chunk = 512
    for a in range(0, T, chunk):
        t = times[a:a + chunk, None]  # [t, 1]
        dist = np.maximum(np.maximum(starts[None] - t, t - ends[None]), 0.0)  # [t, K]
        dom = strength[None] * np.exp(-np.square(dist / spread[None]))
        dom[dist > 4 * spread[None]] = 0.0
        total = dom.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0
        out[a:a + chunk] = (dom @ poses) / total
    return out.astype(np.float32)
