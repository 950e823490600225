"""Reference-photo prompts: a face photo → 52 ARKit weights (+ fer's second opinion).

:func:`expression_from_photo` runs mediapipe's face mesh on the photo
(:func:`visemo.face.landmarks.detect_faces`, steadied by averaging 8 slightly
moved copies: :func:`~visemo.face.landmarks.steady_landmarks`), then fits the
bundled head's blendshape weights so that its landmarks match, the way ExpCLIP
(seed 004) fitted MEAD-3D with bounded least squares (:func:`fit_expression`):

1. **Pose out.**  A weighted similarity transform (Umeyama) carries the head's
   landmark model into the photo.  Weights favour points that the blendshapes
   move little (forehead, nose bridge, temples) and that mediapipe places
   consistently.  That first pose is only a start: each round then solves a
   small pose update (scale, rotation, shift, linearised) *together with* the
   weights, so motion that mediapipe spreads over the "rigid" points too (a
   brow lowered drags its forehead points along) is not absorbed into the pose
   first and then missing from the brows (three rounds).
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
4. **Correlated noise.**  Even with the true weights, the response model
   misses mediapipe's landmarks by a pattern, not by independent jitter:
   mediapipe's face prior couples regions (an open jaw moves the forehead
   points) and responses do not quite add.  ``landmark_error.npz`` holds the
   15 principal patterns of that misfit, measured on 120 renders of random
   expressions (their own seed, not the benchmark's); they enter the fit as
   nuisance terms with a Gaussian prior (``ERROR_PRIOR``), so a wrong channel
   is no longer the cheapest way to explain them.
5. **Bounded least squares** (:func:`scipy.optimize.lsq_linear`, 0 ≤ w ≤ 1,
   identity ±``IDENTITY_RANGE``) on the image-plane coordinates (mediapipe's
   depth counts ``DEPTH_WEIGHT`` as much), with a small ridge, an optional
   symmetry penalty on mirrored Left/Right channels (``SYMMETRY``, off) and an
   iteratively reweighted L1 term (sparse weights); the last round refits the
   chosen channels without the L1 term (relaxed fit: less shrinkage).

fer's mini-Xception (:mod:`visemo.emotion.photo_fer`, numpy) gives 7-class
probabilities when ``fer`` and ``h5py`` are installed; the result says whether
its top class agrees with the fitted expression's nearest basic emotion.

Problems with the photo raise :class:`ImageError` (a
:class:`~visemo.errors.PromptError`): unreadable file (read by
:func:`visemo.image.load_rgb`, re-exported here), no face, several faces, a
face under ``MIN_FACE_PX`` pixels across.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import lsq_linear

from .. import arkit
from ..errors import ImageError
from ..face.landmarks import (MESH_POINTS, FaceLandmarks, LandmarkMap, detect_faces,
                              load_landmark_error, load_landmark_identity, load_landmark_map,
                              load_landmark_response, steady_landmarks)
from ..face.model import FaceModel, load_face_model
from ..image import load_rgb  # re-exported: the one photo loader lives in visemo.image
from .facs import BASIC_EMOTIONS, emotion_vector


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

ERROR_PRIOR = 1.0
"""Gaussian prior weight on each error-mode coefficient (modes are 1 sd patterns;
1.0 = the same footing as the NOISE_M unit the residuals are measured in)."""

SYMMETRY = 0.0
"""Penalty on (w_left − w_right)² of mirrored channels (same units as RIDGE), off by
default.  mediapipe couples the two sides, so one side's channel alone often
explains both; 30 lowered the renders' eye error (0.075 → 0.069 MAE, sparsity 10)
but turned the astronaut portrait "angry" (symmetric browDown outweighs its smile
in the label)."""

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
def find_face(rgb: np.ndarray, min_face_px: int = MIN_FACE_PX) -> FaceLandmarks:
    """The one face in ``rgb``; :class:`ImageError` for none, several, or a tiny one.

    When no face is found, the photo turned a quarter or half way is tried
    too, so that a sideways photo gets a message that says to rotate it.
    """
    faces = detect_faces(rgb)
    if not faces:
        for turns, how in ((1, "on its side"), (3, "on its side"), (2, "upside down")):
            if detect_faces(np.ascontiguousarray(np.rot90(rgb, turns))):
                raise ImageError(f"the face in the photo is {how}; rotate the photo upright and try again")
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


def _rotvec(omega: np.ndarray) -> np.ndarray:
    """Rotation matrix of the rotation vector ``omega`` (Rodrigues)."""
    theta = float(np.linalg.norm(omega))
    if theta < 1e-12:
        return np.eye(3)
    k = omega / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx


def _mirror_pairs(active: np.ndarray) -> np.ndarray:
    """[P, 2] positions in ``np.flatnonzero(active)`` of mirrored Left/Right channels (gaze aside)."""
    pos = {c: k for k, c in enumerate(np.flatnonzero(active))}
    pairs = []
    for i, n in enumerate(arkit.NAMES):
        if n.endswith("Left") and not n.startswith("eyeLook"):
            j = arkit.index(n[:-4] + "Right")
            if i in pos and j in pos:
                pairs.append((pos[i], pos[j]))
    return np.array(pairs, int).reshape(-1, 2)


def fit_expression(face: FaceLandmarks, model: FaceModel | None = None,
                   lmap: LandmarkMap | None = None, *, response: bool = True,
                   rounds: int = 3, ridge: float = RIDGE, sparsity: float = SPARSITY,
                   relax: bool = True, identity: bool = True,
                   identity_prior: float | None = None, error_modes: bool = True,
                   symmetry: float = SYMMETRY,
                   depth_weight: float = DEPTH_WEIGHT) -> tuple[np.ndarray, dict]:
    """ARKit weights float32 [52] whose landmarks on ``model`` match ``face``.

    Returns (weights, info) with info ``pose_deg`` (yaw, pitch, roll),
    ``scale_px_per_m``, ``rotation`` [3, 3] and ``translation`` [3] (photo ≈
    scale · rotation · head + translation, in :meth:`FaceLandmarks.model_axes`
    coordinates), ``residual_mm`` (RMS image-plane misfit of the mesh
    points, head millimetres), ``basis`` ("response" or "geometry") and
    ``identity`` (the fitted face-shape coefficients by name).

    The photo's landmarks are modelled as ``s R (rest + deltas·w + ids·a +
    modes·e) + t``.  ``rest``/``deltas`` are mediapipe's measured response to
    the head at the photo's pose (:class:`~visemo.face.landmarks.LandmarkResponse`,
    when ``response`` and the model has one), else the head's bare landmark
    geometry.  The pose starts from a similarity fit on the rigid points;
    each round then solves the weights, the identity, the error modes and a
    small pose update (scale, rotation, shift, linearised) together by
    bounded least squares, and re-reads the response at the new pose.

    **Identity** (``identity``): the subject's neutral is the head's plus a
    combination of MakeHuman face-shape modes (``landmark_identity.npz``)
    with a Gaussian prior of weight ``identity_prior``.  **Error modes**
    (``error_modes``): the response model's typical misfit
    (``landmark_error.npz``, :class:`~visemo.face.landmarks.LandmarkErrorModes`)
    as correlated noise with a unit Gaussian prior.  **Symmetry**: a penalty
    ``symmetry·(w_left − w_right)²`` on mirrored channel pairs.
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
    err = load_landmark_error(model) if (error_modes and resp is not None) else None
    id_basis = ident[1] if ident is not None else np.zeros((0, len(geo.rest), 3))
    err_basis = err.modes if err is not None else np.zeros((0, len(geo.rest), 3))
    obs = face.model_axes()
    act = np.flatnonzero(geo.active)
    n_w, n_id, n_e, n_p = len(act), len(id_basis), len(err_basis), 7
    n_x = n_w + n_id + n_e + n_p
    nuisance = np.concatenate([id_basis, err_basis])
    # Bounds and Gaussian priors (as squared ridge weights) of the non-expression unknowns:
    # identity ±IDENTITY_RANGE, error modes (1 sd each) and pose free.
    lower = np.concatenate([np.zeros(n_w), np.full(n_id, -IDENTITY_RANGE), np.full(n_e + n_p, -np.inf)])
    upper = np.concatenate([np.ones(n_w), np.full(n_id, IDENTITY_RANGE), np.full(n_e + n_p, np.inf)])
    prior = np.concatenate([np.full(n_id, identity_prior), np.full(n_e, ERROR_PRIOR), np.full(n_p, 1e-9)])
    pairs = _mirror_pairs(geo.active)
    sym = np.zeros((len(pairs), n_x))
    sym[np.arange(len(pairs)), pairs[:, 0]] = np.sqrt(symmetry)
    sym[np.arange(len(pairs)), pairs[:, 1]] = -np.sqrt(symmetry)
    w, b = np.zeros(arkit.COUNT), np.zeros(n_id + n_e)
    l1 = np.full(n_w, sparsity)
    rest, deltas = geo.rest, geo.deltas
    scale_axes = geo.point_weight[:, None] * np.array([1.0, depth_weight, 1.0])
    eye = np.eye(3)
    s, rot, t = similarity(rest, obs, geo.pose_weight)
    for k in range(rounds):
        if resp is not None:
            yaw, pitch, _ = rotation_angles(rot)
            rest, deltas = resp.at(yaw, pitch)
        posed = rest + np.einsum("c,clx->lx", w, deltas) + np.einsum("k,klx->lx", b, nuisance)
        if k == 0:
            s, rot, t = similarity(posed, obs, geo.pose_weight)
        # Residual in the photo's frame (x, depth, up), depth down-weighted, in NOISE_M units.
        # Pose update about the weighted centre c: c + (1+δ) exp([ω]×) (current - c) + τ,
        # linearised at the current posed head: columns q, e_i × q, e_i.
        target = obs - (s * rest @ rot.T + t)
        current = s * posed @ rot.T + t
        centre = geo.point_weight @ current / geo.point_weight.sum()
        q = current - centre
        cols = np.concatenate([
            s * np.einsum("clx,yx->cly", np.concatenate([deltas[act], nuisance]), rot),
            np.array([q] + [np.cross(eye[i], q) for i in range(3)]
                     + [np.broadcast_to(eye[i], q.shape) for i in range(3)])])
        scale = scale_axes / (s * NOISE_M)
        a_mat = (cols * scale[None]).reshape(n_x, -1).T
        rhs = (target * scale).reshape(-1)

        def solve(keep: np.ndarray, reg2: np.ndarray) -> np.ndarray:
            m = np.vstack([a_mat[:, keep], np.diag(np.sqrt(reg2[keep])), sym[:, keep]])
            y = np.concatenate([rhs, np.zeros(keep.sum() + len(sym))])
            return lsq_linear(m, y, bounds=(lower[keep], upper[keep]), method="bvls").x

        # ridge + reweighted L1 on w (l1_c w_c^2 with l1_c = sparsity/(|w_c|+0.05) ~ sparsity|w_c|).
        x = solve(np.ones(n_x, bool), np.concatenate([ridge + l1, prior]))
        if relax and k == rounds - 1:
            # Relaxed fit: keep the channels the sparse fit chose, drop its shrinkage.
            keep = np.concatenate([x[:n_w] > SUPPORT, np.ones(n_x - n_w, bool)])
            x = np.zeros_like(x)
            x[keep] = solve(keep, np.concatenate([np.full(n_w, ridge), prior]))
        w = np.zeros(arkit.COUNT)
        w[act] = x[:n_w]
        b = x[n_w:n_w + n_id + n_e]
        l1 = sparsity / (np.abs(x[:n_w]) + 0.05)
        grow, turn, shift = x[-7], _rotvec(x[-6:-3]), x[-3:]
        s, rot, t = s * (1 + grow), turn @ rot, (1 + grow) * turn @ (t - centre) + centre + shift
    posed = rest + np.einsum("c,clx->lx", w, deltas) + np.einsum("k,klx->lx", b, nuisance)
    res = (obs - (s * posed @ rot.T + t))[:MESH_POINTS][:, [0, 2]] / s * 1000.0
    info = {"pose_deg": rotation_angles(rot), "scale_px_per_m": s, "rotation": rot, "translation": t,
            "residual_mm": float(np.sqrt((res ** 2).sum(axis=1).mean())),
            "basis": "response" if resp is not None else "geometry",
            "identity": dict(zip(ident[0], np.round(b[:n_id], 3).tolist())) if ident is not None else {}}
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
