"""The 2-D path: a talking-portrait video from one photo, and the one mp4 writer.

``visemo animate line.wav --portrait photo.jpg -o talk.mp4`` ends here:
:func:`render_portrait` fits the bundled head to the photo
(:mod:`~visemo.render2d.rig`), builds the warp mesh (:mod:`~visemo.render2d.mesh`)
and renders every frame of an :class:`~visemo.Animation` with generator v1
(:mod:`~visemo.render2d.portrait`: backward warp, painted mouth, lids that
close over the eyes), streaming frames into an H.264 + AAC mp4
(:mod:`~visemo.render2d.video`).

Modules: ``topology`` (mediapipe's mesh), ``rig`` (photo → motion basis),
``mesh`` (layers and triangles), ``warp`` (rasterise + remap), ``mouth``
(the mouth's inside), ``portrait`` (one frame), ``video`` (the mp4 writer).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .video import VideoInfo, write_video

__all__ = ["render_portrait", "portrait_frames", "fit_portrait", "VideoInfo", "write_video", "DEFAULT_SIZE"]

DEFAULT_SIZE = 512
"""Side of the square face crop, pixels (``--size``)."""


def fit_portrait(photo, size: int | None = DEFAULT_SIZE, **options):
    """The :class:`~visemo.render2d.rig.PortraitRig` of a photo (see :func:`visemo.render2d.rig.fit_portrait`)."""
    from .rig import fit_portrait as _fit

    return _fit(photo, size, **options)


def portrait_frames(renderer, weights: np.ndarray, replace: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """RGB uint8 frames [H, W, 3], one per row of ``weights`` [T, 52], made as they are asked for.

    ``replace`` [T] (0..1): per frame, how much its emotion replaces the photo's own.
    """
    for i, w in enumerate(weights):
        yield renderer.frame(w, 0.0 if replace is None else float(replace[i]))


def replacement(animation, emotion) -> np.ndarray | None:
    """Per frame [T], how much the asked emotion replaces the photo's own (None: keep it).

    ``emotion``: the :class:`~visemo.emotion.EmotionTrack` the animation was
    made with (``Performance.emotion``), an array [T] of 0..1, or None.
    """
    from .rig import emotion_strength

    if emotion is None:
        return None
    if isinstance(emotion, np.ndarray):
        if emotion.shape != (animation.frames,):
            raise ValueError(f"emotion strengths must have shape [{animation.frames}], got {emotion.shape}")
        return np.clip(emotion, 0.0, 1.0).astype(np.float32)
    return emotion_strength(emotion.curves(animation.times).weights)


def render_portrait(animation, photo, path: str | os.PathLike, *, speech: str | os.PathLike | None,
                    size: int | None = DEFAULT_SIZE, rig=None, emotion=None, keep_expression: bool = False,
                    refiner=None, progress: Callable[[int, int | None], None] | None = None) -> VideoInfo:
    """Write the talking-portrait mp4 of ``animation`` on ``photo`` to ``path``.

    ``animation``: an :class:`~visemo.Animation`, or the
    :class:`~visemo.pipeline.Performance` that made it (its emotion track is
    then used as ``emotion``).  ``photo``: a path or RGB array (ignored
    when a fitted ``rig`` is given).  ``speech``: the audio for the
    soundtrack (None: silent video).  ``size``: the square face crop's side
    in pixels, or None for the whole photo.  ``emotion``: the emotion track
    (or per-frame strengths 0..1) the animation asks for; where it asks for
    an emotion, that emotion replaces one the photo itself shows (a smile);
    None keeps the photo's own throughout.  ``keep_expression``: never
    replace it.  ``refiner``: a learned refinement applied after generator
    v1 (:func:`visemo.render2d.refine.load_refiner`; optional, runs on a
    GPU when torch sees one).  ``progress(done, total)`` after each frame.  The file
    appears only when complete.  Raises :class:`~visemo.errors.ImageError`
    for unusable photos.
    """
    from .portrait import PortraitRenderer

    if hasattr(animation, "animation") and hasattr(animation, "emotion"):
        emotion = animation.emotion if emotion is None else emotion
        animation = animation.animation
    if rig is None:
        rig = fit_portrait(photo, size)
    replace = None if keep_expression else replacement(animation, emotion)
    renderer = PortraitRenderer(rig, refiner=refiner)
    width, height = rig.size
    return write_video(Path(path), portrait_frames(renderer, animation.weights, replace), fps=animation.fps,
                       width=width, height=height, frame_count=animation.frames, audio=speech,
                       progress=progress)
