"""The ``visemo animate`` command: outputs by suffix, exit codes, bad input."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from visemo import Animation, arkit

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets/speech/sense_and_sensibility_0870.wav"
TRANSCRIPT = SAMPLE.with_suffix(".txt")


def visemo(*args, cwd=None, timeout=240):
    env = dict(os.environ)
    env.setdefault("BLENDER_USER_RESOURCES", str(Path(cwd or ROOT) / ".blender-user"))
    return subprocess.run([sys.executable, "-m", "visemo.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("visemo: error:")]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """One run writing every Blender-free format, with the transcript file."""
    d = tmp_path_factory.mktemp("cli")
    outs = [d / "a.json", d / "a.csv", d / "a.npz", d / "a.pc2", d / "a.mesh.npz"]
    args = ["animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion", "sad", "--intensity", "0.8",
            "--seed", "5", "--fps", "25"]
    for o in outs:
        args += ["-o", o]
    r = visemo(*args)
    assert r.returncode == 0, r.stderr
    return d, r


def test_writes_every_format_consistently(outputs):
    d, r = outputs
    anim = Animation.load(d / "a.json")
    assert anim.fps == 25 and anim.frames == int(np.ceil(7.1 * 25))
    for other in ("a.csv", "a.npz"):
        assert np.max(np.abs(Animation.load(d / other).weights - anim.weights)) <= 1e-6
    # sad all through: inner brows up on every frame
    assert np.all(anim.channel("browInnerUp") > 0.4)
    from visemo.face.model import load_face_model
    from visemo.face.sequence import read_mesh_npz, read_pc2

    model = load_face_model()
    expected = model.evaluate(anim.weights[[0, 50, 120]])
    pc2 = read_pc2(d / "a.pc2")
    assert pc2.vertices.shape == (anim.frames, model.vertex_count, 3)
    assert np.max(np.abs(pc2.vertices[[0, 50, 120]] - expected)) < 1e-6
    mesh = read_mesh_npz(d / "a.mesh.npz")
    assert np.max(np.abs(mesh["vertices"][[0, 50, 120]] - expected)) < 1e-6
    assert "wrote" in r.stderr and "frames at 25 fps" in r.stderr


def test_same_seed_same_result_and_seed_changes_blinks(tmp_path, outputs):
    d, _ = outputs
    r = visemo("animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion", "sad", "--intensity", "0.8",
               "--seed", "5", "--fps", "25", "-o", tmp_path / "b.json", "-q")
    assert r.returncode == 0 and r.stderr == ""
    assert np.array_equal(Animation.load(tmp_path / "b.json").weights, Animation.load(d / "a.json").weights)
    r = visemo("animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion", "sad", "--intensity", "0.8",
               "--seed", "6", "--fps", "25", "-o", tmp_path / "c.json", "-q")
    blink = arkit.index("eyeBlinkLeft")
    c = Animation.load(tmp_path / "c.json").weights
    a = Animation.load(d / "a.json").weights
    assert not np.array_equal(c[:, blink], a[:, blink])
    mouth = arkit.indices(arkit.SPEECH_CHANNELS)
    assert np.array_equal(c[:, mouth], a[:, mouth])  # the seed touches idle life only


def _bad_audio(tmp_path):
    sr = 16000
    cases = {}
    cases["missing"] = tmp_path / "nope.wav"
    (tmp_path / "empty.wav").write_bytes(b"")
    cases["empty"] = tmp_path / "empty.wav"
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x01garbage" + os.urandom(2000))
    cases["corrupt"] = tmp_path / "corrupt.wav"
    sf.write(tmp_path / "silent.wav", np.zeros(sr * 2, np.float32), sr)
    cases["silent"] = tmp_path / "silent.wav"
    x, _ = sf.read(SAMPLE, dtype="float32")
    sf.write(tmp_path / "long.wav", np.tile(x, 3), sr)  # 21 s, over --max-seconds 10
    cases["long"] = tmp_path / "long.wav"
    return cases


@pytest.mark.parametrize("case", ["missing", "empty", "corrupt", "silent", "long"])
def test_bad_audio_exits_2_with_one_line_and_no_output(tmp_path, case):
    speech = _bad_audio(tmp_path)[case]
    out = tmp_path / "out"
    r = visemo("animate", speech, "--max-seconds", "10", "-o", out / "x.json", "-o", out / "x.fbx")
    assert r.returncode == 2, r.stderr
    lines = _error_lines(r.stderr)
    assert len(lines) == 1 and Path(speech).name in lines[0]
    assert "Traceback" not in r.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_unknown_emotion_and_bad_intensity(tmp_path):
    for extra, needle in ((["--emotion", "zqxjvw"], "unknown emotion"),
                          (["--emotion", "happy", "--intensity", "2"], "intensity")):
        r = visemo("animate", SAMPLE, *extra, "-o", tmp_path / "x.json")
        assert r.returncode == 2
        lines = _error_lines(r.stderr)
        assert len(lines) == 1 and needle in lines[0]
        assert not (tmp_path / "x.json").exists()


def test_unknown_emotion_emoji_of_a_thing(tmp_path):
    r = visemo("animate", SAMPLE, "--emotion", "🍕", "-o", tmp_path / "x.json")
    assert r.returncode == 2
    lines = _error_lines(r.stderr)
    assert len(lines) == 1 and "emoji show things, not feelings" in lines[0]
    assert not (tmp_path / "x.json").exists()


def test_reader_closing_the_pipe_stops_quietly():
    """``visemo emotion sad | head -1``: the rest of the table has nowhere to go; no traceback."""
    read, write = os.pipe()
    os.close(read)        # the reader is gone before visemo writes a line
    try:
        r = subprocess.run([sys.executable, "-m", "visemo.cli", "emotion", "sad"], stdout=write,
                           stderr=subprocess.PIPE, text=True, timeout=120, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    finally:
        os.close(write)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr and "BrokenPipe" not in r.stderr


def test_bad_output_suffix_fails_before_work(tmp_path):
    r = visemo("animate", SAMPLE, "-o", tmp_path / "x.avi")
    assert r.returncode == 2 and "suffix" in _error_lines(r.stderr)[0]
    assert list(tmp_path.iterdir()) == []


def test_missing_transcript_file(tmp_path):
    r = visemo("animate", SAMPLE, "--transcript", tmp_path / "words.txt", "-o", tmp_path / "x.json")
    assert r.returncode == 2 and "transcript file not found" in _error_lines(r.stderr)[0]


def test_character_without_shape_keys(tmp_path):
    """A mesh without shape keys: exit 2, one line, nothing written."""
    blend = tmp_path / "plain.blend"
    code = (
        "import bpy; bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True);"
        "me = bpy.data.meshes.new('Face'); me.from_pydata([(0,0,0),(1,0,0),(0,1,0)], [], [(0,1,2)]);"
        "ob = bpy.data.objects.new('Face', me); bpy.context.scene.collection.objects.link(ob);"
        f"bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})"
    )
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "bu"))
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120, env=env)
    r = visemo("animate", SAMPLE, "--character", blend, "--object", "Face", "-o", tmp_path / "out.fbx")
    assert r.returncode == 2, r.stderr
    lines = _error_lines(r.stderr)
    assert len(lines) == 1 and "no shape keys" in lines[0]
    assert not (tmp_path / "out.fbx").exists()
    assert "phonemes" not in r.stderr  # failed before the slow work


def test_internal_error_exits_1(tmp_path, monkeypatch):
    from visemo import cli

    def boom(*a, **k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("visemo.pipeline.perform", boom)
    assert cli.main(["animate", str(SAMPLE), "-o", str(tmp_path / "x.json"), "-q"]) == 1
    assert not (tmp_path / "x.json").exists()
