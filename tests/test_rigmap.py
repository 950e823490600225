"""visemo.rigmap: name matching, presets, gains, stored mappings — pure Python, then in real bpy."""

import json
import os
import tempfile

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))

import numpy as np
import pytest

from visemo import RigError, arkit, rigmap
from visemo.rigmap_presets import CC4, LIVELINK, PRESETS, VROID
from synthetic import grid_head, smooth_animation

RPM_VISEMES = ("viseme_sil", "viseme_PP", "viseme_FF", "viseme_TH", "viseme_DD", "viseme_kk",
               "viseme_CH", "viseme_SS", "viseme_nn", "viseme_RR", "viseme_aa", "viseme_E",
               "viseme_I", "viseme_O", "viseme_U")
RPM_EXTRAS = ("mouthOpen", "mouthSmile", "eyesClosed", "eyesLookUp", "eyesLookDown")
VROID_OTHERS = ("Fcl_ALL_Neutral", "Fcl_ALL_Angry", "Fcl_ALL_Fun", "Fcl_ALL_Joy", "Fcl_ALL_Sorrow",
                "Fcl_ALL_Surprised", "Fcl_BRW_Angry", "Fcl_BRW_Fun", "Fcl_BRW_Joy", "Fcl_BRW_Sorrow",
                "Fcl_BRW_Surprised", "Fcl_EYE_Natural", "Fcl_EYE_Angry", "Fcl_EYE_Close",
                "Fcl_EYE_Fun", "Fcl_EYE_Joy", "Fcl_EYE_Joy_R", "Fcl_EYE_Joy_L", "Fcl_EYE_Sorrow",
                "Fcl_EYE_Surprised", "Fcl_EYE_Spread", "Fcl_EYE_Iris_Hide", "Fcl_EYE_Highlight_Hide",
                "Fcl_MTH_Close", "Fcl_MTH_Up", "Fcl_MTH_Down", "Fcl_MTH_Angry", "Fcl_MTH_Small",
                "Fcl_MTH_Large", "Fcl_MTH_Neutral", "Fcl_MTH_Fun", "Fcl_MTH_Joy", "Fcl_MTH_Sorrow",
                "Fcl_MTH_Surprised", "Fcl_MTH_SkinFung", "Fcl_MTH_SkinFung_R", "Fcl_MTH_SkinFung_L",
                "Fcl_MTH_I", "Fcl_MTH_E", "Fcl_HA_Hide", "Fcl_HA_Fung1")
CC4_OTHERS = ("V_Open", "V_Explosive", "V_Tight_O", "Brow_Compress_L", "Brow_Compress_R",
              "Mouth_Smile_Sharp_L", "Mouth_Smile_Sharp_R", "Nose_Crease_L", "Mouth_Up", "Jaw_Backward")


def _flat(table):
    return [k for v in table.values() for k in ((v,) if isinstance(v, str) else v)]


# name lists of a rig of each preset (the preset's keys + the extras such rigs carry),
# the preset auto-detection must report, and the channels that must stay unmapped
RIGS = {
    "arkit": (list(arkit.NAMES), "arkit", ()),
    "livelink": (list(LIVELINK.values()), "livelink", ()),
    "cc4": (_flat(CC4) + list(CC4_OTHERS), "cc4", ()),
    "rpm": (list(arkit.NAMES) + list(RPM_VISEMES) + list(RPM_EXTRAS), "arkit", ()),
    "vroid": (list(VROID.values()) + list(VROID_OTHERS), "vroid",
              tuple(n for n in arkit.NAMES if n not in VROID)),
}


# ---------------------------------------------------------------- normalize
@pytest.mark.parametrize("name", ["MouthSmile_L", "mouth_smile_left", "mouthSmile.L", "L_mouthSmile",
                                  "Mouth Smile Left", "mouthSmileLeft", "MOUTH_SMILE_L", "mouthSmile-L",
                                  "Left_Mouth_Smile", "mouthSmileL", "mouthSmile_Lf", "Face:mouthSmile_L",
                                  "blendShape1.mouthSmile_L", "ARKit_mouthSmileLeft"])
