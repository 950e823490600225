"""Bilabial closure: P, B and M seal the lips whatever the jaw and the emotion do.

ARKit's ``mouthClose`` brings the lips together against an open jaw (it is
meant to be used with ``jawOpen``): setting ``mouthClose = jawOpen`` seals
them at any jaw position.  The closure signal is applied last, after speech
and expression layers are composed, so that a smile or a surprised jaw never
keeps the lips apart on an M.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .. import arkit
from .targets import BILABIALS

_JAW = arkit.index("jawOpen")
_CLOSE = arkit.index("mouthClose")
_PRESS = arkit.indices(("mouthPressLeft", "mouthPressRight"))
# Channels that part the lips or push something between them.
_PARTING = arkit.indices((
    "mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthFunnel", "mouthRollLower", "mouthRollUpper", "tongueOut",
))
# Pressure of sealed lips (mouthPress) during a full closure.
SEAL_PRESS = 0.2
JOIN_GAP_FRAMES = 0
"""Closures with at most this many frames between them are joined into one (0: only touching ones).
1 joined a short vowel between two closures ("pop", 70-80 ms at 30 fps) into one long closure; measured
on the articulation model's development utterances (``python -m visemo.train.articulation_decoding
CORPUS``, its last table, with the shipped decoding): open vowels 0.973 → 0.993 clean, 0.963 → 0.983
and 0.980 → 0.990 in 10 dB white and babble noise, closures unchanged (1.000, 0.996, 0.992)."""


def bilabial_closure(segments: Iterable, frames: int, fps: float) -> np.ndarray:
    """Closure strength per frame, float32 [frames] in [0, 1].

    1 on every frame whose time lies within a P/B/M segment widened by half a
    frame on each side, and always on the frame nearest each segment's middle
    (so even a 20 ms closure shows).  Closures with at most
    :data:`JOIN_GAP_FRAMES` frames between them are joined.  The frame
    just before and just after a closure get 0.5 (lips meeting / parting).
    """
    c = np.zeros(frames, np.float32)
    if frames == 0:
        return c
    half = 0.5 / fps
    covered: list[tuple[int, int]] = []
    for seg in segments:
        if seg.phone not in BILABIALS:
            continue
        a = int(np.ceil((seg.start - half) * fps - 1e-9))
        b = int(np.floor((seg.end + half) * fps + 1e-9))
        mid = int(round(0.5 * (seg.start + seg.end) * fps))
        a, b = min(a, mid), max(b, mid)
        a, b = max(a, 0), min(b, frames - 1)
        if a <= b:
            covered.append((a, b))
    covered.sort()
    merged: list[list[int]] = []
    for a, b in covered:
        if merged and a - merged[-1][1] - 1 <= JOIN_GAP_FRAMES:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    for a, b in merged:
        c[a:b + 1] = 1.0
    edges = np.zeros_like(c)
    edges[:-1] = np.maximum(edges[:-1], c[1:])
    edges[1:] = np.maximum(edges[1:], c[:-1])
    return np.maximum(c, 0.5 * edges)


def apply_closure(weights: np.ndarray, closure: np.ndarray) -> np.ndarray:
    """Seal the lips where ``closure`` [T] is 1 (partially where it is between).

    ``weights`` float32 [T, 52] → a new array: ``mouthClose`` rises to match
    ``jawOpen``, lip-parting channels fade out, ``mouthPress`` rises to
    :data:`SEAL_PRESS`.  Everywhere, ``mouthClose`` is capped at ``jawOpen``.
    """
    w = np.array(weights, dtype=np.float32, copy=True)
    c = np.asarray(closure, np.float32)[:, None]
    w[:, _CLOSE] = np.maximum(w[:, _CLOSE], c[:, 0] * w[:, _JAW])
    # mouthClose beyond jawOpen pushes the lips through each other
    w[:, _CLOSE] = np.minimum(w[:, _CLOSE], w[:, _JAW])
    w[:, _PARTING] *= 1.0 - c
    w[:, _PRESS] = np.maximum(w[:, _PRESS], c * SEAL_PRESS)
    return w
