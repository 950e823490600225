"""visemo Blender extension: speech + emotion → ARKit shape-key animation.

3D Viewport > Sidebar (N) > *visemo*: pick the target mesh, a speech file or
sound strip, an emotion (and optionally an emotion timeline), press
*Generate*.  Inference runs in a background thread (Esc cancels); the result
is a new action on the target's shape keys, named after the speech, with the
speech in the sequencer.  The *Video* sub-panel makes a talking-portrait mp4
from a photo and a Workbench playblast of the target (:mod:`.video`).

The work is done by the ``visemo`` core library, which ships in the
extension as a wheel (see ``scripts/build_extension.py``) and is imported
when an operator runs, so enabling the add-on stays fast.
"""

import bpy

from . import operators, panels, preferences, properties, video

CLASSES = (
    preferences.VISEMO_AddonPreferences,
    *properties.CLASSES,
    *operators.CLASSES,
    *video.CLASSES,
    *panels.CLASSES,
)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register_properties()
    bpy.types.STATUSBAR_HT_header.append(panels.draw_status_progress)


def unregister():
    try:
        bpy.types.STATUSBAR_HT_header.remove(panels.draw_status_progress)
    except ValueError:
        pass
    properties.unregister_properties()
    for cls in reversed(CLASSES):
        if getattr(cls, "is_registered", False):
            bpy.utils.unregister_class(cls)
