"""The sidebar (3D Viewport > N > visemo), its lists, and the status-bar progress."""

import functools
import importlib.util

import bpy

from . import generate, mapping, video


@functools.lru_cache(maxsize=1)
def photo_unsupported() -> bool:
    """Whether mediapipe (face landmarks for photo prompts) is missing; looked up once, not imported."""
    return importlib.util.find_spec("mediapipe") is None


@functools.lru_cache(maxsize=1)
def video_unsupported() -> bool:
    """Whether PyAV (``av``, the mp4 writer of the Video steps) is missing; looked up once, not imported."""
    return importlib.util.find_spec("av") is None


class VISEMO_UL_emotion_keys(bpy.types.UIList):
    """Emotion timeline rows: frame, emotion, intensity."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        row = layout.row(align=True)
        row.prop(item, "frame", text="", emboss=False)
        row.prop(item, "prompt", text="", emboss=False, icon="KEYFRAME")
        row.prop(item, "intensity", text="", slider=True)


class VISEMO_UL_channels(bpy.types.UIList):
    """Mapping rows: ARKit channel, shape key(s), gain; filtered by the search field."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        names = set(mapping.shape_key_names(data.id_data) or ())
        keys = [k.strip() for k in item.keys.split(",") if k.strip()]
        ok = bool(keys) and all(k in names for k in keys)
        split = layout.split(factor=0.42, align=True)
        split.label(text=item.arkit, icon="CHECKMARK" if ok else ("ERROR" if keys else "BLANK1"))
        row = split.row(align=True)
        row.alert = bool(keys) and not ok
        row.prop(item, "keys", text="")
        row.prop(item, "gain", text="")

    def filter_items(self, context, data, propname):
        rows = getattr(data, propname)
        needle = data.search.strip().lower()
        flags = []
        for row in rows:
            show = not needle or needle in row.arkit.lower() or needle in row.keys.lower()
            if data.only_unmapped and row.keys.strip():
                show = False
            flags.append(self.bitflag_filter_item if show else 0)
        return flags, []


def _prop_with_placeholder(layout, data, name, placeholder):
    try:  # placeholder text needs Blender 4.3+
        layout.prop(data, name, text="", placeholder=placeholder)
    except TypeError:
        layout.prop(data, name)


def _target(context):
    return generate.target_object(context, context.scene.visemo)


class VISEMO_PT_main(bpy.types.Panel):
    bl_label = "visemo"
    bl_idname = "VISEMO_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "visemo"

    def draw(self, context):
        layout = self.layout
        s = context.scene.visemo
        job = context.window_manager.visemo_job

        col = layout.column()
        col.prop(s, "target", icon="OUTLINER_OB_MESH")
        obj = _target(context)
        if obj is None:
            col.label(text="Select a mesh with shape keys", icon="INFO")
        else:
            if s.target is None:
                col.label(text=f"Active object: {obj.name}", icon="OBJECT_DATA")
            m, _err = mapping.resolve(obj)
            col.label(text=mapping.status_line(obj), icon="SHAPEKEY_DATA" if m and m.count else "ERROR")

        box = layout.box()
        box.row().prop(s, "speech_source", expand=True)
        if s.speech_source == "FILE":
            box.prop(s, "speech_path", text="")
        else:
            ed = context.scene.sequence_editor
            if ed is not None:
                box.prop_search(s, "sound_strip", ed, "strips_all", text="", icon="SOUND")
            else:
                box.label(text="The sequencer has no strips", icon="INFO")
        row = box.row(align=True)
        _prop_with_placeholder(row, s, "transcript", "Transcript (optional)")
        if s.transcript.strip():
            row.prop(s, "transcript_language", text="")

        col = layout.column(align=True)
        col.row(align=True).prop(s, "emotion_source", expand=True)
        if s.emotion_source == "TEXT":
            col.prop(s, "emotion")
        elif s.emotion_source == "PHOTO":
            col.prop(s, "emotion_image", text="")
            if photo_unsupported():
                col.label(text="Photo prompts need the -video build (mediapipe)", icon="ERROR")
        else:
            col.label(text="From the words and the voice", icon="INFO")
        col.prop(s, "intensity", slider=True)

        row = layout.row(align=True)
        row.prop(s, "blinks", toggle=True, icon="HIDE_OFF")
        row.prop(s, "eye_motion", toggle=True, icon="VIS_SEL_11")
        layout.prop(s, "seed")

        if job.running:
            layout.progress(factor=job.progress, type="BAR",
                            text=f"{job.stage} {job.progress * 100:.0f}%  (Esc cancels)")
        row = layout.row(align=True)
        row.scale_y = 1.4
        row.operator("visemo.generate", icon="PLAY_SOUND")
        row.operator("visemo.clear", icon="X", text="Clear")
        row = layout.row(align=True)
        row.operator("visemo.export", text="Export FBX", icon="EXPORT").format = "FBX"
        row.operator("visemo.export", text="Export glTF", icon="EXPORT").format = "GLB"


