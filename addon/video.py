"""The video steps of the sidebar: *Export Talking Portrait* and *Playblast*.

*Export Talking Portrait* (``visemo.export_portrait``): the panel's speech
and everything Generate reads from the panel (emotion, intensity,
transcript, blinks, eye motion, seed: :func:`.generate.job_request`) played
on a photo.  The photo is fitted, the performance made and the mp4 rendered
in a background thread (:class:`.job.PortraitJob`); nothing in the scene
changes unless *Add to Sequencer* is on (then a movie strip, picture only,
where the speech starts; the speech's own sound strip carries the sound).

*Playblast* (``visemo.playblast``): the target's keyed animation rendered
with Workbench to an mp4 with the speech, for a director.  Blender renders
only on its main thread, so this modal operator renders one frame per timer
tick (:class:`.playblast.PlayblastSession`: temporary settings, all put
back afterwards) and a :class:`.job.VideoWriter` thread encodes them;
meanwhile keys and clicks other than Esc wait (an edit or an undo then would
meet the temporary settings).  With
a visemo animation on the target it covers the speech (from where the
speech starts, as many frames as the speech lasts at the scene's rate) and
carries it as sound; otherwise it renders the scene's frame range, silent.

Both: the progress bar in the panel and the status bar, Esc cancels and
leaves no file, an error comes back as one line; videos go next to the
.blend by default (``//<speech>_portrait.mp4``, ``//<speech>_playblast.mp4``;
next to the speech while the .blend is unsaved).
"""

from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import bpy

from . import generate
from .job import JobRequest, PortraitJob, PortraitRequest, VideoWriter
from .operators import (STAGE_LABELS, JobModal, _error_text, _is_user_error, begin_progress, end_progress,
                        show_progress)
from .preferences import addon_preferences

PORTRAIT_LABELS = dict(STAGE_LABELS, done="Rendering")
USER_INPUT = {"PRESS", "RELEASE", "CLICK", "DOUBLE_CLICK", "CLICK_DRAG"}
"""Event values held back while a playblast renders (mouse moves and window events pass)."""
MEDIAPIPE_MISSING = ("the talking portrait needs mediapipe (face landmarks), which this build of the visemo "
                     "extension does not include; install the -video build of the extension")
AV_MISSING = ("writing mp4 video needs PyAV (the av package), which this build of the visemo extension does "
              "not include; reinstall the extension from its zip")


def _check_video_writer() -> None:
    """DependencyError when this build cannot write mp4 (no PyAV)."""
    from visemo.errors import DependencyError

    from . import panels

    if panels.video_unsupported():
        raise DependencyError(AV_MISSING)


# ---------------------------------------------------------------- where videos go
def output_path(raw: str, default_name: str, beside: str | None) -> str:
    """The mp4 to write: ``raw`` (may be ``//``-relative), else ``//<default_name>``.

    ``//`` is the .blend's folder; in an unsaved file, the folder of the file
    ``beside`` (the speech).  A folder gets ``default_name`` in it; ``.mp4``
    is added when missing.  Raises VisemoError when there is no folder to use.
    """
    from visemo.errors import VisemoError

    raw = raw.strip() or "//" + default_name
    if raw.startswith("//") and not bpy.data.filepath:
        if not beside:
            raise VisemoError("save the .blend first (the video goes next to it) or choose an output file")
        path = os.path.join(os.path.dirname(beside), raw[2:])
    else:
        path = bpy.path.abspath(raw)
    if raw.endswith(("/", "\\")) or os.path.isdir(path):
        path = os.path.join(path, default_name)
    return bpy.path.ensure_ext(os.path.abspath(path), ".mp4")


def _speech_stem(context, settings) -> str:
    """The panel's speech file name without its suffix ("speech" when none is chosen)."""
    path = ""
    if settings.speech_source == "FILE":
        path = settings.speech_path
    else:
        ed = context.scene.sequence_editor
        strip = ed.strips_all.get(settings.sound_strip) if ed is not None and settings.sound_strip else None
        if strip is not None and strip.type == "SOUND" and strip.sound is not None:
            path = strip.sound.filepath
    return Path(bpy.path.abspath(path)).stem if path else "speech"


