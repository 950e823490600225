"""Find the target object and map ARKit channels to its shape keys.

:func:`shape_key_map` is the single place that decides which shape key
receives which ARKit channel (and with which gain).  The matching itself is
pure Python in :mod:`visemo.rigmap`; this module reads the mesh's key names
and the mapping stored on the object (``obj["visemo_mapping"]``, a JSON
string, see :func:`store_mapping`).
"""

from __future__ import annotations

import json

import bpy

from .. import rigmap
from ..errors import RigError

__all__ = [
    "shape_key_map", "shape_key_names", "stored_mapping", "store_mapping", "clear_mapping",
    "find_target_object", "export_objects", "MAPPING_PROPERTY",
]

MAPPING_PROPERTY = rigmap.PROPERTY
_HINT = "add ARKit-named shape keys (eyeBlinkLeft ... tongueOut) or pick the visemo head"


def _label(obj) -> str:
    return getattr(obj, "name", str(obj))


def shape_key_names(obj) -> list[str]:
    """The shape key names of mesh ``obj`` without its Basis (reference) key, in order.

    Raises :class:`~visemo.RigError` when ``obj`` is missing, not a mesh, or
    has no shape keys besides the Basis.
    """
    if obj is None:
        raise RigError(f"no object to animate; select a mesh with shape keys ({_HINT})")
    label = _label(obj)
    if getattr(obj, "type", None) != "MESH":
        raise RigError(
            f"object '{label}' is not a mesh ({getattr(obj, 'type', type(obj).__name__)}); "
            f"select a mesh with shape keys ({_HINT})"
        )
    key = obj.data.shape_keys
    if key is None or len(key.key_blocks) <= 1:
        raise RigError(f"object '{label}' has no shape keys; {_HINT}")
    reference = key.reference_key.name if key.reference_key is not None else None
    return [kb.name for kb in key.key_blocks if kb.name != reference]


def stored_mapping(obj) -> dict | None:
    """The mapping stored on ``obj`` (its ``"visemo_mapping"`` property) as a dict, or None.

    The property holds :meth:`visemo.rigmap.Mapping.to_dict`'s form as a JSON
    string (a dict-like ID property is read too).  Raises RigError when it is
    there but unreadable.
    """
    if obj is None or not hasattr(obj, "get"):
        return None
    value = obj.get(MAPPING_PROPERTY)
    if value is None or value == "":
        return None
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise RigError(
                f"object '{_label(obj)}' has a '{MAPPING_PROPERTY}' property that is not valid JSON ({e}); "
                "fix or delete it"
            ) from None
    if not isinstance(value, dict):
        raise RigError(
            f"object '{_label(obj)}' has a '{MAPPING_PROPERTY}' property that is not a mapping "
            f"(a JSON object); fix or delete it"
        )
    return value


def store_mapping(obj, mapping) -> None:
    """Store ``mapping`` (a :class:`~visemo.rigmap.Mapping` or its dict form) on ``obj``.

    Written as a JSON string in ``obj["visemo_mapping"]``, so it is saved in
    the .blend and used by default from then on.  The dict is checked first
    (RigError if malformed).
    """
    if isinstance(mapping, rigmap.Mapping):
        data = mapping.to_dict()
    elif isinstance(mapping, dict):
        if mapping.get("channels") is not None:
            rigmap.Mapping.from_dict(mapping)  # validate
        data = mapping
    else:
        raise RigError(f"a rig mapping must be a Mapping or a dict, got {type(mapping).__name__}")
    obj[MAPPING_PROPERTY] = json.dumps(data)


def clear_mapping(obj) -> None:
    """Forget the mapping stored on ``obj`` (auto-detection is used again)."""
    if MAPPING_PROPERTY in obj.keys():
        del obj[MAPPING_PROPERTY]


def shape_key_map(obj, mapping=None) -> rigmap.Mapping:
    """The :class:`~visemo.rigmap.Mapping` of ARKit channels onto ``obj``'s shape keys.

    ``mapping``: None (default) uses the mapping stored on the object if there
    is one, else auto-detection (:func:`visemo.rigmap.build_mapping` with
    ``"auto"``); otherwise a preset name, a Mapping, its dict form or JSON
    (see :func:`visemo.rigmap.resolve`), which wins over the stored one.
    Raises :class:`~visemo.RigError` when ``obj`` is missing, is not a mesh,
    has no shape keys, or no channel maps onto its keys (the message names
    the closest preset and suggests a mapping).
    """
    names = shape_key_names(obj)
    spec = mapping if mapping is not None else stored_mapping(obj)
    result = rigmap.resolve(names, spec)
    if result.count == 0:
        sample = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        if spec is None:
            what = "none is named like an ARKit blendshape"
        else:
            what = f"the {'stored' if mapping is None else 'given'} mapping maps none of them"
            if result.missing:
                what += f" (it names keys the mesh lacks: {', '.join(result.missing[:5])})"
        raise RigError(
            f"object '{_label(obj)}' has {len(names)} shape keys ({sample}) but {what}; "
            f"{rigmap.explain_no_match(names)}"
        )
    return result


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
