"""mediapipe face-mesh landmarks, and where they sit on the bundled head.

Two halves:

* :func:`detect_faces` runs mediapipe 0.10.21's legacy face mesh (478 points
  with ``refine_landmarks``: 468 mesh points + 10 iris points) on an RGB image
  and returns :class:`FaceLandmarks` in pixels.  mediapipe is an optional
  dependency (the ``image`` extra); without it a
  :class:`~visemo.errors.DependencyError` says what to install.
* :class:`LandmarkMap` says which surface point of a face model each of the
  478 landmarks is: a triangle (3 vertex indices) and barycentric weights, so
  ``positions(model, weights)`` gives the landmark geometry of any expression
  and ``basis(model)`` the linear model the photo fit inverts.  The map of the
  bundled head is ``models/arkit_head/landmarks.json``, made by
  ``models/arkit_head/build_landmarks.py``: render the neutral head from a few
  angles in Blender, run mediapipe on the renders, cast each landmark's pixel
  ray onto the mesh (:func:`cast_rays`), average the hits over the views
  weighted by how squarely each view sees the surface, and snap the mean to
  the nearest surface point (:func:`closest_surface_points`).  Those pure
  numpy steps live here (:func:`build_landmark_map`); only the rendering
  needs Blender.

Coordinates: pixels for detections (x right, y down, z = mediapipe's relative
depth scaled like x, negative towards the camera); the model's frame for the
map (metres, Z up, face looking down -Y).  :meth:`FaceLandmarks.model_axes`
turns the first into a right-handed frame with the model's axis directions.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DependencyError, ModelError
from ..quiet import silenced
from .model import FaceModel, load_face_model
from .storage import sha256_file

LANDMARK_COUNT = 478
MESH_POINTS = 468  # 0..467 face mesh; 468..477 iris (468 and 473 the centres)
IRIS_POINTS = tuple(range(MESH_POINTS, LANDMARK_COUNT))
MAP_FILE = "landmarks.json"
RESPONSE_FILE = "landmark_response.npz"
IDENTITY_FILE = "landmark_identity.npz"
ERROR_FILE = "landmark_error.npz"
MAP_FORMAT = "visemo.landmark_map"
MAP_VERSION = 1


# ---------------------------------------------------------------------- detection
@dataclass(frozen=True)
class FaceLandmarks:
    """One face found by mediapipe: ``points`` float64 [478, 3] in pixels.

    ``points[:, 0]`` x (right), ``[:, 1]`` y (down), ``[:, 2]`` mediapipe's
    depth (relative to the face centre, scaled like x, negative = nearer the
    camera).  ``image_size`` is (width, height).
    """

    points: np.ndarray
    image_size: tuple[int, int]

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Bounding box (x0, y0, x1, y1) of the 468 mesh points, pixels."""
        p = self.points[:MESH_POINTS, :2]
        x0, y0 = p.min(axis=0)
        x1, y1 = p.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def width(self) -> float:
        """Face width in pixels (the box's larger side)."""
        x0, y0, x1, y1 = self.box
        return max(x1 - x0, y1 - y0)

    def model_axes(self) -> np.ndarray:
        """[478, 3] as (x, depth, -y): image right = +X, away from the camera = +Y, up = +Z.

        A proper rotation of the pixel frame (no mirror), pointing the same
        way as a face model seen from the front: the character's left is on
        the image's right and the face looks down -Y.
        """
        p = self.points
        return np.stack([p[:, 0], p[:, 2], -p[:, 1]], axis=1)


_MESH_LOCK = threading.Lock()
_MESH: dict[int, object] = {}


def mediapipe_available() -> bool:
    """Whether mediapipe (with its legacy face-mesh solution) can be imported."""
    try:
        _face_mesh_module()
    except DependencyError:
        return False
    return True


def _face_mesh_module():
    try:
        from mediapipe.python.solutions import face_mesh
    except ImportError as e:
        raise DependencyError(
            "face landmarks need mediapipe 0.10.21; run `pip install mediapipe==0.10.21` "
            f"(with numpy<2) ({e})") from None
    return face_mesh


