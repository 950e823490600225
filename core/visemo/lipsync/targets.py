"""Articulation targets: each ARPAbet phoneme → ARKit mouth/jaw/tongue weights.

The table is the procedural engine's knowledge of speech.  Values are the
pose a careful speaker reaches at the middle of the sound (0..1).  Bilabial
closure (P, B, M) is not a pose here: it is a constraint applied after
blending (see :mod:`visemo.lipsync.closure`), so that any jaw position still
seals the lips.

Dominance (Cohen & Massaro 1993): how strongly a sound holds its pose against
its neighbours.  ``strength`` scales it, ``spread`` is how far (seconds) it
reaches beyond its own segment (the width of its Gaussian fall-off).  Sounds made inside the mouth (K, G, HH)
barely constrain the lips and take their shape from neighbouring vowels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import arkit

# Both sides of a symmetric mouth shape.
_SIDES = ("Left", "Right")


def _pose(**channels: float) -> dict[str, float]:
    """Expand ``smile=.2`` style keys (without side) into both ARKit sides."""
    out: dict[str, float] = {}
    for key, value in channels.items():
        if key in arkit.NAMES:
            out[key] = value
        else:
            for side in _SIDES:
                out[key + side] = value
    return out


# Pose at the middle of each sound.  Channel names without a side apply to both.
POSES: dict[str, dict[str, float]] = {
    # open and mid vowels: the jaw carries them
    "AA": _pose(jawOpen=0.55, mouthLowerDown=0.30, mouthUpperUp=0.10),
    "AE": _pose(jawOpen=0.45, mouthStretch=0.25, mouthLowerDown=0.30, mouthUpperUp=0.15),
    "AH": _pose(jawOpen=0.42, mouthLowerDown=0.22, mouthUpperUp=0.05),
    "AO": _pose(jawOpen=0.45, mouthFunnel=0.35, mouthPucker=0.10, mouthLowerDown=0.10),
    "EH": _pose(jawOpen=0.35, mouthStretch=0.20, mouthLowerDown=0.22, mouthUpperUp=0.08),
    "ER": _pose(jawOpen=0.22, mouthFunnel=0.30, mouthPucker=0.15),
    "IH": _pose(jawOpen=0.25, mouthStretch=0.25, mouthSmile=0.08, mouthLowerDown=0.10),
    "IY": _pose(jawOpen=0.16, mouthStretch=0.35, mouthSmile=0.12, mouthLowerDown=0.08),
    "UH": _pose(jawOpen=0.22, mouthFunnel=0.30, mouthPucker=0.30),
    "UW": _pose(jawOpen=0.14, mouthFunnel=0.30, mouthPucker=0.70),
    # glides and liquids
    "W": _pose(jawOpen=0.08, mouthFunnel=0.20, mouthPucker=0.75),
    "Y": _pose(jawOpen=0.12, mouthStretch=0.30, mouthSmile=0.05),
    "R": _pose(jawOpen=0.15, mouthFunnel=0.35, mouthPucker=0.20),
    "L": _pose(jawOpen=0.25, mouthLowerDown=0.10, tongueOut=0.05),
    # bilabials: the closure constraint seals the lips; the jaw nearly closes
    "P": _pose(jawOpen=0.04, mouthPress=0.30),
    "B": _pose(jawOpen=0.04, mouthPress=0.25),
    "M": _pose(jawOpen=0.04, mouthPress=0.20),
    # labiodentals: lower lip tucked under the upper teeth
    "F": _pose(jawOpen=0.08, mouthRollLower=0.55, mouthUpperUp=0.15, mouthShrugUpper=0.10),
    "V": _pose(jawOpen=0.08, mouthRollLower=0.50, mouthUpperUp=0.12, mouthShrugUpper=0.10),
    # dentals: tongue tip between the teeth
    "TH": _pose(jawOpen=0.15, tongueOut=0.30, mouthLowerDown=0.10),
    "DH": _pose(jawOpen=0.14, tongueOut=0.25, mouthLowerDown=0.10),
    # alveolars and sibilants: teeth nearly together
    "S": _pose(jawOpen=0.07, mouthStretch=0.25, mouthLowerDown=0.12, mouthUpperUp=0.10),
    "Z": _pose(jawOpen=0.07, mouthStretch=0.22, mouthLowerDown=0.12, mouthUpperUp=0.10),
    "T": _pose(jawOpen=0.14, mouthLowerDown=0.10),
    "D": _pose(jawOpen=0.14, mouthLowerDown=0.10),
    "N": _pose(jawOpen=0.12, mouthLowerDown=0.08),
    # post-alveolars: lips rounded forward
    "SH": _pose(jawOpen=0.10, mouthFunnel=0.45, mouthPucker=0.20),
    "ZH": _pose(jawOpen=0.10, mouthFunnel=0.45, mouthPucker=0.20),
    "CH": _pose(jawOpen=0.12, mouthFunnel=0.40, mouthPucker=0.20),
    "JH": _pose(jawOpen=0.12, mouthFunnel=0.40, mouthPucker=0.20),
    # velars and glottal: shaped by their neighbours
    "K": _pose(jawOpen=0.20),
    "G": _pose(jawOpen=0.20),
    "NG": _pose(jawOpen=0.18),
    "HH": _pose(jawOpen=0.25),
    # rest: lips closed, jaw relaxed shut
    "SIL": {},
}

# Diphthongs glide between two vowel poses over their segment.
DIPHTHONGS: dict[str, tuple[str, str]] = {
    "AW": ("AA", "UH"),
    "AY": ("AA", "IY"),
    "EY": ("EH", "IY"),
    "OW": ("AO", "UW"),
    "OY": ("AO", "IY"),
}

BILABIALS = frozenset({"P", "B", "M"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY"})


@dataclass(frozen=True)
class Dominance:
    """How a sound holds its pose: ``strength`` (relative) and ``spread`` (s)."""

    strength: float
    spread: float


def dominance(phone: str) -> Dominance:
    """Dominance of ``phone`` (ARPAbet, no stress digit)."""
    if phone == "SIL":
        return Dominance(3.0, 0.03)
    if phone in ("K", "G", "NG", "HH"):
        return Dominance(0.25, 0.05)
    if phone in ("F", "V", "W"):
        return Dominance(1.5, 0.05)
    if phone in BILABIALS:
        return Dominance(1.0, 0.04)
    if phone in ("SH", "ZH", "CH", "JH", "UW", "S", "Z"):
        return Dominance(1.2, 0.06)
    return Dominance(1.0, 0.06)


def pose_vector(phone: str) -> np.ndarray:
    """The pose of ``phone`` as float32 [52] (unknown phones rest: all zero)."""
    v = np.zeros(arkit.COUNT, np.float32)
    for name, value in POSES.get(phone, {}).items():
        v[arkit.index(name)] = value
    return v
