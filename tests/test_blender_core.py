"""visemo.blender: head builder, shape-key map, bulk keyframing, scene setup (real bpy)."""

import os
import tempfile

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from visemo import Animation, RigError, arkit  # noqa: E402
from visemo.blender import (  # noqa: E402
    add_sound_strip, build_head_object, find_target_object, key_animation,
    key_animation_keyframe_insert, new_empty_scene, prepare_scene, shape_key_map,
)
from visemo.blender.keyframes import channel_fcurves, data_path, frame_numbers  # noqa: E402
from visemo.blender.scene import fps_pair  # noqa: E402
from synthetic import grid_head, smooth_animation, write_wav  # noqa: E402


@pytest.fixture
def scene():
    sc = new_empty_scene()
    prepare_scene(sc, 30, 1, 90)
    return sc


@pytest.fixture
def head(scene):
    return build_head_object(*grid_head())


# ---------------------------------------------------------------- head
def test_head_has_basis_and_one_key_per_name(head):
    verts, sizes, index, deltas, names = grid_head()
    me = head.data
    assert len(me.vertices) == len(verts) and len(me.polygons) == len(sizes)
    blocks = me.shape_keys.key_blocks
    assert [kb.name for kb in blocks] == ["Basis", *arkit.NAMES]
    co = np.empty(len(verts) * 3, np.float32)
    blocks["Basis"].data.foreach_get("co", co)
    np.testing.assert_allclose(co.reshape(-1, 3), verts, atol=1e-7)
    k = arkit.index("jawOpen")
    blocks["jawOpen"].data.foreach_get("co", co)
    np.testing.assert_allclose(co.reshape(-1, 3), verts + deltas[k], atol=1e-6)
    assert all(p.use_smooth for p in me.polygons)
    loops = np.empty(len(me.loops), np.int32)
    me.loops.foreach_get("vertex_index", loops)
    np.testing.assert_array_equal(loops, index)
    assert head.name in bpy.context.scene.collection.objects


def test_head_mixed_polygon_sizes(scene):
    verts = np.array([(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1), (0.5, 0, 1.5)], np.float32)
    obj = build_head_object(verts, [4, 3], [0, 1, 2, 3, 3, 2, 4], np.zeros((1, 5, 3)), ["jawOpen"])
    assert [len(p.vertices) for p in obj.data.polygons] == [4, 3]
    assert shape_key_map(obj).channels == {"jawOpen": ("jawOpen",)}


@pytest.mark.parametrize("bad", ["sizes", "index", "deltas", "names"])
def test_head_rejects_inconsistent_arrays(scene, bad):
    verts, sizes, index, deltas, names = grid_head()
    if bad == "sizes":
        sizes = sizes[:-1]
    elif bad == "index":
        index = index.copy()
        index[0] = len(verts)
    elif bad == "deltas":
        deltas = deltas[:, :-1]
    else:
        names = names[:-1]
    n_meshes = len(bpy.data.meshes)
    with pytest.raises(ValueError):
        build_head_object(verts, sizes, index, deltas, names)
    assert len(bpy.data.meshes) == n_meshes


def test_real_face_model_head(scene):
    model_mod = pytest.importorskip("visemo.face.model")
    model = model_mod.load_face_model()
    obj = build_head_object(model.vertices, model.face_sizes, model.face_indices, model.deltas, arkit.NAMES)
    assert len(obj.data.vertices) == len(model.vertices)
    assert set(shape_key_map(obj).channels) == set(arkit.NAMES)


# ---------------------------------------------------------------- rig
def test_shape_key_map_exact_names(scene):
    obj = build_head_object(*grid_head(names=("jawOpen", "mouthSmileLeft", "someOtherKey")))
    mapping = shape_key_map(obj)
    assert mapping.channels == {"jawOpen": ("jawOpen",), "mouthSmileLeft": ("mouthSmileLeft",)}
    assert mapping.unused == ("someOtherKey",) and len(mapping.unmapped) == 50


def test_shape_key_map_errors(scene):
    me = bpy.data.meshes.new("plain")
    me.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    plain = bpy.data.objects.new("plain", me)
    scene.collection.objects.link(plain)
    with pytest.raises(RigError, match="object 'plain' has no shape keys"):
        shape_key_map(plain)
    plain.shape_key_add(name="Basis")
    with pytest.raises(RigError, match="has no shape keys"):
        shape_key_map(plain)
    plain.shape_key_add(name="Smile")
    with pytest.raises(RigError, match="none is named like an ARKit"):
        shape_key_map(plain)
    empty = bpy.data.objects.new("empty", None)
    with pytest.raises(RigError, match="not a mesh"):
        shape_key_map(empty)
    with pytest.raises(RigError, match="no object"):
        shape_key_map(None)


