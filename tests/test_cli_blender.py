"""``visemo animate`` → .fbx / .glb / .blend: re-imported in a fresh scene, the
52 shape keys are animated over the speech's duration and match the Animation."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bu-"))
import bpy  # noqa: E402

from visemo import Animation, arkit  # noqa: E402
from visemo.blender import read_shape_key_curves  # noqa: E402
from visemo.blender.keyframes import channel_fcurves  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets/speech/sense_and_sensibility_0870.wav"
SPEECH_SECONDS = 7.1


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-blender")
    outs = {s: d / f"take{s}" for s in (".json", ".fbx", ".glb", ".blend")}
    args = [sys.executable, "-m", "visemo.cli", "animate", str(SAMPLE), "--emotion", "happy",
            "--intensity", "0.7", "--seed", "2", "-q"]
    for p in outs.values():
        args += ["-o", str(p)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return outs, Animation.load(outs[".json"])


@pytest.mark.parametrize("suffix", [".fbx", ".glb"])
def test_export_reimports_with_all_52_keys(written, suffix):
    outs, anim = written
    assert anim.frames == int(np.ceil(SPEECH_SECONDS * 30))
    names, values = read_shape_key_curves(outs[suffix], anim.fps, frame_range=(1, anim.frames))
    assert sorted(names) == sorted(arkit.NAMES)
    cols = [names.index(n) for n in arkit.NAMES]
    err = np.abs(values[:, cols] - anim.weights)
    assert err.max() <= 1e-4, (suffix, float(err.max()))
    # every channel carries an F-curve with keys spanning the speech
    key = next(o for o in bpy.context.scene.objects if o.type == "MESH").data.shape_keys
    fcurves = channel_fcurves(key)
    assert len(fcurves) == 52
    for fc in fcurves.values():
        first, last = fc.range()
        assert first <= 1.0 and last >= anim.frames - 1, (fc.data_path, first, last)
    # the animation is alive: mouth moves, the smile holds
    assert np.ptp(anim.channel("jawOpen")) > 0.3
    assert anim.channel("mouthSmileLeft").min() > 0.4


def test_blend_has_sound_fps_and_range(written):
    outs, anim = written
    bpy.ops.wm.open_mainfile(filepath=str(outs[".blend"]), load_ui=False)
    scene = bpy.context.scene
    assert scene.render.fps == 30 and (scene.frame_start, scene.frame_end) == (1, anim.frames)
    (strip,) = scene.sequence_editor.strips_all
    assert strip.type == "SOUND" and strip.frame_start == 1
    assert abs(strip.frame_final_duration - SPEECH_SECONDS * 30) <= 1
    key = bpy.data.objects["visemo_head"].data.shape_keys
    assert len(key.key_blocks) == 53  # Basis + 52
    fcurves = channel_fcurves(key)
    got = np.array([[fcurves[f'key_blocks["{n}"].value'].evaluate(f) for n in arkit.NAMES]
                    for f in range(1, anim.frames + 1)])
    assert np.abs(got - anim.weights).max() <= 1e-6
