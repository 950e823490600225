"""Find the target object and map ARKit channels to its shape keys.

:func:`shape_key_map` is the single place that decides which shape key
receives which ARKit channel; for now it matches the exact ARKit names.
"""

from __future__ import annotations

import bpy

from .. import arkit
from ..errors import RigError

__all__ = ["shape_key_map", "find_target_object", "export_objects"]

_HINT = "add ARKit-named shape keys (eyeBlinkLeft ... tongueOut) or pick the visemo head"


def shape_key_map(obj) -> dict[str, str]:
    """``{arkit_name: key_block_name}`` for every ARKit channel ``obj`` can take.

    Only channels with a matching shape key are in the dict (in ARKit order).
    Raises :class:`~visemo.RigError` when ``obj`` is missing, is not a mesh,
    has no shape keys, or none of its shape keys is an ARKit channel.
    """
    if obj is None:
        raise RigError(f"no object to animate; select a mesh with shape keys ({_HINT})")
    label = getattr(obj, "name", str(obj))
    if getattr(obj, "type", None) != "MESH":
        raise RigError(
            f"object '{label}' is not a mesh ({getattr(obj, 'type', type(obj).__name__)}); "
            f"select a mesh with shape keys ({_HINT})"
        )
    key = obj.data.shape_keys
    if key is None or len(key.key_blocks) <= 1:
        raise RigError(f"object '{label}' has no shape keys; {_HINT}")
    reference = key.reference_key.name if key.reference_key is not None else None
    blocks = {kb.name for kb in key.key_blocks if kb.name != reference}
    mapping = {name: name for name in arkit.NAMES if name in blocks}
    if not mapping:
        sample = ", ".join(sorted(blocks)[:5])
        raise RigError(
            f"object '{label}' has {len(blocks)} shape keys ({sample}{', ...' if len(blocks) > 5 else ''}) "
            f"but none is named like an ARKit blendshape; {_HINT}"
        )
    return mapping


def _has_shape_keys(obj) -> bool:
    return obj.type == "MESH" and obj.data.shape_keys is not None and len(obj.data.shape_keys.key_blocks) > 1


def find_target_object(object_name: str | None = None, context=None):
    """The object to animate in the open file.

    ``object_name`` if given (RigError when no such object); otherwise the
    active object if it is a mesh; otherwise the first mesh (by name) in the
    scene that has shape keys; otherwise RigError.  The result is not checked
    for ARKit names: call :func:`shape_key_map` on it.
    """
    context = context or bpy.context
    if object_name:
        obj = bpy.data.objects.get(object_name)
        if obj is None:
            meshes = sorted(o.name for o in bpy.data.objects if o.type == "MESH")
            raise RigError(
                f"no object named '{object_name}' in this file; meshes here: {', '.join(meshes) or 'none'}"
            )
        return obj
    view_layer = getattr(context, "view_layer", None)
    active = view_layer.objects.active if view_layer is not None else None
    if active is not None and active.type == "MESH":
        return active
    scene = context.scene
    for obj in sorted(scene.objects, key=lambda o: o.name):
        if _has_shape_keys(obj):
            return obj
    raise RigError(f"no mesh with shape keys in scene '{scene.name}'; {_HINT}")


def export_objects(obj) -> list:
    """The hierarchy ``obj`` belongs to (its top ancestor and all descendants).

    That is what FBX/glTF export writes for a character: the face mesh, its
    armature and the other meshes parented alongside.
    """
    top = obj
    while top.parent is not None:
        top = top.parent
    return [top, *top.children_recursive]