def test_normalize_spellings_of_mouth_smile_left(name):
    assert rigmap.normalize(name) == "mouthSmileLeft"


@pytest.mark.parametrize("style", [
    lambda core, side: f"{core}_{side[0]}", lambda core, side: f"{core}.{side[0]}",
    lambda core, side: f"{side[0]}_{core}", lambda core, side: f"{core} {side}",
    lambda core, side: f"{core[0].upper()}{core[1:]}{side}", lambda core, side: f"{side}{core}".lower(),
])
def test_normalize_every_channel_keeps_its_side(style):
    for name in arkit.NAMES:
        assert rigmap.normalize(name) == name
        assert rigmap.normalize(name[0].upper() + name[1:]) == name
        for side in ("Left", "Right"):
            if name.endswith(side):
                core = name[: -len(side)]
                assert rigmap.normalize(style(core, side)) == name, style(core, side)


def test_normalize_rejects_non_arkit_names():
    for name in (*RPM_VISEMES, *RPM_EXTRAS, *VROID_OTHERS, *CC4_OTHERS, "Left", "", "Basis",
                 "Eye_L_Look_L", "Eye_R_Look_Down", "eyeBlink", "mouthSmileLeftish", "Brow_Raise_Inner_L"):
        assert rigmap.normalize(name) is None, name


def test_a_left_key_never_takes_a_right_channel():
    names = ["mouthSmile_L", "MouthSmileRight", "R_eyeBlink", "eyeBlink.L", "jaw_L", "Mouth_R"]
    m = rigmap.build_mapping(names)
    for channel, keys in m.channels.items():
        for key in keys:
            assert ("Left" in channel) == (rigmap.normalize(key).endswith("Left"))
    assert m.channels == {"eyeBlinkLeft": ("eyeBlink.L",), "eyeBlinkRight": ("R_eyeBlink",),
                          "jawLeft": ("jaw_L",), "mouthRight": ("Mouth_R",),
                          "mouthSmileLeft": ("mouthSmile_L",), "mouthSmileRight": ("MouthSmileRight",)}
    assert list(m.channels) == [n for n in arkit.NAMES if n in m.channels]  # ARKit order


# ---------------------------------------------------------------- presets
@pytest.mark.parametrize("preset", list(RIGS))
def test_each_preset_rig_maps_fully(preset):
    names, detected, unmapped = RIGS[preset]
    m = rigmap.build_mapping(names)
    assert m.preset == detected
    assert m.unmapped == unmapped
    assert m.count == 52 - len(unmapped)
    table = PRESETS[preset][1]
    for channel, keys in table.items():
        assert m.channels[channel] == ((keys,) if isinstance(keys, str) else tuple(keys))
    extras = {"rpm": RPM_VISEMES + RPM_EXTRAS, "vroid": VROID_OTHERS, "cc4": CC4_OTHERS}.get(preset, ())
    assert set(m.unused) == set(extras)
    # the explicit preset gives the same table
    assert rigmap.build_mapping(names, preset).channels == m.channels


def test_cc4_details():
    assert CC4["eyeLookInLeft"] == "Eye_L_Look_R" and CC4["eyeLookOutLeft"] == "Eye_L_Look_L"
    assert CC4["eyeLookInRight"] == "Eye_R_Look_L" and CC4["eyeLookOutRight"] == "Eye_R_Look_R"
    m = rigmap.build_mapping(_flat(CC4))
    assert m.channels["browInnerUp"] == ("Brow_Raise_Inner_L", "Brow_Raise_Inner_R")
    assert len(m.channels["mouthPucker"]) == 4
    # a CC4 rig exported with lower-cased names is still found through the table
    lower = [n.lower() for n in _flat(CC4)]
    m = rigmap.build_mapping(lower)
    assert m.preset == "cc4" and m.count == 52
    assert m.channels["eyeLookInLeft"] == ("eye_l_look_r",)


def test_auto_ties_go_to_arkit_and_unknown_preset_lists_choices():
    assert rigmap.detect_preset(arkit.NAMES)[0] == ("arkit", 52)
    assert rigmap.detect_preset(["jawOpen"])[0] == ("arkit", 1)
    assert rigmap.build_mapping([]).count == 0
    with pytest.raises(RigError, match="unknown rig preset 'maya'.*auto, arkit, livelink, cc4, rpm, vroid"):
        rigmap.build_mapping(arkit.NAMES, "maya")


