"""The sidebar panel (3D viewport → N → visemo)."""

import bpy


class VISEMO_PT_main(bpy.types.Panel):
    bl_label = "visemo"
    bl_idname = "VISEMO_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "visemo"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.visemo
        layout.prop(settings, "speech_path")
        layout.prop(settings, "transcript")
        layout.prop(settings, "emotion")
        layout.prop(settings, "intensity", slider=True)
        obj = context.active_object
        layout.label(text=f"Target: {obj.name}" if obj else "Select a mesh with shape keys",
                     icon="SHAPEKEY_DATA")
        op = layout.operator("visemo.generate", icon="PLAY_SOUND")
        op.speech_path = settings.speech_path
        op.emotion = settings.emotion
        op.intensity = settings.intensity
        op.transcript = settings.transcript