def _visemo_speech(obj) -> tuple[str, int] | None:
    """(speech path, start frame) of ``obj``'s visemo animation, or None when it has none."""
    key = obj.data.shape_keys if obj is not None and obj.type == "MESH" else None
    act = key.animation_data.action if (key is not None and key.animation_data) else None
    if not generate.is_visemo_action(act):
        return None
    try:
        summary = json.loads(act[generate.ACTION_TAG])
        return str(summary["speech"]), int(summary["start_frame"])
    except (TypeError, ValueError, KeyError):
        return None


def default_names(context) -> tuple[str, str]:
    """What the panel shows in the empty output fields: (portrait, playblast) default paths."""
    settings = context.scene.visemo
    obj = generate.target_object(context, settings)
    made = _visemo_speech(obj)
    blast = Path(made[0]).stem if made else (bpy.path.clean_name(obj.name) if obj is not None else "visemo")
    return f"//{_speech_stem(context, settings)}_portrait.mp4", f"//{blast}_playblast.mp4"


def _scene_fps(scene) -> float:
    return scene.render.fps / scene.render.fps_base


def _same_file(a: str, b: str) -> bool:
    a, b = os.path.abspath(a), os.path.abspath(b)
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b


def _sound_strip_of(scene, path: str):
    """A sound strip in ``scene``'s sequencer that plays the file ``path``, or None."""
    ed = scene.sequence_editor
    for s in (ed.strips_all if ed is not None else ()):
        if s.type == "SOUND" and s.sound is not None and \
                _same_file(bpy.path.abspath(s.sound.filepath, library=s.sound.library), path):
            return s
    return None


# ---------------------------------------------------------------- talking portrait
@dataclass
class PortraitPlan:
    speech: str
    start_frame: int            # where the speech starts in the scene (the movie strip goes there)
    add_strip: bool
    request: JobRequest
    portrait: PortraitRequest


