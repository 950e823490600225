"""``EmotionTrack``: the emotion over time, as keys (time, prompt or photo, intensity).

A key means "from this time on, this emotion": at each key the expression
starts to move from the previous one and arrives ``transition`` seconds later
(smoothstep easing).  Before the first key the first key's emotion holds.  A key's emotion is a
text prompt (:func:`~visemo.emotion.prompts.resolve_prompt`) or a reference
photo (``image``: :func:`~visemo.emotion.photo.expression_from_photo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import functools
import os

import numpy as np

from .. import arkit
from ..errors import PromptError, quoted
from .prompts import Expression, _gain, resolve_prompt, similarities


@dataclass(frozen=True)
class EmotionKey:
    """From ``time`` seconds on: ``prompt`` (or the face in the photo ``image``) at ``intensity`` (0..1)."""

    time: float
    prompt: str | None
    intensity: float = 1.0
    image: str | None = None

    def describe(self) -> str:
        """The key as a message names it: its time, and its photo, prompt or "neutral", quoted short."""
        return f"the key at {self.time:g} s ({quoted(self.image or self.prompt or 'neutral')})"

    def scaled(self, factor: float) -> "EmotionKey":
        """The same key at ``factor`` × its intensity."""
        return EmotionKey(self.time, self.prompt, self.intensity * factor, self.image)


@functools.lru_cache(maxsize=32)
def _photo(path: str, mtime: float) -> Expression:
    from .photo import expression_from_photo

    from .space import expression_to_style

    photo = expression_from_photo(path)
    w = photo.weights.copy()
    w.setflags(write=False)
    style = np.asarray(expression_to_style(w)[0], np.float32)  # its place in the aligned emotion space
    style.setflags(write=False)
    return Expression(photo.label, w, _gain(photo.label, w), f"photo {os.path.basename(path)}",
                      tuple(similarities(w)), style, source="photo")


def photo_expression(path: str | os.PathLike) -> Expression:
    """The expression of the face in a reference photo, as a prompt :class:`Expression` (cached per file).

    ``style`` is the expression's embedding in the aligned emotion space
    (the expression autoencoder's code), as text prompts have theirs.

    Raises :class:`~visemo.errors.ImageError` (missing, unreadable, no face,
    several faces, a tiny face) or :class:`~visemo.errors.DependencyError`
    without mediapipe.
    """
    path = os.path.abspath(os.fspath(path))
    return _photo(path, os.path.getmtime(path) if os.path.isfile(path) else -1.0)


def resolve_key(key: EmotionKey) -> Expression:
    """The expression (at intensity 1) of one key: its photo if it has one, else its prompt."""
    return photo_expression(key.image) if key.image else resolve_prompt(key.prompt)


@dataclass(frozen=True)
class EmotionCurves:
    """Expression weights float32 [T, 52] and articulation gain float32 [T]."""

    weights: np.ndarray
    speech_gain: np.ndarray


@dataclass(frozen=True)
class EmotionTrack:
    """Emotion keys sorted by time, with a ``transition`` time in seconds."""

    keys: tuple[EmotionKey, ...]
    transition: float = 0.4
    _resolved: tuple[Expression, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = tuple(sorted(self.keys, key=lambda k: k.time))
        if not keys:
            keys = (EmotionKey(0.0, None, 0.0),)
        for k in keys:
            if not (0.0 <= k.intensity <= 1.0) or not np.isfinite(k.intensity):
                raise PromptError(
                    f"emotion intensity must be between 0 and 1, got {k.intensity} for {k.describe()}"
                )
            if k.time < 0 or not np.isfinite(k.time):
                raise PromptError(f"emotion key time must be >= 0 seconds, got {k.time} for {k.describe()}")
        if self.transition < 0:
            raise PromptError(f"emotion transition must be >= 0 seconds, got {self.transition}")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "_resolved", tuple(resolve_key(k) for k in keys))

    @classmethod
    def constant(cls, prompt: str | None, intensity: float = 1.0) -> "EmotionTrack":
        """One emotion for the whole clip."""
        return cls((EmotionKey(0.0, prompt, intensity),))

    @classmethod
    def from_image(cls, image: str | os.PathLike, intensity: float = 1.0) -> "EmotionTrack":
        """The expression of the face in a reference photo for the whole clip."""
        return cls((EmotionKey(0.0, None, intensity, os.fspath(image)),))

    @classmethod
    def from_keys(cls, keys: Sequence[tuple[float, str | None, float]], transition: float = 0.4) -> "EmotionTrack":
        """From ``(time_s, prompt, intensity)`` tuples."""
        return cls(tuple(EmotionKey(float(t), p, float(i)) for t, p, i in keys), transition)

    def scaled(self, factor: float) -> "EmotionTrack":
        """The same track with every key's intensity × ``factor`` (0..1)."""
        if factor == 1.0:
            return self
        return EmotionTrack(tuple(k.scaled(factor) for k in self.keys), self.transition)

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """What each key resolved to (at intensity 1)."""
        return self._resolved

    @property
    def labels(self) -> tuple[str, ...]:
        """The basic emotion each key resolved to."""
        return tuple(e.label for e in self._resolved)

    def unseen(self, times: np.ndarray) -> tuple[int, ...]:
        """Indices in :attr:`keys` of the keys that show at none of the frame ``times`` (seconds, ascending) of
        :meth:`curves`: a key after the first moves the face only at frames after its time (at its time too
        when ``transition`` is 0), so one at or after the last frame never shows (a keys file in milliseconds,
        or one written for a longer take).  The first key holds from the start, wherever it is."""
        if len(times) == 0:
            return ()
        last = float(times[-1])
        return tuple(i for i, k in enumerate(self.keys)
                     if i > 0 and (k.time > last or (k.time == last and self.transition > 0)))

    def unseen_note(self, times: np.ndarray, frame_of: Callable[[float], int] | None = None) -> str:
        """One line naming the keys :meth:`unseen` finds, for a report; "" if there are none.  Keys and the last
        frame are named by time ("3500.00 s"), or by frame number where ``frame_of`` (time in s → frame) is
        given, as the add-on does."""
        late = self.unseen(times)
        if not late:
            return ""

        def place(t: float) -> str:
            return f"{t:.2f} s" if frame_of is None else f"frame {frame_of(t)}"

        one = len(late) == 1
        return (f"emotion key{'' if one else 's'} at {', '.join(place(self.keys[i].time) for i in late)} "
                f"{'comes' if one else 'come'} at or after the last frame ({place(float(times[-1]))}) and "
                f"{'does' if one else 'do'} not show" + (" (key times are in seconds)" if frame_of is None else ""))

    def curves(self, times: np.ndarray) -> EmotionCurves:
        """Expression [T, 52] and speech gain [T] at ``times`` (seconds)."""
        times = np.asarray(times, np.float64)
        weights = np.zeros((len(times), arkit.COUNT), np.float32)
        gain = np.ones(len(times), np.float32)
        vecs = [e.weights * np.float32(k.intensity) for e, k in zip(self._resolved, self.keys)]
        gains = [1.0 + (e.speech_gain - 1.0) * k.intensity for e, k in zip(self._resolved, self.keys)]
        weights[:] = vecs[0]
        gain[:] = gains[0]
        for i in range(1, len(self.keys)):
            t0 = self.keys[i].time
            if self.transition > 0:
                x = np.clip((times - t0) / self.transition, 0.0, 1.0)
            else:
                x = (times >= t0).astype(np.float64)
            s = (x * x * (3.0 - 2.0 * x)).astype(np.float32)  # smoothstep
            weights = weights + s[:, None] * (vecs[i] - weights)
            gain = gain + s * (gains[i] - gain)
        return EmotionCurves(weights.astype(np.float32), gain.astype(np.float32))
