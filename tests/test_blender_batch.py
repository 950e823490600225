"""addon/blender_animate.py --batch (visemo.blender.batch): a CSV of lines → one output per good row, a summary, exit codes."""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytest.importorskip("visemo.pipeline")

import visemo  # noqa: E402
from visemo import arkit  # noqa: E402
from visemo.blender import build_head_object, new_empty_scene, write_blend  # noqa: E402
from visemo.blender.keyframes import channel_fcurves, data_path  # noqa: E402
from visemo.rigmap_presets import CC4  # noqa: E402
from synthetic import grid_head  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "addon" / "blender_animate.py"
SPEECH = ROOT / "assets" / "speech" / "sense_and_sensibility_0870.wav"
TRANSCRIPT = SPEECH.with_suffix(".txt").read_text().strip()
CC4_KEYS = [k for v in CC4.values() for k in ((v,) if isinstance(v, str) else v)]


@pytest.fixture(scope="module")
def scene_blend(tmp_path_factory):
    """24 fps, frames 1-48: 'face' (ARKit keys, active), 'cc' (CC4 keys), 'plain' (no keys)."""
    path = tmp_path_factory.mktemp("scene") / "scene.blend"
    scene = new_empty_scene()
    scene.render.fps = 24
    scene.frame_start, scene.frame_end = 1, 48
    face = build_head_object(*grid_head(n=4), name="face")
    build_head_object(*grid_head(n=4, names=CC4_KEYS), name="cc")
    me = bpy.data.meshes.new("plain")
    me.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    scene.collection.objects.link(bpy.data.objects.new("plain", me))
    bpy.context.view_layer.objects.active = face
    write_blend(path)
    return path


