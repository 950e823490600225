"""*Add > Mesh > visemo Head*: a head to try visemo on, for users without a rig of their own.

The operator adds the bundled ARKit head (:func:`visemo.blender.add_bundled_head`:
52 shape keys, the ``"arkit"`` mapping stored on the object, vertex
colours) at the 3D cursor, selects it, makes it active and points the
panel's *Target* at it, so *Generate* keys it next.  :func:`menu_entry` is
the line appended to ``VIEW3D_MT_mesh_add`` by the add-on's ``register``.
"""

import bpy

from . import mapping
from .operators import _error_text


class VISEMO_OT_head_add(bpy.types.Operator):
    """Add visemo's ARKit head (52 shape keys, mapping applied) at the 3D cursor"""

    bl_idname = "visemo.head_add"
    bl_label = "visemo Head"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode to add the visemo head")
            return False
        return context.scene is not None

    def execute(self, context):
        try:
            from visemo.blender import add_bundled_head
            from visemo.errors import VisemoError
        except ImportError as e:
            self.report({"ERROR"}, _error_text(e))
            return {"CANCELLED"}
        try:
            obj = add_bundled_head(context.scene.cursor.location, collection=context.collection)
        except VisemoError as e:  # the bundled model is missing or damaged: say so, add nothing
            self.report({"ERROR"}, _error_text(e))
            return {"CANCELLED"}
        for other in context.selected_objects:
            other.select_set(False)
        obj.select_set(True)
        context.view_layer.objects.active = obj
        if mapping.available():
            mapping.fill_rows(obj, mapping.load(obj))
        settings = getattr(context.scene, "visemo", None)
        if settings is not None:
            settings.target = obj
        self.report({"INFO"}, f"Added '{obj.name}' ({mapping.status_line(obj)}); press Generate to key it")
        return {"FINISHED"}


def menu_entry(self, context):
    """Draw the *visemo Head* line of Add > Mesh."""
    self.layout.separator()
    self.layout.operator(VISEMO_OT_head_add.bl_idname, text="visemo Head", icon="USER")


CLASSES = (VISEMO_OT_head_add,)
