"""visemo Blender extension: speech + emotion → ARKit shape-key animation.

3D Viewport > Sidebar (N) > *visemo*: pick the target mesh, a speech file or
sound strip, an emotion (and optionally an emotion timeline), press
*Generate*.  Inference runs in a background thread (Esc cancels); the result
is a new action on the target's shape keys, named after the speech, with the
speech in the sequencer.  The *Video* sub-panel makes a talking-portrait mp4
from a photo and a Workbench playblast of the target (:mod:`.video`).
*Add > Mesh > visemo Head* adds the bundled ARKit head, mapped and ready to
key, at the 3D cursor (:mod:`.head`).

The work is done by the ``visemo`` core library, which ships in the
extension as a wheel (see ``scripts/build_extension.py``) and is imported
when an operator runs, so enabling the add-on stays fast.
"""

import bpy

from . import head, operators, panels, preferences, properties, video

CLASSES = (
    preferences.VISEMO_AddonPreferences,
    *properties.CLASSES,
    *operators.CLASSES,
    *video.CLASSES,
    *head.CLASSES,
    *panels.CLASSES,
)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register_properties()
    bpy.types.STATUSBAR_HT_header.append(panels.draw_status_progress)
    bpy.types.VIEW3D_MT_mesh_add.append(head.menu_entry)


def unregister():
    for menu, draw in ((bpy.types.VIEW3D_MT_mesh_add, head.menu_entry),
                       (bpy.types.STATUSBAR_HT_header, panels.draw_status_progress)):
        try:
            menu.remove(draw)
        except ValueError:
            pass
    properties.unregister_properties()
    for cls in reversed(CLASSES):
        if getattr(cls, "is_registered", False):
            bpy.utils.unregister_class(cls)
