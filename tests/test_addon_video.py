"""The add-on's Video sub-panel: Export Talking Portrait and Playblast, with the real bpy module and core.

The operators' modal paths are driven without a window the way
test_addon.py drives Generate: their methods are borrowed onto a plain
object and called as the window manager would (TIMER ticks, Esc).  Videos
are decoded back with PyAV (:func:`visemo.render2d.metrics.video_frames`).
Rendering happens in this process, so it leaves with ``os._exit``
(tests/conftest.py); ``test_no_hang_at_exit`` checks registration in a
subprocess that exits normally.
"""

import os
import sys
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
av = pytest.importorskip("av")

import visemo.pipeline  # noqa: E402
import visemo.render2d  # noqa: E402
from visemo import Animation, arkit  # noqa: E402
from visemo.animation import frame_count  # noqa: E402
from visemo.audio import load_audio  # noqa: E402
from visemo.blender import build_head_object  # noqa: E402
from visemo.blender.keyframes import channel_fcurves, data_path  # noqa: E402
from visemo.emotion import EmotionKey, EmotionTrack  # noqa: E402
from visemo.pipeline import Performance  # noqa: E402
from visemo.render2d.metrics import video_frames  # noqa: E402
from synthetic import grid_head, write_wav  # noqa: E402
from addon_harness import addon_fixture, exits_cleanly, scene  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "addon"
IN_SUBPROCESS = os.environ.get("VISEMO_ADDON_SUBPROCESS") == "1"
PKG = "visemo_addon_video_under_test"
LINE = "Hello there, how are you today?"
TICK = SimpleNamespace(type="TIMER", value="NOTHING")
ESC = SimpleNamespace(type="ESC", value="PRESS")


addon = addon_fixture(PKG)


@pytest.fixture(scope="module")
def photo():
    cbook = pytest.importorskip("matplotlib.cbook")
    return cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)


@pytest.fixture
def line(synth):
    """A ~2 s flite sentence: (wav path, transcript)."""
    u = synth(LINE)
    return str(u.path), u.text


def make_active(obj):
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    return obj


def bundled_head():
    from visemo.face.model import load_face_model

    m = load_face_model()
    return make_active(build_head_object(m.vertices, m.face_sizes, m.face_indices, m.deltas, m.names))


def fake_perform(anim):
    """A stand-in for visemo.pipeline.perform returning ``anim`` at once."""

    def perform(speech, emotion=None, *, progress=None, **kw):
        if progress:
            progress("compose", 0.9)
        track = emotion if isinstance(emotion, EmotionTrack) else EmotionTrack.constant("neutral")
        return Performance(anim, (), np.zeros(anim.frames, np.float32), anim.frames / anim.fps, None, track)

    return perform


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def decode(path) -> list[np.ndarray]:
    return list(video_frames(path))


def audio_streams(path) -> int:
    with av.open(str(path)) as c:
        return len(c.streams.audio)


def rna_values(struct) -> dict:
    """Every plain (non-pointer) property of an RNA struct, as comparable values."""
    out = {}
    for p in struct.bl_rna.properties:
        if p.identifier == "rna_type" or p.type in ("POINTER", "COLLECTION"):
            continue
        v = getattr(struct, p.identifier)
        out[p.identifier] = tuple(v) if hasattr(v, "__len__") and not isinstance(v, str) else v
    return out


def scene_settings(scene) -> dict:
    """What a playblast may touch: render/output/display/colour settings, camera, world, frame, datablocks."""
    return dict(
        render=rna_values(scene.render), image=rna_values(scene.render.image_settings),
        display=rna_values(scene.display), shading=rna_values(scene.display.shading),
        view=rna_values(scene.view_settings),
        world=(scene.world.name, tuple(scene.world.color)) if scene.world else None,
        camera=scene.camera.name if scene.camera else None,
        frame=(scene.frame_current, scene.frame_subframe, scene.frame_start, scene.frame_end),
        data={c: sorted(x.name for x in getattr(bpy.data, c))
              for c in ("objects", "cameras", "worlds", "images", "scenes", "meshes", "actions")},
    )


def sequencer_state(scene):
    ed = scene.sequence_editor
    return sorted((s.name, s.type, s.channel, s.frame_start) for s in ed.strips_all) if ed else None


