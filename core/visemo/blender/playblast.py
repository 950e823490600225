"""Playblast: an mp4 of the keyed visemo head (or a character) speaking, with the speech.

The quick preview an animator sends to a director: ``visemo animate line.wav
--emotion happy -o preview.mp4``.  The scene is built and keyed exactly as for
a .blend/.fbx/.glb output (:func:`visemo.blender.writer.build_keyed_scene`),
rendered headless with WORKBENCH (solid studio light, FXAA; the bundled head
painted with :func:`visemo.blender.render.paint`) from a camera in front of the
face, and each frame streamed into :func:`visemo.render2d.video.write_video`
(H.264 + the speech as AAC, written atomically).

Rendering with the ``bpy`` module leaves a GPU worker thread that hangs the
interpreter's exit, so :func:`write_playblast` renders in a child process
(``sys.executable`` with this package on its path) and the calling process
never renders; the child leaves with ``os._exit``.  ``in_process=True``
renders here instead (then leave the process with ``os._exit`` yourself).

Units: ``size`` in pixels (square frames, even), frame rate = the Animation's
fps, frame ``i`` shows ``anim.weights[i]`` (time ``i / fps`` seconds).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Callable, Iterator

import bpy
import numpy as np

from .. import errors
from ..errors import AudioError, RigError, VisemoError
from ..export.atomic import atomic_path
from ..render2d.video import VideoInfo, write_video
from .keyframes import frame_numbers, scene_fps
from .rig import shape_key_map
from .writer import build_keyed_scene

__all__ = ["write_playblast", "render_playblast", "PlayblastRenderer", "PLAYBLAST_SIZE",
           "render_settings", "add_face_camera", "render_still"]

PLAYBLAST_SIZE = 512
"""Default frame size (pixels, square)."""

LENS_MM = 85.0
"""Camera focal length (mm, 36 mm sensor): a portrait lens, little distortion."""

MARGIN = 1.25
"""Frame size / size of the face region (the vertices the shape keys move, at rest and keyed)."""

ANTI_ALIASING = "FXAA"
"""Workbench anti-aliasing (``scene.display.render_aa``).  Measured at 512 px
without a GPU: "OFF" ≈ 40 ms a frame, "FXAA" ≈ 90-110 ms, "8" samples ≈ 380 ms."""

ANTI_ALIASING_CHOICES = ("OFF", "FXAA", "5", "8", "11", "16", "32")


# ---------------------------------------------------------------------- public API
def write_playblast(anim, path, *, speech_path, character=None, object_name=None,
                    size: int = PLAYBLAST_SIZE, progress: Callable[[int, int | None], None] | None = None,
                    mapping=None, anti_aliasing: str = ANTI_ALIASING,
                    in_process: bool = False) -> VideoInfo:
    """Render ``anim`` on the visemo head (or ``character``) to the mp4 ``path``; return its VideoInfo.

    ``anim``: the :class:`~visemo.Animation` (its fps is the video's).
    ``speech_path``: the speech file, the video's sound track (None: silent).
    ``character``/``object_name``/``mapping``: as for
    :func:`~visemo.blender.writer.write_animation_file` (a .blend; the object
    to key; which shape key takes which channel).  ``size``: frame width and
    height in pixels (even).  ``progress(done, total)`` after each frame.
    ``anti_aliasing``: Workbench's setting, "FXAA" (default), "OFF" (2-3x
    as fast at 512 px, jagged edges) or a sample count "5", "8", ... (slower).

    Renders in a child process unless ``in_process`` (see the module notes).
    Raises RigError (no character file, object without usable shape keys),
    AudioError (speech file missing or unreadable), ValueError (odd size,
    unknown anti-aliasing, an animation shorter or longer than the speech);
    nothing is written then, and a failure or Ctrl-C while rendering leaves
    no file behind either.
    """
    path = Path(path)
    size = _check_size(size)
    _check_anti_aliasing(anti_aliasing)
    if speech_path is not None and not Path(speech_path).is_file():
        raise AudioError(f"speech file not found: {speech_path}")
    if character is not None:
        character = Path(character)
        if character.suffix.lower() != ".blend" or not character.is_file():
            raise RigError(f"character must be an existing .blend file, got {character}")
    elif object_name is not None:
        raise RigError("object_name needs a character .blend to pick the object from")
    if in_process:
        return render_playblast(anim, path, speech_path=speech_path, character=character,
                                object_name=object_name, size=size, progress=progress, mapping=mapping,
                                anti_aliasing=anti_aliasing)
    return _render_in_child(anim, path, speech_path=speech_path, character=character,
                            object_name=object_name, size=size, progress=progress, mapping=mapping,
                            anti_aliasing=anti_aliasing)


def render_playblast(anim, path, *, speech_path, character=None, object_name=None,
                     size: int = PLAYBLAST_SIZE, progress=None, mapping=None,
                     anti_aliasing: str = ANTI_ALIASING) -> VideoInfo:
    """:func:`write_playblast` rendering in this process (resets the Blender session).

    Afterwards this process cannot exit normally (Blender's GPU thread):
    leave with ``os._exit``.
    """
    renderer = PlayblastRenderer(anim, character=character, object_name=object_name,
                                 size=size, mapping=mapping, anti_aliasing=anti_aliasing)
    try:
        return write_video(path, renderer.frames(), fps=anim.fps, width=size, height=size,
                           frame_count=anim.frames, audio=speech_path, progress=progress)
    finally:
        renderer.close()


class PlayblastRenderer:
    """The keyed head/character in a WORKBENCH scene; renders frame ``i`` of ``anim``.

    Creating one resets the Blender session (:func:`build_keyed_scene`), keys
    ``anim`` on the target's shape keys, paints the bundled head, sets up the
    render and a camera in front of the face region.  :meth:`pose` moves the
    scene to animation frame ``i`` (the action evaluates the keys);
    :meth:`render` returns the picture; :meth:`frames` yields them all.
    """

    def __init__(self, anim, *, character=None, object_name=None, size: int = PLAYBLAST_SIZE,
                 mapping=None, anti_aliasing: str = ANTI_ALIASING) -> None:
        self.anim = anim
        self.size = _check_size(size)
        _check_anti_aliasing(anti_aliasing)
        model = None
        if character is None:
            from ..face.model import load_face_model

            model = load_face_model()
        scene, obj = build_keyed_scene(anim, character=character, object_name=object_name,
                                       start_frame=1, head=model, mapping=mapping)
        self.scene, self.object = scene, obj
        if model is not None:
            from .render import paint

            attr = obj.data.color_attributes.new("visemo_paint", "FLOAT_COLOR", "POINT")
            attr.data.foreach_set("color", paint(model).ravel())
            obj.data.color_attributes.active_color = attr
        _setup_render(scene, self.size, vertex_colours=model is not None, anti_aliasing=anti_aliasing)
        self.frame_of = frame_numbers(anim, scene.frame_start, scene_fps(scene))
        self.pose(0)
        keyed = {name for names in shape_key_map(obj, mapping).channels.values() for name in names}
        self.camera = _add_camera(scene, obj, keyed)
        self._tmp = Path(tempfile.mkdtemp(prefix="visemo-playblast-"))
        scene.render.filepath = str(self._tmp / "frame.bmp")

    def pose(self, index: int) -> None:
        """Move the scene to animation frame ``index`` (0-based): its keys evaluate to ``anim.weights[index]``."""
        f = float(self.frame_of[index])
        whole = math.floor(f + 1e-6)
        self.scene.frame_set(int(whole), subframe=max(0.0, f - whole))

    def render(self) -> np.ndarray:
        """RGB uint8 [size, size, 3] of the scene as it is posed now."""
        return render_still(self.scene)

    def frames(self) -> Iterator[np.ndarray]:
        """Each animation frame, posed and rendered, one at a time."""
        for i in range(self.anim.frames):
            self.pose(i)
            yield self.render()

    def close(self) -> None:
        """Delete the scratch folder of the renders."""
        shutil.rmtree(self._tmp, ignore_errors=True)


# ---------------------------------------------------------------------- scene
def _check_size(size) -> int:
    s = int(size)
    if s != size or s < 16 or s % 2:
        raise ValueError(f"playblast size must be an even number of pixels >= 16, got {size!r}")
    return s


def _check_anti_aliasing(value) -> str:
    if str(value) not in ANTI_ALIASING_CHOICES:
        raise ValueError(f"anti_aliasing must be one of {', '.join(ANTI_ALIASING_CHOICES)}, got {value!r}")
    return str(value)


def render_settings(size: int, *, vertex_colours: bool = False,
                    anti_aliasing: str = ANTI_ALIASING) -> dict[str, object]:
    """The playblast's render settings: ``{dotted path from the scene: value}``, in the order to set them.

    WORKBENCH, studio light, no cavity/shadows/x-ray, "Standard" view
    transform, ``size``² pixels at 100 %, no compositor, sequencer or stamp
    (a character file's must not replace the render of the scene), sRGB
    8-bit BMP stills (what :func:`render_still` reads).  ``vertex_colours``:
    shade with the mesh's colour attribute (the painted bundled head), else
    its materials and textures.  The world colour is not in it (see
    :func:`_setup_render`).  Someone who sets these on a scene they want back
    saves the old values first (dotted paths: ``"render.image_settings.file_format"``).
    """
    return {
        "render.engine": "BLENDER_WORKBENCH",
        "display.render_aa": _check_anti_aliasing(anti_aliasing),
        "display.shading.light": "STUDIO",
        "display.shading.color_type": "VERTEX" if vertex_colours else "TEXTURE",
        "display.shading.show_cavity": False,
        "display.shading.show_shadows": False,
        "display.shading.show_xray": False,
        "display.shading.show_backface_culling": False,
        "view_settings.view_transform": "Standard",
        "view_settings.look": "None",
        "view_settings.exposure": 0.0,
        "view_settings.gamma": 1.0,
        "view_settings.use_curve_mapping": False,
        "render.resolution_x": _check_size(size),
        "render.resolution_y": _check_size(size),
        "render.resolution_percentage": 100,
        "render.pixel_aspect_x": 1.0,
        "render.pixel_aspect_y": 1.0,
        "render.use_border": False,
        "render.film_transparent": False,
        "render.use_compositing": False,
        "render.use_sequencer": False,
        "render.use_stamp": False,
        "render.image_settings.file_format": "BMP",
        "render.image_settings.color_mode": "RGB",
    }


def _assign(scene, path: str, value) -> None:
    """``scene.<path> = value`` for a dotted ``path``."""
    *owners, name = path.split(".")
    target = scene
    for owner in owners:
        target = getattr(target, owner)
    setattr(target, name, value)


def _setup_render(scene, size: int, *, vertex_colours: bool, anti_aliasing: str = ANTI_ALIASING) -> None:
    """:func:`render_settings` on ``scene``, and a flat background (the world's colour)."""
    from .render import BACKGROUND

    settings = render_settings(size, vertex_colours=vertex_colours, anti_aliasing=anti_aliasing)
    if scene.world is None:
        scene.world = bpy.data.worlds.new("visemo_playblast_world")
    scene.world.color = BACKGROUND
    for path, value in settings.items():
        _assign(scene, path, value)


def render_still(scene) -> np.ndarray:
    """Render ``scene`` as posed now; RGB uint8 [height, width, 3].

    The scene must write BMP stills to ``scene.render.filepath`` (see
    :func:`render_settings`); the file is overwritten by each call.
    """
    from ..quiet import silenced

    with silenced(1):  # Blender prints "Saved: ..." for every frame
        bpy.ops.render.render(write_still=True, scene=scene.name)
    return _read_bmp(Path(bpy.path.abspath(scene.render.filepath)))


def _world_points(obj):
    """World positions and normals float64 [V, 3] of ``obj`` as evaluated now (rest shape if
    modifiers change the vertex count), and its world rotation-scale matrix [3, 3]."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        if len(mesh.vertices) == len(obj.data.vertices):
            source = mesh
        else:
            source = obj.data
        n = len(source.vertices)
        co = np.empty(n * 3, np.float32)
        nor = np.empty(n * 3, np.float32)
        source.vertices.foreach_get("co", co)
        source.vertices.foreach_get("normal", nor)
    finally:
        evaluated.to_mesh_clear()
    m = np.array(evaluated.matrix_world, dtype=np.float64)
    rot = m[:3, :3]
    points = co.reshape(-1, 3).astype(np.float64) @ rot.T + m[:3, 3]
    normals = nor.reshape(-1, 3).astype(np.float64) @ np.linalg.inv(rot)  # inverse transpose
    return points, normals, rot


def _key_moves(obj, key_names):
    """``[(vertex indices, offsets float64 [n, 3])]``, object space, one per keyed shape key.

    A key's vertices are those it moves by at least 5 % of its largest move
    (ignores the numerical dust some exporters leave on every vertex).
    """
    key = obj.data.shape_keys if obj.type == "MESH" else None
    if key is None:
        return []
    n = len(obj.data.vertices)
    base = np.empty(n * 3, np.float32)
    key.reference_key.data.foreach_get("co", base)
    co = np.empty(n * 3, np.float32)
    moves = []
    for block in key.key_blocks:
        if block.name not in key_names or block == key.reference_key:
            continue
        block.data.foreach_get("co", co)
        delta = (co - base).reshape(-1, 3).astype(np.float64)
        dist = np.linalg.norm(delta, axis=1)
        top = float(dist.max()) if n else 0.0
        if top > 0:
            idx = np.flatnonzero(dist >= 0.05 * top)
            moves.append((idx, delta[idx]))
    return moves


def add_face_camera(scene, obj, mapping=None):
    """A camera in front of the face of ``obj`` (a mesh already in ``scene``), made the scene's camera.

    The face region is what the shape keys that take ARKit channels move
    (``mapping`` as for :func:`~visemo.blender.rig.shape_key_map`; the mapping
    stored on the object by default); the whole mesh when none does.  Adds
    the object and camera data "visemo_playblast_camera" to ``scene``'s
    master collection and returns the object: the caller removes both, and
    puts the scene's old camera back, when done.
    """
    try:
        keyed = {name for names in shape_key_map(obj, mapping).channels.values() for name in names}
    except RigError:
        keyed = set()
    return _add_camera(scene, obj, keyed)


def _add_camera(scene, obj, key_names):
    """A perspective camera in front of the face region of ``obj``, made the scene camera.

    Face region: the vertices the keyed shape keys move, where they are now and
    where each key takes them at full value.  Front: the region's mean normal,
    levelled (-Y, Blender's front, when that is unclear).  Distance: the
    region's middle plane, times :data:`MARGIN`, fills the frame.
    """
    import mathutils

    points, normals, rot = _world_points(obj)
    moves = _key_moves(obj, key_names)
    if moves:
        region = np.unique(np.concatenate([idx for idx, _ in moves]))
        p = np.concatenate([points[region]] + [points[idx] + off @ rot.T for idx, off in moves])
    else:  # keys that move nothing: frame the whole mesh
        region = np.arange(len(points))
        p = points
    front = normals[region].mean(axis=0)
    front[2] = 0.0
    if not np.isfinite(front).all() or np.linalg.norm(front) < 0.1:
        front = np.array([0.0, -1.0, 0.0])
    front /= np.linalg.norm(front)
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(-front, up)
    right /= np.linalg.norm(right)
    along_r, along_u, along_f = p @ right, p @ up, p @ front
    extent = max(np.ptp(along_r), np.ptp(along_u), 1e-6)
    depth = float(np.ptp(along_f))
    centre = (right * (along_r.min() + along_r.max()) / 2 + up * (along_u.min() + along_u.max()) / 2
              + front * (along_f.min() + along_f.max()) / 2)
    # the region's middle plane spans MARGIN x extent (18 mm: half the sensor width)
    distance = max(extent * MARGIN / 2 * LENS_MM / 18.0, depth)
    cam_data = bpy.data.cameras.new("visemo_playblast_camera")
    cam_data.lens, cam_data.sensor_width, cam_data.sensor_fit = LENS_MM, 36.0, "AUTO"
    cam_data.clip_start = max(1e-4, distance * 0.02)
    cam_data.clip_end = (distance + depth) * 50
    cam = bpy.data.objects.new("visemo_playblast_camera", cam_data)
    scene.collection.objects.link(cam)
    cam.location = mathutils.Vector((centre + front * distance).tolist())
    rotation = np.stack([right, up, front], axis=1)  # camera looks down its -Z: along -front
    cam.rotation_euler = mathutils.Matrix(rotation.tolist()).to_euler()
    scene.camera = cam
    return cam


def _read_bmp(path: Path) -> np.ndarray:
    """RGB uint8 [H, W, 3] of an uncompressed 24/32-bit BMP (what Blender writes)."""
    data = np.fromfile(str(path), np.uint8)
    if data[:2].tobytes() != b"BM":
        raise RuntimeError(f"Blender did not write a BMP render to {path}")
    offset = int.from_bytes(data[10:14].tobytes(), "little")
    width = int.from_bytes(data[18:22].tobytes(), "little", signed=True)
    height = int.from_bytes(data[22:26].tobytes(), "little", signed=True)
    bpp = int.from_bytes(data[28:30].tobytes(), "little")
    if bpp not in (24, 32):
        raise RuntimeError(f"unexpected {bpp}-bit BMP render from Blender")
    stride = (bpp * width + 31) // 32 * 4
    rows = data[offset:offset + stride * abs(height)].reshape(abs(height), stride)
    pixels = rows[:, :width * bpp // 8].reshape(abs(height), width, bpp // 8)
    rgb = pixels[:, :, 2::-1]  # BGR(A) -> RGB
    if height > 0:             # bottom-up rows
        rgb = rgb[::-1]
    return np.ascontiguousarray(rgb)


# ---------------------------------------------------------------------- the child process
_BOOT = (
    "import os, sys\n"
    "proto = os.dup(1); os.dup2(2, 1)  # Blender prints to stdout; keep it for messages\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from visemo.blender.playblast import _child_main\n"
    "_child_main(proto, sys.argv[2])\n"
)


def _render_in_child(anim, path: Path, *, speech_path, character, object_name, size, progress,
                     mapping, anti_aliasing) -> VideoInfo:
    """Run :func:`render_playblast` in a child process; move its mp4 to ``path`` atomically."""
    from .. import rigmap

    work = Path(tempfile.mkdtemp(prefix="visemo-playblast-"))
    try:
        anim_path = anim.save(work / "animation.npz")
        if isinstance(mapping, rigmap.Mapping):
            mapping = mapping.to_dict()
        request = {
            "animation": str(anim_path), "output": str(work / "playblast.mp4"),
            "speech_path": None if speech_path is None else str(Path(speech_path).resolve()),
            "character": None if character is None else str(Path(character).resolve()),
            "object_name": object_name, "size": size, "mapping": mapping,
            "anti_aliasing": str(anti_aliasing),
        }
        (work / "request.json").write_text(json.dumps(request))
        core = str(Path(__file__).resolve().parents[2])
        # the child's scratch files go in ``work`` too, so killing it leaves nothing behind
        env = dict(os.environ, TMPDIR=str(work), TEMP=str(work), TMP=str(work))
        with open(work / "child.log", "w+b") as log:
            proc = subprocess.Popen([sys.executable, "-c", _BOOT, core, str(work / "request.json")],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env)
            try:
                result = _follow(proc, progress)
            except BaseException:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                raise
            proc.wait()
            log.seek(0)
            tail = log.read()[-3000:].decode("utf-8", "replace")
        if result is None:
            raise RuntimeError(f"the playblast renderer stopped (exit status {proc.returncode}) "
                               f"without a result; its last output:\n{tail}")
        if "error" in result:
            raise _exception(result, tail)
        with atomic_path(path) as tmp:
            shutil.move(str(work / "playblast.mp4"), str(tmp))
        info = result["result"]
        return VideoInfo(path=path, frames=info["frames"], fps=info["fps"], width=info["width"],
                         height=info["height"], duration=info["duration"],
                         audio_duration=info["audio_duration"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _follow(proc, progress) -> dict | None:
    """Read the child's messages until it closes stdout; return the final one (result or error)."""
    final = None
    for line in proc.stdout:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "progress" in msg:
            if progress is not None:
                progress(*msg["progress"])
        else:
            final = msg
    return final


def _exception(msg: dict, log_tail: str) -> BaseException:
    """The exception the child reported, as the same class where it is one of ours."""
    name, text = msg.get("error"), msg.get("message", "")
    cls = getattr(errors, name, None) if isinstance(name, str) else None
    if isinstance(cls, type) and issubclass(cls, VisemoError):
        return cls(text)
    if name == "ValueError":
        return ValueError(text)
    if name == "KeyboardInterrupt":
        return KeyboardInterrupt()
    return RuntimeError(f"the playblast renderer failed: {text}\n{msg.get('traceback', '')}{log_tail}")


def _child_main(proto_fd: int, request_path: str) -> None:
    """Entry point of the child: render the request, report on ``proto_fd``, leave with os._exit."""
    proto = os.fdopen(proto_fd, "w", buffering=1)

    def send(**msg) -> None:
        proto.write(json.dumps(msg) + "\n")
        proto.flush()

    code = 0
    try:
        from ..animation import Animation

        req = json.loads(Path(request_path).read_text())
        anim = Animation.load(req["animation"])
        info = render_playblast(
            anim, req["output"], speech_path=req["speech_path"], character=req["character"],
            object_name=req["object_name"], size=req["size"], mapping=req["mapping"],
            anti_aliasing=req["anti_aliasing"],
            progress=lambda done, total: send(progress=[done, total]))
        send(result={"frames": info.frames, "fps": info.fps, "width": info.width,
                     "height": info.height, "duration": info.duration,
                     "audio_duration": info.audio_duration})
    except (VisemoError, ValueError) as e:
        send(error=type(e).__name__ if isinstance(e, VisemoError) else "ValueError", message=str(e))
        code = 2
    except KeyboardInterrupt:
        send(error="KeyboardInterrupt", message="interrupted")
        code = 130
    except BaseException as e:  # noqa: BLE001 -- reported to the parent, which raises it
        send(error="RuntimeError", message=f"{type(e).__name__}: {e}", traceback=traceback.format_exc())
        code = 1
    finally:
        try:
            proto.flush()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
