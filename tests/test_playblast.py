"""visemo.blender.playblast: an mp4 of the keyed head (or a character) with the speech.

The clips are decoded back with PyAV: streams, frame count, duration against
the speech; the picture is not blank, the mouth opens on the frames where
jawOpen is high (and only there), the eyes close on the blink frames.  The
playblast is made from a plain Python process that then exits normally (the
rendering happens in a child, so Blender's GPU thread cannot hang the exit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")
pytest.importorskip("bpy")
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bu-"))

import soundfile as sf  # noqa: E402

from visemo import Animation, arkit  # noqa: E402
from visemo.animation import frame_count  # noqa: E402
from visemo.blender.playblast import PlayblastRenderer, write_playblast  # noqa: E402
from visemo.errors import AudioError, RigError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FPS = 30
SIZE = 128
JAW, BLINK_L, BLINK_R = (arkit.NAMES.index(n) for n in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"))


def test_animation(frames: int, fps: float = FPS) -> Animation:
    """jawOpen 0 -> 1 -> 0 over the first half, then open on one single frame (at 65 %),
    a blink (4 frames) in the last quarter."""
    w = np.zeros((frames, arkit.COUNT), np.float32)
    half = frames // 2
    w[:half, JAW] = np.sin(np.linspace(0, np.pi, half)) ** 2
    w[spike_frame(frames), JAW] = 1.0
    b = int(frames * 0.8)
    w[b:b + 4, BLINK_L] = w[b:b + 4, BLINK_R] = 1.0
    return Animation(w, fps)


test_animation.__test__ = False  # a helper, not a test


def spike_frame(frames: int) -> int:
    return int(frames * 0.65)


def decode(path: Path) -> dict:
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], (c.streams.audio[0] if c.streams.audio else None)
        out = {"codec": v.codec_context.name, "pix_fmt": v.codec_context.pix_fmt,
               "size": (v.codec_context.width, v.codec_context.height), "rate": v.average_rate,
               "video_duration": float(v.duration * v.time_base), "audio": None}
        if a is not None:
            out["audio"] = {"codec": a.codec_context.name, "rate": a.codec_context.sample_rate,
                            "channels": a.codec_context.channels,
                            "duration": float(a.duration * a.time_base)}
        out["frames"] = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    return out


def region_change(frames: np.ndarray, rows: tuple[float, float], cols: tuple[float, float],
                  rest: np.ndarray) -> np.ndarray:
    """Mean absolute difference [T] of each frame from the mean of the ``rest`` frames, in a box.

    ``rows``/``cols``: the box as fractions of the height/width.  (The mean
    of several frames, not one frame: H.264 noise differs from frame to frame.)
    """
    h, w = frames.shape[1:3]
    box = frames[:, int(rows[0] * h):int(rows[1] * h), int(cols[0] * w):int(cols[1] * w)].astype(np.float32)
    return np.abs(box - box[rest].mean(axis=0)).mean(axis=(1, 2, 3))


def at_rest(anim: Animation) -> np.ndarray:
    """bool [T]: frames with every weight 0."""
    return ~anim.weights.any(axis=1)


# ---------------------------------------------------------------------- the bundled head
_CALLER = textwrap.dedent("""
    # A plain Python caller (like the CLI): make a playblast, then exit normally.
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from visemo import Animation
    from visemo.blender.playblast import write_playblast

    weights = np.load(sys.argv[2])
    calls = []
    info = write_playblast(Animation(weights, float(sys.argv[5])), sys.argv[3], speech_path=sys.argv[4],
                           size=int(sys.argv[6]), progress=lambda done, total: calls.append([done, total]))
    print(json.dumps({"frames": info.frames, "fps": info.fps, "width": info.width, "height": info.height,
                      "duration": info.duration, "audio_duration": info.audio_duration,
                      "path": str(info.path), "progress": calls}))
