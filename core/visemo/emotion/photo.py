"""Reference-photo prompts: a face photo → 52 ARKit weights (+ fer's second opinion).

:func:`expression_from_photo` runs mediapipe's face mesh on the photo
(:func:`visemo.face.landmarks.detect_faces`, steadied by averaging 8 slightly
moved copies: :func:`~visemo.face.landmarks.steady_landmarks`), then fits the
bundled head's blendshape weights so that its landmarks match, the way ExpCLIP
(seed 004) fitted MEAD-3D with bounded least squares (:func:`fit_expression`):

1. **Pose out.**  A weighted similarity transform (Umeyama) carries the head's
   landmark model into the photo.  Weights favour points that the blendshapes
   move little (forehead, nose bridge, temples) and that mediapipe places
   consistently; after each solve the pose is re-estimated against the posed
   head (three rounds).
2. **What mediapipe sees, not the bare mesh.**  The landmark model is
   mediapipe's *measured* response to the head (``landmark_response.npz``:
   the neutral and each channel alone, rendered from five angles, blended at
   the photo's yaw/pitch).  mediapipe reports about half of a small
   blendshape's motion and bends it towards its own face prior; fitting the
   bare geometry instead doubled the error on the renders (brows 0.21 vs
   0.10 MAE, all channels 0.16 vs 0.06, in the development runs).
3. **Displacements from the subject's own neutral.**  One photo has no
   neutral, so the subject's neutral is the head's plus an identity offset in
   the span of 24 MakeHuman face-shape targets (``landmark_identity.npz``:
   brow height, eye size/spacing, nose, mouth width, lip heights, chin, face
   width/length/age…), fitted jointly with a Gaussian prior
   (``IDENTITY_PRIOR``).  It halves the misfit on real portraits (2.2 → 1.0 mm)
   and turns the astronaut from "angry" into "happy"; face shape that no
   target spans still leaks into brows and nose (see the benchmark notes).
4. **Bounded least squares** (:func:`scipy.optimize.lsq_linear`, 0 ≤ w ≤ 1,
   identity ±``IDENTITY_RANGE``) on the image-plane coordinates (mediapipe's
   depth counts ``DEPTH_WEIGHT`` as much), with a small ridge and an
   iteratively reweighted L1 term (sparse weights); the last round refits the
   chosen channels without the L1 term (relaxed fit: less shrinkage).

fer's mini-Xception (:mod:`visemo.emotion.photo_fer`, numpy) gives 7-class
probabilities when ``fer`` and ``h5py`` are installed; the result says whether
its top class agrees with the fitted expression's nearest basic emotion.

Problems with the photo raise :class:`ImageError` (a
:class:`~visemo.errors.PromptError`): unreadable file, no face, several
faces, a face under ``MIN_FACE_PX`` pixels across.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import lsq_linear

from .. import arkit
from ..errors import DependencyError, PromptError
from ..face.landmarks import (MESH_POINTS, FaceLandmarks, LandmarkMap, detect_faces,
                              load_landmark_identity, load_landmark_map, load_landmark_response,
                              steady_landmarks)
from ..face.model import FaceModel, load_face_model
from .facs import BASIC_EMOTIONS, emotion_vector


class ImageError(PromptError):
    """A reference photo cannot be used: unreadable, no face, several faces, too small."""


MIN_FACE_PX = 80
"""Faces narrower than this (pixels, landmark box) are refused: too few pixels to read."""

DEPTH_WEIGHT = 0.3
"""Weight of mediapipe's depth coordinate relative to the image-plane ones."""

NOISE_M = 0.001
"""Landmark noise scale (m) the residuals are divided by."""

RIDGE = 1.0
"""L2 penalty per channel (in units of NOISE_M² summed over landmarks)."""

SPARSITY = 20.0
"""Weight of the reweighted-L1 term (pushes small weights to exactly 0)."""

UNOBSERVABLE = ("tongueOut",)
"""Channels a photo's landmarks cannot show; always 0."""

FER_TO_BASIC = {"angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy",
                "sad": "sad", "surprise": "surprised", "neutral": "neutral"}