def detect_faces(rgb: np.ndarray, max_faces: int = 4) -> list[FaceLandmarks]:
    """All faces (up to ``max_faces``) that mediapipe finds in ``rgb`` (uint8 [H, W, 3]).

    Largest face first.  An empty list when there is none.  One mediapipe
    graph per ``max_faces`` is kept for the process (creating one takes
    ~0.1 s); calls are serialised.
    """
    img = np.ascontiguousarray(rgb)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image [H, W, 3], got {img.dtype} {img.shape}")
    face_mesh = _face_mesh_module()
    h, w = img.shape[:2]
    with _MESH_LOCK:
        mesh = _MESH.get(max_faces)
        if mesh is None:
            # mediapipe's C++ side logs set-up chatter to stderr on the first graph and run
            with silenced(2):
                mesh = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=max_faces,
                                          refine_landmarks=True, min_detection_confidence=0.5)
                result = mesh.process(img)
            _MESH[max_faces] = mesh
        else:
            result = mesh.process(img)
    faces = []
    for lm in result.multi_face_landmarks or ():
        pts = np.array([(p.x * w, p.y * h, p.z * w) for p in lm.landmark], np.float64)
        if len(pts) == LANDMARK_COUNT:
            faces.append(FaceLandmarks(pts, (w, h)))
    faces.sort(key=lambda f: -f.width)
    return faces


def steady_landmarks(rgb: np.ndarray, face: FaceLandmarks, samples: int = 8,
                     seed: int = 0) -> FaceLandmarks:
    """``face``'s landmarks averaged over ``samples`` slightly moved copies of the image.

    mediapipe's landmarks jitter by ~0.7 px (on a 340 px face) when the
    image shifts by a few pixels: its regressor sees a different crop.  Each
    copy is rotated (±4°), scaled (±8 %) and shifted (±4 % of the face) about
    the face centre with a fixed random draw (``seed``: the result is
    reproducible), the landmarks found in it are mapped back, and the median
    over the copies (with the original) is returned.  Copies where the face
    is lost are skipped.  Costs ``samples`` more mediapipe runs (~40 ms each).
    """
    if samples <= 0:
        return face
    import cv2  # ships with mediapipe

    img = np.ascontiguousarray(rgb)
    h, w = img.shape[:2]
    x0, y0, x1, y1 = face.box
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    size = face.width
    rng = np.random.default_rng(seed)
    found = [face.points]
    for _ in range(samples):
        angle, scale = rng.uniform(-4.0, 4.0), rng.uniform(0.92, 1.08)
        shift = rng.uniform(-0.04, 0.04, 2) * size
        m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
        m[:, 2] += shift
        moved = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        faces = detect_faces(moved)
        if not faces:
            continue
        expect = m[:, :2] @ centre + m[:, 2]
        best = min(faces, key=lambda f: np.hypot(*(np.array(f.box[:2]) + np.array(f.box[2:])) / 2 - expect))
        back = cv2.invertAffineTransform(m)
        pts = best.points.copy()
        pts[:, :2] = best.points[:, :2] @ back[:, :2].T + back[:, 2]
        pts[:, 2] /= scale
        if np.linalg.norm(pts[:, :2].mean(axis=0) - face.points[:, :2].mean(axis=0)) < 0.1 * size:
            found.append(pts)
    return FaceLandmarks(np.median(np.array(found), axis=0), face.image_size)


# ---------------------------------------------------------------------- the map
@dataclass(frozen=True, eq=False)
class LandmarkMap:
    """Surface point of each mediapipe landmark on one face model.

    ``vertices`` int [478, 3] (a triangle's corners) and ``barycentric``
    float [478, 3] (rows sum to 1); ``spread_mm`` [478]: how far apart the
    views put the landmark when the map was built (a noise estimate; the
    face-oval points, which sit on the silhouette, spread most).
    """

    vertices: np.ndarray
    barycentric: np.ndarray
    spread_mm: np.ndarray
    source: Path | None = None

    def __post_init__(self) -> None:
        v = np.array(self.vertices, np.int64)
        b = np.array(self.barycentric, np.float64)
        s = np.array(self.spread_mm, np.float64)
        if v.shape != (LANDMARK_COUNT, 3) or b.shape != (LANDMARK_COUNT, 3) or s.shape != (LANDMARK_COUNT,):
            raise ModelError(f"a landmark map needs [478,3] vertices and barycentric weights and "
                             f"[478] spreads, got {v.shape}, {b.shape}, {s.shape}")
        for key, arr in (("vertices", v), ("barycentric", b), ("spread_mm", s)):
            arr.setflags(write=False)
            object.__setattr__(self, key, arr)

    def positions(self, model: FaceModel, weights: np.ndarray | None = None) -> np.ndarray:
        """Landmark positions float64 [478, 3] (m) of ``model`` posed by ``weights`` [52]."""
        w = np.zeros(len(model.names), np.float32) if weights is None else weights
        pts = model.evaluate_subset(w, self.vertices.reshape(-1)).astype(np.float64)
        return np.einsum("lkc,lk->lc", pts.reshape(LANDMARK_COUNT, 3, 3), self.barycentric)

    def basis(self, model: FaceModel) -> tuple[np.ndarray, np.ndarray]:
        """(rest [478, 3], deltas [52, 478, 3]) float64, metres: the linear landmark model."""
        rest = self.positions(model)
        d = model.deltas[:, self.vertices.reshape(-1)].astype(np.float64)
        d = d.reshape(len(model.names), LANDMARK_COUNT, 3, 3)
        return rest, np.einsum("clkx,lk->clx", d, self.barycentric)


