"""visemo's Blender layer: the only part of the core that imports ``bpy``.

Use it from Blender (the add-on, ``blender -b -P addon/blender_animate.py`` → :mod:`.batch`)
or from Python with the ``bpy`` module installed (``pip install "bpy==4.5.*"``).

- :func:`build_head_object` — mesh + ARKit shape keys from face-model arrays
- :func:`add_bundled_head` — the bundled head, mapped and painted, added to the scene
- :func:`shape_key_map` — which shape key takes which ARKit channel
- :func:`key_animation` — bulk keyframing into a slotted action
- :func:`prepare_scene`, :func:`add_sound_strip`, :func:`new_empty_scene`
- :func:`write_blend`, :func:`write_fbx`, :func:`write_glb`, :func:`read_shape_key_curves`
- :func:`write_animation_file` — Animation → .blend/.fbx/.glb in one call
"""

import bpy  # noqa: F401  (fails fast, with a clear ImportError, outside Blender)

from .bundled_head import add_bundled_head
from .files import read_shape_key_curves, write_blend, write_fbx, write_glb
from .head import build_head_object
from .keyframes import key_animation, key_animation_keyframe_insert
from .rig import export_objects, find_target_object, shape_key_map
from .scene import add_sound_strip, new_empty_scene, prepare_scene
from .writer import write_animation_file

__all__ = [
    "build_head_object", "add_bundled_head", "shape_key_map", "find_target_object", "export_objects",
    "key_animation", "key_animation_keyframe_insert", "prepare_scene", "add_sound_strip",
    "new_empty_scene", "write_blend", "write_fbx", "write_glb", "read_shape_key_curves",
    "write_animation_file",
]