""")


@pytest.fixture(scope="module")
def head_clip(synth, tmp_path_factory):
    utt = synth("Open wide, and then close your eyes.")
    seconds = sf.info(str(utt.path)).duration
    anim = test_animation(frame_count(seconds, FPS))
    d = tmp_path_factory.mktemp("playblast")
    np.save(d / "weights.npy", anim.weights)
    out = d / "head.mp4"
    res = subprocess.run(
        [sys.executable, "-c", _CALLER, str(ROOT / "core"), str(d / "weights.npy"), str(out),
         str(utt.path), str(FPS), str(SIZE)],
        capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return anim, utt, seconds, json.loads(res.stdout.strip().splitlines()[-1]), decode(out)


def test_head_clip_streams_and_timing(head_clip):
    anim, utt, seconds, info, got = head_clip
    n = anim.frames
    assert (info["frames"], info["fps"], info["width"], info["height"]) == (n, FPS, SIZE, SIZE)
    assert info["audio_duration"] == pytest.approx(seconds, abs=1e-6)
    assert info["progress"] == [[i, n] for i in range(1, n + 1)]
    assert (got["codec"], got["pix_fmt"], got["size"]) == ("h264", "yuv420p", (SIZE, SIZE))
    assert got["rate"] == FPS and len(got["frames"]) == n
    assert got["audio"]["codec"] == "aac"
    assert (got["audio"]["rate"], got["audio"]["channels"]) == (utt.sample_rate, 1)
    assert abs(got["video_duration"] - got["audio"]["duration"]) <= 1 / FPS
    assert abs(got["audio"]["duration"] - seconds) <= 1e-3


def test_head_is_rendered_not_blank(head_clip):
    frames = head_clip[4]["frames"]
    first = frames[0].astype(np.int16)
    background = first[2, 2]
    assert np.abs(first[2, -3] - background).max() <= 3  # both top corners: background
    face = np.abs(first - background).max(axis=2) > 30
    assert 0.15 < face.mean() < 0.9, face.mean()
    centre = first[SIZE // 2 - 4:SIZE // 2 + 4, SIZE // 2 - 4:SIZE // 2 + 4].reshape(-1, 3).mean(axis=0)
    assert np.abs(centre - background).max() > 30
    assert centre[0] > centre[2] + 15  # skin: warmer than the blue-grey background


def test_mouth_follows_jaw_open(head_clip):
    """The mouth region changes with jawOpen, frame by frame, and nowhere else does as much."""
    anim, _, _, _, got = head_clip
    frames = got["frames"]
    jaw = anim.channel("jawOpen")
    closed = at_rest(anim)
    mouth = region_change(frames, (0.55, 0.85), (0.3, 0.7), closed)
    forehead = region_change(frames, (0.05, 0.25), (0.3, 0.7), closed)
    wide = jaw > 0.9
    assert closed.sum() > 5 and wide.sum() >= 2
    # rest frames differ only by H.264 noise (~2 levels on the first, key frame; ~0.1 on the others)
    assert mouth[wide].min() > 3 * max(mouth[closed].max(), 1.0), (mouth[wide], mouth[closed])
    assert np.corrcoef(mouth, jaw)[0, 1] > 0.9
    # in sync: the one-frame opening shows on exactly that frame, not the one before or after
    spike = spike_frame(anim.frames)
    assert closed[spike - 1] and closed[spike + 1]
    assert mouth[spike] > 3 * max(mouth[closed].max(), 1.0)
    assert forehead.max() < 0.25 * mouth.max()


def test_eyes_close_on_blink_frames(head_clip):
    anim, _, _, _, got = head_clip
    eyes = region_change(got["frames"], (0.3, 0.46), (0.2, 0.8), at_rest(anim))
    blink = anim.channel("eyeBlinkLeft") > 0.5
    assert blink.sum() == 4
    assert eyes[blink].min() > 3 * max(eyes[~blink].max(), 1.0), (eyes[blink], eyes[~blink])


def test_pose_matches_the_animation_at_every_frame():
    """Scene frame of animation frame i evaluates the shape keys to anim.weights[i] (also at 29.97 fps)."""
    rng = np.random.default_rng(3)
    anim = Animation(rng.uniform(0, 1, (40, arkit.COUNT)).astype(np.float32), 29.97)
    r = PlayblastRenderer(anim, size=32)
    try:
        blocks = r.object.data.shape_keys.key_blocks
        for i in (0, 1, 17, 39, 5):
            r.pose(i)
            got = np.array([blocks[name].value for name in arkit.NAMES])
            assert np.abs(got - anim.weights[i]).max() < 1e-4, i
    finally:
        r.close()


# ---------------------------------------------------------------------- a user's character
_CHARACTER = textwrap.dedent("""
    import os, sys
    import bpy, numpy as np
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    bpy.ops.mesh.primitive_uv_sphere_add(segments=32, ring_count=16, radius=0.1, location=(0.3, 0.2, 1.5))
    face = bpy.context.object
    face.name = "Face"
    mat = bpy.data.materials.new("Skin")
    mat.diffuse_color = (0.8, 0.25, 0.15, 1.0)
    face.data.materials.append(mat)
    n = len(face.data.vertices)
    co = np.empty(n * 3, np.float32)
    face.data.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    face.shape_key_add(name="Basis")
    def key(name, delta):
        kb = face.shape_key_add(name=name, from_mix=False)
        kb.data.foreach_set("co", (co + delta).ravel())
    low = (co[:, 2] < -0.02)[:, None]
    key("jawOpen", np.where(low, [0.0, 0.0, -0.08], 0.0))
    key("eyeBlinkLeft", np.where((co[:, 2] > 0.05)[:, None], [0.0, 0.0, -0.02], 0.0))
    key("mouthSmileLeft", np.where(((co[:, 0] > 0.05) & low[:, 0])[:, None], [0.02, 0.0, 0.02], 0.0))
    bpy.ops.mesh.primitive_cube_add(size=0.2, location=(1.0, 0.0, 0.0))
    bpy.context.object.name = "Plain"
    bpy.context.view_layer.objects.active = face
    bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
    sys.stdout.flush()
    os._exit(0)