def write_csv(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def run_batch(blend, *args, timeout=240):
    code = (
        "import bpy, sys, runpy\n"
        f"bpy.ops.wm.open_mainfile(filepath={str(blend)!r})\n"
        f"sys.argv = ['blender', '--', *{[str(a) for a in args]!r}]\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    env = dict(os.environ, BLENDER_USER_RESOURCES=tempfile.mkdtemp(prefix="visemo-bur-"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


def run_in_process(blend, *args):
    from visemo.blender import batch

    bpy.ops.wm.open_mainfile(filepath=str(blend), load_ui=False)
    return batch.main(["blender", "--", *[str(a) for a in args]])


def _values(key, name, frames):
    fc = channel_fcurves(key)[data_path(name)]
    return np.array([fc.evaluate(float(f)) for f in frames])


# ---------------------------------------------------------------- the end-to-end run
def test_batch_writes_good_rows_reports_bad_ones_exit_2(scene_blend, tmp_path):
    lines = tmp_path / "lines"
    (lines / "audio").mkdir(parents=True)
    shutil.copy(SPEECH, lines / "audio" / "a.wav")
    (lines / "audio" / "a.txt").write_text(TRANSCRIPT + "\n")
    rows = write_csv(lines / "rows.csv", [
        ["File", "emotion", "intensity", "object", "transcript", "output", "start_frame"],
        ["audio/a.wav", "happy", "0.7", "face", "audio/a.txt", "first", ""],
        ["audio/missing.wav", "happy", "1", "face", "", "", ""],
        ["audio/a.wav", "sad", "0.5", "cc", TRANSCRIPT, "", ""],
        ["audio/a.wav", "zqxjvw", "1", "face", TRANSCRIPT, "", ""],
        ["audio/a.wav", "angry", "1", "plain", TRANSCRIPT, "", ""],
        ["audio/a.wav", "", "", "", TRANSCRIPT, "", "11"],
    ])
    out = tmp_path / "out"
    proc = run_batch(scene_blend, "--batch", rows, "--out-dir", out, "--format", "blend", "--seed", "3",
                     "--summary", out / "summary.csv")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    # exactly the good rows' files (row 6 defaults to a.blend too, so it gets a row suffix)
    assert sorted(p.name for p in out.iterdir()) == ["a.blend", "a_row6.blend", "first.blend", "summary.csv"]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("visemo: error:")]
    assert len(errors) == 3
    assert "row 2 (audio/missing.wav): speech file not found" in errors[0]
    assert "row 4 (audio/a.wav): unknown emotion 'zqxjvw'" in errors[1]
    assert "row 5 (audio/a.wav): object 'plain' has no shape keys" in errors[2]
    progress = [line for line in proc.stdout.splitlines() if line.startswith("visemo: [")]
    assert [line.split("]")[0] for line in progress] == [f"visemo: [{i}/6" for i in range(1, 7)]
    assert "visemo: batch done: 3 ok, 3 bad input, 0 internal errors, 0 not run" in proc.stdout
    table = proc.stdout[proc.stdout.index("row  file"):].splitlines()
    assert [line.split()[0] for line in table[1:7]] == ["1", "2", "3", "4", "5", "6"]
    with open(out / "summary.csv") as f:
        summary = list(csv.DictReader(f))
    assert [r["status"] for r in summary] == ["ok", "bad input", "ok", "bad input", "bad input", "ok"]
    assert summary[0]["output"] == str(out / "first.blend") and "zqxjvw" in summary[3]["error"]

    # row 1: the face, happy 0.7, values exactly visemo's; nothing else keyed
    anim = visemo.animate(str(SPEECH), "happy", transcript=TRANSCRIPT, intensity=0.7, fps=24, seed=3)
    bpy.ops.wm.open_mainfile(filepath=str(out / "first.blend"), load_ui=False)
    face = bpy.data.objects["face"].data.shape_keys
    frames = np.arange(1, anim.frames + 1)
    got = np.stack([_values(face, n, frames) for n in arkit.NAMES], axis=1)
    np.testing.assert_allclose(got, anim.weights, atol=1e-6)
    assert bpy.data.objects["cc"].data.shape_keys.animation_data is None
    assert len(bpy.context.scene.sequence_editor.strips_all) == 1

    # row 3: the CC4 rig through its preset; the face keyed by row 1 is back to unkeyed (revert)
    sad = visemo.animate(str(SPEECH), "sad", transcript=TRANSCRIPT, intensity=0.5, fps=24, seed=3)
    bpy.ops.wm.open_mainfile(filepath=str(out / "a.blend"), load_ui=False)
    cc = bpy.data.objects["cc"].data.shape_keys
    assert set(p.split('"')[1] for p in channel_fcurves(cc)) == set(CC4_KEYS)
    f = np.arange(1, sad.frames + 1)
    for key in ("Brow_Raise_Inner_L", "Brow_Raise_Inner_R"):
        np.testing.assert_allclose(_values(cc, key, f), sad.channel("browInnerUp"), atol=1e-6)
    np.testing.assert_allclose(_values(cc, "Eye_L_Look_R", f), sad.channel("eyeLookInLeft"), atol=1e-6)
    assert bpy.data.objects["face"].data.shape_keys.animation_data is None
    assert len(bpy.context.scene.sequence_editor.strips_all) == 1

    # row 6: defaults (active object, neutral, intensity 1) from frame 11
    bpy.ops.wm.open_mainfile(filepath=str(out / "a_row6.blend"), load_ui=False)
    scene = bpy.context.scene
    face = bpy.data.objects["face"].data.shape_keys
    assert scene.frame_start == 11
    assert channel_fcurves(face)[data_path("jawOpen")].keyframe_points[0].co[0] == pytest.approx(11)
    (strip,) = scene.sequence_editor.strips_all
    assert strip.frame_start == 11
    assert bpy.data.objects["cc"].data.shape_keys.animation_data is None


# ---------------------------------------------------------------- other outcomes (in-process: faster)
def test_batch_internal_error_exits_1_and_keeps_other_rows(scene_blend, tmp_path, capsys):
    shutil.copy(SPEECH, tmp_path / "a.wav")
    rows = write_csv(tmp_path / "rows.csv", [
        ["file", "emotion", "transcript", "output"],
        ["a.wav", "happy", TRANSCRIPT, "blocked"],
        ["a.wav", "happy", TRANSCRIPT, "fine.glb"],
    ])
    out = tmp_path / "out"
    (out / "blocked.fbx").mkdir(parents=True)  # a folder where the file should go
    code = run_in_process(scene_blend, "--batch", rows, "--out-dir", out)
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "Traceback" in captured.err and "IsADirectoryError" in captured.err
    assert "visemo: batch done: 1 ok, 0 bad input, 1 internal errors" in captured.out
    assert sorted(p.name for p in out.iterdir()) == ["blocked.fbx", "fine.glb"]
    assert list((out / "blocked.fbx").iterdir()) == []  # no partial file left anywhere


@pytest.mark.parametrize("rows,match", [
    ([["file", "emotion", "mood"], ["a.wav", "happy", "x"]], "unknown column 'mood'"),
    ([["emotion", "object"], ["happy", "face"]], "has no 'file' column"),
    ([["file", "emotion"]], "has a header but no rows"),
    ([], "is empty"),
    ([["file", "output", "transcript"], ["a.wav", "x", TRANSCRIPT], ["b.wav", "x.fbx", TRANSCRIPT]], None),
])
def test_batch_bad_csv_is_refused_before_any_work(scene_blend, tmp_path, capsys, rows, match):
    shutil.copy(SPEECH, tmp_path / "a.wav")
    csv_path = write_csv(tmp_path / "rows.csv", rows)
    out = tmp_path / "out"
    code = run_in_process(scene_blend, "--batch", csv_path, "--out-dir", out)
    err = capsys.readouterr().err
    assert code == 2
    if match is None:  # two rows naming the same output: the second is refused, the first written
        assert "row 2 (b.wav): output 'x.fbx' is also row 1's output" in err
        assert sorted(p.name for p in out.iterdir()) == ["x.fbx"]
    else:
        assert err.startswith("visemo: error: ") and match in err
        assert not out.exists()


def test_batch_usage_errors(scene_blend, tmp_path, capsys):
    rows = write_csv(tmp_path / "rows.csv", [["file"], ["a.wav"]])
    cases = [
        (("--batch", rows), "--out-dir"),
        (("--batch", rows, "--out-dir", tmp_path / "o", "--format", "obj"), "--format must be one of"),
        (("--batch", rows, "--out-dir", tmp_path / "o", "-o", "x.fbx"), "--batch takes no"),
        (("--batch", tmp_path / "none.csv", "--out-dir", tmp_path / "o"), "batch CSV not found"),
        (("--batch", rows, "--out-dir", tmp_path / "o", "--mapping", "maya"), "unknown rig preset 'maya'"),
    ]
    for args, match in cases:
        assert run_in_process(scene_blend, *args) == 2
        err = capsys.readouterr().err
        assert match in err, err
    assert not (tmp_path / "o").exists()


def test_batch_rows_take_keys_auto_and_photos(scene_blend, tmp_path, capsys):
    """The emotion column: inline keys, a keys file, auto, image: (a missing photo is that row's error)."""
    from visemo.emotion.keys_file import parse_keys

    (tmp_path / "sad_then_happy.json").write_text(
        '{"transition": 0.2, "keys": [{"time": 0, "prompt": "sad"}, {"time": 3, "prompt": "happy"},'
        ' {"time": 3000, "prompt": "angry"}]}')  # 3000: milliseconds meant, say
    shutil.copy(SPEECH, tmp_path / "a.wav")
    rows = write_csv(tmp_path / "rows.csv", [
        ["file", "emotion", "transcript", "output"],
        ["a.wav", "0=happy; 3=sad@0.6", TRANSCRIPT, "inline"],
        ["a.wav", "sad_then_happy.json", TRANSCRIPT, "keys_file"],
        ["a.wav", "auto", TRANSCRIPT, "auto"],
        ["a.wav", "image:faces/nobody.jpg", TRANSCRIPT, "photo"],
    ])
    out = tmp_path / "out"
    assert run_in_process(scene_blend, "--batch", rows, "--out-dir", out, "--format", "blend", "--seed", "2") == 2
    assert sorted(p.name for p in out.iterdir()) == ["auto.blend", "inline.blend", "keys_file.blend"]
    said = [line for line in capsys.readouterr().out.splitlines() if "keys_file.blend" in line]
    assert len(said) == 2  # the row's progress line and its line in the closing table
    assert all("; emotion key at 3000.00 s comes at or after the last frame (7.08 s)" in line for line in said)
    expected = visemo.animate(str(SPEECH), parse_keys("0=happy; 3=sad@0.6"), transcript=TRANSCRIPT, fps=24, seed=2)
    bpy.ops.wm.open_mainfile(filepath=str(out / "inline.blend"), load_ui=False)
    face = bpy.data.objects["face"].data.shape_keys
    frames = np.arange(1, expected.frames + 1)
    got = np.stack([_values(face, n, frames) for n in arkit.NAMES], axis=1)
    np.testing.assert_allclose(got, expected.weights, atol=1e-6)
    bpy.ops.wm.open_mainfile(filepath=str(out / "keys_file.blend"), load_ui=False)
    smile = _values(bpy.data.objects["face"].data.shape_keys, "mouthSmileLeft", frames)
    assert smile[12:60].mean() < 0.1 < smile[100:160].mean()  # sad first, happy from 3 s (frame 73)


def test_batch_portrait_column_writes_the_talking_portrait_beside_the_rig(scene_blend, tmp_path):
    pytest.importorskip("mediapipe")
    import matplotlib.cbook
    from PIL import Image

    from visemo.render2d.metrics import video_frames

    lines = tmp_path / "lines"
    lines.mkdir()
    shutil.copy(SPEECH, lines / "a.wav")
    Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).save(lines / "face.png")
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(lines / "wall.png")
    rows = write_csv(lines / "rows.csv", [
        ["file", "emotion", "transcript", "output", "portrait"],
        ["a.wav", "happy", TRANSCRIPT, "talk", "face.png"],
        ["a.wav", "sad", TRANSCRIPT, "nobody", "wall.png"],
        ["a.wav", "sad", TRANSCRIPT, "plain", ""],
    ])
    out = tmp_path / "out"
    code = run_in_process(scene_blend, "--batch", rows, "--out-dir", out, "--format", "glb")
    assert code == 2  # row 2's photo has no face
    assert sorted(p.name for p in out.iterdir()) == ["plain.glb", "talk.glb", "talk.mp4"]
    frames = sum(1 for _ in video_frames(out / "talk.mp4"))
    assert frames == visemo.animate(str(SPEECH), "happy", transcript=TRANSCRIPT, fps=24).frames