"""fer's class names → visemo's basic emotions (fer has no contempt)."""

IDENTITY_PRIOR = 30.0
"""Gaussian prior weight on each identity (face-shape) coefficient."""

IDENTITY_UNUSED: tuple[str, ...] = ()
"""Identity modes left out of the fit (by name)."""

IDENTITY_RANGE = 1.5
"""Identity coefficients are bounded to ±this (MakeHuman sliders run ±1)."""

SUPPORT = 0.03
"""Channels the sparse fit leaves above this are refitted without the sparsity
penalty (a relaxed fit: the penalty chooses which channels, not how much)."""

STEADY_SAMPLES = 8
"""Moved copies of the photo whose landmarks are averaged (see
:func:`visemo.face.landmarks.steady_landmarks`)."""

NEUTRAL_LEVEL = 0.12
"""Below this largest expression weight (eye-gaze and jaw aside) the label is neutral."""


@dataclass(frozen=True)
class PhotoExpression:
    """What a reference photo says.

    ``weights`` float32 [52] (ARKit order, 0..1): the fitted expression.
    ``label``: its nearest basic emotion (:data:`visemo.emotion.BASIC_EMOTIONS`).
    ``probabilities``: fer's 7 classes (angry disgust fear happy sad surprise
    neutral) or None without fer.  ``fer_label``: fer's top class as a basic
    emotion (or None); ``agrees``: whether it matches ``label`` (None without
    fer).  ``landmarks``: the face mediapipe found; ``pose_deg``: head
    (yaw, pitch, roll); ``residual_mm``: RMS image-plane misfit of the mesh
    landmarks after the fit, in the head's millimetres.
    """

    weights: np.ndarray
    label: str
    probabilities: dict[str, float] | None
    landmarks: FaceLandmarks
    fer_label: str | None = None
    agrees: bool | None = None
    pose_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    residual_mm: float = 0.0
    label_scores: dict[str, float] = field(default_factory=dict)

    def top_channels(self, n: int = 6, min_weight: float = 0.05) -> list[tuple[str, float]]:
        """The ``n`` largest channels as (ARKit name, weight), largest first."""
        order = np.argsort(-self.weights)[:n]
        return [(arkit.NAMES[i], float(self.weights[i])) for i in order
                if self.weights[i] >= min_weight]

    def summary(self) -> str:
        """One line: label, top channels and fer's opinion."""
        chans = ", ".join(f"{n} {w:.2f}" for n, w in self.top_channels())
        line = f"{self.label}: {chans or 'no channel above 0.05'}"
        if self.probabilities is not None:
            p = self.probabilities
            top = max(p, key=p.get)
            line += f"; fer: {top} {p[top]:.2f}" + ("" if self.agrees else " (disagrees)")
        return line


# ---------------------------------------------------------------------- image input
def load_rgb(image: str | os.PathLike | np.ndarray) -> np.ndarray:
    """RGB uint8 [H, W, 3] from a path (any format Pillow reads; EXIF rotation
    applied) or an array ([H,W], [H,W,3|4], uint8 or float in 0..1)."""
    if isinstance(image, np.ndarray):
        a = image
        if a.ndim == 2:
            a = np.repeat(a[..., None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 1:
            raise ImageError(f"an image array must be [H, W], [H, W, 3] or [H, W, 4], got {a.shape}")
        a = a[..., :3]
        if a.dtype != np.uint8:
            a = np.asarray(a, np.float64)
            if not np.all(np.isfinite(a)):
                raise ImageError("the image array holds NaN or infinite values")
            a = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).round().astype(np.uint8)
        return np.ascontiguousarray(a)
    path = Path(image)
    if not path.is_file():
        raise ImageError(f"reference photo not found: {path}")
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise DependencyError("reading photos needs Pillow; run `pip install pillow`") from None
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("RGB"), np.uint8).copy()
    except Exception as e:  # Pillow raises many types for bad files
        raise ImageError(f"cannot read {path.name} as an image ({type(e).__name__}); "
                         "use a JPEG or PNG photo of one face") from None


