"""Rendering the user's own scene for a playblast, and putting it back exactly as it was.

Blender renders only on its main thread and only the scene it is given, so
*Playblast* renders the user's scene itself, one frame at a time, with
temporary settings: :class:`PlayblastSession` saves every setting it
changes, sets the playblast look of :func:`visemo.blender.playblast.render_settings`
(Workbench, studio light, flat grey background, BMP stills to a scratch
folder), adds a camera in front of the target's face when the scene has
none (:func:`visemo.blender.playblast.add_face_camera`), and
:meth:`~PlayblastSession.restore` puts back every value in the order it was
set, the frame, the camera and the world, and removes what it added (the
camera, a world, the *Render Result* image, the scratch folder).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import bpy

CAMERA_PREFIX = "visemo_playblast_camera"

EXTRA_SETTINGS = {
    "render.use_single_layer": True,   # the view layer the user looks at, not all of them
    "render.use_multiview": False,     # one picture per frame
    "render.use_freestyle": False,
    "render.use_file_extension": True,
}
"""Set on top of the playblast look (dotted paths from the scene)."""

ALSO_SAVED = ("render.image_settings.color_depth",)
"""Not set, but changed by Blender when the file format changes: saved and put back after it."""


def _get(scene, path: str):
    target = scene
    for name in path.split("."):
        target = getattr(target, name)
    return tuple(target) if hasattr(target, "__len__") and not isinstance(target, str) else target


def _set(scene, path: str, value) -> None:
    *owners, name = path.split(".")
    target = scene
    for owner in owners:
        target = getattr(target, owner)
    setattr(target, name, value)


def even(n: float) -> int:
    """``n`` rounded down to an even whole number (H.264 frames have even sides), at least 2."""
    return max(2, int(n) // 2 * 2)


class PlayblastSession:
    """The user's ``scene`` set up to render ``obj`` frame by frame; :meth:`restore` undoes it all.

    With a scene camera, frames have the scene's output size (resolution ×
    percentage, rounded down to even); without one, a temporary camera frames
    the face of ``obj`` in ``size``² frames.  ``width``/``height`` say which.
    Construction either succeeds or leaves the scene as it was.
    """

    def __init__(self, scene, obj, size: int):
        from visemo.blender.playblast import render_settings

        self.scene_name = scene.name
        self._restored = False
        self._saved: list[tuple[str, object]] = []
        self._camera = None          # (object name, camera data name) of the temporary camera
        self._old_camera = scene.camera
        self._world = None           # name of a temporary world, or the saved colour of the user's
        self._had_render_result = "Render Result" in bpy.data.images
        self._frame = (scene.frame_current, scene.frame_subframe)
        self._tmp = Path(tempfile.mkdtemp(prefix="visemo-playblast-"))
        try:
            if scene.camera is None:
                self.width = self.height = even(size)
            else:
                r = scene.render
                self.width = even(r.resolution_x * r.resolution_percentage / 100)
                self.height = even(r.resolution_y * r.resolution_percentage / 100)
            settings = render_settings(max(16, even(size)), vertex_colours=False)
            settings.update({"render.resolution_x": self.width, "render.resolution_y": self.height})
            settings.update(EXTRA_SETTINGS)
            settings["render.filepath"] = str(self._tmp / "frame.bmp")
            self._saved = [(path, _get(scene, path)) for path in (*settings, *ALSO_SAVED)]
            self._set_world(scene)
            for path, value in settings.items():
                _set(scene, path, value)
            if scene.camera is None:
                self._add_camera(scene, obj)
        except BaseException:
            self.restore()
            raise

    # -- set up
    def _set_world(self, scene) -> None:
        from visemo.blender.render import BACKGROUND

        if scene.world is None:
            world = bpy.data.worlds.new("visemo_playblast_world")
            scene.world = world
            self._world = world.name
        else:
            self._world = tuple(scene.world.color)
        scene.world.color = BACKGROUND

    def _add_camera(self, scene, obj) -> None:
        from visemo.blender.playblast import add_face_camera

        cam = add_face_camera(scene, obj)
        self._camera = (cam.name, cam.data.name)

    @property
    def scene(self):
        """The scene (looked up by name: an undo step may have replaced the Python object)."""
        return bpy.data.scenes.get(self.scene_name)

    # -- use
    def render(self, frame: int):
        """RGB uint8 [height, width, 3] of scene frame ``frame``."""
        from visemo.blender.playblast import render_still

        scene = self.scene
        if scene is None:
            raise RuntimeError("the scene was removed during the playblast")
        scene.frame_set(int(frame))
        return render_still(scene)

    # -- put back
    def restore(self) -> None:
        """Put back every saved setting (in the order set), the frame, camera and world; remove what was added.

        Safe to call more than once; a value that cannot be put back does not
        stop the others (it is printed).
        """
        if self._restored:
            return
        self._restored = True
        scene = self.scene
        if scene is not None:
            for path, value in self._saved:
                try:
                    _set(scene, path, value)
                except (AttributeError, TypeError, ValueError) as e:
                    print(f"visemo: playblast could not restore {path} = {value!r}: {e}")
            self._restore_world(scene)
            if self._camera is not None and scene.camera is not None and scene.camera.name == self._camera[0]:
                scene.camera = self._old_camera
        self._remove_camera()
        if scene is not None:
            scene.frame_set(self._frame[0], subframe=self._frame[1])
        if not self._had_render_result:
            img = bpy.data.images.get("Render Result")
            if img is not None and img.type == "RENDER_RESULT":
                bpy.data.images.remove(img)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _restore_world(self, scene) -> None:
        if isinstance(self._world, str):  # ours: take it away again
            world = bpy.data.worlds.get(self._world)
            if scene.world == world:
                scene.world = None
            if world is not None and world.users == 0:
                bpy.data.worlds.remove(world)
        elif self._world is not None and scene.world is not None:
            scene.world.color = self._world

    def _remove_camera(self) -> None:
        if self._camera is None:
            return
        obj_name, data_name = self._camera
        obj = bpy.data.objects.get(obj_name)
        if obj is not None:
            bpy.data.objects.remove(obj)
        data = bpy.data.cameras.get(data_name)
        if data is not None and data.users == 0:
            bpy.data.cameras.remove(data)
        self._camera = None
