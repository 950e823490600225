"""Emotion: FACS tables, prompts and the emotion timeline."""

from .facs import BASIC_EMOTIONS, emotion_vector
from .prompts import Expression, resolve_prompt
from .track import EmotionCurves, EmotionKey, EmotionTrack

__all__ = [
    "BASIC_EMOTIONS", "emotion_vector", "Expression", "resolve_prompt",
    "EmotionCurves", "EmotionKey", "EmotionTrack",
]
