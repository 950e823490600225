"""Render the face model with given ARKit weights (Blender WORKBENCH): photos of known expressions.

:class:`HeadRenderer` is what ``models/arkit_head/build_landmarks.py`` renders
the landmark map, mediapipe's landmark response and the error modes from, and
what ``benchmarks/bench_photo_prompt.py`` and ``tests/test_emotion_photo.py``
make photos of known expressions with.  The head has no textures, so
:func:`paint` gives it vertex colours (skin, lips, brows, irises) that
mediapipe can read.

Set ``BLENDER_USER_RESOURCES`` to a scratch folder *before* importing this
module (importing :mod:`visemo.blender` imports ``bpy``).  Rendering leaves
Blender's GPU worker thread waiting, which can hang a normal interpreter exit:
render in a subprocess that leaves with ``os._exit`` (see the tests).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import bpy
import numpy as np

from .. import arkit
from ..face.landmarks import Camera
from ..face.model import FaceModel, load_face_model
from ..quiet import silenced
from .head import build_head_object
from .scene import new_empty_scene

__all__ = ["HeadRenderer", "paint", "RENDER_SIZE"]

RENDER_SIZE = 512
"""Default render size (pixels, square)."""

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

    Blender WORKBENCH with studio light and vertex colours
    (:func:`paint`); ≈ 0.3 s per 512² frame once warm.  Creating one resets
    Blender's session to an empty scene.
    """

    def __init__(self, model: FaceModel | None = None, size: int = RENDER_SIZE,
                 lens_mm: float = 85.0, distance: float = 0.6,
                 target: tuple[float, float, float] = (0.0, -0.1, 0.715)) -> None:
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
        with silenced(1):  # Blender prints "Saved: ..." for every frame
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