def test_exact_arkit_key_wins_over_a_fuzzy_one():
    m = rigmap.build_mapping(["Jaw_Open", "jawOpen"])
    assert m.channels == {"jawOpen": ("jawOpen",)} and m.unused == ("Jaw_Open",)


# ---------------------------------------------------------------- serialisation, gains, resolve
def test_mapping_round_trips_through_json():
    m = rigmap.build_mapping(_flat(CC4), gain={"jawOpen": 0.5, "mouthSmileLeft": 2})
    data = json.loads(json.dumps(m.to_dict()))
    assert data["format"] == "visemo.rigmap" and data["version"] == 1 and data["preset"] == "cc4"
    assert data["channels"]["jawOpen"] == "Jaw_Open"
    assert data["channels"]["browInnerUp"] == ["Brow_Raise_Inner_L", "Brow_Raise_Inner_R"]
    assert data["gain"] == {"jawOpen": 0.5, "mouthSmileLeft": 2.0}
    back = rigmap.Mapping.from_dict(data)
    assert back.channels == m.channels and back.gain == m.gain and back.preset == "cc4"
    assert rigmap.Mapping.from_json(m.to_json()).channels == m.channels
    assert m.gain_for("jawOpen") == 0.5 and m.gain_for("tongueOut") == 1.0


@pytest.mark.parametrize("data,match", [
    ({"channels": {"mouthSmileL": "x"}}, "did you mean mouthSmileLeft"),
    ({"channels": {"jawOpen": 3}}, "shape key name"),
    ({"channels": {}, "gain": {"jawOpen": -1}}, "between 0 and 10"),
    ({"channels": {}, "gain": {"jawOpen": "loud"}}, "must be a number"),
    ({"channels": {}, "gain": {"jawOpen": float("nan")}}, "between 0 and 10"),
    ({"format": "other"}, "not a visemo rig mapping"),
    ({"version": 99}, "newer"),
    ({"chanels": {}}, "unknown field"),
    ([], "JSON object"),
])
def test_from_dict_rejects_bad_mappings(data, match):
    with pytest.raises(RigError, match=match):
        rigmap.Mapping.from_dict(data)


def test_resolve_complete_table_drops_missing_keys():
    names = ["Smile_L", "Smile_R", "Open"]
    spec = {"channels": {"mouthSmileLeft": "Smile_L", "mouthSmileRight": "Smile_R", "jawOpen": ["Open", "Gone"]},
            "gain": {"jawOpen": 0.8}}
    m = rigmap.resolve(names, spec)
    assert m.channels == {"jawOpen": ("Open",), "mouthSmileLeft": ("Smile_L",), "mouthSmileRight": ("Smile_R",)}
    assert m.missing == ("Gone",) and m.unused == () and m.gain == {"jawOpen": 0.8}
    assert m.preset == "custom" and len(m.unmapped) == 49
    assert rigmap.resolve(names, json.dumps(spec)).channels == m.channels
    assert rigmap.resolve(names, rigmap.Mapping.from_dict(spec)).channels == m.channels
    assert "3 of 52 ARKit channels mapped" in m.summary() and "Gone" in m.summary()


def test_resolve_preset_with_overrides_and_gain():
    names = _flat(CC4) + ["MyTongue"]
    m = rigmap.resolve(names, {"preset": "cc4", "overrides": {"tongueOut": "MyTongue", "jawLeft": None},
                               "gain": {"jawOpen": 0.7}})
    assert m.channels["tongueOut"] == ("MyTongue",) and "jawLeft" not in m.channels
    assert set(m.unused) == {"Tongue_Out", "Jaw_L"} and m.preset == "custom"
    assert m.gain == {"jawOpen": 0.7}
    # a key moved to another channel leaves its old one
    m = rigmap.resolve(names, {"overrides": {"jawOpen": "Mouth_Close"}})
    assert m.channels["jawOpen"] == ("Mouth_Close",) and "mouthClose" not in m.channels
    # just a gain on top of auto-detection
    m = rigmap.resolve(arkit.NAMES, '{"gain": {"browInnerUp": 0.25}}')
    assert m.count == 52 and m.gain_for("browInnerUp") == 0.25 and m.preset == "arkit"
    assert rigmap.resolve(arkit.NAMES, "livelink").preset == "livelink"


