"""The main job: speech (+ emotion) → :class:`~visemo.Animation`.

Stages (each a function, so benchmarks and the add-on can time or report them):
load audio → phoneme timings → articulation (speech layer) → emotion curves →
compose with idle life (blinks, gaze) → bilabial closure last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .animation import Animation, frame_count
from .emotion import EmotionTrack
from .errors import PromptError, VisemoError
from .idle import blink_curves, compose_blinks, gaze_curves, gaze_to_weights
from .lipsync import articulate
from .lipsync.closure import apply_closure

Progress = Callable[[str, float], None]
STAGES = ("audio", "phonemes", "articulation", "emotion", "compose")


@dataclass(frozen=True)
class Performance:
    """Everything the pipeline made: the ``animation`` and what it came from."""

    animation: Animation
    segments: tuple
    closure: np.ndarray
    duration: float
    transcript: str | None


def emotion_track(emotion, intensity: float = 1.0) -> EmotionTrack:
    """An :class:`EmotionTrack` from a prompt word, a track, or None (neutral)."""
    if not (0.0 <= intensity <= 1.0) or not np.isfinite(intensity):
        raise PromptError(f"intensity must be between 0 and 1, got {intensity}")
    if isinstance(emotion, EmotionTrack):
        if intensity == 1.0:
            return emotion
        keys = [type(k)(k.time, k.prompt, k.intensity * intensity) for k in emotion.keys]
        return EmotionTrack(tuple(keys), emotion.transition)
    if emotion is None or isinstance(emotion, str):
        return EmotionTrack.constant(emotion, intensity)
    raise PromptError(f"emotion must be a word or an EmotionTrack, got {type(emotion).__name__}")


def compose(
    speech: Animation,
    closure: np.ndarray,
    expression: np.ndarray,
    *,
    seed: int | None = None,
    blinks: bool = True,
    eye_motion: bool = True,
) -> Animation:
    """Speech layer + expression [T, 52] + idle life, lips sealed on bilabials last."""
    frames, fps = speech.frames, speech.fps
    w = speech.weights + expression
    if eye_motion:
        w = w + gaze_to_weights(gaze_curves(frames, fps, seed))
    w = np.clip(w, 0.0, 1.0)
    if blinks:
        w = compose_blinks(w, blink_curves(frames, fps, seed))
    w = apply_closure(w, closure)
    return Animation(np.clip(w, 0.0, 1.0), fps)


def perform(
    speech,
    emotion=None,
    *,
    transcript: str | None = None,
    intensity: float = 1.0,
    fps: float = 30.0,
    seed: int | None = None,
    sample_rate: int | None = None,
    blinks: bool = True,
    eye_motion: bool = True,
    recognizer: str = "auto",
    max_seconds: float = 1800.0,
    progress: Progress | None = None,
) -> Performance:
    """Speech audio (+ emotion) → 52 ARKit curves, with what they came from.

    ``speech``: a file path, or a float array with ``sample_rate`` (Hz).
    ``emotion``: a basic emotion word (``"happy"``), an :class:`EmotionTrack`,
    or None for neutral.  ``intensity``: 0..1, scales the emotion.
    ``transcript``: the words spoken, if known (better alignment).
    ``fps``: output frames per second.  ``seed``: same seed, same blinks and
    eye motion.  ``recognizer``: "auto" (Whisper transcript when installed,
    else phone recognition), "whisper" or "phones".  ``max_seconds``: longer
    speech is refused (AudioError) before decoding.  ``progress(stage,
    fraction)`` is called as stages start.
    """
    from .audio import load_audio, loudness_envelope
    from .speech import phoneme_timings

    report = progress or (lambda stage, fraction: None)
    track = emotion_track(emotion, intensity)  # bad prompts fail before any work
    if not (fps > 0 and np.isfinite(fps)):
        raise VisemoError(f"fps must be a positive number, got {fps}")

    report("audio", 0.0)
    audio = load_audio(speech, sample_rate=sample_rate, max_seconds=max_seconds)
    report("phonemes", 0.1)
    timings = phoneme_timings(audio, transcript=transcript, recognizer=recognizer)
    segments = tuple(timings.segments)
    report("articulation", 0.7)
    frames = frame_count(audio.duration, fps)
    times = np.arange(frames) / fps
    curves = track.curves(times)
    loud = loudness_envelope(audio, fps, frames)
    art = articulate(segments, audio.duration, fps, loudness=loud, gain=curves.speech_gain)
    report("compose", 0.9)
    anim = compose(art.animation, art.closure, curves.weights, seed=seed, blinks=blinks, eye_motion=eye_motion)
    report("done", 1.0)
    return Performance(anim, segments, art.closure, audio.duration, timings.transcript)


def animate(speech, emotion=None, **options) -> Animation:
    """Speech audio (+ emotion) → :class:`Animation`; options as for :func:`perform`."""
    return perform(speech, emotion, **options).animation
