"""Blender files: FBX/GLB/.blend written from an Animation and read back (real bpy)."""

import os
import tempfile

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from visemo import AudioError, FormatError, RigError, arkit  # noqa: E402
from visemo.blender import (  # noqa: E402
    build_head_object, files, new_empty_scene, read_shape_key_curves, write_animation_file,
    write_blend, write_fbx,
)
from visemo.blender.keyframes import channel_fcurves, data_path  # noqa: E402
from synthetic import grid_head, smooth_animation, write_wav  # noqa: E402


def only_files(folder):
    return sorted(p.name for p in folder.iterdir())


def ordered(names, values):
    """Columns of ``values`` in ARKit order (by name, never by position)."""
    return values[:, [names.index(n) for n in arkit.NAMES]]


@pytest.fixture
def wav(tmp_path):
    return write_wav(tmp_path / "speech.wav", seconds=3.0)


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("suffix", [".fbx", ".glb"])
@pytest.mark.parametrize("start", [1, 10])
def test_export_round_trip(tmp_path, wav, suffix, start):
    anim = smooth_animation(90)
    out = tmp_path / f"anim{suffix}"
    write_animation_file(anim, out, speech_path=wav, head=grid_head(), start_frame=start)
    assert out.is_file() and only_files(tmp_path) == sorted([out.name, wav.name])
    scene = bpy.context.scene  # the exported scene is still open
    assert (scene.render.fps, scene.render.fps_base) == (30, 1.0)
    assert (scene.frame_start, scene.frame_end) == (start, start + 89)
    strips = scene.sequence_editor.strips_all
    assert len(strips) == 1 and strips[0].type == "SOUND" and strips[0].frame_start == start

    names, values = read_shape_key_curves(out, 30, frame_range=(start, start + 89))
    assert sorted(names) == sorted(arkit.NAMES)
    assert values.shape == (90, 52)
    np.testing.assert_allclose(ordered(names, values), anim.weights, atol=1e-4)
    # the default sampling range is the span of the keys: the same frames
    names2, values2 = read_shape_key_curves(out, 30)
    np.testing.assert_array_equal(values2, values)


def test_blend_output(tmp_path, wav):
    anim = smooth_animation(75, fps=25.0)
    out = tmp_path / "scene.blend"
    write_animation_file(anim, out, speech_path=wav, head=grid_head(), start_frame=5)
    assert only_files(tmp_path) == sorted([out.name, wav.name])
    bpy.ops.wm.open_mainfile(filepath=str(out), load_ui=False)
    scene = bpy.context.scene
    assert (scene.render.fps, scene.render.fps_base) == (25, 1.0)
    assert (scene.frame_start, scene.frame_end) == (5, 79)
    (strip,) = scene.sequence_editor.strips_all
    assert strip.type == "SOUND" and strip.frame_start == 5
    assert strip.frame_final_duration == 75  # 3 s at 25 fps
    assert os.path.samefile(bpy.path.abspath(strip.sound.filepath), wav)
    obj = bpy.data.objects["visemo_head"]
    key = obj.data.shape_keys
    slot = key.animation_data.action_slot
    assert slot is not None and slot.target_id_type == "KEY" and key in slot.users()
    fcs = channel_fcurves(key)
    got = np.array([[fcs[data_path(n)].evaluate(f) for n in arkit.NAMES] for f in range(5, 80)])
    np.testing.assert_allclose(got, anim.weights, atol=1e-6)


def test_ntsc_fps(tmp_path):
    anim = smooth_animation(30, fps=29.97)
    out = tmp_path / "ntsc.blend"
    write_animation_file(anim, out, head=grid_head())
    bpy.ops.wm.open_mainfile(filepath=str(out), load_ui=False)
    scene = bpy.context.scene
    assert scene.render.fps == 30 and scene.render.fps_base == pytest.approx(1.001)


