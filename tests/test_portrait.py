"""The talking portrait (render2d): topology, fit, warp, mouth, lids, video, CLI, bad photos.

Real mediapipe on the two public-domain portraits that ship in packages
(scikit-image's astronaut: smiling with teeth; matplotlib's Grace Hopper:
closed mouth, glasses), real flite speech, real H.264 decoded back with
PyAV.  What a viewer sees is measured by finding the face again on the
output frames (``visemo.render2d.metrics``).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from visemo import arkit
from visemo.errors import ImageError

HAVE_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None
pytestmark = pytest.mark.skipif(not HAVE_MEDIAPIPE, reason="the portrait renderer needs mediapipe 0.10.21")


def weights(**channels: float) -> np.ndarray:
    """ARKit weights [52] from names; a name without Left/Right sets both sides."""
    w = np.zeros(arkit.COUNT, np.float32)
    for name, value in channels.items():
        for n in ([name] if name in arkit.NAMES else [name + "Left", name + "Right"]):
            w[arkit.index(n)] = value
    return w


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    d = tmp_path_factory.mktemp("portraits")
    astronaut = d / "astronaut.png"
    Image.fromarray(data.astronaut()).save(astronaut)
    return {"astronaut": astronaut,
            "hopper": Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))}


@pytest.fixture(scope="module")
def rigs(photos):
    from visemo.render2d import fit_portrait

    return {name: fit_portrait(path, 256) for name, path in photos.items()}


@pytest.fixture(scope="module")
def renderers(rigs):
    from visemo.render2d.portrait import PortraitRenderer

    return {name: PortraitRenderer(rig) for name, rig in rigs.items()}


# ---------------------------------------------------------------------- topology
def test_mesh_topology_has_the_face_outline_and_three_holes():
    from visemo.render2d import topology as topo

    tris = topo.mesh_triangles()
    assert tris.shape == (852, 3)
    uses = Counter()
    for t in tris:
        for e in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])):
            uses[tuple(sorted(e))] += 1
    assert set(uses.values()) == {1, 2}  # a manifold: no edge in three faces
    boundary = {e for e, n in uses.items() if n == 1}

    def loop(points):
        return {tuple(sorted((points[i], points[(i + 1) % len(points)]))) for i in range(len(points))}

    holes = [topo.FACE_OVAL, topo.ring(topo.LIPS_UPPER_INNER, topo.LIPS_LOWER_INNER),
             topo.ring(topo.RIGHT_EYE_UPPER, topo.RIGHT_EYE_LOWER), topo.ring(topo.LEFT_EYE_UPPER, topo.LEFT_EYE_LOWER)]
    assert set().union(*(loop(h) for h in holes)) == boundary


# ---------------------------------------------------------------------- fit
def test_fit_crops_to_the_face_and_moves_landmarks_the_right_way(rigs):
    from visemo.render2d import topology as topo

    for name, rig in rigs.items():
        assert rig.image.shape == (256, 256, 3) and rig.basis.shape == (52, 478, 2)
        height = np.linalg.norm(rig.points[topo.CHIN] - rig.points[topo.FOREHEAD])
        assert 0.3 * 256 < height < 0.6 * 256, name  # the face fills about half the crop
        d = rig.basis[arkit.index("jawOpen")]
        lower, upper = np.array(topo.LIPS_LOWER_INNER[1:-1]), np.array(topo.LIPS_UPPER_INNER[1:-1])
        assert d[lower, 1].mean() > 0.08 * height * 0.3       # jaw down: the lower lip goes down the image
        assert abs(d[upper, 1].mean()) < 0.25 * d[lower, 1].mean()
        assert 0.5 * d[14, 1] < d[topo.CHIN, 1] < d[14, 1]          # the chin follows, less than the lip
        blink = rig.basis[arkit.index("eyeBlinkRight")]
        gap = (rig.points[145] - rig.points[159])[1]
        assert blink[159, 1] - blink[145, 1] == pytest.approx(gap, rel=0.15)  # the lids meet at eyeBlink=1
        assert abs(blink[386, 1]) < 0.1 * gap                  # the other eye stays open


def test_a_photo_with_parted_lips_is_closed_at_rest(rigs):
    from visemo.render2d.rig import mouth_gap

    astro, hopper = rigs["astronaut"], rigs["hopper"]
    assert astro.mouth_gap > 0.1 and hopper.mouth_gap < 0.02     # astronaut smiles with teeth
    assert np.abs(hopper.rest_offset).max() == 0.0
    width = np.linalg.norm(astro.points[308] - astro.points[78])
    closed = astro.points + astro.rest_offset
    assert mouth_gap(astro.points).max() > 0.1 * width
    assert np.abs(mouth_gap(closed)).max() < 0.01 * width
    far = np.linalg.norm(astro.points - astro.points[13], axis=1) > 0.9 * width
    assert np.abs(astro.rest_offset[far]).max() < 0.05 * width   # the rest of the face barely moves


def test_the_photos_own_emotion_is_read_only_when_fit_and_fer_agree(rigs):
    from visemo.emotion.photo_fer import fer_available
    from visemo.render2d.rig import emotion_strength

    if not fer_available():
        pytest.skip("fer is not installed")
    astro, hopper = rigs["astronaut"], rigs["hopper"]
    assert astro.photo_label == "happy" and astro.baseline[arkit.index("mouthSmileLeft")] > 0.5
    assert hopper.photo_label == "neutral" and not hopper.baseline.any()
    expr = np.stack([np.zeros(52), weights(mouthSmile=0.25), weights(browInnerUp=0.9), weights(jawOpen=1.0)])
    np.testing.assert_allclose(emotion_strength(expr), [0.0, 0.5, 1.0, 0.0])


# ---------------------------------------------------------------------- frames
def test_rest_frame_is_the_photo_bit_for_bit_and_outside_the_mesh_nothing_moves(rigs, renderers):
    hopper = renderers["hopper"]
    np.testing.assert_array_equal(hopper.frame(np.zeros(52, np.float32)), rigs["hopper"].image)
    for name, r in renderers.items():
        frame = r.frame(weights(jawOpen=0.4, eyeBlink=1.0, mouthSmile=0.8, browInnerUp=1.0))
        x0, y0, x1, y1 = r.mesh.roi
        outside = np.ones(frame.shape[:2], bool)
        outside[y0:y1, x0:x1] = False
        assert outside.any()
        np.testing.assert_array_equal(frame[outside], rigs[name].image[outside])
        assert np.abs(frame.astype(int) - rigs[name].image).max() > 40  # and inside, the face did move


def test_frames_depend_only_on_their_weights(renderers):
    r = renderers["astronaut"]
    a = r.frame(weights(jawOpen=0.3))
    r.frame(weights(eyeBlink=1.0, mouthFunnel=0.7))
    np.testing.assert_array_equal(r.frame(weights(jawOpen=0.3)), a)


def test_mediapipe_sees_the_mouth_open_and_close_with_the_jaw(rigs, renderers):
    from visemo.face.model import load_face_model
    from visemo.render2d.metrics import track_frames

    model = load_face_model()
    for name, r in renderers.items():
        rig = rigs[name]
        jaws = [0.0, 0.15, 0.3, 0.45]
        track = track_frames([r.frame(weights(jawOpen=j)) for j in jaws])
        seen_mm = (track.lip_gap_px - track.lip_gap_px[0]) / rig.px_per_m * 1000
        truth_mm = [1000 * float(model.lip_gap_of_weights(weights(jawOpen=j))) for j in jaws]
        assert np.all(np.diff(seen_mm) > 0), (name, seen_mm)
        np.testing.assert_allclose(seen_mm[1:], truth_mm[1:], rtol=0.45, err_msg=name)
        # the bilabial closure: jaw open but lips sealed reads closed again
        sealed = track_frames([r.frame(weights(jawOpen=0.3, mouthClose=0.3))])
        assert (sealed.lip_gap_px[0] - track.lip_gap_px[0]) / rig.px_per_m * 1000 < 1.0


def test_the_mouth_shows_a_dark_inside_and_teeth(renderers):
    from visemo.render2d.mesh import HOLE

    for name, r in renderers.items():
        w = weights(jawOpen=0.4)
        pos, src = r.mesh.frame(r.rig.displacement(w))
        res = r.warp.warp(pos, src, r.mesh.layer, r.mesh.triangles)
        hole = np.append(r.mesh.kind, 0)[res.triangle] == HOLE
        assert hole.sum() > 60, name
        inside = r.frame_roi(w)[hole].astype(float).mean(axis=1)
        lips = r.mouth.colours.lips.mean()
        assert np.percentile(inside, 30) < 0.6 * lips, name     # a dark cavity
        assert np.percentile(inside, 99) > lips + 20, name      # and teeth brighter than the lips


def test_lids_close_over_the_eyes_as_skin(rigs, renderers):
    from visemo.render2d.metrics import track_frames

    for name, r in renderers.items():
        rig = rigs[name]
        frames = [r.frame(weights(eyeBlink=b)) for b in (0.0, 0.5, 1.0)]
        ear = track_frames(frames).ear.mean(axis=1)
        assert ear[2] < 0.85 * ear[0] and ear[1] < ear[0], (name, ear)
        # shut: the eye opening shows no dark pupil any more, only skin-bright pixels
        iris = np.round(rig.points[468]).astype(int)
        patch = lambda f: f[iris[1] - 2:iris[1] + 3, iris[0] - 2:iris[0] + 3].astype(float).mean()  # noqa: E731
        assert patch(frames[2]) > patch(frames[0]) + 25, (name, patch(frames[0]), patch(frames[2]))


# ---------------------------------------------------------------------- video
def test_render_portrait_writes_an_mp4_as_long_as_the_speech(photos, rigs, synth, tmp_path):
    import av

    from visemo.pipeline import perform
    from visemo.render2d import render_portrait
    from visemo.render2d.metrics import track_frames, video_frames

    u = synth("Bob bought a big map.", "awb")
    perf = perform(u.path, "surprised", transcript=u.text, fps=25, seed=1)
    out = tmp_path / "talk.mp4"
    seen = []
    info = render_portrait(perf, None, out, speech=u.path, rig=rigs["hopper"], progress=lambda d, t: seen.append((d, t)))
    assert info.frames == perf.animation.frames and seen[-1] == (info.frames, info.frames)
    with av.open(str(out)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.codec_context.name, v.width, v.height, v.format.name) == ("h264", 256, 256, "yuv420p")
        assert a.codec_context.name == "aac"
        assert abs(float(v.duration * v.time_base) - u.duration) <= 1 / 25 + 0.01
    frames = list(video_frames(out))
    assert len(frames) == perf.animation.frames
    # the lips close on the B/M/P of "Bob bought a big map" and open between
    track = track_frames(frames)
    gaps = track.lip_gap_px - np.nanmin(track.lip_gap_px)
    assert np.nanmax(gaps) > 6 * max(np.nanpercentile(gaps, 5), 0.5)


def test_whole_photo_mode_keeps_the_photo_size_padded_to_even(photos, tmp_path):
    from PIL import Image

    from visemo.render2d import fit_portrait

    odd = tmp_path / "odd.png"
    Image.open(photos["hopper"]).crop((0, 0, 511, 599)).save(odd)
    rig = fit_portrait(odd, None)
    assert rig.image.shape == (600, 512, 3) and rig.crop is None
    original = np.asarray(Image.open(odd).convert("RGB"))
    np.testing.assert_array_equal(rig.image[:599, :511], original)


# ---------------------------------------------------------------------- bad photos and the CLI
def _visemo(*args):
    return subprocess.run([sys.executable, "-m", "visemo.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    import tts

    if not tts.have_flite():
        pytest.skip("flite is not installed")
    return tts.synthesize("Mom made a map.", "slt", tmp_path_factory.mktemp("tts-portrait"))


def test_cli_talking_portrait_and_curves(photos, speech, tmp_path):
    out, curves = tmp_path / "talk.mp4", tmp_path / "talk.json"
    r = _visemo("animate", speech.path, "--portrait", photos["astronaut"], "--emotion", "sad", "--size", "128",
                "--transcript", speech.text, "-o", out, "-o", curves)
    assert r.returncode == 0, r.stderr
    assert "it looks happy" in r.stderr and "portrait video [" in r.stderr
    from visemo.animation import Animation
    from visemo.render2d.metrics import video_frames

    frames = list(video_frames(out))
    assert len(frames) == Animation.load(curves).frames and frames[0].shape == (128, 128, 3)


def _bad(tmp_path, photos) -> dict[str, Path]:
    from PIL import Image

    hopper = Image.open(photos["hopper"])
    files = {}
    files["no face"] = tmp_path / "wall.png"
    Image.fromarray(np.full((300, 300, 3), 120, np.uint8)).save(files["no face"])
    files["two faces"] = tmp_path / "two.png"
    both = Image.new("RGB", (1024, 600))
    both.paste(hopper, (0, 0))
    both.paste(hopper, (512, 0))
    both.save(files["two faces"])
    files["sideways"] = tmp_path / "sideways.jpg"
    hopper.rotate(90, expand=True).save(files["sideways"])
    files["truncated"] = tmp_path / "cut.jpg"
    data = Path(photos["hopper"]).read_bytes()
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["not an image"] = tmp_path / "notes.jpg"
    files["not an image"].write_text("hello")
    files["tiny face"] = tmp_path / "tiny.png"
    hopper.resize((100, 117)).save(files["tiny face"])
    files["huge"] = tmp_path / "huge.png"
    Image.new("L", (8001, 16)).save(files["huge"])
    return files


@pytest.mark.parametrize("case,message", [
    ("no face", "no face found"), ("two faces", "2 faces found"), ("sideways", "rotate the photo upright"),
    ("truncated", "incomplete or damaged"), ("not an image", "not a picture"), ("tiny face", "pixels across"),
    ("huge", "8000 px"), ("missing", "not found"),
])
def test_cli_refuses_bad_portraits_with_one_line_and_no_file(photos, speech, tmp_path, case, message):
    files = _bad(tmp_path, photos)
    photo = files.get(case, tmp_path / "missing.jpg")
    out = tmp_path / "talk.mp4"
    r = _visemo("animate", speech.path, "--portrait", photo, "--transcript", speech.text, "-q", "-o", out)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("visemo: error:") and message in lines[0], lines
    assert not out.exists() and not list(tmp_path.glob("*.part*"))


def test_a_face_turned_too_far_is_refused(photos, monkeypatch):
    from visemo.render2d import fit_portrait, rig

    monkeypatch.setattr(rig, "MAX_YAW_DEG", 0.5)  # Grace Hopper looks ~1° sideways
    with pytest.raises(ImageError, match="turned too far from the camera"):
        fit_portrait(photos["hopper"], 256)


def test_cli_option_mistakes_exit_2(photos, speech, tmp_path):
    for args, message in (
        (["--portrait", photos["hopper"], "-o", tmp_path / "x.json"], "add an .mp4 output"),
        (["--portrait", photos["hopper"], "--size", "33", "-o", tmp_path / "x.mp4"], "even number"),
        (["--size", "full", "-o", tmp_path / "x.mp4"], "playblast needs a number"),
        (["--size", "256", "-o", tmp_path / "x.json"], "apply to .mp4 outputs only"),
    ):
        r = _visemo("animate", speech.path, "--transcript", speech.text, "-q", *args)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("kind", ["grey", "rgba", "cmyk", "16bit", "exif-rotated"])
def test_unusual_but_valid_photos_work_and_come_out_upright(photos, rigs, tmp_path, kind):
    import cv2
    from PIL import Image

    from visemo.render2d import fit_portrait

    hopper = Image.open(photos["hopper"]).convert("RGB")
    path = tmp_path / f"{kind}.png"
    if kind == "grey":
        hopper.convert("L").save(path)
    elif kind == "rgba":
        rgba = hopper.convert("RGBA")
        rgba.putalpha(255)
        rgba.save(path)
    elif kind == "cmyk":
        path = path.with_suffix(".jpg")
        hopper.convert("CMYK").save(path, quality=95)
    elif kind == "16bit":
        cv2.imwrite(str(path), cv2.cvtColor(np.asarray(hopper), cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)
    else:
        path = path.with_suffix(".jpg")
        exif = Image.Exif()
        exif[0x0112] = 6  # stored turned; a viewer rotates it 90° clockwise to show it upright
        hopper.rotate(90, expand=True).save(path, exif=exif, quality=95)
    rig = fit_portrait(path, 256)
    ref = rigs["hopper"]
    # the same face in the same place: upright, found, fitted alike
    assert np.abs(rig.points[:468] - ref.points[:468]).mean() < 3.0
    assert abs(rig.pose_deg[2] - ref.pose_deg[2]) < 5.0


def test_cli_refiner_option_applies_a_saved_refiner(photos, speech, tmp_path):
    pytest.importorskip("torch")
    from visemo.render2d.metrics import video_frames
    from visemo.render2d.refine import RefinerConfig, build_network, save_refiner

    config = RefinerConfig(net_size=32, channels=(4, 4, 8, 8))
    save_refiner(build_network(config), config, tmp_path / "refiner")  # a new network returns v1's frame
    common = ["animate", speech.path, "--portrait", photos["hopper"], "--size", "128", "--transcript", speech.text, "-q"]
    plain = _visemo(*common, "-o", tmp_path / "plain.mp4")
    refined = _visemo(*common, "--refiner", tmp_path / "refiner", "-o", tmp_path / "refined.mp4")
    assert plain.returncode == 0 and refined.returncode == 0, (plain.stderr, refined.stderr)
    for a, b in zip(video_frames(tmp_path / "plain.mp4"), video_frames(tmp_path / "refined.mp4")):
        np.testing.assert_array_equal(a, b)
    bad = _visemo(*common, "--refiner", tmp_path / "nothing", "-o", tmp_path / "bad.mp4")
    assert bad.returncode == 2 and "refiner" in bad.stderr and not (tmp_path / "bad.mp4").exists()
