"""Measuring a talking-portrait video in its pixels: landmarks found again on every frame.

Used by the tests and ``benchmarks/bench_portrait.py``.  Each frame of a
video (decoded with PyAV, as a viewer sees it) goes through mediapipe's face
mesh again; from its landmarks:

- :func:`lip_gap_px`: how far apart the inner lips are at the middle of the
  mouth (the three middle inner-lip pairs, along the face's forehead→chin
  axis), in pixels;
- :func:`eye_aspect_ratio`: (height / width) of each eye opening, the usual
  blink measure (Soukupová & Čech 2016) on mediapipe's points.

:class:`FrameTrack` holds these per frame; frames where no face is found
are NaN.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from .rig import mouth_gap

EYE_POINTS = {"right": (33, 160, 158, 133, 153, 144), "left": (263, 387, 385, 362, 380, 373)}
"""Per eye: (corner, upper, upper, corner, lower, lower) in the order of the EAR formula."""


def lip_gap_px(points: np.ndarray) -> float:
    """Inner-lip opening at the middle of the mouth (pixels; landmarks [478, 2+])."""
    return float(np.mean(mouth_gap(np.asarray(points)[:, :2])[3:6]))


def eye_aspect_ratio(points: np.ndarray) -> tuple[float, float]:
    """(right, left) eye aspect ratio: mean lid distance / corner distance (≈0.3 open, < 0.1 shut)."""
    p = np.asarray(points)[:, :2]
    out = []
    for name in ("right", "left"):
        c1, u1, u2, c2, l1, l2 = EYE_POINTS[name]
        vertical = np.linalg.norm(p[u1] - p[l2]) + np.linalg.norm(p[u2] - p[l1])
        out.append(float(vertical / (2.0 * max(np.linalg.norm(p[c1] - p[c2]), 1e-9))))
    return out[0], out[1]


def video_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """The frames of a video file as RGB uint8 [H, W, 3], decoded one at a time (PyAV)."""
    from .video import require_av

    with require_av().open(os.fspath(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


@dataclass(frozen=True)
class FrameTrack:
    """Per-frame measurements, float64 [T] each (NaN where no face was found).

    ``lip_gap_px``; ``ear`` [T, 2] (right, left eye); ``boxes`` [T, 4] face
    boxes (x0, y0, x1, y1) for crops (fer); ``found`` bool [T].
    """

    lip_gap_px: np.ndarray
    ear: np.ndarray
    boxes: np.ndarray
    found: np.ndarray


def track_frames(frames: Iterable[np.ndarray]) -> FrameTrack:
    """Find the face again on every frame and measure it (see the module doc)."""
    from ..face.landmarks import detect_faces

    gaps, ears, boxes, found = [], [], [], []
    for rgb in frames:
        faces = detect_faces(rgb, max_faces=1)
        if faces:
            pts = faces[0].points
            gaps.append(lip_gap_px(pts))
            ears.append(eye_aspect_ratio(pts))
            boxes.append(faces[0].box)
            found.append(True)
        else:
            gaps.append(np.nan)
            ears.append((np.nan, np.nan))
            boxes.append((np.nan,) * 4)
            found.append(False)
    return FrameTrack(np.array(gaps), np.array(ears).reshape(-1, 2), np.array(boxes).reshape(-1, 4),
                      np.array(found, bool))
