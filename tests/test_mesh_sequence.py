"""Mesh sequences (PC2, NPZ) of the face model, checked in real Blender too."""

from __future__ import annotations

import os
import struct
import sys
import tracemalloc

import numpy as np
import pytest

from visemo import Animation, arkit
from visemo.errors import FormatError
from visemo.face.model import FaceModel, load_face_model
from visemo.face.sequence import (read_mesh_npz, read_pc2, write_animation_mesh,
                                  write_mesh_npz, write_pc2)


@pytest.fixture(scope="module")
def model() -> FaceModel:
    return load_face_model()


def talking_animation(frames: int = 8, fps: float = 30.0) -> Animation:
    """A few distinct poses: jaw opening, then a smile, then a blink."""
    w = np.zeros((frames, 52), np.float32)
    w[:, arkit.index("jawOpen")] = np.linspace(0.0, 1.0, frames)
    w[frames // 2:, arkit.index("mouthSmileLeft")] = 0.8
    w[-1, arkit.index("eyeBlinkRight")] = 1.0
    return Animation(w, fps)


# ---------------------------------------------------------------------- PC2
def test_pc2_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(5, 7, 3)).astype(np.float32)
    path = write_pc2(tmp_path / "a.pc2", v, fps=30, start_frame=12)
    raw = path.read_bytes()
    assert raw[:12] == b"POINTCACHE2\0"
    assert struct.unpack("<iiffi", raw[12:32]) == (1, 7, 12.0, 1.0, 5)
    assert len(raw) == 32 + 5 * 7 * 12
    cache = read_pc2(path)
    np.testing.assert_array_equal(cache.vertices, v)
    assert (cache.start_frame, cache.sample_rate) == (12.0, 1.0)


def test_pc2_sample_rate_is_scene_frames_per_sample(tmp_path):
    v = np.zeros((2, 3, 3), np.float32)
    cache = read_pc2(write_pc2(tmp_path / "b.pc2", v, fps=30, scene_fps=24))
    assert cache.sample_rate == pytest.approx(0.8)


def test_pc2_refuses_bad_input_and_leaves_nothing(tmp_path):
    target = tmp_path / "bad.pc2"
    with pytest.raises(FormatError, match="NaN"):
        write_pc2(target, np.full((2, 3, 3), np.nan), fps=30)
    with pytest.raises(FormatError, match="shape"):
        write_pc2(target, np.zeros((2, 3)), fps=30)
    with pytest.raises(FormatError, match="fps"):
        write_pc2(target, np.zeros((2, 3, 3)), fps=0)
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"not a cache")
    with pytest.raises(FormatError, match="POINTCACHE2"):
        read_pc2(target)


def test_failed_write_keeps_the_old_file(tmp_path, model, monkeypatch):
    path = tmp_path / "face.pc2"
    write_animation_mesh(talking_animation(), path, model)
    before = path.read_bytes()

    def failing(self, weights, chunk_frames=64):
        yield self.vertices[None]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(FaceModel, "iter_evaluate", failing)
    for suffix in (".pc2", ".npz"):
        with pytest.raises(RuntimeError, match="disk on fire"):
            write_animation_mesh(talking_animation(), path.with_suffix(suffix), model)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.pc2"]


# ---------------------------------------------------------------------- NPZ
def test_mesh_npz_round_trip(tmp_path, model):
    anim = talking_animation()
    v = model.evaluate(anim.weights)
    path = write_mesh_npz(tmp_path / "m.npz", v, model.face_sizes, model.face_indices, fps=30)
    with np.load(path) as z:
        np.testing.assert_array_equal(z["vertices"], v)
        np.testing.assert_array_equal(z["face_sizes"], model.face_sizes)
        np.testing.assert_array_equal(z["face_indices"], model.face_indices)
        assert float(z["fps"]) == 30.0
    assert read_mesh_npz(path)["vertices"].shape == (8, model.vertex_count, 3)