def find_face(rgb: np.ndarray, min_face_px: int = MIN_FACE_PX) -> FaceLandmarks:
    """The one face in ``rgb``; :class:`ImageError` for none, several, or a tiny one."""
    faces = detect_faces(rgb)
    if not faces:
        raise ImageError("no face found in the photo; use a well-lit photo of one face, "
                         "looking roughly at the camera, at least "
                         f"{min_face_px} pixels across (crop around the face if it is small)")
    if len(faces) > 1:
        sizes = ", ".join(f"{f.width:.0f}" for f in faces)
        raise ImageError(f"{len(faces)} faces found in the photo (widths {sizes} px); "
                         "crop it to the one face whose expression you want")
    face = faces[0]
    if face.width < min_face_px:
        raise ImageError(f"the face is only {face.width:.0f} pixels across; use a photo where "
                         f"it is at least {min_face_px} pixels across (a closer or larger photo)")
    return face


# ---------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class LandmarkBasis:
    """The linear landmark model a fit inverts, in the head's frame (metres).

    ``rest`` [478, 3], ``deltas`` [52, 478, 3]; ``point_weight`` [478] data
    weight of each landmark; ``pose_weight`` [478] its weight in the
    similarity (pose) fit; ``active`` [52] bool, the channels fitted.
    """

    rest: np.ndarray
    deltas: np.ndarray
    point_weight: np.ndarray
    pose_weight: np.ndarray
    active: np.ndarray


_GEOMETRIC: dict[int, tuple[FaceModel, LandmarkMap, LandmarkBasis]] = {}


def geometric_basis(model: FaceModel, lmap: LandmarkMap) -> LandmarkBasis:
    """The head's own landmark geometry (:meth:`LandmarkMap.basis`) with the fit's weights.

    Data weight 1/hypot(view spread, 1 mm) (mediapipe's placement noise; the
    face oval spreads most), doubled on the iris points (the only gaze
    evidence).  Pose weight: the data weight divided by 1 + (m/1.5 mm)², m the
    most any expression channel (gaze aside) moves the point: forehead, nose
    bridge and temples set the pose.
    """
    hit = _GEOMETRIC.get(id(lmap))
    if hit is not None and hit[0] is model and hit[1] is lmap:
        return hit[2]
    rest, deltas = lmap.basis(model)
    point_weight = 1.0 / np.hypot(lmap.spread_mm, 1.0)
    point_weight[MESH_POINTS:] *= 2.0
    gaze = np.array([n.startswith("eyeLook") for n in arkit.NAMES])
    moved_mm = np.linalg.norm(deltas[~gaze], axis=2).max(axis=0) * 1000.0
    pose_weight = point_weight / (1.0 + (moved_mm / 1.5) ** 2)
    pose_weight[MESH_POINTS:] = 0.0
    active = np.array([n not in UNOBSERVABLE and bool(np.any(model.deltas[i] != 0))
                       for i, n in enumerate(arkit.NAMES)])
    basis = LandmarkBasis(rest, deltas, point_weight, pose_weight, active)
    _GEOMETRIC[id(lmap)] = (model, lmap, basis)
    return basis