def test_no_match_explains_and_suggests():
    text = rigmap.explain_no_match(["Smile", "Frown", "Blink"])
    assert "no rig preset (arkit, livelink, cc4, rpm, vroid) matches" in text
    assert '"mouthSmileLeft": "Smile"' in text and "visemo_mapping" in text
    assert rigmap.suggest(["Smile", "Frown", "Blink", "xx"]) == {
        "eyeBlinkLeft": "Blink", "mouthFrownLeft": "Frown", "mouthSmileLeft": "Smile"}


# ---------------------------------------------------------------- in Blender
@pytest.fixture
def bl():
    bpy = pytest.importorskip("bpy")
    from visemo.blender import new_empty_scene, prepare_scene

    prepare_scene(new_empty_scene(), 30, 1, 60)
    return bpy


def _key_values(obj, key_name, frames):
    from visemo.blender.keyframes import channel_fcurves, data_path

    fc = channel_fcurves(obj.data.shape_keys)[data_path(key_name)]
    return np.array([fc.evaluate(float(f)) for f in frames])


def _keyed(obj):
    from visemo.blender.keyframes import channel_fcurves

    return {path.split('"')[1] for path in channel_fcurves(obj.data.shape_keys)}


@pytest.mark.parametrize("preset", list(RIGS))
def test_blender_each_preset_rig_is_fully_keyed(bl, preset):
    from visemo.blender import build_head_object, key_animation, shape_key_map

    names, detected, unmapped = RIGS[preset]
    obj = build_head_object(*grid_head(n=3, names=names), name=f"rig_{preset}")
    anim = smooth_animation(40, seed=7)
    key_animation(obj, anim, start_frame=1)
    m = shape_key_map(obj)
    assert m.preset == detected and m.unmapped == unmapped
    table = PRESETS[preset][1]
    assert _keyed(obj) == set(_flat(table))  # every preset key, and nothing else
    frames = np.arange(1, 41)
    for channel, keys in m.channels.items():
        for key in keys:
            np.testing.assert_allclose(_key_values(obj, key, frames), anim.channel(channel), atol=1e-6)


def test_blender_fuzzy_names_and_gain_clamped_to_slider(bl):
    from visemo.blender import build_head_object, key_animation, shape_key_map
    from visemo.blender.rig import store_mapping

    names = ["MouthSmile_L", "mouth_smile_right", "L_eyeBlink", "eyeBlink.R", "Jaw Open", "viseme_aa"]
    obj = build_head_object(*grid_head(n=3, names=names), name="fuzzy")
    store_mapping(obj, {"gain": {"jawOpen": 0.5, "mouthSmileLeft": 2.5}})
    anim = smooth_animation(30, seed=3)
    key_animation(obj, anim)
    m = shape_key_map(obj)
    assert m.channels == {"eyeBlinkLeft": ("L_eyeBlink",), "eyeBlinkRight": ("eyeBlink.R",),
                          "jawOpen": ("Jaw Open",), "mouthSmileLeft": ("MouthSmile_L",),
                          "mouthSmileRight": ("mouth_smile_right",)}
    assert m.unused == ("viseme_aa",)
    frames = np.arange(1, 31)
    np.testing.assert_allclose(_key_values(obj, "Jaw Open", frames), anim.channel("jawOpen") * 0.5, atol=1e-6)
    smile = _key_values(obj, "MouthSmile_L", frames)
    np.testing.assert_allclose(smile, np.clip(anim.channel("mouthSmileLeft") * 2.5, 0, 1), atol=1e-6)
    assert smile.max() == pytest.approx(1.0)  # clamped: the gain really pushed past the slider
    np.testing.assert_allclose(_key_values(obj, "mouth_smile_right", frames), anim.channel("mouthSmileRight"),
                               atol=1e-6)
    np.testing.assert_allclose(_key_values(obj, "eyeBlink.R", frames), anim.channel("eyeBlinkRight"), atol=1e-6)
    kb = obj.data.shape_keys.key_blocks["MouthSmile_L"]
    assert (kb.slider_min, kb.slider_max) == (0.0, 1.0)