def test_find_target_object(scene, head):
    assert find_target_object() is head  # first mesh with shape keys
    bpy.context.view_layer.objects.active = head
    assert find_target_object() is head
    assert find_target_object("visemo_head") is head
    with pytest.raises(RigError, match="no object named 'nope'"):
        find_target_object("nope")


# ---------------------------------------------------------------- keyframes
def _fcurve_values(obj, frames):
    fcs = channel_fcurves(obj.data.shape_keys)
    return np.array([[fcs[data_path(n)].evaluate(f) for n in arkit.NAMES] for f in frames])


def test_key_animation_values_exact_and_slot_bound(scene, head):
    anim = smooth_animation(90)
    act = key_animation(head, anim, start_frame=1)
    key = head.data.shape_keys
    ad = key.animation_data
    assert ad.action == act and act.name == "visemo"
    assert act.is_action_layered and not act.is_action_legacy
    slot = ad.action_slot
    assert slot is not None and slot.target_id_type == "KEY"
    assert slot in act.slots[:] and key in slot.users()
    fcs = channel_fcurves(key)
    assert len(fcs) == 52
    for name in arkit.NAMES:
        fc = fcs[data_path(name)]
        assert len(fc.keyframe_points) == 90
        assert all(k.interpolation == "LINEAR" for k in fc.keyframe_points)
        assert tuple(fc.range()) == (1.0, 90.0)
    frames = np.arange(1, 91)
    np.testing.assert_allclose(_fcurve_values(head, frames), anim.weights, atol=1e-6)
    # ... and what Blender shows when playing: the key blocks at each frame
    blocks = [key.key_blocks[n] for n in arkit.NAMES]
    shown = np.empty((90, 52))
    for i, f in enumerate(frames):
        scene.frame_set(int(f))
        shown[i] = [kb.value for kb in blocks]
    np.testing.assert_allclose(shown, anim.weights, atol=1e-6)


def test_key_animation_start_frame_offset(scene, head):
    anim = smooth_animation(40)
    key_animation(head, anim, start_frame=101)
    np.testing.assert_allclose(_fcurve_values(head, np.arange(101, 141)), anim.weights, atol=1e-6)


def test_key_animation_other_fps_keys_fractional_frames(scene, head):
    scene.render.fps = 24
    anim = smooth_animation(30, fps=30.0)
    key_animation(head, anim, start_frame=1)
    frames = frame_numbers(anim, 1, 24.0)
    np.testing.assert_allclose(frames[:3], [1.0, 1.8, 2.6])
    fc = channel_fcurves(head.data.shape_keys)[data_path("jawOpen")]
    co = np.array([tuple(k.co) for k in fc.keyframe_points])
    np.testing.assert_allclose(co[:, 0], frames, atol=1e-5)
    np.testing.assert_allclose(_fcurve_values(head, frames), anim.weights, atol=1e-6)
    # in between: linear interpolation in time
    t = 1 + 0.5 * 0.8
    expect = (anim.weights[0] + anim.weights[1]) / 2
    np.testing.assert_allclose(_fcurve_values(head, [t])[0], expect, atol=1e-5)


def test_key_animation_replace_drops_old_action(scene, head):
    first = key_animation(head, smooth_animation(20, seed=2))
    first_name = first.name
    anim = smooth_animation(30, seed=3)
    second = key_animation(head, anim)
    assert first_name not in bpy.data.actions
    assert head.data.shape_keys.animation_data.action == second
    fc = channel_fcurves(head.data.shape_keys)[data_path("jawOpen")]
    assert len(fc.keyframe_points) == 30
    np.testing.assert_allclose(_fcurve_values(head, np.arange(1, 31)), anim.weights, atol=1e-6)


def test_key_animation_merge_keeps_keys_outside(scene, head):
    base = smooth_animation(60, seed=4)
    act = key_animation(head, base)
    insert = smooth_animation(10, seed=5)
    again = key_animation(head, insert, start_frame=21, replace=False)
    assert again == act
    fc = channel_fcurves(head.data.shape_keys)[data_path("jawOpen")]
    assert len(fc.keyframe_points) == 60
    got = _fcurve_values(head, np.arange(1, 61))
    expect = base.weights.copy()
    expect[20:30] = insert.weights
    np.testing.assert_allclose(got, expect, atol=1e-6)


