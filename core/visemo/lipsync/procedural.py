"""Procedural lip sync: phoneme timings (+ loudness) → mouth, jaw and tongue curves.

The quality baseline that learned models must beat.  Steps: per-phoneme poses
(:mod:`.targets`) → dominance blending (:mod:`.coarticulation`) → jaw scaled by
loudness → bilabial closure (:mod:`.closure`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .. import arkit
from ..animation import Animation, fit_frames, frame_count
from .closure import apply_closure, bilabial_closure
from .coarticulation import blend, gestures

# How much loudness moves the jaw: gain = LOW + (HIGH - LOW) * loudness (0..1).
JAW_GAIN_LOW = 0.6
JAW_GAIN_HIGH = 1.25
_LOUDNESS_CHANNELS = arkit.indices(
    ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight")
)


@dataclass(frozen=True)
class Articulation:
    """Speech layer: ``animation`` (speech channels only) and the lip ``closure`` [T]."""

    animation: Animation
    closure: np.ndarray


def articulate(
    segments: Sequence,
    duration: float,
    fps: float = 30.0,
    loudness: np.ndarray | None = None,
    gain: np.ndarray | None = None,
) -> Articulation:
    """Mouth/jaw/tongue animation for phoneme ``segments`` over ``duration`` s.

    ``segments``: objects with ``.phone`` (ARPAbet without stress, or "SIL"),
    ``.start`` and ``.end`` in seconds.  ``loudness``: optional float [T]
    in 0..1 per output frame; louder speech opens the jaw wider.  ``gain``:
    optional float [T] scaling every articulation amplitude (an emotion's
    effect on speech, e.g. 0.8 for sad).
    """
    frames = frame_count(duration, fps)
    times = np.arange(frames, dtype=np.float64) / fps
    w = blend(gestures(segments), times)
    if loudness is not None:
        loud = np.clip(fit_frames(np.asarray(loudness, np.float32), frames, empty=1.0), 0.0, 1.0)
        jaw_gain = JAW_GAIN_LOW + (JAW_GAIN_HIGH - JAW_GAIN_LOW) * loud
        w[:, _LOUDNESS_CHANNELS] *= jaw_gain[:, None]
    if gain is not None:
        w *= fit_frames(np.asarray(gain, np.float32), frames, empty=1.0)[:, None]
    closure = bilabial_closure(segments, frames, fps)
    w = np.clip(apply_closure(w, closure), 0.0, 1.0)
    return Articulation(Animation(w, fps), closure)

