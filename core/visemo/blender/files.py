"""Write .blend / FBX / glTF (GLB) files atomically, and read shape-key curves back.

The exporter options are the ones that keep shape-key animation intact in
Blender 4.5 (see FIELD_NOTES.md): FBX needs a baked animation over the scene
range without NLA/all-actions modes and without key simplification; glTF needs
``ACTIONS`` mode with morph targets (morph normals off: flat-shaded meshes
would triple the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import bpy
import numpy as np

from ..errors import FormatError
from ..export.atomic import atomic_path
from .scene import fps_pair

__all__ = ["write_blend", "write_fbx", "write_glb", "read_shape_key_curves", "FBX_OPTIONS", "GLB_OPTIONS"]

FBX_OPTIONS = dict(
    use_selection=True,
    bake_anim=True,
    bake_anim_use_nla_strips=False,
    bake_anim_use_all_actions=False,
    bake_anim_use_all_bones=True,
    bake_anim_force_startend_keying=True,
    bake_anim_step=1.0,
    bake_anim_simplify_factor=0.0,
    use_mesh_modifiers=False,
    add_leaf_bones=False,
    axis_forward="-Z",
    axis_up="Y",
)

GLB_OPTIONS = dict(
    export_format="GLB",
    use_selection=True,
    export_apply=False,
    export_animations=True,
    export_animation_mode="ACTIONS",
    export_frame_range=True,
    export_force_sampling=True,
    export_frame_step=1,
    export_anim_slide_to_zero=False,
    export_optimize_animation_size=False,
    export_morph=True,
    export_morph_normal=False,
    export_morph_animation=True,
    export_try_sparse_sk=True,
    export_yup=True,
)


def write_blend(path) -> Path:
    """Save the open Blender file as ``path`` (a copy: the session keeps its own path)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        # atomic_path made an empty placeholder; saving over an existing file would
        # leave a ".blend1" backup of it beside the target.
        tmp.unlink()
        result = bpy.ops.wm.save_as_mainfile(
            filepath=str(tmp), copy=True, check_existing=False, relative_remap=True
        )
        _check_result(result, tmp, "save the .blend file")
    return path


class _Selection:
    """Select exactly ``objects`` (and make the first active) for an exporter; restore after."""

    def __init__(self, objects: Sequence):
        self.objects = list(objects)

    def __enter__(self):
        vl = bpy.context.view_layer
        self.view_layer = vl
        self.prev_active = vl.objects.active
        self.prev_selected = [o for o in vl.objects if o.select_get()]
        for o in self.prev_selected:
            o.select_set(False)
        for o in self.objects:
            if o.name not in vl.objects:
                raise FormatError(f"object '{o.name}' is not in the view layer; it cannot be exported")
            o.select_set(True)
        vl.objects.active = self.objects[0]
        return self

    def __exit__(self, *exc):
        vl = self.view_layer
        for o in vl.objects:
            o.select_set(False)
        for o in self.prev_selected:
            try:
                o.select_set(True)
            except ReferenceError:
                pass
        vl.objects.active = self.prev_active
        return False


def _check_result(result, tmp: Path, what: str) -> None:
    if "FINISHED" not in result or not tmp.is_file() or tmp.stat().st_size == 0:
        raise RuntimeError(f"Blender could not {what} ({result})")


def _objects(objects: Iterable) -> list:
    objs = [o for o in objects if o is not None]
    if not objs:
        raise FormatError("nothing to export: no objects given")
    return objs


def _export(path, objects, operator, options: dict, what: str) -> Path:
    """Run a Blender exporter on ``objects`` into ``path`` atomically."""
    path = Path(path)
    objs = _objects(objects)
    with atomic_path(path) as tmp, _Selection(objs):
        _check_result(operator(filepath=str(tmp), **options), tmp, what)
    return path


def write_fbx(path, objects) -> Path:
    """Export ``objects`` with their shape-key animation over the scene range to FBX."""
    return _export(path, objects, bpy.ops.export_scene.fbx, FBX_OPTIONS, "export FBX")


def write_glb(path, objects) -> Path:
    """Export ``objects`` with their morph-target animation over the scene range to GLB."""
    return _export(path, objects, bpy.ops.export_scene.gltf, GLB_OPTIONS, "export glTF")


def _shape_key_action_range(key) -> tuple[int, int] | None:
    from .keyframes import channel_fcurves

    lo, hi = np.inf, -np.inf
    for fc in channel_fcurves(key).values():
        a, b = fc.range()
        lo, hi = min(lo, a), max(hi, b)
    if not np.isfinite(lo):
        return None
    return int(np.floor(lo + 1e-6)), int(np.ceil(hi - 1e-6))


def read_shape_key_curves(path, fps: float, frame_range: tuple[int, int] | None = None):
    """Import an .fbx or .glb into a fresh empty session and sample its shape keys.

    Returns ``(names, values)``: the shape key names (Basis excluded) of the
    first mesh with shape keys (by object name) and float32 [T, K] values at
    every whole frame of ``frame_range`` (inclusive; default: the span of the
    keys).  The scene frame rate is set to ``fps`` before importing (the glTF
    importer converts times with it); FBX is imported with ``anim_offset=0``
    so keys stay on their frames.  Values are read from the key blocks after
    ``frame_set`` — what Blender actually shows.  Replaces the open file.
    """
    from .scene import new_empty_scene

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"file not found: {path}")
    scene = new_empty_scene()
    scene.render.fps, scene.render.fps_base = fps_pair(float(fps))
    suffix = path.suffix.lower()
    if suffix == ".fbx":
        bpy.ops.import_scene.fbx(filepath=str(path), use_anim=True, anim_offset=0.0)
    elif suffix in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=str(path))
    else:
        raise FormatError(f"cannot read shape-key curves from {path.name!r}; use .fbx or .glb")
    meshes = sorted(
        (o for o in scene.objects if o.type == "MESH" and o.data.shape_keys is not None),
        key=lambda o: o.name,
    )
    if not meshes:
        raise FormatError(f"{path.name} has no mesh with shape keys")
    key = meshes[0].data.shape_keys
    blocks = [kb for kb in key.key_blocks if kb != key.reference_key]
    names = [kb.name for kb in blocks]
    if frame_range is None:
        frame_range = _shape_key_action_range(key) or (scene.frame_start, scene.frame_end)
    first, last = int(frame_range[0]), int(frame_range[1])
    values = np.zeros((max(0, last - first + 1), len(blocks)), np.float32)
    for row, frame in enumerate(range(first, last + 1)):
        scene.frame_set(frame)
        values[row] = [kb.value for kb in blocks]
    return names, values
