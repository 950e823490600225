"""Emotion: FACS tables, free-text prompts, the aligned emotion space and the emotion timeline."""

from .facs import BASIC_EMOTIONS, emotion_vector
from .prompts import Expression, nearest_basic, resolve_prompt, similarities
from .track import EmotionCurves, EmotionKey, EmotionTrack

__all__ = [
    "BASIC_EMOTIONS", "emotion_vector", "Expression", "resolve_prompt", "nearest_basic", "similarities",
    "EmotionCurves", "EmotionKey", "EmotionTrack",
]
