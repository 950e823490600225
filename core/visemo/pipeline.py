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
    emotion: EmotionTrack | None = None


AUTO = "auto"
"""The emotion prompt that asks for emotion from the speech itself (:mod:`visemo.emotion.auto`)."""


def is_auto(emotion) -> bool:
    """Whether ``emotion`` asks for the automatic, speech-derived timeline."""
    return isinstance(emotion, str) and emotion.strip().lower() == AUTO


def emotion_track(emotion, intensity: float = 1.0, image=None) -> EmotionTrack | None:
    """An :class:`EmotionTrack` from a prompt, a track, a photo, or None (neutral).

    Returns None for ``"auto"``: that track needs the speech (:func:`perform`
    makes it).  ``image``: a reference photo path, instead of ``emotion``.
    """
    if not (0.0 <= intensity <= 1.0) or not np.isfinite(intensity):
        raise PromptError(f"intensity must be between 0 and 1, got {intensity}")
    if image is not None:
        if emotion is not None:
            raise PromptError("give an emotion prompt or a reference photo, not both")
        return EmotionTrack.from_image(image, intensity)
    if isinstance(emotion, EmotionTrack):
        return emotion.scaled(intensity)
    if is_auto(emotion):
        return None
    if emotion is None or isinstance(emotion, str):
        return EmotionTrack.constant(emotion, intensity)
    raise PromptError(f"emotion must be a word, 'auto' or an EmotionTrack, got {type(emotion).__name__}")


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
    emotion_image=None,
    transcript: str | None = None,
    intensity: float = 1.0,
    fps: float = 30.0,
    seed: int | None = None,
    sample_rate: int | None = None,
    blinks: bool = True,
    eye_motion: bool = True,
    recognizer: str = "auto",
    language: str | None = None,
    max_seconds: float = 1800.0,
    progress: Progress | None = None,
) -> Performance:
    """Speech audio (+ emotion) → 52 ARKit curves, with what they came from.

    ``speech``: a file path, or a float array with ``sample_rate`` (Hz).
    ``emotion``: an emotion prompt (``"happy"``, ``"quietly furious"``), an
    :class:`EmotionTrack` (keys over time), ``"auto"`` (from what is said and
    how: :func:`visemo.emotion.auto.auto_emotion_track`) or None for neutral.
    ``emotion_image``: a reference photo whose expression holds for the clip
    (instead of ``emotion``).  ``intensity``: 0..1, scales the emotion.
    ``transcript``: the words spoken, if known (better alignment).
    ``fps``: output frames per second.  ``seed``: same seed, same blinks and
    eye motion.  ``recognizer`` (speech without a transcript): "auto" (the
    speech → articulation model, any language; Whisper only where words are
    needed: ``"auto"`` emotion), "model", "whisper" (words + English
    alignment) or "phones".  ``language``: the transcript's language (ISO
    code; default English): other languages are timed through espeak-ng's
    phones and the articulation model.  ``max_seconds``: longer
    speech is refused (AudioError) before decoding.  ``progress(stage,
    fraction)`` is called as stages start.
    """
    from .audio import load_audio, loudness_envelope
    from .speech import phoneme_timings

    report = progress or (lambda stage, fraction: None)
    track = emotion_track(emotion, intensity, emotion_image)  # bad prompts and photos fail before any work
    if not (fps > 0 and np.isfinite(fps)):
        raise VisemoError(f"fps must be a positive number, got {fps}")

    report("audio", 0.0)
    audio = load_audio(speech, sample_rate=sample_rate, max_seconds=max_seconds)
    report("phonemes", 0.1)
    timings = phoneme_timings(audio, transcript=transcript, recognizer=recognizer, language=language)
    segments = tuple(timings.segments)
    if track is None:
        from .emotion.auto import auto_emotion_track

        report("emotion", 0.65)
        words = timings
        if timings.transcript is None:  # the mouth was timed without words; auto needs them
            from .speech.timings import transcribe_words
            from .speech.transcribe import whisper_available

            if whisper_available():
                words = transcribe_words(audio)
        track = auto_emotion_track(audio, words).scaled(intensity)
    report("articulation", 0.7)
    frames = frame_count(audio.duration, fps)
    times = np.arange(frames) / fps
    curves = track.curves(times)
    loud = loudness_envelope(audio, fps, frames)
    art = articulate(segments, audio.duration, fps, loudness=loud, gain=curves.speech_gain)
    report("compose", 0.9)
    anim = compose(art.animation, art.closure, curves.weights, seed=seed, blinks=blinks, eye_motion=eye_motion)
    report("done", 1.0)
    return Performance(anim, segments, art.closure, audio.duration, timings.transcript, track)


def animate(speech, emotion=None, **options) -> Animation:
    """Speech audio (+ emotion) → :class:`Animation`; options as for :func:`perform`."""
    return perform(speech, emotion, **options).animation