def test_animation_mesh_in_chunks_equals_full_evaluation(tmp_path, model):
    anim = talking_animation(frames=10)
    expected = model.evaluate(anim.weights)
    pc2 = write_animation_mesh(anim, tmp_path / "x.pc2", model, chunk_frames=4)
    np.testing.assert_array_equal(read_pc2(pc2).vertices, expected)
    npz = write_animation_mesh(anim, tmp_path / "x.npz", chunk_frames=3)  # default model
    np.testing.assert_array_equal(read_mesh_npz(npz)["vertices"], expected)
    with pytest.raises(FormatError, match=r"\.pc2 or \.npz"):
        write_animation_mesh(anim, tmp_path / "x.obj", model)


def test_one_minute_streams_in_bounded_memory(tmp_path, model):
    frames = 60 * 30
    w = np.zeros((frames, 52), np.float32)
    w[:, arkit.index("jawOpen")] = 0.5 + 0.5 * np.sin(np.arange(frames) / 5.0)
    anim = Animation(w, 30)
    full_bytes = frames * model.vertex_count * 12  # ~110 MB if held at once
    tracemalloc.start()
    try:
        path = write_animation_mesh(anim, tmp_path / "minute.pc2", model)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < full_bytes / 3
    assert path.stat().st_size == 32 + full_bytes
    cache = read_pc2(path)
    for f in (0, 777, frames - 1):
        np.testing.assert_array_equal(cache.vertices[f], model.evaluate(w[f]))


# ---------------------------------------------------------------------- Blender
@pytest.fixture(scope="module")
def bpy(tmp_path_factory):
    if "bpy" not in sys.modules:
        os.environ["BLENDER_USER_RESOURCES"] = str(tmp_path_factory.mktemp("blender_user"))
    return pytest.importorskip("bpy")


def test_blender_mesh_cache_plays_the_pc2(tmp_path, bpy, model):
    anim = talking_animation(frames=8, fps=30)
    expected = model.evaluate(anim.weights)
    first = 1  # scene frame that shows sample 0
    path = write_animation_mesh(anim, tmp_path / "talk.pc2", model, start_frame=first)

    scene = bpy.data.scenes.new("visemo_pc2_test")
    scene.render.fps = 30
    scene.frame_start, scene.frame_end = first, first + anim.frames - 1
    mesh = bpy.data.meshes.new("visemo_head")
    mesh.from_pydata(model.vertices.tolist(), [], model.polygons())
    mesh.update()
    obj = bpy.data.objects.new("visemo_head", mesh)
    scene.collection.objects.link(obj)
    try:
        rest = np.empty(model.vertex_count * 3, np.float32)
        mesh.vertices.foreach_get("co", rest)
        np.testing.assert_array_equal(rest.reshape(-1, 3), model.vertices)  # same order

        mod = obj.modifiers.new("visemo_cache", "MESH_CACHE")
        mod.cache_format = "PC2"
        mod.filepath = str(path)
        mod.frame_start = first  # Frame time mode: sample index = frame - frame_start
        view_layer = scene.view_layers[0]

        def evaluated(frame: int, subframe: float = 0.0) -> np.ndarray:
            scene.frame_set(frame, subframe=subframe)
            depsgraph = view_layer.depsgraph
            depsgraph.update()
            ev = obj.evaluated_get(depsgraph)
            me = ev.to_mesh()
            try:
                co = np.empty(len(me.vertices) * 3, np.float32)
                me.vertices.foreach_get("co", co)
            finally:
                ev.to_mesh_clear()
            return co.reshape(-1, 3)

        for i in range(anim.frames):
            got = evaluated(first + i)
            assert np.abs(got - expected[i]).max() < 1e-5, f"frame {first + i}"
        # between two samples Blender interpolates linearly
        mid = evaluated(first + 2, subframe=0.5)
        assert np.abs(mid - 0.5 * (expected[2] + expected[3])).max() < 1e-5
        # and the motion really is there: the jaw opens by several centimetres
        assert model.lip_gap(evaluated(first + anim.frames - 1)) > 0.025
    finally:
        bpy.data.objects.remove(obj)
        bpy.data.meshes.remove(mesh)
        bpy.data.scenes.remove(scene)