_MAP_CACHE: dict[Path, LandmarkMap] = {}


def load_landmark_map(model: FaceModel | None = None) -> LandmarkMap:
    """The landmark map stored beside ``model``'s data (default: the bundled head).

    Raises :class:`ModelError` when the folder has no ``landmarks.json`` or the
    map was built for a different mesh (its ``model_sha256`` must match the
    model's data file).
    """
    model = model or load_face_model()
    if model.source is None:
        raise ModelError("this face model was not loaded from a folder, so it has no "
                         "landmark map; load it with load_face_model(folder)")
    path = model.source.parent / MAP_FILE
    key = path.resolve()
    if key in _MAP_CACHE:
        return _MAP_CACHE[key]
    if not path.is_file():
        raise ModelError(f"{path} is missing: photo prompts need the face model's landmark map; "
                         "restore it from git or rebuild it with "
                         "`python models/arkit_head/build_landmarks.py`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != MAP_FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {MAP_FORMAT!r}")
        marks = data["landmarks"]
        lmap = LandmarkMap(vertices=[m["vertices"] for m in marks],
                           barycentric=[m["barycentric"] for m in marks],
                           spread_mm=[m["spread_mm"] for m in marks], source=path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{path} is not a valid landmark map ({e}); restore it from git "
                         "or rebuild it with `python models/arkit_head/build_landmarks.py`") from None
    expected = data.get("model_sha256")
    if expected and expected != sha256_file(model.source):
        raise ModelError(f"{path} was built for a different {model.source.name}; rebuild it with "
                         "`python models/arkit_head/build_landmarks.py`")
    _MAP_CACHE[key] = lmap
    return lmap


@dataclass(frozen=True, eq=False)
class LandmarkResponse:
    """How mediapipe sees a face model, measured on renders (``landmark_response.npz``).

    Per view k: ``pose_deg[k]`` the (yaw, pitch) that the similarity fit
    reads from the neutral render, ``rest[k]`` [478, 3] the neutral landmarks
    in the model's frame (m), ``deltas[k]`` [52, 478, 3] each channel's
    landmark motion per unit weight (m), in :data:`visemo.arkit.NAMES` order.
    View 0 is frontal; the others lie on the yaw axis (pitch 0) or the pitch
    axis (yaw 0), so :meth:`at` blends them per axis.
    """

    pose_deg: np.ndarray
    rest: np.ndarray
    deltas: np.ndarray

    def at(self, yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray]:
        """(rest [478, 3], deltas [52, 478, 3]) for a head seen at (yaw, pitch) degrees.

        frontal + a·(yaw view − frontal) + b·(pitch view − frontal), with the
        view on the same side of the frontal one and a, b the fraction of the
        way to it (clipped to 0..1).
        """
        rest, deltas = self.rest[0].copy(), self.deltas[0].copy()
        front = self.pose_deg[0]
        for axis, angle in ((0, yaw), (1, pitch)):
            other = 1 - axis
            off = angle - front[axis]
            for k in range(1, len(self.pose_deg)):
                step = self.pose_deg[k] - front
                if abs(step[axis]) > abs(step[other]) and step[axis] * off > 0:
                    frac = float(np.clip(off / step[axis], 0.0, 1.0))
                    rest += frac * (self.rest[k] - self.rest[0])
                    deltas += frac * (self.deltas[k] - self.deltas[0])
                    break
        return rest, deltas


