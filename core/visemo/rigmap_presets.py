"""Shape-key name tables of widely used ARKit-style rigs (plain data, no logic).

Each preset is a dict ``{arkit_name: rig_key_name}``; a tuple of names means
the one ARKit channel drives several shape keys at the same value (e.g. a rig
that splits ``browInnerUp`` into a left and a right key).  ARKit channels a
rig has no counterpart for are simply absent.  "Left" is always the
*character's* left, in ARKit and in every rig here (``_L`` / ``.L`` /
``Left``); no table maps a left shape to a right channel.

Sources (checked against public rigs and tools):

- ``arkit``: Apple's ``ARFaceAnchor.BlendShapeLocation`` names.
- ``livelink``: Unreal Live Link Face / MetaHuman ARKit curve names, the
  ARKit names capitalised (``EyeBlinkLeft``), as in the Live Link Face CSV.
- ``cc4``: Reallusion Character Creator 4 "Extended" facial profile (CC4
  Extended / ExPlus morphs: ``Eye_Blink_L``, ``Mouth_Smile_L``,
  ``Brow_Raise_Inner_L`` ...).  ``browInnerUp``, ``cheekPuff``,
  ``mouthRollUpper/Lower``, ``mouthFunnel`` and ``mouthPucker`` are split
  into left/right (and upper/lower) morphs there, so they drive all parts.
  CC4's gaze morphs name the eye then the direction (``Eye_L_Look_R`` = the
  left eye looks to the character's right = ``eyeLookInLeft``).
  ``Tongue_Out`` lives on the tongue mesh (``CC_Base_Tongue``): key that
  object separately if you want the tongue.
- ``rpm``: Ready Player Me avatars exported with ``morphTargets=ARKit``: the
  ARKit names exactly.  Their Oculus visemes (``viseme_aa`` ...) and extras
  (``mouthOpen``, ``mouthSmile``, ``eyesClosed`` ...) are *not* mapped:
  visemo drives the mouth through the ARKit channels, and adding the visemes
  on top would double the articulation.
- ``vroid``: VRoid Studio faces (``Fcl_*`` shape keys, kept by VRM import).
  VRM/VRoid have no ARKit set; only shapes with a defensible one-to-one
  counterpart are mapped:

  ================  ====================  =====================================
  ARKit             VRoid                 why
  ================  ====================  =====================================
  eyeBlinkLeft      Fcl_EYE_Close_L       one eye's lids closed (VRM blinkLeft)
  eyeBlinkRight     Fcl_EYE_Close_R       (VRM blinkRight)
  jawOpen           Fcl_MTH_A             the open "aa" mouth: VRoid has no jaw
                                          shape, and "aa" is its jaw-open pose
  mouthFunnel       Fcl_MTH_O             rounded, open lips ("oh")
  mouthPucker       Fcl_MTH_U             rounded, protruded lips ("ou")
  ================  ====================  =====================================

  Left unmapped on purpose: ``Fcl_EYE_Close`` / ``Fcl_EYE_Spread`` /
  ``Fcl_BRW_*`` / ``Fcl_MTH_Fun|Joy|Angry|Sorrow`` act on both sides at once
  (two ARKit channels would have to share one key), ``Fcl_MTH_I`` / ``_E``
  are vowel poses with no single ARKit counterpart, and ``Fcl_ALL_*`` /
  ``Fcl_EYE_Joy*`` are whole expressions, not muscle actions.  Map them by
  hand (a stored mapping) if the look suits your character.
"""

from __future__ import annotations

from .arkit import NAMES

ARKIT: dict[str, str] = {name: name for name in NAMES}

LIVELINK: dict[str, str] = {name: name[0].upper() + name[1:] for name in NAMES}

