"""FACS tables: action units → ARKit channels, and emotions → action-unit prototypes.

AU → ARKit follows the usual correspondence (FIELD_NOTES, ExpCLIP's TEAD
conversion); emotion prototypes follow EMFACS (Friesen & Ekman 1983) with
intensities (0..1, roughly FACS A–E) chosen by eye on the bundled head.
Bilateral AUs drive both sides; "R12" style keys are unilateral (R or L).
"""

from __future__ import annotations

import numpy as np

from .. import arkit

# One unit of each action unit, as ARKit weights.  Side-less names mean both sides.
AU_TO_ARKIT: dict[int, dict[str, float]] = {
    1: {"browInnerUp": 1.0},
    2: {"browOuterUp": 1.0},
    4: {"browDown": 1.0},
    5: {"eyeWide": 1.0},
    6: {"cheekSquint": 1.0, "eyeSquint": 0.3},
    7: {"eyeSquint": 1.0},
    9: {"noseSneer": 1.0, "mouthUpperUp": 0.2},
    10: {"mouthUpperUp": 1.0},
    12: {"mouthSmile": 1.0},
    14: {"mouthDimple": 1.0},
    15: {"mouthFrown": 1.0},
    16: {"mouthLowerDown": 1.0},
    17: {"mouthShrugLower": 1.0},
    18: {"mouthPucker": 1.0},
    20: {"mouthStretch": 1.0},
    22: {"mouthFunnel": 1.0},
    23: {"mouthPress": 0.6, "mouthRollLower": 0.15, "mouthRollUpper": 0.15},
    24: {"mouthPress": 1.0},
    25: {"mouthLowerDown": 0.3, "jawOpen": 0.05},
    26: {"jawOpen": 0.5},
    27: {"jawOpen": 1.0},
    28: {"mouthRollLower": 1.0, "mouthRollUpper": 1.0},
    43: {"eyeBlink": 1.0},
    45: {"eyeBlink": 1.0},
    61: {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0},   # eyes turn to the character's left
    62: {"eyeLookInLeft": 1.0, "eyeLookOutRight": 1.0},   # eyes turn to the character's right
    63: {"eyeLookUp": 1.0},
    64: {"eyeLookDown": 1.0},
}

# Emotion prototypes: action unit (int, or "L12"/"R12" for one side) → intensity 0..1.
EMOTION_AUS: dict[str, dict[int | str, float]] = {
    "neutral": {},
    "happy": {6: 0.6, 12: 0.85, 25: 0.15},
    "sad": {1: 0.75, 4: 0.35, 15: 0.65, 17: 0.35, 43: 0.12, 64: 0.15},
    "angry": {4: 0.9, 5: 0.35, 7: 0.6, 9: 0.15, 23: 0.6, 24: 0.2},
    "fearful": {1: 0.75, 2: 0.5, 4: 0.4, 5: 0.75, 7: 0.2, 20: 0.6, 25: 0.3, 26: 0.2},
    "surprised": {1: 0.85, 2: 0.8, 5: 0.7, 25: 0.3, 26: 0.45},
    "disgusted": {4: 0.3, 9: 0.75, 10: 0.5, 15: 0.4, 16: 0.25, 17: 0.35},
    "contemptuous": {"R12": 0.55, "R14": 0.6, 64: 0.05},
}

BASIC_EMOTIONS: tuple[str, ...] = tuple(EMOTION_AUS)

# How an emotion changes articulation amplitude (sad speech moves less, angry more).
SPEECH_GAIN: dict[str, float] = {
    "neutral": 1.0, "happy": 1.05, "sad": 0.8, "angry": 1.15,
    "fearful": 0.9, "surprised": 1.1, "disgusted": 0.9, "contemptuous": 0.95,
}


def _channels(name: str, side: str | None) -> list[str]:
    """ARKit channels for a table name, on one side (``"L"``/``"R"``) or both."""
    if name in arkit.NAMES:
        return [name]
    sides = {"L": ("Left",), "R": ("Right",), None: ("Left", "Right")}[side]
    out = [name + s for s in sides]
    for n in out:
        arkit.index(n)  # raises on a typo in the table
    return out


def au_vector(aus: dict[int | str, float]) -> np.ndarray:
    """ARKit weights float32 [52] for action units with intensities (summed, clipped to 1)."""
    v = np.zeros(arkit.COUNT, np.float32)
    for key, intensity in aus.items():
        side = None
        if isinstance(key, str):
            side, key = key[0].upper(), int(key[1:])
        for name, gain in AU_TO_ARKIT[key].items():
            for ch in _channels(name, side):
                v[arkit.index(ch)] += gain * intensity
    return np.clip(v, 0.0, 1.0)


def emotion_vector(emotion: str, intensity: float = 1.0) -> np.ndarray:
    """Expression of a basic ``emotion`` at ``intensity`` (0..1): float32 [52]."""
    return au_vector(EMOTION_AUS[emotion]) * np.float32(np.clip(intensity, 0.0, 1.0))
