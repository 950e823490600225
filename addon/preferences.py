"""Add-on preferences: threads, frame rate handling, where the models live."""

import bpy


def addon_preferences(context=None):
    """This add-on's preferences, or None when it runs unregistered (tests loading the module)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None


class VISEMO_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    threads: bpy.props.IntProperty(
        name="Threads", default=0, min=0, max=64,
        description="CPU threads for speech recognition (Whisper); 0 = automatic (up to 4). Phoneme "
                    "alignment and the emotion models are single-threaded (fastest for them)",
    )
    fps_mode: bpy.props.EnumProperty(
        name="Frame Rate",
        items=(
            ("SCENE", "Follow the Scene", "Generate at the scene's frame rate: one key per scene frame"),
            ("FIXED", "Fixed", "Generate at a fixed rate; keys land between scene frames when the rates differ"),
        ),
        default="SCENE",
    )
    fps: bpy.props.FloatProperty(
        name="Fixed Rate", default=30.0, min=1.0, max=240.0, description="Frames per second when Fixed",
    )
    models_dir: bpy.props.StringProperty(
        name="Models Folder", subtype="DIR_PATH", default="",
        description="Folder holding visemo's model folders (<name>/model.json); empty = the models "
                    "bundled with the extension",
    )

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "threads")
        layout.prop(self, "fps_mode")
        row = layout.row()
        row.enabled = self.fps_mode == "FIXED"
        row.prop(self, "fps")
        layout.prop(self, "models_dir")
        if not self.models_dir:
            try:
                from visemo.paths import bundled_models_dir

                layout.label(text=f"Bundled: {bundled_models_dir()}", icon="INFO")
            except ImportError:
                layout.label(text="The visemo library is not installed", icon="ERROR")


def generation_fps(scene, prefs) -> float:
    """Frames per second to generate at: the scene's, or the fixed rate from the preferences."""
    if prefs is not None and prefs.fps_mode == "FIXED":
        return float(prefs.fps)
    return scene.render.fps / scene.render.fps_base


def apply_preferences(prefs) -> None:
    """Hand the thread count and models folder to visemo's core (raises VisemoError on a bad folder)."""
    from visemo.config import set_threads
    from visemo.paths import set_models_dir

    if prefs is None:
        set_threads(None)
        set_models_dir(None)
        return
    set_threads(prefs.threads or None)
    set_models_dir(bpy.path.abspath(prefs.models_dir) if prefs.models_dir else None)