class VISEMO_PT_timeline(bpy.types.Panel):
    bl_label = "Emotion Timeline"
    bl_idname = "VISEMO_PT_timeline"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "visemo"
    bl_parent_id = "VISEMO_PT_main"

    def draw_header(self, context):
        self.layout.prop(context.scene.visemo, "use_timeline", text="")

    def draw(self, context):
        layout = self.layout
        s = context.scene.visemo
        layout.active = s.use_timeline and s.emotion_source != "AUTO"
        row = layout.row()
        row.template_list("VISEMO_UL_emotion_keys", "", s, "emotion_keys", s, "emotion_key_index", rows=3)
        col = row.column(align=True)
        col.operator("visemo.emotion_key_add", icon="ADD", text="")
        col.operator("visemo.emotion_key_remove", icon="REMOVE", text="")
        col.separator()
        col.operator("visemo.emotion_key_move", icon="TRIA_UP", text="").direction = "UP"
        col.operator("visemo.emotion_key_move", icon="TRIA_DOWN", text="").direction = "DOWN"
        layout.prop(s, "transition")
        if s.emotion_source == "AUTO":
            layout.label(text="Auto replaces these keys with its own", icon="INFO")
        elif not len(s.emotion_keys):
            first = "the photo's expression" if s.emotion_source == "PHOTO" else f"'{s.emotion or 'neutral'}'"
            layout.label(text=f"{first} holds for the whole clip", icon="INFO")


class VISEMO_PT_mapping(bpy.types.Panel):
    bl_label = "Shape Key Mapping"
    bl_idname = "VISEMO_PT_mapping"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "visemo"
    bl_parent_id = "VISEMO_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        obj = _target(context)
        if mapping.shape_key_names(obj) is None:
            layout.label(text="The target has no shape keys", icon="INFO")
            return
        if not mapping.available():
            layout.label(text="The visemo library is not installed", icon="ERROR")
            return
        rig = obj.visemo_rig
        row = layout.row(align=True)
        row.prop(rig, "preset", text="")
        row.operator("visemo.mapping_apply_preset", text="Apply")
        row.operator("visemo.mapping_reset", text="", icon="LOOP_BACK")

        m, err = mapping.resolve(obj)
        if err:
            layout.label(text=err, icon="ERROR")
        if not len(rig.channels):
            layout.label(text="Automatic" if not mapping.stored(obj) else "Stored on the object",
                         icon="SHAPEKEY_DATA")
            layout.operator("visemo.mapping_edit", icon="GREASEPENCIL")
        else:
            row = layout.row(align=True)
            row.prop(rig, "search", text="", icon="VIEWZOOM")
            row.prop(rig, "only_unmapped", text="", icon="ERROR")
            layout.template_list("VISEMO_UL_channels", "", rig, "channels", rig, "channel_index", rows=8)

        unmapped, missing = mapping.unmapped_report(obj)
        box = layout.box()
        box.label(text=f"Unmapped: {len(unmapped)} of {mapping.TOTAL}", icon="ERROR" if unmapped else "CHECKMARK")
        if unmapped:
            col = box.column(align=True)
            col.scale_y = 0.8
            for i in range(0, len(unmapped), 2):
                col.label(text=",  ".join(unmapped[i:i + 2]))
        if missing:
            box.label(text=f"Not on the mesh: {', '.join(missing)}", icon="ERROR")


class VISEMO_PT_video(bpy.types.Panel):
    """Talking portrait from a photo, and the playblast of the target."""

    bl_label = "Video"
    bl_idname = "VISEMO_PT_video"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "visemo"
    bl_parent_id = "VISEMO_PT_main"

    def draw(self, context):
        layout = self.layout
        s = context.scene.visemo
        job = context.window_manager.visemo_job
        portrait_name, playblast_name = video.default_names(context)

        box = layout.box()
        box.label(text="Talking Portrait", icon="IMAGE_DATA")
        box.prop(s, "portrait_photo", text="")
        if photo_unsupported():
            box.label(text="The talking portrait needs the -video build (mediapipe)", icon="ERROR")
        row = box.row(align=True)
        row.prop(s, "portrait_whole", toggle=True)
        sub = row.row(align=True)
        sub.enabled = not s.portrait_whole
        sub.prop(s, "portrait_size")
        _prop_with_placeholder(box, s, "portrait_path", portrait_name)
        box.prop(s, "portrait_add_strip")
        box.operator("visemo.export_portrait", icon="FILE_MOVIE")

        box = layout.box()
        box.label(text="Playblast", icon="RENDER_ANIMATION")
        _prop_with_placeholder(box, s, "playblast_path", playblast_name)
        box.operator("visemo.playblast", icon="RENDER_ANIMATION")

        if video_unsupported():
            layout.label(text="Writing mp4 needs PyAV (av), not in this build", icon="ERROR")
        if job.running:
            layout.progress(factor=job.progress, type="BAR",
                            text=f"{job.stage} {job.progress * 100:.0f}%  (Esc cancels)")


def draw_status_progress(self, context):
    """Status-bar progress of a running Generate, portrait or playblast (appended to STATUSBAR_HT_header)."""
    job = context.window_manager.visemo_job
    if job.running:
        row = self.layout.row()
        row.progress(factor=job.progress, type="BAR", text=f"visemo: {job.stage} (Esc cancels)")


CLASSES = (
    VISEMO_UL_emotion_keys,
    VISEMO_UL_channels,
    VISEMO_PT_main,
    VISEMO_PT_timeline,
    VISEMO_PT_mapping,
    VISEMO_PT_video,
)