def test_default_head_is_the_face_model(tmp_path):
    model = pytest.importorskip("visemo.face.model").load_face_model()
    anim = smooth_animation(20)
    out = tmp_path / "default.glb"
    write_animation_file(anim, out)
    names, values = read_shape_key_curves(out, 30, frame_range=(1, 20))
    assert sorted(names) == sorted(arkit.NAMES)
    assert len(bpy.context.scene.objects[0].data.vertices) >= model.vertex_count // 2
    np.testing.assert_allclose(ordered(names, values), anim.weights, atol=1e-4)


# ---------------------------------------------------------------- characters
def make_character(path, shape_keys=True, arkit_names=True):
    new_empty_scene()
    names = arkit.NAMES if arkit_names else ("Smile", "Frown")
    root = bpy.data.objects.new("rig_root", None)
    bpy.context.scene.collection.objects.link(root)
    if shape_keys:
        face = build_head_object(*grid_head(names=names), name="face")
    else:
        me = bpy.data.meshes.new("face")
        me.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
        face = bpy.data.objects.new("face", me)
        bpy.context.scene.collection.objects.link(face)
    face.parent = root
    other = bpy.data.objects.new("prop", bpy.data.meshes.new("prop"))
    bpy.context.scene.collection.objects.link(other)
    bpy.context.view_layer.objects.active = face
    write_blend(path)
    return path


def test_character_fbx_exports_its_hierarchy(tmp_path, wav):
    char = make_character(tmp_path / "char.blend")
    anim = smooth_animation(40)
    out = tmp_path / "char.fbx"
    write_animation_file(anim, out, speech_path=wav, character=char, object_name="face")
    names, values = read_shape_key_curves(out, 30, frame_range=(1, 40))
    np.testing.assert_allclose(ordered(names, values), anim.weights, atol=1e-4)
    imported = {o.name for o in bpy.context.scene.objects}
    assert "prop" not in imported and {"face", "rig_root"} <= imported


@pytest.mark.parametrize("suffix", [".fbx", ".glb", ".blend"])
@pytest.mark.parametrize("case", ["no_keys", "no_arkit"])
def test_rig_error_writes_nothing(tmp_path, suffix, case):
    char = make_character(tmp_path / "char.blend", shape_keys=case != "no_keys", arkit_names=False)
    out = tmp_path / f"out{suffix}"
    before = only_files(tmp_path)
    with pytest.raises(RigError, match="object 'face'"):
        write_animation_file(smooth_animation(10), out, character=char)
    assert only_files(tmp_path) == before


def test_bad_inputs_write_nothing(tmp_path):
    before = only_files(tmp_path)
    with pytest.raises(FormatError):
        write_animation_file(smooth_animation(5), tmp_path / "out.obj", head=grid_head())
    with pytest.raises(AudioError):
        write_animation_file(smooth_animation(5), tmp_path / "out.fbx", head=grid_head(),
                             speech_path=tmp_path / "missing.wav")
    with pytest.raises(RigError, match="no object named 'nope'"):
        write_animation_file(smooth_animation(5), tmp_path / "out.fbx",
                             character=make_character(tmp_path / "c.blend"), object_name="nope")
    assert only_files(tmp_path) == sorted([*before, "c.blend"])


def test_exporter_failure_leaves_nothing(tmp_path, monkeypatch):
    new_empty_scene()
    obj = build_head_object(*grid_head())
    monkeypatch.setitem(files.FBX_OPTIONS, "no_such_option", True)
    out = tmp_path / "broken.fbx"
    with pytest.raises(TypeError):
        write_fbx(out, [obj])
    assert only_files(tmp_path) == []


def test_read_shape_key_curves_rejects_other_files(tmp_path):
    with pytest.raises(FormatError):
        read_shape_key_curves(tmp_path / "missing.fbx", 30)
    p = tmp_path / "x.obj"
    p.write_text("v 0 0 0\n")
    with pytest.raises(FormatError):
        read_shape_key_curves(p, 30)