def similarity(src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted Umeyama: scale s, rotation R [3,3], shift t with dst ≈ s R src + t."""
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    a, b = src - mu_s, dst - mu_d
    cov = (b * w[:, None]).T @ a
    u, sig, vt = np.linalg.svd(cov)
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ fix @ vt
    var = (w * (a ** 2).sum(axis=1)).sum()
    s = float(np.trace(np.diag(sig) @ fix) / var)
    return s, rot, mu_d - s * rot @ mu_s


def rotation_angles(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw about Z, pitch about X, roll about Y) of a head rotation, degrees."""
    yaw = np.degrees(np.arctan2(-rot[0, 1], rot[1, 1]))
    pitch = np.degrees(np.arcsin(np.clip(rot[2, 1], -1, 1)))
    roll = np.degrees(np.arctan2(-rot[2, 0], rot[2, 2]))
    return float(yaw), float(pitch), float(roll)


def fit_expression(face: FaceLandmarks, model: FaceModel | None = None,
                   lmap: LandmarkMap | None = None, *, response: bool = True,
                   rounds: int = 3, ridge: float = RIDGE, sparsity: float = SPARSITY,
                   relax: bool = True, identity: bool = True,
                   identity_prior: float = None,
                   depth_weight: float = DEPTH_WEIGHT) -> tuple[np.ndarray, dict]:
    """ARKit weights float32 [52] whose landmarks on ``model`` match ``face``.

    Returns (weights, info) with info ``pose_deg`` (yaw, pitch, roll),
    ``scale_px_per_m``, ``residual_mm`` (RMS image-plane misfit of the mesh
    points, head millimetres) and ``basis`` ("response" or "geometry").

    The photo's landmarks are modelled as ``s R (rest + deltas·w) + t``.
    ``rest``/``deltas`` are mediapipe's measured response to the head at the
    photo's pose (:class:`~visemo.face.landmarks.LandmarkResponse`, when
    ``response`` and the model has one), else the head's bare landmark
    geometry.  Each round: similarity pose (rigid points first, all points
    once an expression is known), the response at that pose, then bounded
    least squares for w.

    **Identity** (``identity``): the subject's neutral is the head's plus a
    combination of MakeHuman face-shape modes (``landmark_identity.npz``)
    with a Gaussian prior of weight ``identity_prior``; info ``identity``
    gives the fitted coefficients.  Without the file (or with
    ``identity=False``) the head's own neutral is used.
    """
    identity_prior = IDENTITY_PRIOR if identity_prior is None else identity_prior
    model = model or load_face_model()
    lmap = lmap or load_landmark_map(model)
    geo = geometric_basis(model, lmap)
    resp = load_landmark_response(model) if response else None
    ident = load_landmark_identity(model) if identity else None
    if ident is not None:
        use = [i for i, n in enumerate(ident[0]) if n not in IDENTITY_UNUSED]
        ident = (tuple(ident[0][i] for i in use), ident[1][use])
    id_basis = ident[1] if ident is not None else np.zeros((0, len(geo.rest), 3))
    n_id = len(id_basis)
    obs = face.model_axes()
    act = np.flatnonzero(geo.active)
    n_w = len(act)
    w, a = np.zeros(arkit.COUNT), np.zeros(n_id)
    l1 = np.full(n_w, sparsity)
    rest, deltas = geo.rest, geo.deltas
    lower = np.concatenate([np.zeros(n_w), -IDENTITY_RANGE * np.ones(n_id)])
    upper = np.concatenate([np.ones(n_w), IDENTITY_RANGE * np.ones(n_id)])
    s, rot, t = similarity(rest, obs, geo.pose_weight)
    for k in range(rounds):
        if resp is not None:
            yaw, pitch, _ = rotation_angles(rot)
            rest, deltas = resp.at(yaw, pitch)
        posed = rest + np.einsum("c,clx->lx", w, deltas) + np.einsum("k,klx->lx", a, id_basis)
        s, rot, t = similarity(posed, obs, geo.pose_weight if k == 0 else geo.point_weight)
        # Residual in the photo's frame (x, depth, up), depth down-weighted, in NOISE_M units.
        target = obs - (s * rest @ rot.T + t)
        basis = s * np.einsum("clx,yx->cly", np.concatenate([deltas[act], id_basis]), rot)
        scale = (geo.point_weight[:, None] * np.array([1.0, depth_weight, 1.0])) / (s * NOISE_M)
        a_mat = (basis * scale[None]).reshape(n_w + n_id, -1).T
        rhs = (target * scale).reshape(-1)
        # ridge + reweighted L1 on w (l1_c w_c^2 with l1_c = sparsity/(|w_c|+0.05) ~ sparsity|w_c|);
        # a Gaussian prior on the identity coefficients.
        reg = np.sqrt(np.concatenate([ridge + l1, np.full(n_id, identity_prior)]))
        sol = lsq_linear(np.vstack([a_mat, np.diag(reg)]), np.concatenate([rhs, np.zeros(n_w + n_id)]),
                         bounds=(lower, upper), method="bvls")
        x = sol.x
        if relax and k == rounds - 1:
            # Relaxed fit: keep the channels the sparse fit chose, drop its shrinkage.
            keep = np.concatenate([x[:n_w] > SUPPORT, np.ones(n_id, bool)])
            x = np.zeros_like(x)
            if keep.any():
                reg = np.sqrt(np.concatenate([np.full(n_w, ridge),
                                              np.full(n_id, identity_prior)]))[keep]
                sub = lsq_linear(np.vstack([a_mat[:, keep], np.diag(reg)]),
                                 np.concatenate([rhs, np.zeros(keep.sum())]),
                                 bounds=(lower[keep], upper[keep]), method="bvls")
                x[keep] = sub.x
        w = np.zeros(arkit.COUNT)
        w[act] = x[:n_w]
        a = x[n_w:]
        l1 = sparsity / (np.abs(x[:n_w]) + 0.05)
    posed = rest + np.einsum("c,clx->lx", w, deltas) + np.einsum("k,klx->lx", a, id_basis)
    s, rot, t = similarity(posed, obs, geo.point_weight)
    res = (obs - (s * posed @ rot.T + t))[:MESH_POINTS][:, [0, 2]] / s * 1000.0
    info = {"pose_deg": rotation_angles(rot), "scale_px_per_m": s,
            "residual_mm": float(np.sqrt((res ** 2).sum(axis=1).mean())),
            "basis": "response" if resp is not None else "geometry",
            "identity": dict(zip(ident[0], np.round(a, 3).tolist())) if ident is not None else {}}
    return w.astype(np.float32), info


# ---------------------------------------------------------------------- labels
_LABEL_SKIP = np.array([n.startswith("eyeLook") or n.startswith("jaw") or n == "mouthClose"
                        for n in arkit.NAMES])


def basic_emotion_scores(weights: np.ndarray) -> dict[str, float]:
    """Cosine similarity of ``weights`` [52] to each non-neutral basic emotion's
    prototype (eye gaze and jaw left out: speech and gaze, not emotion)."""
    w = np.where(_LABEL_SKIP, 0.0, np.asarray(weights, np.float64))
    out = {}
    for e in BASIC_EMOTIONS:
        if e == "neutral":
            continue
        v = np.where(_LABEL_SKIP, 0.0, emotion_vector(e).astype(np.float64))
        out[e] = float(w @ v / max(np.linalg.norm(w) * np.linalg.norm(v), 1e-9))
    return out


def nearest_basic_emotion(weights: np.ndarray) -> str:
    """The basic emotion ``weights`` look most like (neutral when nothing is strong)."""
    w = np.where(_LABEL_SKIP, 0.0, np.asarray(weights, np.float64))
    if w.max(initial=0.0) < NEUTRAL_LEVEL:
        return "neutral"
    scores = basic_emotion_scores(weights)
    return max(scores, key=scores.get)


# ---------------------------------------------------------------------- entry
def expression_from_photo(image: str | os.PathLike | np.ndarray, *,
                          model: FaceModel | None = None, use_fer: bool = True,
                          min_face_px: int = MIN_FACE_PX) -> PhotoExpression:
    """The expression in a reference photo (path or RGB array) as ARKit weights.

    Raises :class:`ImageError` (unreadable, no face, several faces, face under
    ``min_face_px``) and :class:`~visemo.errors.DependencyError` without
    mediapipe.  fer's opinion is added when ``use_fer`` and fer is installed.
    """
    rgb = load_rgb(image)
    face = steady_landmarks(rgb, find_face(rgb, min_face_px), STEADY_SAMPLES)
    weights, info = fit_expression(face, model)
    label = nearest_basic_emotion(weights)
    probs = fer_label = agrees = None
    if use_fer:
        from .photo_fer import fer_available, fer_probabilities

        if fer_available():
            probs = fer_probabilities(rgb, face.box)
            fer_label = FER_TO_BASIC[max(probs, key=probs.get)]
            agrees = fer_label == label
    return PhotoExpression(weights=weights, label=label, probabilities=probs, landmarks=face,
                           fer_label=fer_label, agrees=agrees,
                           pose_deg=info["pose_deg"], residual_mm=info["residual_mm"],
                           label_scores=basic_emotion_scores(weights))
