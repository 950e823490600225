"""Operators: Generate (modal), Clear, Export, the emotion timeline and the mapping table.

The video steps (Export Talking Portrait, Playblast) are in :mod:`.video`;
they share the progress helpers here (:func:`begin_progress`,
:func:`show_progress`, :func:`end_progress`) and the error reporting.
"""

import traceback

import bpy

from . import generate, mapping
from .job import Cancelled, InferenceJob
from .preferences import addon_preferences

STAGE_LABELS = {
    "waiting": "Starting", "starting": "Starting", "audio": "Reading audio",
    "phonemes": "Finding phonemes", "articulation": "Articulating", "emotion": "Adding emotion",
    "compose": "Composing", "done": "Keying", "photo": "Reading the photo", "rendering": "Rendering",
}


def _error_text(e: BaseException) -> str:
    """One line for the report: a VisemoError's own message, else the exception type + message."""
    try:
        from visemo.errors import VisemoError
    except ImportError:
        VisemoError = ()
    if isinstance(e, VisemoError):
        return str(e)
    if isinstance(e, ImportError):
        return f"the visemo library is incomplete ({e}); reinstall the extension"
    return f"visemo failed: {type(e).__name__}: {e}"


def _redraw(context) -> None:
    wm = context.window_manager
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type in ("VIEW_3D", "STATUSBAR"):
                area.tag_redraw()


def begin_progress(op, context, interval: float = 0.1) -> set:
    """Make ``op`` modal: a timer every ``interval`` s, the progress bar in the panel and status bar."""
    wm = context.window_manager
    op._timer = wm.event_timer_add(interval, window=context.window)
    wm.progress_begin(0, 100)
    state = wm.visemo_job
    state.running, state.progress, state.stage = True, 0.0, STAGE_LABELS["starting"]
    wm.modal_handler_add(op)
    _redraw(context)
    return {"RUNNING_MODAL"}


def show_progress(op, context, stage: str, fraction: float) -> None:
    """Show ``stage`` (a label) at ``fraction`` (0..1) in the panel and the status bar."""
    state = context.window_manager.visemo_job
    state.progress = fraction
    state.stage = stage
    if getattr(op, "_timer", None) is not None:
        context.window_manager.progress_update(int(fraction * 100))
    _redraw(context)


def end_progress(op, context) -> None:
    """Remove ``op``'s timer and the progress bar (safe to call twice)."""
    wm = context.window_manager
    timer = getattr(op, "_timer", None)
    if timer is not None:
        wm.event_timer_remove(timer)
        op._timer = None
        wm.progress_end()
    state = wm.visemo_job
    state.running, state.progress, state.stage = False, 0.0, ""
    if context.window is not None:
        _redraw(context)


class JobModal:
    """The modal loop of an operator whose work runs in a job thread (``self._job``).

    Each timer tick shows the job's stage (``labels``) and progress; Esc
    cancels (reporting ``cancel_message``); when the job is done,
    ``self._finish(context)`` ends the operator.
    """

    labels: dict = {}
    cancel_message = "visemo: cancelled; nothing was changed"

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self.cancel(context)
            self.report({"INFO"}, self.cancel_message)
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        job = self._job
        show_progress(self, context, self.labels.get(job.stage, job.stage), job.fraction)
        if not job.done:
            return {"PASS_THROUGH"}
        return self._finish(context)

    def cancel(self, context):
        """Esc, or Blender ending the operator: stop the worker, touch nothing."""
        job = getattr(self, "_job", None)
        if job is not None:
            job.cancel()
        end_progress(self, context)

    def _failed(self):
        """``{'CANCELLED'}`` when the job was cancelled or failed (the error reported), else None."""
        job = self._job
        if isinstance(job.error, Cancelled):
            return {"CANCELLED"}
        if job.error is not None:
            if not _is_user_error(job.error) and job.trace:
                print(job.trace)
            self.report({"ERROR"}, _error_text(job.error))
            return {"CANCELLED"}
        return None