class Harness:
    """Drives an operator's own modal path without a window (see test_addon.ModalHarness).

    bpy cannot instantiate an Operator outside Blender's event loop, so the
    operator's methods are borrowed onto this object and called as the window
    manager would: ``begin`` (invoke without the timer), TIMER ticks, ESC.
    """

    METHODS = ("modal", "cancel", "_failed", "_begin", "_finish", "_advance", "_status")

    def __init__(self, op_class, **props):
        for name in self.METHODS:
            if hasattr(op_class, name):
                setattr(self, name, getattr(op_class, name).__get__(self))
        for name in ("labels", "cancel_message"):  # JobModal's class settings
            if hasattr(op_class, name):
                setattr(self, name, getattr(op_class, name))
        self.filepath = ""
        self.size = 512
        self.__dict__.update(props)
        self.reports = []
        self._timer = None

    def report(self, kind, message):
        self.reports.append((set(kind), message))

    def start(self, context):
        assert self._begin(context), self.reports
        if hasattr(self, "_job"):
            self._job.start()
        context.window_manager.visemo_job.running = True
        return self

    def tick(self, context):
        return self.modal(context, TICK)

    def run(self, context, limit=3000):
        for _ in range(limit):
            ret = self.tick(context)
            if ret != {"PASS_THROUGH"}:
                return ret
            job = getattr(self, "_job", None)
            if job is not None:
                job.wait(0.02)
        raise AssertionError("the operator did not finish")


def portrait_settings(scene, speech, transcript, photo, size=128):
    s = scene.visemo
    s.speech_path, s.transcript = speech, transcript
    s.emotion, s.intensity, s.seed = "happy", 0.7, 3
    s.portrait_photo, s.portrait_size = photo, size
    return s


# ---------------------------------------------------------------- registration, panel
def test_register_unregister(addon):
    assert hasattr(bpy.ops.visemo, "export_portrait") and hasattr(bpy.ops.visemo, "playblast")
    panel = bpy.types.VISEMO_PT_video
    assert panel.bl_parent_id == "VISEMO_PT_main" and panel.bl_category == "visemo"
    s = bpy.context.scene.visemo
    assert (s.portrait_size, s.portrait_whole, s.portrait_add_strip) == (512, False, False)
    assert s.portrait_photo == "" and s.portrait_path == "" and s.playblast_path == ""
    rna = s.bl_rna.properties
    for name in ("portrait_photo", "portrait_path", "playblast_path"):  # "//" paths, like the photo field
        assert rna[name].subtype == "FILE_PATH" and rna[name].is_path_supports_blend_relative
    assert "UNDO" in bpy.types.VISEMO_OT_export_portrait.bl_options
    assert "UNDO" not in bpy.types.VISEMO_OT_playblast.bl_options  # changes nothing to undo
    ops = (addon.video.VISEMO_OT_export_portrait, addon.video.VISEMO_OT_playblast, addon.panels.VISEMO_PT_video)
    assert all(cls in addon.CLASSES and cls.is_registered for cls in ops)
    addon.unregister()
    assert not any(cls.is_registered for cls in ops)
    assert not hasattr(bpy.types, "VISEMO_PT_video") and not hasattr(bpy.types.Scene, "visemo")
    addon.register()  # again cleanly (the fixture unregisters)
    assert all(cls.is_registered for cls in ops)


def test_video_steps_are_disabled_while_a_job_runs(addon, scene):
    state = bpy.context.window_manager.visemo_job
    assert bpy.types.VISEMO_OT_export_portrait.poll(bpy.context)
    assert bpy.types.VISEMO_OT_playblast.poll(bpy.context)
    state.running = True
    try:
        assert not bpy.types.VISEMO_OT_export_portrait.poll(bpy.context)
        assert not bpy.types.VISEMO_OT_playblast.poll(bpy.context)
        assert not bpy.types.VISEMO_OT_generate.poll(bpy.context)
    finally:
        state.running = False