CC4: dict[str, str | tuple[str, ...]] = {
    "eyeBlinkLeft": "Eye_Blink_L",
    "eyeLookDownLeft": "Eye_L_Look_Down",
    "eyeLookInLeft": "Eye_L_Look_R",
    "eyeLookOutLeft": "Eye_L_Look_L",
    "eyeLookUpLeft": "Eye_L_Look_Up",
    "eyeSquintLeft": "Eye_Squint_L",
    "eyeWideLeft": "Eye_Wide_L",
    "eyeBlinkRight": "Eye_Blink_R",
    "eyeLookDownRight": "Eye_R_Look_Down",
    "eyeLookInRight": "Eye_R_Look_L",
    "eyeLookOutRight": "Eye_R_Look_R",
    "eyeLookUpRight": "Eye_R_Look_Up",
    "eyeSquintRight": "Eye_Squint_R",
    "eyeWideRight": "Eye_Wide_R",
    "jawForward": "Jaw_Forward",
    "jawLeft": "Jaw_L",
    "jawRight": "Jaw_R",
    "jawOpen": "Jaw_Open",
    "mouthClose": "Mouth_Close",
    "mouthFunnel": ("Mouth_Funnel_Up_L", "Mouth_Funnel_Up_R", "Mouth_Funnel_Down_L", "Mouth_Funnel_Down_R"),
    "mouthPucker": ("Mouth_Pucker_Up_L", "Mouth_Pucker_Up_R", "Mouth_Pucker_Down_L", "Mouth_Pucker_Down_R"),
    "mouthLeft": "Mouth_L",
    "mouthRight": "Mouth_R",
    "mouthSmileLeft": "Mouth_Smile_L",
    "mouthSmileRight": "Mouth_Smile_R",
    "mouthFrownLeft": "Mouth_Frown_L",
    "mouthFrownRight": "Mouth_Frown_R",
    "mouthDimpleLeft": "Mouth_Dimple_L",
    "mouthDimpleRight": "Mouth_Dimple_R",
    "mouthStretchLeft": "Mouth_Stretch_L",
    "mouthStretchRight": "Mouth_Stretch_R",
    "mouthRollLower": ("Mouth_Roll_In_Lower_L", "Mouth_Roll_In_Lower_R"),
    "mouthRollUpper": ("Mouth_Roll_In_Upper_L", "Mouth_Roll_In_Upper_R"),
    "mouthShrugLower": "Mouth_Shrug_Lower",
    "mouthShrugUpper": "Mouth_Shrug_Upper",
    "mouthPressLeft": "Mouth_Press_L",
    "mouthPressRight": "Mouth_Press_R",
    "mouthLowerDownLeft": "Mouth_Down_Lower_L",
    "mouthLowerDownRight": "Mouth_Down_Lower_R",
    "mouthUpperUpLeft": "Mouth_Up_Upper_L",
    "mouthUpperUpRight": "Mouth_Up_Upper_R",
    "browDownLeft": "Brow_Drop_L",
    "browDownRight": "Brow_Drop_R",
    "browInnerUp": ("Brow_Raise_Inner_L", "Brow_Raise_Inner_R"),
    "browOuterUpLeft": "Brow_Raise_Outer_L",
    "browOuterUpRight": "Brow_Raise_Outer_R",
    "cheekPuff": ("Cheek_Puff_L", "Cheek_Puff_R"),
    "cheekSquintLeft": "Cheek_Raise_L",
    "cheekSquintRight": "Cheek_Raise_R",
    "noseSneerLeft": "Nose_Sneer_L",
    "noseSneerRight": "Nose_Sneer_R",
    "tongueOut": "Tongue_Out",
}

RPM: dict[str, str] = dict(ARKIT)

VROID: dict[str, str] = {
    "eyeBlinkLeft": "Fcl_EYE_Close_L",
    "eyeBlinkRight": "Fcl_EYE_Close_R",
    "jawOpen": "Fcl_MTH_A",
    "mouthFunnel": "Fcl_MTH_O",
    "mouthPucker": "Fcl_MTH_U",
}

# name -> (label for menus, table).  "arkit" first: it wins ties in auto-detection.
PRESETS: dict[str, tuple[str, dict]] = {
    "arkit": ("ARKit (Apple names)", ARKIT),
    "livelink": ("MetaHuman / Live Link Face", LIVELINK),
    "cc4": ("Character Creator 4 Extended", CC4),
    "rpm": ("Ready Player Me (ARKit morphs)", RPM),
    "vroid": ("VRoid Studio / VRM (Fcl_ keys)", VROID),
}

assert all(set(table) <= set(NAMES) for _, table in PRESETS.values())