def test_blender_stored_mapping_overrides_auto_and_argument_overrides_stored(bl):
    from visemo.blender import build_head_object, key_animation, shape_key_map
    from visemo.blender.rig import MAPPING_PROPERTY, clear_mapping, store_mapping, stored_mapping

    obj = build_head_object(*grid_head(n=3), name="arkit_face")
    assert stored_mapping(obj) is None and shape_key_map(obj).count == 52
    auto = shape_key_map(obj)
    custom = rigmap.Mapping({"jawOpen": ("mouthClose",), "mouthSmileLeft": ("mouthSmileLeft",)},
                            {"jawOpen": 0.5}, preset="custom")
    store_mapping(obj, custom)
    assert isinstance(obj[MAPPING_PROPERTY], str)
    assert json.loads(obj[MAPPING_PROPERTY])["channels"]["jawOpen"] == "mouthClose"
    m = shape_key_map(obj)
    assert m.channels == custom.channels and m.count == 2 and len(m.unused) == 50
    anim = smooth_animation(20, seed=5)
    key_animation(obj, anim)
    assert _keyed(obj) == {"mouthClose", "mouthSmileLeft"}
    np.testing.assert_allclose(_key_values(obj, "mouthClose", np.arange(1, 21)), anim.channel("jawOpen") * 0.5,
                               atol=1e-6)
    # an explicit mapping wins over the stored one
    key_animation(obj, anim, mapping="arkit")
    assert _keyed(obj) == set(arkit.NAMES)
    assert shape_key_map(obj, auto).channels == auto.channels
    clear_mapping(obj)
    assert shape_key_map(obj).count == 52


def test_blender_rig_errors_name_the_fix(bl):
    from visemo.blender import build_head_object, key_animation, shape_key_map
    from visemo.blender.rig import MAPPING_PROPERTY, store_mapping

    obj = build_head_object(*grid_head(n=3, names=["Smile", "Frown"]), name="toon")
    with pytest.raises(RigError, match=r"none is named like an ARKit blendshape; no rig preset .*"
                                       r'"mouthSmileLeft": "Smile"'):
        shape_key_map(obj)
    store_mapping(obj, {"channels": {"mouthSmileLeft": "Smile", "mouthFrownLeft": "Frown"}})
    assert shape_key_map(obj).count == 2
    face = build_head_object(*grid_head(n=3), name="face")
    store_mapping(face, {"channels": {"jawOpen": "Jaw_Open"}})
    with pytest.raises(RigError, match=r"stored mapping maps none of them \(it names keys the mesh lacks: "
                                       r"Jaw_Open\); preset 'arkit' would map 52"):
        key_animation(face, smooth_animation(5))
    assert face.data.shape_keys.animation_data is None
    face[MAPPING_PROPERTY] = "{not json"
    with pytest.raises(RigError, match="not valid JSON"):
        shape_key_map(face)
    with pytest.raises(RigError, match="unknown rig preset"):
        shape_key_map(face, "metahuman")


def test_blender_writer_passes_the_mapping(bl, tmp_path):
    from visemo.blender import write_animation_file
    from visemo.blender.keyframes import channel_fcurves, data_path

    anim = smooth_animation(12, seed=9)
    out = write_animation_file(anim, tmp_path / "cc.blend", head=grid_head(n=3, names=_flat(CC4)),
                               mapping={"preset": "cc4", "gain": {"cheekPuff": 0.5}})
    bl.ops.wm.open_mainfile(filepath=str(out), load_ui=False)
    key = bl.data.objects["visemo_head"].data.shape_keys
    fcs = channel_fcurves(key)
    assert len(fcs) == len(_flat(CC4))
    for name in ("Cheek_Puff_L", "Cheek_Puff_R"):
        got = [fcs[data_path(name)].evaluate(f) for f in range(1, 13)]
        np.testing.assert_allclose(got, anim.channel("cheekPuff") * 0.5, atol=1e-6)
