"""Fit the bundled head to one portrait: how each ARKit channel moves the photo's landmarks.

:func:`fit_portrait` takes a photo and returns a :class:`PortraitRig`:

1. **Working image.**  The face is found on the whole photo
   (:func:`visemo.emotion.photo.find_face`); ``size`` crops a square around
   it (``CROP_FACES`` face heights across, the face a little above the
   centre) and resamples it to ``size`` × ``size`` pixels, or keeps the whole
   photo (``size=None``; padded by one edge pixel to even sides, which H.264
   needs).  Landmarks are then found again on the working image, steadied
   over 8 slightly moved copies (:func:`~visemo.face.landmarks.steady_landmarks`).
2. **Pose, scale, identity.**  :func:`visemo.emotion.photo.fit_expression`
   fits the head's measured landmark response (pose, scale, the 24
   face-shape modes, the photo's own expression) to those landmarks.  A face
   turned more than ``MAX_YAW_DEG`` / ``MAX_PITCH_DEG`` is refused: a flat
   warp cannot turn it.
3. **Motion basis.**  Each channel's landmark motion is the head's own
   geometry (:meth:`~visemo.face.landmarks.LandmarkMap.basis`; not
   mediapipe's response to it, which sees about half of a small motion),
   rotated by the photo's head pose and scaled to its pixels:
   ``basis[c]`` float32 [478, 2], pixels per unit weight.  The head's
   landmark map puts both inner-lip lines on the upper lip (its mouth is
   closed); those 18 points take their motion from the head's inner-lip
   contour instead (upper half for the upper line, lower for the lower).
   A blink's lid travel is scaled to the photo's own eye opening
   (:func:`match_blinks`).
4. **A closed mouth at rest.**  When the photo's lips are apart (a smile
   showing teeth), the inner lips are brought together (``REST_CLOSE_LOWER``
   of the gap by the lower lip) and the rest of the face follows smoothly
   (harmonic interpolation over the mesh, the face outline, eyes and brows
   held): speech then opens the mouth from closed, and P/B/M can seal it.
5. **The photo's own emotion.**  The photo is how this person looks when
   nothing is asked: neutral speech keeps its expression (a smile stays).
   When the landmark fit and fer's classifier agree that it shows a basic
   emotion, the fitted weights of that emotion's channels are the
   ``baseline``, and a frame that asks for an emotion takes the baseline
   off in proportion to how strongly it asks (:func:`emotion_strength`), so
   "sad" on a smiling photo replaces the smile instead of adding to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import arkit
from ..errors import ImageError
from ..face.landmarks import LANDMARK_COUNT, MESH_POINTS, FaceLandmarks, steady_landmarks
from ..face.model import FaceModel, load_face_model
from . import topology as topo

CROP_FACES = 2.1
"""Side of the square crop in face heights (the face mesh's box)."""

CROP_CENTRE_DROP = 0.12
"""The crop's centre sits this many face heights below the face's (room for chin and neck)."""

MAX_YAW_DEG = 35.0
MAX_PITCH_DEG = 30.0
"""Faces turned further than this (degrees) are refused."""

REST_CLOSE_THRESHOLD = 0.02
"""Lips further apart than this fraction of the mouth width are closed at rest."""

REST_CLOSE_LOWER = 0.65
"""Share of the photo's lip gap the lower lip closes (the jaw does most of it)."""

STEADY_SAMPLES = 8


@dataclass(frozen=True, eq=False)
class PortraitRig:
    """A photo ready to animate.

    ``image`` RGB uint8 [H, W, 3] (H, W even): the working image every frame
    starts from.  ``points`` float64 [478, 2]: its landmarks (pixels, x
    right, y down); ``depth`` [478]: mediapipe's relative depth (pixels,
    negative = nearer).  ``basis`` float32 [52, 478, 2]: landmark motion in
    pixels per unit of each ARKit channel.  ``rest_offset`` float32 [478, 2]:
    constant motion that closes the photo's mouth.  ``baseline`` float32 [52]:
    the photo's own emotion, taken off frames that ask for another.
    ``px_per_m``: pixels per metre of the head.  ``pose_deg`` (yaw, pitch,
    roll).  ``crop`` (x0, y0, side, factor): the working image is the
    photo's square at (x0, y0) of ``side`` pixels scaled by ``factor``
    (``None`` for the whole photo).  ``photo_label``: the photo's own
    emotion as read (``neutral`` when the fit and fer disagree).
    ``mouth_gap``: how far apart the photo's lips are (share of the mouth
    width).
    """

    image: np.ndarray
    points: np.ndarray
    depth: np.ndarray
    basis: np.ndarray
    rest_offset: np.ndarray
    baseline: np.ndarray
    px_per_m: float
    pose_deg: tuple[float, float, float]
    crop: tuple[float, float, float, float] | None
    photo_label: str = "neutral"
    mouth_gap: float = 0.0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the working image in pixels."""
        return self.image.shape[1], self.image.shape[0]

    def displacement(self, weights: np.ndarray, replace: float = 0.0) -> np.ndarray:
        """Landmark motion float32 [478, 2] (pixels) for one frame's ARKit ``weights`` [52].

        ``replace`` (0..1): how much of the photo's own emotion (``baseline``)
        the frame's emotion replaces (:func:`emotion_strength`).
        """
        w = np.asarray(weights, np.float32) - np.float32(replace) * self.baseline
        return np.tensordot(w, self.basis, axes=1) + self.rest_offset


# ---------------------------------------------------------------------- working image
def working_image(rgb: np.ndarray, face: FaceLandmarks, size: int | None
                  ) -> tuple[np.ndarray, tuple[float, float, float, float] | None]:
    """The image the video is made of, and the crop it came from (see :class:`PortraitRig`)."""
    import cv2

    h, w = rgb.shape[:2]
    if size is None:
        out = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        return np.ascontiguousarray(out), None
    if size < 64 or size % 2:
        raise ImageError(f"--size must be an even number of pixels, at least 64 (got {size})")
    x0, y0, x1, y1 = face.box
    face_h = max(x1 - x0, y1 - y0)
    side = min(CROP_FACES * face_h, w, h)
    cx = 0.5 * (x0 + x1)
    cy = 0.5 * (y0 + y1) + CROP_CENTRE_DROP * face_h
    left = float(np.clip(cx - side / 2, 0, w - side))
    top = float(np.clip(cy - side / 2, 0, h - side))
    factor = size / side
    # Resample the square straight from the photo (one interpolation, sub-pixel exact).
    m = np.array([[factor, 0, -left * factor], [0, factor, -top * factor]], np.float64)
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    if factor < 1:
        a, b = int(np.floor(left)), int(np.floor(top))
        c, d = int(np.ceil(left + side)), int(np.ceil(top + side))
        sub = rgb[b:d, a:c]
        scaled = cv2.resize(sub, (max(1, round((c - a) * factor)), max(1, round((d - b) * factor))),
                            interpolation=interp)
        fx = scaled.shape[1] / (c - a)
        fy = scaled.shape[0] / (d - b)
        m = np.array([[1, 0, -(left - a) * fx], [0, 1, -(top - b) * fy]], np.float64)
        out = cv2.warpAffine(scaled, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    else:
        out = cv2.warpAffine(rgb, m, (size, size), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(out), (left, top, side, factor)


# ---------------------------------------------------------------------- motion basis
def _inner_lip_deltas(model: FaceModel, rest: np.ndarray) -> dict[int, np.ndarray]:
    """Motion [52, 3] (m per unit) of each inner-lip landmark, from the head's inner-lip contour.

    The contour is split at the mouth corners; the half holding the upper
    midline vertex is the upper lip.  Each landmark takes the motion of the
    contour point at its own x (linear between the two nearest vertices).
    """
    ring = np.asarray(model.lip_contour)
    corners = [int(np.flatnonzero(ring == c)[0]) for c in model.mouth_corners]
    a, b = sorted(corners)
    half1, half2 = ring[a:b + 1], np.concatenate([ring[b:], ring[:a + 1]])
    upper, lower = (half1, half2) if model.lip_upper[0] in half1 else (half2, half1)
    out = {}
    for line, verts in ((topo.LIPS_UPPER_INNER[1:-1], upper), (topo.LIPS_LOWER_INNER[1:-1], lower)):
        xs = model.vertices[verts, 0].astype(np.float64)
        order = np.argsort(xs)
        xs, verts = xs[order], verts[order]
        for lm in line:
            x = float(np.clip(rest[lm, 0], xs[0], xs[-1]))
            j = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1))
            t = (x - xs[j - 1]) / max(xs[j] - xs[j - 1], 1e-9)
            out[lm] = ((1 - t) * model.deltas[:, verts[j - 1]] + t * model.deltas[:, verts[j]]).astype(np.float64)
    return out


def motion_basis(model: FaceModel, px_per_m: float, rotation: np.ndarray) -> np.ndarray:
    """Landmark motion float32 [52, 478, 2] in image pixels per unit weight (see module doc, step 3)."""
    from ..face.landmarks import load_landmark_map

    rest, deltas = load_landmark_map(model).basis(model)
    deltas = deltas.copy()
    for lm, d in _inner_lip_deltas(model, rest).items():
        deltas[:, lm] = d
    # model frame → the photo's (x, depth, up) frame → pixels (x right, y down)
    moved = px_per_m * np.einsum("ij,clj->cli", rotation, deltas)
    return np.stack([moved[..., 0], -moved[..., 2]], axis=-1).astype(np.float32)


# ---------------------------------------------------------------------- rest pose
def mesh_laplacian() -> np.ndarray:
    """Uniform graph Laplacian float64 [468, 468] of the face mesh."""
    tris = topo.mesh_triangles()
    adj = np.zeros((MESH_POINTS, MESH_POINTS))
    for a, b in ((0, 1), (1, 2), (0, 2)):
        adj[tris[:, a], tris[:, b]] = adj[tris[:, b], tris[:, a]] = 1.0
    return np.diag(adj.sum(axis=1)) - adj


def harmonic_fill(known: dict[int, np.ndarray]) -> np.ndarray:
    """Offsets [478, 2] equal to ``known`` at its landmarks and harmonic (smooth) between them."""
    lap = mesh_laplacian()
    idx = np.array(sorted(known))
    free = np.setdiff1d(np.arange(MESH_POINTS), idx)
    vals = np.array([known[i] for i in idx], np.float64)
    out = np.zeros((LANDMARK_COUNT, 2))
    out[idx] = vals
    out[free] = np.linalg.solve(lap[np.ix_(free, free)], -lap[np.ix_(free, idx)] @ vals)
    return out


def face_down(points: np.ndarray) -> np.ndarray:
    """Unit vector from forehead to chin (image pixels): the face's "down"."""
    d = points[topo.CHIN] - points[topo.FOREHEAD]
    return d / max(np.linalg.norm(d), 1e-9)


def eye_down(points: np.ndarray, lid: tuple[int, ...]) -> np.ndarray:
    """Unit vector [2] across an eye from its upper lid to its lower (perpendicular to the corners).

    ``lid``: the lid line from corner to corner (:data:`~visemo.render2d.topology.EYES`).
    """
    corner = points[lid[-1]] - points[lid[0]]
    down = np.array([-corner[1], corner[0]]) / max(np.linalg.norm(corner), 1e-9)
    return down if down @ face_down(points) >= 0 else -down


def match_blinks(basis: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``basis`` with each eyeBlink channel's lid travel scaled to the photo's eye opening.

    The head's lids travel its own eye opening (10.6 mm) on a blink; the
    photo's eyes may be narrower or wider.  Per lid point, the blink's
    closing motion (upper and lower lid) is scaled so that eyeBlink = 1
    just meets the lids (scale kept within 0.3 … 1.5).
    """
    out = basis.copy()
    for side, (upper, lower, _) in topo.EYES.items():
        c = arkit.index("eyeBlinkRight" if side == "right" else "eyeBlinkLeft")
        down = eye_down(points, upper)
        up, lo = np.array(upper[1:-1]), np.array(lower[1:-1])
        travel = (basis[c, up] - basis[c, lo]) @ down
        opening = (points[lo] - points[up]) @ down
        scale = np.clip(opening / np.maximum(travel, 1e-6), 0.3, 1.5)
        out[c, up] *= scale[:, None]
        out[c, lo] *= scale[:, None]
    return out


def mouth_width(points: np.ndarray) -> float:
    """Distance between the inner mouth corners (pixels)."""
    return float(np.linalg.norm(points[308] - points[78]))


def mouth_gap(points: np.ndarray) -> np.ndarray:
    """Per inner-lip pair, how far apart the lips are along the face's down axis (pixels, [9])."""
    down = face_down(points)
    up, lo = np.array(topo.INNER_LIP_PAIRS).T
    return (points[lo] - points[up]) @ down


def closing_offset(points: np.ndarray) -> np.ndarray:
    """Constant landmark motion float32 [478, 2] that closes the photo's parted lips.

    Zero when the lips already meet (gap under ``REST_CLOSE_THRESHOLD`` of
    the mouth width).  Otherwise each inner-lip pair meets (the lower lip
    moving ``REST_CLOSE_LOWER`` of the gap), each outer-lip point moves with
    its inner partner, and the rest follows harmonically with the face
    outline, eyes and brows held still.
    """
    width = mouth_width(points)
    gaps = np.clip(mouth_gap(points), 0.0, None)
    if gaps.max(initial=0.0) < REST_CLOSE_THRESHOLD * width:
        return np.zeros((LANDMARK_COUNT, 2), np.float32)
    down = face_down(points)
    known: dict[int, np.ndarray] = {}
    for (u, lo), g in zip(topo.INNER_LIP_PAIRS, gaps):
        known[u] = (1 - REST_CLOSE_LOWER) * g * down
        known[lo] = -REST_CLOSE_LOWER * g * down
    for outer, inner in ((topo.LIPS_UPPER_OUTER, topo.LIPS_UPPER_INNER),
                         (topo.LIPS_LOWER_OUTER, topo.LIPS_LOWER_INNER)):
        for o, i in zip(outer[1:-1], inner[1:-1]):
            known[o] = known[i]
    for c in (78, 308, 61, 291):
        known[c] = np.zeros(2)
    held = set(topo.FACE_OVAL)
    for upper, lower, _ in topo.EYES.values():
        held.update(upper + lower)
    held.update((70, 63, 105, 66, 107, 336, 296, 334, 293, 300, 1, 4, 5, 195, 197, 6, 168))
    for i in held - set(known):
        known[i] = np.zeros(2)
    return harmonic_fill(known).astype(np.float32)


# ---------------------------------------------------------------------- the photo's emotion
def photo_baseline(rgb: np.ndarray, face: FaceLandmarks, weights: np.ndarray) -> tuple[np.ndarray, str]:
    """(baseline weights [52], label): the photo's own emotion when the fit and fer agree on it.

    The baseline is the fitted ``weights`` on the channels of that emotion's
    prototype (gaze, jaw, lids and mouthClose aside); zeros and "neutral"
    when the fit reads no emotion, fer is missing, or fer disagrees.
    """
    from ..emotion.facs import emotion_vector
    from ..emotion.photo import FER_TO_BASIC, nearest_basic_emotion
    from ..emotion.photo_fer import fer_available, fer_probabilities

    label = nearest_basic_emotion(weights)
    zero = np.zeros(arkit.COUNT, np.float32)
    if label == "neutral" or not fer_available():
        return zero, "neutral"
    probs = fer_probabilities(rgb, face.box)
    if FER_TO_BASIC[max(probs, key=probs.get)] != label:
        return zero, "neutral"
    channels = (emotion_vector(label) > 0) & ~_NOT_EXPRESSION
    return np.where(channels, np.asarray(weights, np.float32), 0.0).astype(np.float32), label


_NOT_EXPRESSION = np.array([n.startswith(("eyeLook", "jaw", "eyeBlink")) or n == "mouthClose"
                            for n in arkit.NAMES])

EMOTION_FULL = 0.5
"""An expression whose strongest channel reaches this counts as a fully asked emotion."""


def emotion_strength(expression: np.ndarray) -> np.ndarray:
    """How strongly each frame asks for an emotion, float32 [T] in 0..1.

    ``expression`` [T, 52]: the emotion layer's weights (before speech and
    idle life; :meth:`visemo.emotion.EmotionTrack.curves`).  1 once its
    strongest expression channel (gaze, jaw and lids aside) reaches
    ``EMOTION_FULL``; 0 for neutral.
    """
    e = np.where(_NOT_EXPRESSION, 0.0, np.asarray(expression, np.float32))
    return np.clip(e.max(axis=-1) / EMOTION_FULL, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------- entry
def fit_portrait(photo: str | os.PathLike | np.ndarray, size: int | None = 512, *,
                 model: FaceModel | None = None) -> PortraitRig:
    """A :class:`PortraitRig` for ``photo`` (path or RGB array).

    ``size``: side of the square face crop in pixels (even, ≥ 64), or None
    to keep the whole photo.  Raises
    :class:`~visemo.errors.ImageError` for unreadable photos, no face,
    several faces, a face too small or turned too far, and
    :class:`~visemo.errors.DependencyError` without mediapipe.
    """
    from ..emotion.photo import find_face, fit_expression
    from ..image import load_rgb

    model = model or load_face_model()
    rgb = load_rgb(photo)
    work, crop = working_image(rgb, find_face(rgb), size)
    # the photo's face passed find_face's size check; a small --size may make it smaller here
    face = steady_landmarks(work, find_face(work, min_face_px=16), STEADY_SAMPLES)
    weights, info = fit_expression(face, model)
    yaw, pitch, roll = info["pose_deg"]
    if abs(yaw) > MAX_YAW_DEG or abs(pitch) > MAX_PITCH_DEG:
        raise ImageError(f"the face is turned too far from the camera (yaw {yaw:.0f}°, pitch {pitch:.0f}°); "
                         f"use a photo where it looks roughly at the camera (within {MAX_YAW_DEG:.0f}° "
                         f"sideways and {MAX_PITCH_DEG:.0f}° up or down)")
    px_per_m = float(info["scale_px_per_m"])
    points = face.points[:, :2].astype(np.float64)
    basis = match_blinks(motion_basis(model, px_per_m, np.asarray(info["rotation"])), points)
    baseline, label = photo_baseline(work, face, weights)
    width = mouth_width(points)
    return PortraitRig(image=work, points=points, depth=face.points[:, 2].astype(np.float64),
                       basis=basis, rest_offset=closing_offset(points), baseline=baseline,
                       px_per_m=px_per_m, pose_deg=(yaw, pitch, roll), crop=crop, photo_label=label,
                       mouth_gap=float(np.clip(mouth_gap(points), 0, None).max() / max(width, 1e-9)))
