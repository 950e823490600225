"""The *Generate* operator: speech + emotion → keyframes on the active mesh."""

import os
import traceback

import bpy


class VISEMO_OT_generate(bpy.types.Operator):
    """Keyframe the active mesh's ARKit shape keys from a speech file and an emotion"""

    bl_idname = "visemo.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    speech_path: bpy.props.StringProperty(name="Speech", subtype="FILE_PATH")
    emotion: bpy.props.StringProperty(name="Emotion")
    intensity: bpy.props.FloatProperty(name="Intensity", default=1.0, min=0.0, max=1.0, subtype="FACTOR")
    transcript: bpy.props.StringProperty(name="Transcript")

    @classmethod
    def poll(cls, context):
        return context.active_object is not None

    def execute(self, context):
        try:
            from visemo.errors import VisemoError
        except ImportError as e:
            self.report({"ERROR"}, f"the visemo library is not installed ({e})")
            return {"CANCELLED"}
        try:
            return self._generate(context)
        except VisemoError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        except ImportError as e:
            self.report({"ERROR"}, f"the visemo library is incomplete ({e})")
            return {"CANCELLED"}
        except Exception as e:  # internal failure: keep the traceback in the console
            traceback.print_exc()
            self.report({"ERROR"}, f"visemo failed: {type(e).__name__}: {e}")
            return {"CANCELLED"}

    def _generate(self, context):
        import visemo
        from visemo.errors import AudioError
        from visemo.blender.keyframes import key_animation, scene_fps
        from visemo.blender.rig import shape_key_map
        from visemo.blender.scene import add_sound_strip

        obj = context.active_object
        mapping = shape_key_map(obj)  # RigError before the (slow) generation
        path = bpy.path.abspath(self.speech_path) if self.speech_path else ""
        if not path:
            raise AudioError("choose a speech file first")
        if not os.path.isfile(path):
            raise AudioError(f"speech file not found: {path}")
        scene = context.scene
        anim = visemo.animate(
            path,
            self.emotion.strip() or None,
            transcript=self.transcript.strip() or None,
            intensity=float(self.intensity),
            fps=scene_fps(scene),
        )
        start = scene.frame_start
        key_animation(obj, anim, start_frame=start, scene=scene)
        add_sound_strip(scene, path, start)
        last = start + anim.frames - 1
        if scene.frame_end < last:
            scene.frame_end = last
        self.report(
            {"INFO"}, f"visemo: keyed {len(mapping)} shape keys over {anim.frames} frames on '{obj.name}'"
        )
        return {"FINISHED"}