def record(monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_readme_images as mri

    monkeypatch.setattr(mri, "PANELS", (*mri.PANELS, "VISEMO_PT_video"))
    return mri.flatten_text(mri.record_panels(bpy.context))


def test_panel_shows_the_video_steps(addon, scene, monkeypatch):
    make_active(build_head_object(*grid_head()))
    labels = record(monkeypatch)
    assert {"Video", "Talking Portrait", "Whole Photo", "Size", "Add to Sequencer",
            "Export Talking Portrait", "Playblast"} <= set(labels)
    hint = "The talking portrait needs the -video build (mediapipe)"
    assert hint not in labels  # mediapipe is installed here
    panels = sys.modules[f"{PKG}.panels"]
    monkeypatch.setattr(panels, "photo_unsupported", lambda: True)
    assert hint in record(monkeypatch)
    no_av = "Writing mp4 needs PyAV (av), not in this build"
    assert no_av not in record(monkeypatch)
    monkeypatch.setattr(panels, "video_unsupported", lambda: True)  # the lite extension build
    assert no_av in record(monkeypatch)
    bpy.context.window_manager.visemo_job.running = True
    bpy.context.window_manager.visemo_job.stage = "Rendering frame 3 of 9"
    try:
        assert any(t.startswith("Rendering frame 3 of 9") for t in record(monkeypatch))
    finally:
        bpy.context.window_manager.visemo_job.running = False


def test_output_paths(addon, tmp_path):
    from visemo.errors import VisemoError

    video = sys.modules[f"{PKG}.video"]
    speech = str(tmp_path / "lines" / "take_3.wav")
    assert bpy.data.filepath == ""  # unsaved: "//" is the speech's folder
    assert video.output_path("", "take_3_portrait.mp4", speech) == str(tmp_path / "lines" / "take_3_portrait.mp4")
    assert video.output_path("//out/", "a.mp4", speech) == str(tmp_path / "lines" / "out" / "a.mp4")
    assert video.output_path(str(tmp_path / "x"), "a.mp4", speech) == str(tmp_path / "x.mp4")
    assert video.output_path(str(tmp_path), "a.mp4", None) == str(tmp_path / "a.mp4")
    with pytest.raises(VisemoError, match="save the .blend first"):
        video.output_path("", "a.mp4", None)


# ---------------------------------------------------------------- talking portrait
def test_portrait_writes_the_performance_and_adds_a_movie_strip(addon, scene, line, photo, tmp_path):
    speech, transcript = line
    s = portrait_settings(scene, speech, transcript, photo, size=128)
    s.portrait_add_strip = True
    s.blinks = False
    scene.frame_current = 7
    ed = scene.sequence_editor_create()
    ed.strips.new_sound("music", str(write_wav(tmp_path / "music.wav", seconds=3.0)), 1, 1)  # channel 1 is busy
    out = tmp_path / "videos" / "talk.mp4"
    h = Harness(bpy.types.VISEMO_OT_export_portrait, filepath=str(out)).start(bpy.context)
    assert bpy.context.window_manager.visemo_job.running
    assert h.run(bpy.context) == {"FINISHED"}
    assert not bpy.context.window_manager.visemo_job.running

    # the same request as Generate: the panel's speech, emotion, intensity, seed, blinks, fps
    track = EmotionTrack((EmotionKey(0.0, "happy", 0.7),), transition=s.transition / 30)
    perf = visemo.pipeline.perform(speech, track, transcript=transcript, fps=30, seed=3, blinks=False,
                                   eye_motion=True)
    np.testing.assert_allclose(h._job.performance.animation.weights, perf.animation.weights, atol=1e-6)
    frames = decode(out)
    assert len(frames) == perf.animation.frames == frame_count(load_audio(speech).duration, 30)
    assert frames[0].shape == (128, 128, 3) and audio_streams(out) == 1
    assert np.std(frames[0]) > 10  # a photo, not a blank frame
    ((kind, msg),) = h.reports
    assert kind == {"INFO"} and str(out) in msg and "\n" not in msg

    strips = {st.name: st for st in ed.strips_all}
    movie = strips["talk.mp4"]
    assert movie.type == "MOVIE" and movie.frame_start == 7 and movie.channel == 3
    assert movie.frame_final_duration == perf.animation.frames
    speech_strip = strips[Path(speech).name]  # the speech was not in the sequencer: added, tagged
    assert speech_strip.type == "SOUND" and speech_strip.frame_start == 7 and speech_strip.channel == 2
    assert [st.type for st in ed.strips_all].count("MOVIE") == 1


def test_portrait_starts_where_the_speech_strip_starts(addon, scene, tmp_path, photo, monkeypatch):
    """The speech already in the sequencer (e.g. from Generate): the movie goes where it starts."""
    anim = Animation(np.zeros((12, arkit.COUNT), np.float32), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    wav = str(write_wav(tmp_path / "said.wav", seconds=0.4))
    s = portrait_settings(scene, wav, "", photo, size=64)
    s.portrait_whole, s.portrait_add_strip = True, True  # the whole photo, not a crop
    ed = scene.sequence_editor_create()
    ed.strips.new_sound("said", wav, 1, 40)
    scene.frame_current = 3
    assert bpy.ops.visemo.export_portrait(filepath=str(tmp_path / "p.mp4")) == {"FINISHED"}
    assert sequencer_state(scene) == [("p.mp4", "MOVIE", 2, 40), ("said", "SOUND", 1, 40)]
    frames = decode(tmp_path / "p.mp4")
    from PIL import Image

    width, height = Image.open(photo).size
    assert len(frames) == 12 and frames[0].shape == (height // 2 * 2, width // 2 * 2, 3)


def test_portrait_of_a_photo_without_a_face_fails_before_the_slow_part(addon, scene, tmp_path, line, monkeypatch):
    calls = []
    real = visemo.pipeline.perform
    monkeypatch.setattr(visemo.pipeline, "perform", lambda *a, **k: calls.append(a) or real(*a, **k))
    from PIL import Image

    wall = tmp_path / "wall.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((240, 320, 3)) * 60 + 100).astype(np.uint8)).save(wall)
    speech, transcript = line
    s = portrait_settings(scene, speech, transcript, str(wall))
    s.portrait_add_strip = True
    out = tmp_path / "out" / "none.mp4"
    before = sequencer_state(scene)
    h = Harness(bpy.types.VISEMO_OT_export_portrait, filepath=str(out)).start(bpy.context)
    assert h.run(bpy.context) == {"CANCELLED"}
    ((kind, msg),) = h.reports
    assert kind == {"ERROR"} and "face" in msg and "\n" not in msg
    assert calls == [] and not out.exists() and (not out.parent.exists() or files_in(out.parent) == [])
    assert sequencer_state(scene) == before
    # the same from a script: one error line, nothing written
    with pytest.raises(RuntimeError, match="face"):
        bpy.ops.visemo.export_portrait(filepath=str(out))
    assert not out.exists() and sequencer_state(scene) == before


def test_portrait_input_errors_are_reported_before_any_work(addon, scene, tmp_path, line, photo, monkeypatch):
    speech, transcript = line
    s = portrait_settings(scene, speech, transcript, "")
    out = tmp_path / "x.mp4"
    with pytest.raises(RuntimeError, match="choose a photo"):
        bpy.ops.visemo.export_portrait(filepath=str(out))
    s.portrait_photo = str(tmp_path / "missing.jpg")
    with pytest.raises(RuntimeError, match="photo not found"):
        bpy.ops.visemo.export_portrait(filepath=str(out))
    s.portrait_photo = photo
    s.speech_path = ""
    with pytest.raises(RuntimeError, match="choose a speech file"):
        bpy.ops.visemo.export_portrait(filepath=str(out))
    s.speech_path = speech
    panels = sys.modules[f"{PKG}.panels"]
    monkeypatch.setattr(panels, "photo_unsupported", lambda: True)  # a build without mediapipe
    with pytest.raises(RuntimeError, match="needs mediapipe") as err:
        bpy.ops.visemo.export_portrait(filepath=str(out))
    assert len(str(err.value).strip().splitlines()) == 1
    monkeypatch.setattr(panels, "photo_unsupported", lambda: False)
    monkeypatch.setattr(panels, "video_unsupported", lambda: True)  # a build without PyAV
    with pytest.raises(RuntimeError, match="needs PyAV"):
        bpy.ops.visemo.export_portrait(filepath=str(out))
    make_active(build_head_object(*grid_head()))
    with pytest.raises(RuntimeError, match="needs PyAV"):
        bpy.ops.visemo.playblast(filepath=str(out))
    assert files_in(tmp_path) == []


def test_portrait_escape_stops_the_render_and_leaves_no_file(addon, scene, tmp_path, line, photo, monkeypatch):
    reached, gate = threading.Event(), threading.Event()
    real = visemo.render2d.render_portrait

    def gated_render(*args, progress, **kw):
        def report(done, total):
            if done == 3:
                reached.set()
                gate.wait(30)  # hold the worker mid-video until Esc was pressed
            progress(done, total)
        return real(*args, progress=report, **kw)

    monkeypatch.setattr(visemo.render2d, "render_portrait", gated_render)
    speech, transcript = line
    s = portrait_settings(scene, speech, transcript, photo, size=128)
    s.portrait_add_strip = True
    folder = tmp_path / "videos"
    folder.mkdir()
    before = sequencer_state(scene)
    h = Harness(bpy.types.VISEMO_OT_export_portrait, filepath=str(folder / "talk.mp4")).start(bpy.context)
    for _ in range(3000):
        assert h.tick(bpy.context) == {"PASS_THROUGH"}
        if reached.wait(0.02):
            break
    assert reached.is_set()
    assert files_in(folder) != []  # the video is being written (as a temporary file)
    assert h.modal(bpy.context, ESC) == {"CANCELLED"}
    gate.set()
    assert h._job.wait(30) and h._job.cancelled and h._job.result is None
    assert files_in(folder) == []  # no video, no temporary file
    assert sequencer_state(scene) == before
    assert not bpy.context.window_manager.visemo_job.running
    assert any("cancelled" in m for _, m in h.reports)


# ---------------------------------------------------------------- playblast
def test_playblast_of_the_bundled_head_keyed_by_generate(addon, scene, line, tmp_path):
    speech, transcript = line
    head = bundled_head()
    s = scene.visemo
    s.speech_path, s.transcript, s.emotion, s.seed = speech, transcript, "happy", 1
    scene.frame_current = 5
    assert bpy.ops.visemo.generate() == {"FINISHED"}
    jaw = channel_fcurves(head.data.shape_keys)[data_path("jawOpen")]
    first, last = (int(round(k.co[0])) for k in (jaw.keyframe_points[0], jaw.keyframe_points[-1]))
    # the user's own settings, which must come back exactly
    scene.render.engine = "CYCLES"
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 1920, 1080, 50
    img = scene.render.image_settings
    img.file_format, img.color_mode, img.color_depth = "PNG", "RGBA", "16"
    scene.view_settings.view_transform = "AgX"
    scene.display.shading.light = "MATCAP"
    scene.render.filepath = "//renders/shot_"
    scene.frame_current = 21
    assert scene.camera is None
    before = scene_settings(scene)

    out = tmp_path / "blast.mp4"
    h = Harness(bpy.types.VISEMO_OT_playblast, filepath=str(out), size=96).start(bpy.context)
    assert scene.camera is not None and scene.render.engine == "BLENDER_WORKBENCH"  # set up while it runs
    assert h.run(bpy.context) == {"FINISHED"}
    assert scene_settings(scene) == before  # settings, camera, world, frame, datablocks: all as they were
    assert not any(o.name.startswith("visemo_playblast") for o in bpy.data.objects)

    frames = decode(out)
    assert len(frames) == last - first + 1 and frames[0].shape == (96, 96, 3)
    assert audio_streams(out) == 1
    ((kind, msg),) = h.reports
    assert kind == {"INFO"} and str(out) in msg and f"frames {first}-{last}" in msg
    # each frame shows its own pose: the mouth open most vs. shut differs, neighbouring shut frames barely
    values = np.array([jaw.evaluate(f) for f in range(first, last + 1)])
    wide, shut = int(np.argmax(values)), int(np.argmin(values))
    assert values[wide] - values[shut] > 0.2
    diff = np.abs(frames[wide].astype(float) - frames[shut].astype(float)).mean()
    assert diff > 0.3, diff


def test_playblast_uses_the_scene_camera_and_its_output_size(addon, scene, tmp_path, monkeypatch):
    anim = Animation(np.random.default_rng(1).random((9, arkit.COUNT)).astype(np.float32), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    head = make_active(build_head_object(*grid_head()))
    wav = str(write_wav(tmp_path / "said.wav", seconds=0.3))
    assert bpy.ops.visemo.generate(speech_path=wav) == {"FINISHED"}
    cam = bpy.data.objects.new("my_camera", bpy.data.cameras.new("my_camera"))
    scene.collection.objects.link(cam)
    cam.location = (0.0, -3.0, 0.0)
    cam.rotation_euler = (1.5708, 0.0, 0.0)
    scene.camera = cam
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 321, 240, 50
    img = scene.render.image_settings
    img.file_format, img.color_depth = "OPEN_EXR", "16"
    scene.world = None
    before = scene_settings(scene)
    out = tmp_path / "cam.mp4"
    assert bpy.ops.visemo.playblast(filepath=str(out)) == {"FINISHED"}
    assert scene_settings(scene) == before
    frames = decode(out)
    assert len(frames) == 9 and frames[0].shape == (120, 160, 3)  # 321x240 at 50 %, even
    assert head.name in bpy.data.objects


def test_playblast_without_visemo_animation_renders_the_scene_range_silent(addon, scene, tmp_path):
    make_active(build_head_object(*grid_head()))
    scene.frame_start, scene.frame_end = 3, 8
    out = tmp_path / "silent.mp4"
    assert bpy.ops.visemo.playblast(filepath=str(out), size=32) == {"FINISHED"}
    assert len(decode(out)) == 6 and audio_streams(out) == 0


def test_playblast_errors_change_nothing(addon, scene, tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="no target"):
        bpy.ops.visemo.playblast(filepath=str(tmp_path / "a.mp4"))
    lamp = bpy.data.objects.new("lamp", bpy.data.lights.new("lamp", "POINT"))
    scene.collection.objects.link(lamp)
    make_active(lamp)
    with pytest.raises(RuntimeError, match="'lamp' is not a mesh"):
        bpy.ops.visemo.playblast(filepath=str(tmp_path / "a.mp4"))
    anim = Animation(np.zeros((6, arkit.COUNT), np.float32), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    make_active(build_head_object(*grid_head()))
    wav = tmp_path / "gone.wav"
    write_wav(wav, seconds=0.2)
    assert bpy.ops.visemo.generate(speech_path=str(wav)) == {"FINISHED"}
    wav.unlink()
    before = scene_settings(scene)
    with pytest.raises(RuntimeError, match="speech file not found"):
        bpy.ops.visemo.playblast(filepath=str(tmp_path / "a.mp4"))
    assert scene_settings(scene) == before and files_in(tmp_path) == []


def test_playblast_escape_leaves_no_file_and_the_scene_as_it_was(addon, scene, line, tmp_path):
    speech, transcript = line
    bundled_head()
    scene.visemo.speech_path, scene.visemo.transcript = speech, transcript
    assert bpy.ops.visemo.generate() == {"FINISHED"}
    scene.frame_current = 2
    before = scene_settings(scene)
    folder = tmp_path / "videos"
    folder.mkdir()
    h = Harness(bpy.types.VISEMO_OT_playblast, filepath=str(folder / "b.mp4"), size=64).start(bpy.context)
    for _ in range(4):
        assert h.tick(bpy.context) == {"PASS_THROUGH"}
    assert h._next == 4 and bpy.context.window_manager.visemo_job.stage.startswith("Rendering frame 5 of ")
    # while it renders, keys and clicks wait (Ctrl+Z would meet the temporary settings); moves pass
    assert h.modal(bpy.context, SimpleNamespace(type="Z", value="PRESS", ctrl=True)) == {"RUNNING_MODAL"}
    assert h.modal(bpy.context, SimpleNamespace(type="MOUSEMOVE", value="NOTHING")) == {"PASS_THROUGH"}
    assert h._next == 4
    assert h.modal(bpy.context, ESC) == {"CANCELLED"}
    assert h._writer.wait(30) and h._writer.result is None
    assert files_in(folder) == []
    assert scene_settings(scene) == before
    assert not bpy.context.window_manager.visemo_job.running
    assert any("cancelled" in m for _, m in h.reports)


# ---------------------------------------------------------------- exit
@pytest.mark.skipif(IN_SUBPROCESS, reason="already inside the subprocess")
def test_no_hang_at_exit():
    """Registering and unregistering the video steps lets the process exit normally."""
    exits_cleanly(__file__, "register or disabled or output_paths or input_errors")