def portrait_plan(context, settings, prefs, filepath: str = "") -> PortraitPlan:
    """Read the panel; raise VisemoError (nothing started, nothing changed) if something is unusable.

    The speech starts where a sound strip of it starts, else (a file not in
    the sequencer yet) at the current frame.
    """
    from visemo.errors import DependencyError, ImageError

    from . import panels
    from .preferences import apply_preferences

    apply_preferences(prefs)
    raw = settings.portrait_photo.strip()
    if not raw:
        raise ImageError("choose a photo for the talking portrait first")
    photo = os.path.abspath(bpy.path.abspath(raw))
    if not os.path.isfile(photo):
        raise ImageError(f"photo not found: {photo}")
    if panels.photo_unsupported():
        raise DependencyError(MEDIAPIPE_MISSING)
    _check_video_writer()
    speech, start, strip = generate.speech_input(context, settings, {})
    if strip is None:
        playing = _sound_strip_of(context.scene, speech)
        if playing is not None:
            start = int(playing.frame_start)
    request = generate.job_request(context, settings, prefs, {}, speech, start)
    size = None if settings.portrait_whole else max(64, settings.portrait_size // 2 * 2)
    output = output_path(filepath or settings.portrait_path, f"{Path(speech).stem}_portrait.mp4", speech)
    return PortraitPlan(speech, start, bool(settings.portrait_add_strip), request,
                        PortraitRequest(photo=photo, size=size, output=output))


def _free_channel(ed, start: int, end: int) -> int:
    """The lowest sequencer channel with nothing between frames ``start`` and ``end``."""
    busy = {}
    for s in ed.strips:
        busy.setdefault(s.channel, []).append((s.frame_final_start, s.frame_final_end))
    for channel in range(1, 129):
        if all(e <= start or s >= end for s, e in busy.get(channel, ())):
            return channel
    return 128


def add_to_sequencer(scene, plan: PortraitPlan, info) -> str:
    """Put the written mp4 in the sequencer where the speech starts; returns the report's tail.

    The movie strip carries the picture only (the sound comes from the
    speech's sound strip, which is added, like Generate does, when the
    speech is not in the sequencer yet).
    """
    from visemo.blender.scene import add_sound_strip

    ed = scene.sequence_editor or scene.sequence_editor_create()
    if _sound_strip_of(scene, plan.speech) is None:
        sound = add_sound_strip(scene, plan.speech, plan.start_frame)
        sound[generate.STRIP_TAG] = True
    length = max(1, int(round(info.frames * _scene_fps(scene) / info.fps)))
    channel = _free_channel(ed, plan.start_frame, plan.start_frame + length)
    strip = ed.strips.new_movie(Path(str(info.path)).name, str(info.path), channel, plan.start_frame)
    return f"; added to the sequencer as '{strip.name}' (channel {channel}, frame {plan.start_frame})"


class VISEMO_OT_export_portrait(JobModal, bpy.types.Operator):
    """Render a talking-portrait video: the photo says the speech with the panel's emotion (Esc cancels)"""

    bl_idname = "visemo.export_portrait"
    bl_label = "Export Talking Portrait"
    bl_options = {"REGISTER", "UNDO"}
    labels = PORTRAIT_LABELS
    cancel_message = "visemo: talking portrait cancelled; no file was written"

    filepath: bpy.props.StringProperty(
        name="Output", subtype="FILE_PATH", options={"SKIP_SAVE"},
        description="mp4 to write (empty: the panel's Output, else //<speech>_portrait.mp4)",
    )

    @classmethod
    def poll(cls, context):
        return not context.window_manager.visemo_job.running

    def _begin(self, context) -> bool:
        """Plan and make the job (not started); False (reported) when the inputs are unusable."""
        try:
            self._plan_data = portrait_plan(context, context.scene.visemo, addon_preferences(context),
                                            self.filepath)
        except Exception as e:
            if not _is_user_error(e):
                traceback.print_exc()
            self.report({"ERROR"}, _error_text(e))
            return False
        self._job = PortraitJob(self._plan_data.request, self._plan_data.portrait)
        return True

    def execute(self, context):
        if not self._begin(context):
            return {"CANCELLED"}
        self._job.run_here()
        return self._finish(context)

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        if not self._begin(context):
            return {"CANCELLED"}
        self._job.start()
        return begin_progress(self, context)

    def _finish(self, context):
        end_progress(self, context)
        failed = self._failed()
        if failed:
            return failed
        info, plan = self._job.result, self._plan_data
        message = f"visemo: wrote {info.path} ({info.frames} frames, {info.width}x{info.height})"
        if plan.add_strip:
            try:
                message += add_to_sequencer(context.scene, plan, info)
            except Exception as e:
                traceback.print_exc()
                self.report({"ERROR"}, f"{message}, but it could not go into the sequencer: {_error_text(e)}")
                return {"FINISHED"}
        self.report({"INFO"}, message)
        return {"FINISHED"}


# ---------------------------------------------------------------- playblast
@dataclass
class PlayblastPlan:
    target: str                 # object name
    frames: range               # scene frames to render
    fps: float                  # the scene's frame rate (the video's)
    speech: str | None          # the sound track (None: silent)
    output: str


def playblast_plan(context, settings, filepath: str = "") -> PlayblastPlan:
    """Read the panel and the target's animation; raise VisemoError if unusable (nothing changed)."""
    from visemo.animation import frame_count
    from visemo.audio import load_audio
    from visemo.errors import AudioError, RigError

    scene = context.scene
    obj = generate.target_object(context, settings)
    if obj is None or obj.type != "MESH":
        raise RigError("no target: pick a mesh in the visemo panel or select one"
                       if obj is None else f"'{obj.name}' is not a mesh; pick a mesh in the visemo panel")
    _check_video_writer()
    fps = _scene_fps(scene)
    made = _visemo_speech(obj)
    if made is not None:
        speech, start = made
        if not os.path.isfile(speech):
            raise AudioError(f"speech file not found: {speech} (the visemo animation of '{obj.name}' "
                             "was made from it)")
        frames = range(start, start + frame_count(load_audio(speech).duration, fps))
        name = Path(speech).stem
    else:
        speech, name = None, bpy.path.clean_name(obj.name)
        frames = range(scene.frame_start, scene.frame_end + 1)
    output = output_path(filepath or settings.playblast_path, f"{name}_playblast.mp4", speech)
    return PlayblastPlan(obj.name, frames, fps, speech, output)


class VISEMO_OT_playblast(bpy.types.Operator):
    """Render the target's animation with Workbench to an mp4 with the speech, for review (Esc cancels)"""

    bl_idname = "visemo.playblast"
    bl_label = "Playblast"
    bl_options = {"REGISTER"}

    filepath: bpy.props.StringProperty(
        name="Output", subtype="FILE_PATH", options={"SKIP_SAVE"},
        description="mp4 to write (empty: the panel's Output, else //<speech>_playblast.mp4)",
    )
    size: bpy.props.IntProperty(
        name="Size", default=512, min=16, max=4096, subtype="PIXEL", options={"SKIP_SAVE"},
        description="Square frame size when visemo frames the face itself (the scene has no camera); "
                    "with a scene camera the scene's output size is used",
    )

    @classmethod
    def poll(cls, context):
        return not context.window_manager.visemo_job.running

    def _begin(self, context) -> bool:
        """Plan, set up the scene, start the writer; False (reported, scene untouched) on an error."""
        from .playblast import PlayblastSession

        self._session = self._writer = self._error = None
        self._next = 0
        try:
            plan = playblast_plan(context, context.scene.visemo, self.filepath)
            obj = bpy.data.objects[plan.target]
            self._session = PlayblastSession(context.scene, obj, self.size)
            self._writer = VideoWriter(plan.output, fps=plan.fps, width=self._session.width,
                                       height=self._session.height, frame_count=len(plan.frames),
                                       audio=plan.speech).start()
        except Exception as e:
            if self._session is not None:
                self._session.restore()
            if not _is_user_error(e):
                traceback.print_exc()
            self.report({"ERROR"}, _error_text(e))
            return False
        self._plan_data = plan
        return True

    def _advance(self, context) -> bool:
        """Render the next frame and hand it to the writer; True once there is nothing left to do."""
        writer, frames = self._writer, self._plan_data.frames
        if writer.done:  # written, or the writer failed
            return True
        if self._next >= len(frames):
            return writer.wait(0.05)  # the encoder finishing the file
        try:
            picture = self._session.render(frames[self._next])
        except Exception as e:
            self._error = e
            writer.cancel()
            return True
        writer.put(picture)
        self._next += 1
        if self._next == len(frames):
            writer.close()
        return False

    def _status(self) -> tuple[str, float]:
        n = len(self._plan_data.frames)
        if self._next >= n:
            return "Writing the video", 1.0
        return f"Rendering frame {self._next + 1} of {n}", self._next / n

    def execute(self, context):
        if not self._begin(context):
            return {"CANCELLED"}
        while not self._advance(context):
            pass
        return self._finish(context)

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        if not self._begin(context):
            return {"CANCELLED"}
        return begin_progress(self, context, interval=0.01)

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self.cancel(context)
            self.report({"INFO"}, "visemo: playblast cancelled; no file was written")
            return {"CANCELLED"}
        if event.type != "TIMER":
            # the scene holds the temporary settings until the end: keys and clicks (an edit, an
            # undo, a save) wait, as while Blender renders with a locked interface
            return {"RUNNING_MODAL"} if event.value in USER_INPUT else {"PASS_THROUGH"}
        finished = self._advance(context)
        show_progress(self, context, *self._status())
        if not finished:
            return {"PASS_THROUGH"}
        return self._finish(context)

    def cancel(self, context):
        """Esc, or Blender ending the operator: stop the writer (no file), put the scene back."""
        if getattr(self, "_writer", None) is not None:
            self._writer.cancel()
        if getattr(self, "_session", None) is not None:
            self._session.restore()
        end_progress(self, context)

    def _finish(self, context):
        self._session.restore()
        writer = self._writer
        writer.wait()
        end_progress(self, context)
        error = self._error or writer.error
        if error is not None:
            if not _is_user_error(error):
                if self._error is not None:
                    traceback.print_exception(error)
                elif writer.trace:
                    print(writer.trace)
            self.report({"ERROR"}, _error_text(error))
            return {"CANCELLED"}
        info = writer.result
        p = self._plan_data
        sound = "with the speech" if p.speech else "silent: the target has no visemo animation"
        self.report({"INFO"}, f"visemo: wrote {info.path} (frames {p.frames.start}-{p.frames.stop - 1}, "
                              f"{info.width}x{info.height}, {sound})")
        return {"FINISHED"}


CLASSES = (
    VISEMO_OT_export_portrait,
    VISEMO_OT_playblast,
)