class VISEMO_OT_generate(JobModal, bpy.types.Operator):
    """Key the target's shape keys from the speech and the emotion (Esc cancels)"""

    bl_idname = "visemo.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}
    labels = STAGE_LABELS

    # Optional overrides of the panel's settings (scripts: bpy.ops.visemo.generate(speech_path=...)).
    speech_path: bpy.props.StringProperty(name="Speech", subtype="FILE_PATH", options={"SKIP_SAVE"})
    emotion: bpy.props.StringProperty(name="Emotion", options={"SKIP_SAVE"})
    intensity: bpy.props.FloatProperty(name="Intensity", default=1.0, min=0.0, max=1.0,
                                       subtype="FACTOR", options={"SKIP_SAVE"})
    transcript: bpy.props.StringProperty(name="Transcript", options={"SKIP_SAVE"})
    object_name: bpy.props.StringProperty(name="Object", options={"SKIP_SAVE"})

    @classmethod
    def poll(cls, context):
        return not context.window_manager.visemo_job.running

    # -- inputs
    def _overrides(self) -> dict:
        return {name: getattr(self, name)
                for name in ("speech_path", "emotion", "intensity", "transcript", "object_name")
                if self.properties.is_property_set(name)}

    def _plan(self, context):
        try:
            return generate.plan(context, context.scene.visemo, addon_preferences(context),
                                 self._overrides())
        except Exception as e:
            if not _is_user_error(e):
                traceback.print_exc()
            self.report({"ERROR"}, _error_text(e))
            return None

    # -- background mode / scripts: the same steps, on this thread
    def execute(self, context):
        p = self._plan(context)
        if p is None:
            return {"CANCELLED"}
        self._plan_data = p
        self._job = InferenceJob(p.request).run_here()
        return self._finish(context)

    # -- interactive: inference in a thread, polled by a timer
    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        p = self._plan(context)
        if p is None:
            return {"CANCELLED"}
        self._plan_data = p
        self._job = InferenceJob(p.request).start()
        return begin_progress(self, context)

    def _finish(self, context):
        end_progress(self, context)
        failed = self._failed()
        if failed:
            return failed
        try:
            message = generate.apply(context, self._plan_data, self._job.result)
        except Exception as e:
            if not _is_user_error(e):
                traceback.print_exc()
            self.report({"ERROR"}, _error_text(e))
            return {"CANCELLED"}
        self.report({"INFO"}, message)
        return {"FINISHED"}


def _is_user_error(e) -> bool:
    try:
        from visemo.errors import VisemoError
    except ImportError:
        return False
    return isinstance(e, VisemoError)


class VISEMO_OT_clear(bpy.types.Operator):
    """Remove visemo's animation from the target (your own actions stay)"""

    bl_idname = "visemo.clear"
    bl_label = "Clear"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return not context.window_manager.visemo_job.running

    def execute(self, context):
        obj = generate.target_object(context, context.scene.visemo)
        if obj is None:
            self.report({"ERROR"}, "no target: pick a mesh in the visemo panel or select one")
            return {"CANCELLED"}
        self.report({"INFO"}, generate.clear(context, obj))
        return {"FINISHED"}


