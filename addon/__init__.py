"""visemo Blender extension: speech + emotion → ARKit shape-key animation.

Sidebar (N) → *visemo*: pick a speech file, type an emotion, set the
intensity, press *Generate*: the active mesh's ARKit-named shape keys are
keyframed and the speech goes into the sequencer at the scene's start frame.

The work is done by the ``visemo`` core library (imported when the operator
runs, not at registration, so enabling the add-on stays fast).
"""

import bpy

from . import operators, panels, properties

CLASSES = (
    properties.VISEMO_PG_settings,
    operators.VISEMO_OT_generate,
    panels.VISEMO_PT_main,
)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.visemo = bpy.props.PointerProperty(type=properties.VISEMO_PG_settings)


def unregister():
    if hasattr(bpy.types.Scene, "visemo"):
        del bpy.types.Scene.visemo
    for cls in reversed(CLASSES):
        if getattr(cls, "is_registered", False):
            bpy.utils.unregister_class(cls)
