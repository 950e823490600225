"""Animation: transforms and file round trips (JSON, Live Link Face CSV, NPZ)."""

import csv
import json

import numpy as np
import pytest

from visemo import Animation, arkit
from visemo.errors import FormatError
from visemo.export import livelink_csv


def _random_anim(frames=120, fps=30.0, seed=1):
    rng = np.random.default_rng(seed)
    return Animation(rng.random((frames, 52)), fps)


def test_arkit_order_and_groups():
    assert arkit.NAMES[0] == "eyeBlinkLeft" and arkit.NAMES[-1] == "tongueOut"
    assert arkit.index("jawOpen") == 17 and arkit.index("mouthClose") == 18
    assert len(arkit.PAIRS) == 20  # incl. jawLeft/Right, mouthLeft/Right
    for left, right in arkit.PAIRS:
        assert arkit.mirror(arkit.NAMES[left]) == arkit.NAMES[right]
    assert arkit.group_mask("brows").sum() == 5


@pytest.mark.parametrize("suffix", [".json", ".csv", ".npz"])
@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0, 29.97])
def test_round_trip_exact(tmp_path, suffix, fps):
    anim = _random_anim(frames=200, fps=fps)
    path = anim.save(tmp_path / f"a{suffix}")
    back = Animation.load(path, fps=fps if suffix == ".csv" and fps == 29.97 else None)
    assert back.frames == anim.frames
    assert back.fps == pytest.approx(fps)
    assert np.max(np.abs(back.weights - anim.weights)) <= 1e-6


def test_json_is_the_documented_format_and_matched_by_name(tmp_path):
    anim = _random_anim(frames=5)
    path = anim.save(tmp_path / "a.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == "visemo.animation" and doc["version"] == 1
    assert doc["names"] == list(arkit.NAMES) and len(doc["weights"]) == 5
    # reverse the column order in the file: values must still land by name
    doc["names"] = doc["names"][::-1]
    doc["weights"] = [row[::-1] for row in doc["weights"]]
    path.write_text(json.dumps(doc))
    assert np.array_equal(Animation.load(path).weights, anim.weights)


def test_livelink_csv_layout(tmp_path):
    anim = _random_anim(frames=65, fps=30)
    path = anim.save(tmp_path / "take.csv")
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0][:3] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft"]
    assert rows[0][-9:] == list(livelink_csv.ROTATIONS) and len(rows[0]) == 2 + 52 + 9
    assert rows[1][0] == "00:00:00:00.000" and rows[1][1] == "61"
    assert rows[31][0] == "00:00:01:00.000"
    assert rows[45][0] == "00:00:01:14.000"


def test_livelink_capture_with_shuffled_columns_and_dropped_frame(tmp_path):
    """A capture as the app writes it: other column order, a dropped frame, 60 fps."""
    fps = 60
    names = list(arkit.NAMES)[::-1]
    header = ["Timecode", "BlendShapeCount"] + [n[0].upper() + n[1:] for n in names]
    t_frames = [i for i in range(200) if i != 50]  # frame 50 dropped
    ramp = lambda i: (i % 100) / 100.0  # noqa: E731
    lines = [",".join(header)]
    for i in t_frames:
        tc = livelink_csv.timecode(i + 3 * 60 * 60 * fps, fps)  # starts at 03:00:00
        lines.append(",".join([tc, "52"] + [f"{ramp(i) * (k % 2):.6f}" for k in range(52)]))
    p = tmp_path / "capture.csv"
    p.write_text("\n".join(lines))
    anim = Animation.load(p)
    assert anim.fps == 60 and anim.frames == 200
    # channel names[1] (odd k) carries the ramp, names[0] zero
    assert np.allclose(anim.channel(names[1])[:50], [ramp(i) for i in range(50)], atol=1e-6)
    assert anim.channel(names[1])[50] == pytest.approx(0.5, abs=1e-6)  # interpolated gap
    assert np.all(anim.channel(names[0]) == 0)


def test_bad_files_raise_format_error(tmp_path):
    with pytest.raises(FormatError, match="suffix|format"):
        _random_anim().save(tmp_path / "a.xyz")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(FormatError, match="not valid JSON"):
        Animation.load(bad)
    with pytest.raises(FormatError, match="not found"):
        Animation.load(tmp_path / "missing.json")


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    from visemo.export import animation_json

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(animation_json.json, "dumps", boom)
    with pytest.raises(RuntimeError):
        _random_anim().save(tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def test_resample_keeps_duration_and_values():
    t = np.arange(90) / 30.0
    w = np.zeros((90, 52), np.float32)
    w[:, 17] = 0.5 + 0.4 * np.sin(2 * np.pi * 0.5 * t)
    anim = Animation(w, 30)
    up = anim.resample(60)
    assert up.frames == 180 and up.duration == pytest.approx(anim.duration)
    expected = 0.5 + 0.4 * np.sin(2 * np.pi * 0.5 * up.times)
    assert np.max(np.abs(up.channel("jawOpen")[:-2] - expected[:-2])) < 2e-3
    assert np.allclose(up.resample(30).weights, anim.weights, atol=1e-6)


def test_smooth_only_touches_named_channels():
    w = np.zeros((61, 52), np.float32)
    w[30, :] = 1.0
    sm = Animation(w, 30).smooth(0.05, channels=["jawOpen"])
    jaw = sm.channel("jawOpen")
    assert jaw[30] < 0.5 and jaw.sum() == pytest.approx(1.0, rel=1e-3)
    assert sm.channel("eyeBlinkLeft")[30] == 1.0


def test_layer_modes_and_groups():
    base = Animation(np.full((10, 52), 0.4, np.float32), 30)
    top = Animation(np.full((5, 52), 0.5, np.float32), 30)  # shorter: holds last frame
    added = base.layer(top, "add", groups=["brows"])
    assert np.allclose(added.channel("browInnerUp"), 0.9)
    assert np.allclose(added.channel("jawOpen"), 0.4)
    mult = base.layer(top, "multiply", channels=["jawOpen"])
    assert np.allclose(mult.channel("jawOpen"), 0.2)
    over = base.layer(top, "override")
    assert np.allclose(over.weights, 0.5)
    clamped = base.layer(Animation(np.ones((10, 52)), 30), "add")
    assert clamped.weights.max() == 1.0
    with pytest.raises(ValueError):
        base.layer(top.resample(60), "add")


def test_slicing_and_clamp():
    anim = _random_anim(frames=100)
    assert anim[10:20].frames == 10
    assert np.array_equal(anim[10:20].weights, anim.weights[10:20])
    s = anim.slice_time(1.0, 2.0)
    assert s.frames == 30 and np.array_equal(s.weights[0], anim.weights[30])
    big = Animation(np.full((3, 52), 0.5, np.float32), 30).scaled(3.0)
    assert big.clamp().weights.max() == 1.0


def test_invalid_weights_rejected():
    with pytest.raises(FormatError):
        Animation(np.zeros((10, 51)), 30)
    with pytest.raises(FormatError):
        Animation(np.full((10, 52), np.nan), 30)
    with pytest.raises(FormatError):
        Animation(np.zeros((10, 52)), 0)