_NPZ_CACHE: dict[Path, object] = {}


def _measured_file(model: FaceModel | None, name: str, flag: str, parse):
    """``parse(npz, path, rebuild)`` of the file ``name`` beside ``model`` (cached; None when absent).

    The file must carry ``model_sha256`` of the head it was measured on; any
    read error or mismatch is a :class:`ModelError` saying how to rebuild it
    (``build_landmarks.py {flag}``).
    """
    model = model or load_face_model()
    if model.source is None:
        return None
    path = model.source.parent / name
    key = path.resolve()
    if key in _NPZ_CACHE:
        return _NPZ_CACHE[key]
    out = None
    if path.is_file():
        rebuild = f"rebuild it with `python models/arkit_head/build_landmarks.py{flag and ' ' + flag}`"
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as e:  # zip/npy errors come in many types
            raise ModelError(f"cannot read {path} ({e}); {rebuild}") from None
        sha = str(np.asarray(arrays.get("model_sha256", "")).reshape(-1)[0])
        if sha != sha256_file(model.source):
            raise ModelError(f"{path} was made for a different {model.source.name}; {rebuild}")
        try:
            out = parse(arrays, path, rebuild)
        except KeyError as e:
            raise ModelError(f"{path} lacks the array {e}; {rebuild}") from None
    _NPZ_CACHE[key] = out
    return out


def load_landmark_response(model: FaceModel | None = None) -> LandmarkResponse | None:
    """The measured mediapipe response stored beside ``model`` (None when absent).

    Raises :class:`ModelError` when the file is damaged or was measured on a
    different mesh.
    """
    from .. import arkit

    def parse(z, path, rebuild):
        names = [str(n) for n in z["names"]]
        pose, rest = z["pose_deg"].astype(np.float64), z["rest_mm"].astype(np.float64) / 1000.0
        raw = z["deltas_mm"].astype(np.float64) / 1000.0
        if rest.ndim != 3 or rest.shape[1:] != (LANDMARK_COUNT, 3) or raw.shape[:2] != (len(rest), len(names)):
            raise ModelError(f"{path} has inconsistent array shapes; {rebuild}")
        deltas = np.zeros((len(rest), arkit.COUNT, LANDMARK_COUNT, 3))
        for c, name in enumerate(names):  # by name, never by position
            if name in arkit.NAMES:
                deltas[:, arkit.index(name)] = raw[:, c]
        return LandmarkResponse(pose, rest, deltas)

    return _measured_file(model, RESPONSE_FILE, "", parse)


def load_landmark_identity(model: FaceModel | None = None) -> tuple[tuple[str, ...], np.ndarray] | None:
    """Identity (face-shape) modes at the landmarks: (names, deltas [K, 478, 3] m), or None.

    From ``landmark_identity.npz`` beside the model (MakeHuman shape targets,
    see ``models/arkit_head/build_landmarks.py``).  Raises :class:`ModelError`
    when the file is damaged or was made for a different mesh.
    """
    def parse(z, path, rebuild):
        names = tuple(str(n) for n in z["names"])
        deltas = z["deltas_mm"].astype(np.float64) / 1000.0
        if deltas.shape != (len(names), LANDMARK_COUNT, 3):
            raise ModelError(f"{path} has inconsistent array shapes; {rebuild}")
        return names, deltas

    return _measured_file(model, IDENTITY_FILE, "--identity-only", parse)


@dataclass(frozen=True, eq=False)
class LandmarkErrorModes:
    """How mediapipe's landmarks on the head stray from the linear response model
    (``landmark_error.npz``).

    ``modes`` [K, 478, 3] (m, the model's frame): the principal patterns of the
    misfit that remains when the *true* weights of rendered expressions are put
    through :class:`LandmarkResponse` (mediapipe's face prior couples regions,
    responses do not quite add up), each scaled to one standard deviation;
    ``white`` the variance per (weighted, noise-unit) coordinate left after
    them.  The photo fit treats them as correlated noise: nuisance terms with
    a Gaussian prior, instead of letting a wrong channel explain them.
    """

    modes: np.ndarray
    white: float