class VISEMO_OT_export(bpy.types.Operator):
    """Export the target (and its hierarchy) with its shape-key animation"""

    bl_idname = "visemo.export"
    bl_label = "Export"
    bl_options = {"REGISTER"}

    format: bpy.props.EnumProperty(
        name="Format", items=(("FBX", "FBX", "Autodesk FBX (Unreal, Unity, Maya)"),
                              ("GLB", "glTF", "glTF binary (.glb) with morph-target animation")),
        default="FBX",
    )
    filepath: bpy.props.StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_glob: bpy.props.StringProperty(default="*.fbx;*.glb", options={"HIDDEN"})
    check_existing: bpy.props.BoolProperty(default=True, options={"HIDDEN"})

    @classmethod
    def description(cls, context, properties):
        return f"Export the target with its shape-key animation as {'FBX' if properties.format == 'FBX' else 'glTF (.glb)'}"

    def _suffix(self) -> str:
        return ".fbx" if self.format == "FBX" else ".glb"

    def invoke(self, context, event):
        obj = generate.target_object(context, context.scene.visemo)
        stem = bpy.path.display_name_sanitize(obj.name) if obj else "visemo"
        folder = bpy.path.abspath("//") if bpy.data.filepath else ""
        self.filepath = bpy.path.ensure_ext(folder + stem, self._suffix())
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        from visemo.blender.files import write_fbx, write_glb
        from visemo.blender.rig import export_objects

        obj = generate.target_object(context, context.scene.visemo)
        if obj is None:
            self.report({"ERROR"}, "no target: pick a mesh in the visemo panel or select one")
            return {"CANCELLED"}
        if not self.filepath:
            self.report({"ERROR"}, "choose a file to export to")
            return {"CANCELLED"}
        path = bpy.path.ensure_ext(bpy.path.abspath(self.filepath), self._suffix())
        try:
            (write_fbx if self.format == "FBX" else write_glb)(path, export_objects(obj))
        except Exception as e:
            self.report({"ERROR"}, _error_text(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"visemo: wrote {path}")
        return {"FINISHED"}


# ---------------------------------------------------------------- emotion timeline
class VISEMO_OT_emotion_key_add(bpy.types.Operator):
    """Add an emotion key at the current frame"""

    bl_idname = "visemo.emotion_key_add"
    bl_label = "Add Emotion Key"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        s = context.scene.visemo
        k = s.emotion_keys.add()
        k.frame = context.scene.frame_current
        k.prompt = "happy"
        k.intensity = 1.0
        s.emotion_key_index = len(s.emotion_keys) - 1
        return {"FINISHED"}


class VISEMO_OT_emotion_key_remove(bpy.types.Operator):
    """Remove the selected emotion key"""

    bl_idname = "visemo.emotion_key_remove"
    bl_label = "Remove Emotion Key"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return len(context.scene.visemo.emotion_keys) > 0

    def execute(self, context):
        s = context.scene.visemo
        i = s.emotion_key_index
        if 0 <= i < len(s.emotion_keys):
            s.emotion_keys.remove(i)
            s.emotion_key_index = max(0, min(i, len(s.emotion_keys) - 1))
        return {"FINISHED"}


class VISEMO_OT_emotion_key_move(bpy.types.Operator):
    """Move the selected emotion key up or down the list"""

    bl_idname = "visemo.emotion_key_move"
    bl_label = "Move Emotion Key"
    bl_options = {"REGISTER", "UNDO"}

    direction: bpy.props.EnumProperty(items=(("UP", "Up", ""), ("DOWN", "Down", "")))

    @classmethod
    def poll(cls, context):
        return len(context.scene.visemo.emotion_keys) > 1

    def execute(self, context):
        s = context.scene.visemo
        i = s.emotion_key_index
        j = i - 1 if self.direction == "UP" else i + 1
        if 0 <= i < len(s.emotion_keys) and 0 <= j < len(s.emotion_keys):
            s.emotion_keys.move(i, j)
            s.emotion_key_index = j
        return {"FINISHED"}


# ---------------------------------------------------------------- mapping table
def _mapping_target(context):
    obj = generate.target_object(context, context.scene.visemo)
    return obj if mapping.shape_key_names(obj) is not None else None


class _MappingOperator:
    """Mixin: an undoable operator on the target's mapping table (needs visemo.rigmap)."""

    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return mapping.available() and _mapping_target(context) is not None


class VISEMO_OT_mapping_apply_preset(_MappingOperator, bpy.types.Operator):
    """Map the target's shape keys with the chosen preset and store the table on the object"""

    bl_idname = "visemo.mapping_apply_preset"
    bl_label = "Apply Preset"

    def execute(self, context):
        obj = _mapping_target(context)
        m = mapping.build(obj, obj.visemo_rig.preset)
        mapping.store(obj, m)
        self.report({"INFO"}, f"visemo: {m.summary()}")
        return {"FINISHED"}


class VISEMO_OT_mapping_edit(_MappingOperator, bpy.types.Operator):
    """Show the mapping in use as an editable table (stored on the object from now on)"""

    bl_idname = "visemo.mapping_edit"
    bl_label = "Edit Mapping"

    def execute(self, context):
        obj = _mapping_target(context)
        try:
            m = mapping.load(obj)
        except Exception as e:
            self.report({"ERROR"}, _error_text(e))
            return {"CANCELLED"}
        mapping.store(obj, m)
        return {"FINISHED"}


class VISEMO_OT_mapping_reset(bpy.types.Operator):
    """Forget the stored mapping: map the shape keys automatically again"""

    bl_idname = "visemo.mapping_reset"
    bl_label = "Automatic"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return _mapping_target(context) is not None

    def execute(self, context):
        mapping.clear(_mapping_target(context))
        return {"FINISHED"}


CLASSES = (
    VISEMO_OT_generate,
    VISEMO_OT_clear,
    VISEMO_OT_export,
    VISEMO_OT_emotion_key_add,
    VISEMO_OT_emotion_key_remove,
    VISEMO_OT_emotion_key_move,
    VISEMO_OT_mapping_apply_preset,
    VISEMO_OT_mapping_edit,
    VISEMO_OT_mapping_reset,
)