""")


@pytest.fixture(scope="module")
def character(tmp_path_factory):
    d = tmp_path_factory.mktemp("character")
    path = d / "ball.blend"
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(d / "blender_user"))
    res = subprocess.run([sys.executable, "-c", _CHARACTER, str(path)], capture_output=True, text=True,
                         timeout=120, env=env)
    assert res.returncode == 0 and path.is_file(), res.stderr[-2000:]
    return path


def write_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), rate)
    return path


def test_character_playblast(character, tmp_path):
    wav = write_wav(tmp_path / "line.wav", 1.0)
    n = frame_count(1.0, FPS)
    anim = test_animation(n)
    info = write_playblast(anim, tmp_path / "ball.mp4", speech_path=wav, character=character,
                           object_name="Face", size=SIZE)
    assert (info.frames, info.width) == (n, SIZE)
    got = decode(tmp_path / "ball.mp4")
    assert len(got["frames"]) == n and got["audio"]["duration"] == pytest.approx(1.0, abs=1e-3)
    frames = got["frames"].astype(np.int16)
    background = frames[0, 2, 2]
    ball = np.abs(frames - background).max(axis=3) > 30            # [T, H, W]
    assert 0.1 < ball[0].mean() < 0.8
    centre = frames[0, SIZE // 2, SIZE // 2]
    assert centre[0] > centre[1] + 40  # the material's red shows
    # jawOpen stretches the ball downwards: its lowest row drops on the open frames
    lowest = np.array([np.flatnonzero(b.any(axis=1)).max() for b in ball])
    jaw = anim.channel("jawOpen")
    assert lowest[jaw > 0.9].min() > lowest[jaw == 0].max() + 0.1 * SIZE
    assert ball[:, :, :].any(axis=(1, 2)).all() and not ball[:, -1, :].any()  # stays in frame


def test_object_without_shape_keys_is_a_rig_error(character, tmp_path):
    wav = write_wav(tmp_path / "line.wav", 0.5)
    out = tmp_path / "take.mp4"
    out.write_bytes(b"previous take")
    anim = test_animation(frame_count(0.5, FPS))
    with pytest.raises(RigError, match="no shape keys"):
        write_playblast(anim, out, speech_path=wav, character=character, object_name="Plain", size=64)
    assert out.read_bytes() == b"previous take"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.wav", "take.mp4"]


def test_bad_input_fails_before_rendering(tmp_path):
    anim = test_animation(10)
    wav = write_wav(tmp_path / "line.wav", 0.3)
    with pytest.raises(AudioError):
        write_playblast(anim, tmp_path / "a.mp4", speech_path=tmp_path / "missing.wav")
    with pytest.raises(RigError):
        write_playblast(anim, tmp_path / "a.mp4", speech_path=wav, character=tmp_path / "none.blend")
    with pytest.raises(ValueError, match="even"):
        write_playblast(anim, tmp_path / "a.mp4", speech_path=wav, size=129)
    with pytest.raises(ValueError, match="anti_aliasing"):
        write_playblast(anim, tmp_path / "a.mp4", speech_path=wav, anti_aliasing="SMAA")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.wav"]


def test_interrupt_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C while rendering (here: raised from the progress callback) kills the child and
    leaves neither the mp4 nor any scratch folder."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    wav = write_wav(tmp_path / "line.wav", 1.0)
    out = tmp_path / "take.mp4"

    def progress(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_playblast(test_animation(frame_count(1.0, FPS)), out, speech_path=wav, size=64,
                        progress=progress)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.wav", "tmp"]
    assert list(scratch.iterdir()) == []
