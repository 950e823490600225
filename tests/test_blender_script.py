"""addon/blender_animate.py (visemo.blender.batch), run the way Blender runs it (bpy module in a subprocess)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from visemo import arkit  # noqa: E402
from visemo.blender import build_head_object, new_empty_scene, read_shape_key_curves, write_blend  # noqa: E402
from synthetic import grid_head  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "addon" / "blender_animate.py"
SPEECH = ROOT / "assets" / "speech" / "sense_and_sensibility_0870.wav"
TRANSCRIPT = SPEECH.with_suffix(".txt")

try:
    import visemo.pipeline  # noqa: F401
    HAVE_PIPELINE = True
except ImportError:
    HAVE_PIPELINE = False
needs_pipeline = pytest.mark.skipif(not HAVE_PIPELINE, reason="visemo.pipeline is not written yet")


@pytest.fixture(scope="module")
def scene_blend(tmp_path_factory):
    """A 24 fps scene: 'face' (ARKit keys, active), 'plain' (no shape keys), a camera."""
    path = tmp_path_factory.mktemp("scene") / "scene.blend"
    scene = new_empty_scene()
    scene.render.fps = 24
    scene.frame_start, scene.frame_end = 1, 48
    face = build_head_object(*grid_head(), name="face")
    me = bpy.data.meshes.new("plain")
    me.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    scene.collection.objects.link(bpy.data.objects.new("plain", me))
    scene.collection.objects.link(bpy.data.objects.new("cam", bpy.data.cameras.new("cam")))
    bpy.context.view_layer.objects.active = face
    write_blend(path)
    return path


def run_script(blend, *args, active=None, timeout=180):
    code = (
        "import bpy, sys, runpy\n"
        f"bpy.ops.wm.open_mainfile(filepath={str(blend)!r})\n"
        + (f"bpy.context.view_layer.objects.active = bpy.data.objects[{active!r}]\n" if active else "")
        + f"sys.argv = ['blender', '--', *{[str(a) for a in args]!r}]\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    env = dict(os.environ, BLENDER_USER_RESOURCES=tempfile.mkdtemp(prefix="visemo-bur-"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


def error_lines(proc):
    return [line for line in proc.stderr.splitlines() if line.startswith("visemo:")]


def assert_bad_input(proc, match):
    assert proc.returncode == 2, proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("visemo: error: "), proc.stderr
    assert match in lines[0]
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- bad input: exit 2, nothing written
def test_unknown_object(scene_blend, tmp_path):
    out = tmp_path / "out.fbx"
    proc = run_script(scene_blend, SPEECH, "--object", "nobody", "-o", out)
    assert_bad_input(proc, "no object named 'nobody'")
    assert list(tmp_path.iterdir()) == []


def test_object_without_shape_keys(scene_blend, tmp_path):
    out = tmp_path / "out.glb"
    proc = run_script(scene_blend, SPEECH, "--object", "plain", "-o", out)
    assert_bad_input(proc, "object 'plain' has no shape keys")
    proc = run_script(scene_blend, SPEECH, "-o", out, active="plain")
    assert_bad_input(proc, "object 'plain' has no shape keys")
    assert list(tmp_path.iterdir()) == []


def test_bad_suffix_missing_speech_and_usage(scene_blend, tmp_path):
    assert_bad_input(run_script(scene_blend, SPEECH, "-o", tmp_path / "out.txt"), "out.txt")
    assert_bad_input(run_script(scene_blend, tmp_path / "none.wav", "-o", tmp_path / "o.fbx"),
                     "speech file not found")
    assert_bad_input(run_script(scene_blend, SPEECH), "required")
    assert_bad_input(run_script(scene_blend, SPEECH, "-o", tmp_path / "o.fbx", "--intensity", "loud"),
                     "invalid float value")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the real thing
@needs_pipeline
@pytest.mark.parametrize("suffix", [".fbx", ".glb"])
def test_animate_export(scene_blend, tmp_path, suffix):
    import visemo

    out = tmp_path / f"line{suffix}"
    transcript = TRANSCRIPT.read_text().strip()
    proc = run_script(scene_blend, SPEECH, "--transcript", transcript, "--emotion", "happy",
                      "--intensity", "0.7", "--seed", "3", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and [p.name for p in tmp_path.iterdir()] == [out.name]
    anim = visemo.animate(str(SPEECH), "happy", transcript=transcript, intensity=0.7, fps=24, seed=3)
    names, values = read_shape_key_curves(out, 24, frame_range=(1, anim.frames))
    got = values[:, [names.index(n) for n in arkit.NAMES]]
    np.testing.assert_allclose(got, anim.weights, atol=1e-4)


@needs_pipeline
def test_emotion_keys_and_auto_match_the_core(scene_blend, tmp_path):
    import visemo
    from visemo.emotion.keys_file import parse_keys

    transcript = TRANSCRIPT.read_text().strip()
    out = tmp_path / "keys.glb"
    proc = run_script(scene_blend, SPEECH, "--transcript", transcript, "--emotion-keys", "0=happy; 3=sad@0.6; 90=angry",
                      "--transition", "0.3", "--seed", "1", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "visemo: emotion key at 90.00 s comes at or after the last frame (7.08 s) and does not show" in proc.stdout
    anim = visemo.animate(str(SPEECH), parse_keys("0=happy; 3=sad@0.6", 0.3), transcript=transcript,
                          fps=24, seed=1)
    names, values = read_shape_key_curves(out, 24, frame_range=(1, anim.frames))
    got = values[:, [names.index(n) for n in arkit.NAMES]]
    np.testing.assert_allclose(got, anim.weights, atol=1e-4)
    smile = arkit.index("mouthSmileLeft")
    assert got[24:60, smile].mean() > 0.3 > got[100:160, smile].mean()
    auto = tmp_path / "auto.fbx"
    proc = run_script(scene_blend, SPEECH, "--transcript", transcript, "--emotion", "auto", "-o", auto)
    assert proc.returncode == 0 and auto.is_file(), proc.stderr
    bad = tmp_path / "bad.fbx"
    assert_bad_input(run_script(scene_blend, SPEECH, "--emotion-keys", "0=happy; 2=qwzx blorp", "-o", bad),
                     "qwzx blorp")
    assert_bad_input(run_script(scene_blend, SPEECH, "--emotion-image", tmp_path / "no.jpg", "-o", bad),
                     "not found")
    assert not bad.exists()


@needs_pipeline
def test_animate_blend_with_fps_and_start(scene_blend, tmp_path):
    out = tmp_path / "line.blend"
    proc = run_script(scene_blend, SPEECH, "--fps", "30", "--start-frame", "101", "-o", out,
                      "--transcript", TRANSCRIPT.read_text().strip())
    assert proc.returncode == 0, proc.stderr
    bpy.ops.wm.open_mainfile(filepath=str(out), load_ui=False)
    scene = bpy.context.scene
    assert (scene.render.fps, scene.render.fps_base) == (30, 1.0)
    assert scene.frame_start == 101 and scene.frame_end >= 101 + 7 * 30
    (strip,) = scene.sequence_editor.strips_all
    assert strip.type == "SOUND" and strip.frame_start == 101
    key = bpy.data.objects["face"].data.shape_keys
    ad = key.animation_data
    assert ad.action is not None and ad.action_slot is not None and key in ad.action_slot.users()
    assert bpy.data.objects["plain"].data.shape_keys is None


@needs_pipeline
def test_internal_failure_exits_1(scene_blend, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_script(scene_blend, SPEECH, "-o", blocker / "out.fbx", "--transcript", TRANSCRIPT.read_text().strip())
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" in proc.stderr


# ---------------------------------------------------------------- --speech form, rig mappings
@pytest.fixture(scope="module")
def cc_blend(tmp_path_factory):
    """A 30 fps scene with 'Face', a Character Creator 4 style mesh (not active)."""
    from visemo.rigmap_presets import CC4

    path = tmp_path_factory.mktemp("cc") / "cc.blend"
    scene = new_empty_scene()
    scene.render.fps = 30
    names = [k for v in CC4.values() for k in ((v,) if isinstance(v, str) else v)]
    build_head_object(*grid_head(n=4, names=names), name="Face")
    write_blend(path)
    return path


@needs_pipeline
def test_speech_option_object_and_stored_gain(cc_blend, tmp_path):
    import json

    import visemo

    # store a gain on the object, as the add-on would
    bpy.ops.wm.open_mainfile(filepath=str(cc_blend), load_ui=False)
    bpy.data.objects["Face"]["visemo_mapping"] = json.dumps({"preset": "cc4", "gain": {"jawOpen": 0.5}})
    blend = tmp_path / "stored.blend"
    write_blend(blend)

    out = tmp_path / "take.glb"
    transcript = TRANSCRIPT.read_text().strip()
    proc = run_script(blend, "--speech", SPEECH, "--emotion", "surprised", "--object", "Face",
                      "--transcript", transcript, "--seed", "1", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "keyed 'Face' (52 of 52 ARKit channels mapped (preset cc4)" in proc.stdout
    anim = visemo.animate(str(SPEECH), "surprised", transcript=transcript, fps=30, seed=1)
    names, values = read_shape_key_curves(out, 30, frame_range=(1, anim.frames))
    col = {n: values[:, names.index(n)] for n in ("Jaw_Open", "Mouth_Funnel_Down_R", "Eye_R_Look_L")}
    np.testing.assert_allclose(col["Jaw_Open"], anim.channel("jawOpen") * 0.5, atol=1e-4)
    np.testing.assert_allclose(col["Mouth_Funnel_Down_R"], anim.channel("mouthFunnel"), atol=1e-4)
    np.testing.assert_allclose(col["Eye_R_Look_L"], anim.channel("eyeLookInRight"), atol=1e-4)

    # --mapping wins over the stored one: "arkit" finds only the CC4 names that are ARKit-like
    out2 = tmp_path / "take2.blend"
    proc = run_script(blend, "--speech", SPEECH, "--object", "Face", "--transcript", transcript,
                      "--mapping", "arkit", "-o", out2)
    assert proc.returncode == 0, proc.stderr
    assert "(preset arkit)" in proc.stdout and "eyeLookDownLeft" in proc.stdout  # gaze is unmapped


def test_speech_given_twice_and_bad_mapping(scene_blend, tmp_path):
    assert_bad_input(run_script(scene_blend, SPEECH, "--speech", SPEECH, "-o", tmp_path / "o.fbx"),
                     "give the speech file once")
    assert_bad_input(run_script(scene_blend, "--speech", SPEECH, "--mapping", "maya", "-o", tmp_path / "o.fbx"),
                     "unknown rig preset 'maya'")
    assert_bad_input(run_script(scene_blend, "--speech", SPEECH, "--mapping", tmp_path / "none.json",
                                "-o", tmp_path / "o.fbx"), "mapping file not found")
    assert list(tmp_path.iterdir()) == []