def load_landmark_error(model: FaceModel | None = None) -> LandmarkErrorModes | None:
    """The landmark error modes stored beside ``model`` (None when absent).

    Raises :class:`ModelError` when the file is damaged or was measured on a
    different mesh or landmark response.
    """
    model = model or load_face_model()

    def parse(z, path, rebuild):
        modes = z["modes_mm"].astype(np.float64) / 1000.0
        white = float(np.asarray(z["white"]).reshape(-1)[0])
        resp_sha = str(np.asarray(z["response_sha256"]).reshape(-1)[0])
        resp_path = model.source.parent / RESPONSE_FILE
        if not resp_path.is_file() or resp_sha != sha256_file(resp_path):
            raise ModelError(f"{path} was measured against a different {RESPONSE_FILE}; {rebuild}")
        if modes.ndim != 3 or modes.shape[1:] != (LANDMARK_COUNT, 3) or not white > 0:
            raise ModelError(f"{path} has inconsistent array shapes; {rebuild}")
        return LandmarkErrorModes(modes, white)

    return _measured_file(model, ERROR_FILE, "--error-only", parse)


# ---------------------------------------------------------------------- building (numpy)
@dataclass(frozen=True)
class Camera:
    """A pinhole camera: ``position`` [3] (m), ``rotation`` [3, 3] whose columns are
    the camera's x (right), y (up) and z (backwards) axes in the world,
    ``focal_px`` and image ``size`` (width, height) in pixels (principal point
    at the centre), as Blender's perspective camera."""

    position: np.ndarray
    rotation: np.ndarray
    focal_px: float
    size: tuple[int, int]

    def rays(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ray origins [N, 3] and unit directions [N, 3] through pixel positions [N, 2]."""
        px = np.asarray(pixels, np.float64)
        w, h = self.size
        local = np.stack([(px[:, 0] - w / 2) / self.focal_px,
                          -(px[:, 1] - h / 2) / self.focal_px,
                          -np.ones(len(px))], axis=1)
        d = local @ np.asarray(self.rotation, np.float64).T
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        return np.broadcast_to(np.asarray(self.position, np.float64), d.shape).copy(), d

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel positions [N, 2] of world points [N, 3]."""
        local = (np.asarray(points, np.float64) - self.position) @ np.asarray(self.rotation)
        w, h = self.size
        return np.stack([w / 2 + self.focal_px * local[:, 0] / -local[:, 2],
                         h / 2 - self.focal_px * local[:, 1] / -local[:, 2]], axis=1)


def triangles(model: FaceModel, parts: Sequence[str] | None = None) -> np.ndarray:
    """Vertex indices [T, 3] of the model's polygons fanned into triangles.

    ``parts``: keep only polygons whose vertices are all in these parts.
    """
    sizes, idx = model.face_sizes, model.face_indices
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    tris = [np.stack([idx[starts[sizes >= k]], idx[starts[sizes >= k] + k - 2],
                      idx[starts[sizes >= k] + k - 1]], axis=1)
            for k in range(3, int(sizes.max()) + 1) if (sizes >= k).any()]
    out = np.concatenate(tris).astype(np.int64)
    if parts is not None:
        keep = model.part_mask(*parts)
        out = out[keep[out].all(axis=1)]
    return out


def cast_rays(origins: np.ndarray, directions: np.ndarray, corners: np.ndarray,
              front_only: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First hits of rays on triangles (Möller–Trumbore).

    ``corners`` [T, 3, 3] triangle corner positions.  Returns ``tri`` [N]
    (-1 for a miss), ``bary`` [N, 3] (weights of the three corners) and
    ``distance`` [N] (inf for a miss).  ``front_only`` ignores triangles seen
    from behind (whose winding faces away from the ray); the bundled head's
    polygons wind counter-clockwise seen from outside.
    """
    o, d = np.asarray(origins, np.float64), np.asarray(directions, np.float64)
    a, b, c = (np.asarray(corners, np.float64)[:, i] for i in range(3))
    e1, e2 = b - a, c - a
    n = len(o)
    best_t = np.full(n, np.inf)
    best_tri = np.full(n, -1, np.int64)
    best_uv = np.zeros((n, 2))
    for s in range(0, n, 64):
        dd, oo = d[s:s + 64, None], o[s:s + 64, None]
        p = np.cross(dd, e2[None])
        det = np.einsum("rtk,tk->rt", p, e1)
        ok = det > 1e-12 if front_only else np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        tv = oo - a[None]
        u = np.einsum("rtk,rtk->rt", tv, p) * inv
        q = np.cross(tv, e1[None])
        v = np.einsum("rk,rtk->rt", dd[:, 0], q) * inv
        t = np.einsum("tk,rtk->rt", e2, q) * inv
        hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
        t = np.where(hit, t, np.inf)
        j = np.argmin(t, axis=1)
        rows = np.arange(len(j))
        best_t[s:s + 64] = t[rows, j]
        got = np.isfinite(t[rows, j])
        best_tri[s:s + 64] = np.where(got, j, -1)
        best_uv[s:s + 64] = np.stack([u[rows, j], v[rows, j]], axis=1)
    bary = np.stack([1 - best_uv.sum(axis=1), best_uv[:, 0], best_uv[:, 1]], axis=1)
    bary[best_tri < 0] = 0.0
    return best_tri, bary, best_t


def closest_surface_points(points: np.ndarray, corners: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest surface point to each of ``points`` [N, 3] on triangles [T, 3, 3].

    Returns ``tri`` [N], ``bary`` [N, 3] and ``distance`` [N] (m).  Exact
    point-triangle distance (Ericson, *Real-Time Collision Detection* 5.1.5),
    vectorised over all triangles.
    """
    pts = np.asarray(points, np.float64)
    cor = np.asarray(corners, np.float64)
    tri_out = np.zeros(len(pts), np.int64)
    bary_out = np.zeros((len(pts), 3))
    dist_out = np.zeros(len(pts))
    for i, p in enumerate(pts):
        bary = _closest_bary(p, cor)
        q = np.einsum("tk,tkx->tx", bary, cor)
        dist = np.linalg.norm(q - p, axis=1)
        j = int(np.argmin(dist))
        tri_out[i], bary_out[i], dist_out[i] = j, bary[j], dist[j]
    return tri_out, bary_out, dist_out


def _closest_bary(p: np.ndarray, cor: np.ndarray) -> np.ndarray:
    """Barycentric weights [T, 3] of the point of each triangle closest to ``p``."""
    a, b, c = cor[:, 0], cor[:, 1], cor[:, 2]
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = (ab * ap).sum(1), (ac * ap).sum(1)
    bp = p - b
    d3, d4 = (ab * bp).sum(1), (ac * bp).sum(1)
    cp = p - c
    d5, d6 = (ab * cp).sum(1), (ac * cp).sum(1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    out = np.zeros((len(cor), 3))
    done = np.zeros(len(cor), bool)

    def put(mask, w):
        nonlocal done
        m = mask & ~done
        out[m] = w[m] if w.ndim == 2 else w
        done |= m

    put((d1 <= 0) & (d2 <= 0), np.array([1.0, 0, 0]))
    put((d3 >= 0) & (d4 <= d3), np.array([0, 1.0, 0]))
    put((d6 >= 0) & (d5 <= d6), np.array([0, 0, 1.0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = d1 / (d1 - d3)
        put((vc <= 0) & (d1 >= 0) & (d3 <= 0), np.stack([1 - v, v, 0 * v], 1))
        w = d2 / (d2 - d6)
        put((vb <= 0) & (d2 >= 0) & (d6 <= 0), np.stack([1 - w, 0 * w, w], 1))
        w = (d4 - d3) / ((d4 - d3) + (d5 - d6))
        put((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0), np.stack([0 * w, 1 - w, w], 1))
        denom = 1.0 / (va + vb + vc)
        v, w = vb * denom, vc * denom
        put(np.ones(len(cor), bool), np.stack([1 - v - w, v, w], 1))
    return np.nan_to_num(out)


def _ray_fallback(origin: np.ndarray, direction: np.ndarray, verts: np.ndarray,
                  normals: np.ndarray, max_along: float = np.inf) -> np.ndarray:
    """Where a ray that missed the front surface passes closest to a camera-facing vertex.

    Only vertices nearer than ``max_along`` along the ray count (so a ray
    through the lip slit or the eye opening takes the lip or lid margin, not
    the inside of the mouth or the socket).
    """
    rel = verts - origin
    along = rel @ direction
    perp = np.linalg.norm(rel - along[:, None] * direction, axis=1)
    facing = (normals @ direction) < 0
    perp = np.where(facing & (along > 0) & (along < max_along), perp, np.inf)
    j = int(np.argmin(perp))
    return origin + along[j] * direction


def _front_depth(cam: Camera, pixels: np.ndarray, corners: np.ndarray, radius_px: float) -> np.ndarray:
    """Nearest surface distance [N] among rays through a ring of pixels around each pixel."""
    ring = radius_px * np.array([(np.cos(a), np.sin(a)) for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)])
    probes = (pixels[:, None, :] + np.concatenate([[(0.0, 0.0)], ring])[None]).reshape(-1, 2)
    o, d = cam.rays(probes)
    _, _, dist = cast_rays(o, d, corners)
    return dist.reshape(len(pixels), -1).min(axis=1)


def vertex_normals(vertices: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals [V, 3] of a triangle list."""
    v = np.asarray(vertices, np.float64)
    fn = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, tris[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def build_landmark_map(model: FaceModel, views: Sequence[tuple[np.ndarray, Camera]],
                       min_facing: float = 0.25, gap_px: float = 4.0,
                       gap_m: float = 0.006) -> dict:
    """The landmark map (as a JSON-able dict, without provenance) from renders.

    ``views``: (pixels [478, 2] that mediapipe found on a render of the
    neutral ``model``, the :class:`Camera` of that render).  Mesh points are
    cast onto the skin, iris points onto the eyeballs; a ray that slips past
    the surface (past the silhouette), or whose hit lies more than ``gap_m``
    behind the nearest surface within ``gap_px`` pixels (it slipped through the
    lip slit, the eye opening or a nostril), takes the camera-facing skin
    point it passes closest to, in front of that limit.  Each view's hit counts
    with weight ``max(cos(normal, view), min_facing)**2``; the weighted mean
    is snapped to the nearest surface point.
    """
    verts = model.vertices.astype(np.float64)
    skin_tris = triangles(model, ["skin"])
    eye_tris = triangles(model, ["eye_left", "eye_right"])
    normals = vertex_normals(verts, triangles(model))
    skin_idx = np.flatnonzero(model.part_mask("skin"))
    hits = np.zeros((len(views), LANDMARK_COUNT, 3))
    weight = np.zeros((len(views), LANDMARK_COUNT))
    for k, (pixels, cam) in enumerate(views):
        px = np.asarray(pixels, np.float64)[:, :2]
        origins, dirs = cam.rays(px)
        front = _front_depth(cam, px[:MESH_POINTS], verts[skin_tris], gap_px)
        for tris, rows in ((skin_tris, np.arange(MESH_POINTS)), (eye_tris, np.array(IRIS_POINTS))):
            tri, bary, dist = cast_rays(origins[rows], dirs[rows], verts[tris])
            for r, t_i, b, dd in zip(rows, tri, bary, dist):
                limit = front[r] + gap_m if r < MESH_POINTS else np.inf
                if t_i >= 0 and dd <= limit:
                    p = b @ verts[tris[t_i]]
                    n = b @ normals[tris[t_i]]
                else:
                    p = _ray_fallback(origins[r], dirs[r], verts[skin_idx], normals[skin_idx],
                                      limit if np.isfinite(limit) else np.inf)
                    n = -dirs[r] * min_facing
                hits[k, r] = p
                cos = float(-(n / max(np.linalg.norm(n), 1e-12)) @ dirs[r])
                weight[k, r] = max(cos, min_facing) ** 2
    wsum = weight.sum(axis=0)
    mean = np.einsum("kl,klx->lx", weight, hits) / wsum[:, None]
    spread = np.sqrt(np.einsum("kl,kl->l", weight,
                               ((hits - mean[None]) ** 2).sum(axis=2)) / wsum) * 1000.0
    out = []
    for r in range(LANDMARK_COUNT):
        tris = eye_tris if r >= MESH_POINTS else skin_tris
        near = np.flatnonzero(np.linalg.norm(verts[tris].mean(axis=1) - mean[r], axis=1) < 0.02)
        near = near if len(near) else np.arange(len(tris))
        tri, bary, _ = closest_surface_points(mean[r:r + 1], verts[tris[near]])
        out.append({"vertices": [int(i) for i in tris[near[tri[0]]]],
                    "barycentric": [round(float(x), 6) for x in bary[0]],
                    "spread_mm": round(float(spread[r]), 3)})
    return {"format": MAP_FORMAT, "version": MAP_VERSION, "landmarks": out}
