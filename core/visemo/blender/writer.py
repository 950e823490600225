"""Write an :class:`~visemo.Animation` as a .blend, .fbx or .glb file.

This drives the whole Blender session: it resets it to an empty file (or opens
the ``character`` .blend), so it is meant for the CLI and batch use, not for
code running inside an interactive Blender session.
"""

from __future__ import annotations

from pathlib import Path

import bpy

from .. import arkit
from ..errors import AudioError, FormatError, ModelError, RigError
from . import files
from .head import build_head_object
from .keyframes import key_animation
from .rig import export_objects, find_target_object, shape_key_map
from .scene import add_sound_strip, new_empty_scene, prepare_scene

__all__ = ["write_animation_file", "build_keyed_scene", "open_character", "BLENDER_SUFFIXES"]

BLENDER_SUFFIXES = (".blend", ".fbx", ".glb")


def _head_arrays(head):
    """``(vertices, face_sizes, face_indices, deltas, names)`` from ``head``.

    ``head`` is None (the shipped face model), a callable returning a
    face-model-like object, such an object (attributes ``vertices``,
    ``face_sizes``, ``face_indices``, ``deltas`` and optionally ``names``, the
    delta order, default ARKit order) or the 5-tuple itself.
    """
    if head is None:
        try:
            from ..face.model import load_face_model
        except ImportError as e:
            raise ModelError(
                f"the default visemo head is not available ({e}); pass character=PATH to a .blend"
            ) from None
        head = load_face_model
    if callable(head):
        head = head()
    if isinstance(head, tuple):
        if len(head) != 5:
            raise ValueError("head tuple must be (vertices, face_sizes, face_indices, deltas, names)")
        return head
    names = getattr(head, "names", None) or arkit.NAMES
    return head.vertices, head.face_sizes, head.face_indices, head.deltas, tuple(names)


def open_character(character, object_name=None, mapping=None):
    """Open the ``character`` .blend and return the mesh object to key.

    ``object_name``, or the active mesh, or the first mesh with shape keys.
    Raises RigError if the file or object is missing or no channel maps onto
    its shape keys (``mapping``: see :func:`~visemo.blender.rig.shape_key_map`)
    — call it before long work to fail early.
    """
    character = Path(character)
    if character.suffix.lower() != ".blend" or not character.is_file():
        raise RigError(f"character must be an existing .blend file, got {character}")
    bpy.ops.wm.open_mainfile(filepath=str(character), load_ui=False)
    obj = find_target_object(object_name)
    shape_key_map(obj, mapping)
    return obj


def build_keyed_scene(anim, *, character=None, object_name=None, start_frame: int = 1,
                      head=None, mapping=None):
    """Set up the session with ``anim`` keyed on a head or character; return ``(scene, obj)``.

    Without ``character``: a fresh empty scene with the visemo head (``head``,
    see :func:`_head_arrays`), named ``visemo_head``, active and selected.
    With ``character`` (a .blend): that file is opened and ``object_name`` — or
    the active mesh, or the first mesh with shape keys — is the target (see
    :func:`open_character`).  The scene gets the animation's fps and the range
    ``start_frame .. start_frame + frames - 1``, and ``obj``'s shape keys are
    keyed (:func:`~visemo.blender.keyframes.key_animation`, ``mapping`` as there).
    No sound strip, nothing written.  Raises RigError before changing the
    session when ``object_name`` is given without a character.
    """
    start_frame = int(start_frame)
    if character is not None:
        obj = open_character(character, object_name, mapping)
        scene = bpy.context.scene
    else:
        if object_name is not None:
            raise RigError("object_name needs a character .blend to pick the object from")
        arrays = _head_arrays(head)
        scene = new_empty_scene()
        obj = build_head_object(*arrays, name="visemo_head")
        bpy.context.view_layer.objects.active = obj
        obj.select_set(True)

    prepare_scene(scene, anim.fps, start_frame, anim.frames)
    key_animation(obj, anim, start_frame=start_frame, scene=scene, mapping=mapping)
    return scene, obj


def write_animation_file(anim, path, *, speech_path=None, character=None, object_name=None,
                         start_frame: int = 1, head=None, mapping=None) -> Path:
    """Write ``anim`` to ``path`` (.blend, .fbx or .glb), atomically.

    Without ``character`` a fresh scene gets the visemo head (``head``, see
    :func:`_head_arrays`; default: :func:`visemo.face.model.load_face_model`).
    With ``character`` (a .blend) that file is opened and ``object_name`` — or
    the active mesh, or the first mesh with shape keys — is keyed; FBX/GLB then
    export that object's whole hierarchy.  The scene is set to the animation's
    fps with the range ``start_frame .. start_frame + frames - 1``; the speech
    file, if given, becomes a sound strip at ``start_frame``.  ``mapping``
    (default: the object's stored mapping, else auto-detection) picks the
    shape key and gain of each channel, see :func:`~visemo.blender.rig.shape_key_map`.

    Raises FormatError (unknown suffix), RigError (target without ARKit shape
    keys), AudioError (speech file missing) before anything is written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BLENDER_SUFFIXES:
        raise FormatError(
            f"cannot write {path.name!r} from Blender; use one of {', '.join(BLENDER_SUFFIXES)}"
        )
    if speech_path is not None and not Path(speech_path).is_file():
        raise AudioError(f"speech file not found: {speech_path}")
    start_frame = int(start_frame)

    scene, obj = build_keyed_scene(anim, character=character, object_name=object_name,
                                   start_frame=start_frame, head=head, mapping=mapping)
    if speech_path is not None:
        add_sound_strip(scene, speech_path, start_frame)

    if suffix == ".blend":
        return files.write_blend(path)
    objects = export_objects(obj)
    if suffix == ".fbx":
        return files.write_fbx(path, objects)
    return files.write_glb(path, objects)