def test_key_animation_rig_error_leaves_nothing(scene):
    obj = build_head_object(*grid_head(names=("Smile", "Frown")))
    n_actions = len(bpy.data.actions)
    with pytest.raises(RigError):
        key_animation(obj, smooth_animation(10))
    assert len(bpy.data.actions) == n_actions
    assert obj.data.shape_keys.animation_data is None


def test_key_animation_partial_rig_keys_only_mapped(scene):
    obj = build_head_object(*grid_head(names=("jawOpen", "eyeBlinkLeft", "custom")))
    anim = smooth_animation(15)
    key_animation(obj, anim)
    fcs = channel_fcurves(obj.data.shape_keys)
    assert set(fcs) == {data_path("jawOpen"), data_path("eyeBlinkLeft")}


def test_keyframe_insert_path_matches_bulk(scene, head):
    anim = smooth_animation(12)
    scene2_obj = build_head_object(*grid_head(), name="slow")
    key_animation(head, anim)
    key_animation_keyframe_insert(scene2_obj, anim)
    ad = scene2_obj.data.shape_keys.animation_data
    assert ad.action_slot is not None and ad.action_slot.target_id_type == "KEY"
    np.testing.assert_allclose(_fcurve_values(scene2_obj, np.arange(1, 13)),
                               _fcurve_values(head, np.arange(1, 13)), atol=1e-6)


# ---------------------------------------------------------------- scene
@pytest.mark.parametrize("fps,expect", [(30, (30, 1.0)), (24, (24, 1.0)), (29.97, (30, 1.001)),
                                        (12.5, None)])
def test_fps_pair(fps, expect):
    got = fps_pair(fps)
    if expect is not None:
        assert got[0] == expect[0] and got[1] == pytest.approx(expect[1])
    assert got[0] / got[1] == pytest.approx(fps, rel=1e-4)


def test_prepare_scene(scene):
    prepare_scene(scene, 25, 10, 100)
    assert (scene.render.fps, scene.render.fps_base) == (25, 1.0)
    assert (scene.frame_start, scene.frame_end) == (10, 109)


def test_add_sound_strip_and_reuse(scene, tmp_path):
    wav = write_wav(tmp_path / "line.wav", seconds=2.0)
    strip = add_sound_strip(scene, wav, 5)
    assert strip.type == "SOUND" and strip.frame_start == 5
    assert strip.frame_final_duration == 60  # 2 s at 30 fps
    assert os.path.samefile(bpy.path.abspath(strip.sound.filepath), wav)
    again = add_sound_strip(scene, wav, 12)
    assert again == strip and again.frame_start == 12
    assert len(scene.sequence_editor.strips_all) == 1
    other = add_sound_strip(scene, write_wav(tmp_path / "other.wav"), 12)
    assert other != strip and other.channel != strip.channel
    with pytest.raises(Exception, match="not found"):
        add_sound_strip(scene, tmp_path / "missing.wav", 1)


def test_data_path_escapes_names():
    assert data_path("jawOpen") == 'key_blocks["jawOpen"].value'
    assert data_path('my "key"') == 'key_blocks["my \\"key\\""].value'


def test_key_animation_widens_sliders_for_values_above_one(scene, head):
    w = np.zeros((5, 52), np.float32)
    w[:, arkit.index("jawOpen")] = [0.0, 0.5, 1.0, 1.5, 1.2]
    key_animation(head, Animation(w, 30))
    kb = head.data.shape_keys.key_blocks["jawOpen"]
    assert kb.slider_max == pytest.approx(1.5) and kb.slider_min == 0.0
    scene.frame_set(4)
    assert kb.value == pytest.approx(1.5)
    assert head.data.shape_keys.key_blocks["jawLeft"].slider_max == 1.0


def test_key_animation_refuses_empty_animation(scene, head):
    from visemo import FormatError

    with pytest.raises(FormatError, match="no frames"):
        key_animation(head, Animation.zeros(0, 30))
    assert head.data.shape_keys.animation_data is None


def test_only_visemo_blender_imports_bpy():
    from pathlib import Path

    import visemo

    core = Path(visemo.__file__).parent
    offenders = []
    for path in core.rglob("*.py"):
        if "blender" in path.relative_to(core).parts[:1]:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith(("import bpy", "from bpy")):
                offenders.append(str(path.relative_to(core)))
    assert offenders == []
