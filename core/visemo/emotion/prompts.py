"""Emotion prompts → basic emotions (v1: the eight basic words and their synonyms).

A free-text emotion space replaces this lookup later; it keeps the same entry,
:func:`resolve_prompt`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import PromptError
from .facs import BASIC_EMOTIONS, SPEECH_GAIN, emotion_vector

SYNONYMS: dict[str, str] = {
    "neutral": "neutral", "none": "neutral", "calm": "neutral",
    "happy": "happy", "happiness": "happy", "joy": "happy", "joyful": "happy",
    "glad": "happy", "cheerful": "happy",
    "sad": "sad", "sadness": "sad", "unhappy": "sad", "sorrowful": "sad",
    "angry": "angry", "anger": "angry", "mad": "angry", "furious": "angry",
    "fearful": "fearful", "fear": "fearful", "afraid": "fearful", "scared": "fearful",
    "surprised": "surprised", "surprise": "surprised", "astonished": "surprised",
    "disgusted": "disgusted", "disgust": "disgusted",
    "contemptuous": "contemptuous", "contempt": "contemptuous",
}


@dataclass(frozen=True)
class Expression:
    """A resolved prompt: ARKit ``weights`` [52] at full intensity, and speech ``gain``."""

    label: str
    weights: np.ndarray
    speech_gain: float


def resolve_prompt(prompt: str | None) -> Expression:
    """The expression (at intensity 1) that ``prompt`` names; None means neutral."""
    word = (prompt or "neutral").strip().lower()
    emotion = SYNONYMS.get(word)
    if emotion is None:
        raise PromptError(
            f"unknown emotion {prompt!r}; use one of: {', '.join(BASIC_EMOTIONS)}"
        )
    return Expression(emotion, emotion_vector(emotion, 1.0), SPEECH_GAIN[emotion])
