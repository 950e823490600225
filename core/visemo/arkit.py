"""The 52 ARKit blendshape names, in Apple's documented order, and their groups.

Everything in visemo indexes channels by :data:`NAMES`.  Never assume another
tool's column order (some use alphabetical order): map by name with
:func:`index` or :func:`indices`.
"""

from __future__ import annotations

NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft",
    "eyeLookUpLeft", "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight",
    "eyeLookUpRight", "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)

COUNT = len(NAMES)
assert COUNT == 52 and len(set(NAMES)) == 52

_INDEX = {name: i for i, name in enumerate(NAMES)}


def index(name: str) -> int:
    """Column of ARKit channel ``name`` in :data:`NAMES` (KeyError if unknown)."""
    try:
        return _INDEX[name]
    except KeyError:
        raise KeyError(f"{name!r} is not one of the 52 ARKit blendshape names") from None


def indices(names) -> list[int]:
    """Columns of several ARKit channels, in the order given."""
    return [index(n) for n in names]


# Channel groups. Together they cover every channel exactly once.
GROUPS: dict[str, tuple[str, ...]] = {
    "eyes": tuple(n for n in NAMES if n.startswith("eye")),
    "jaw": ("jawForward", "jawLeft", "jawRight", "jawOpen"),
    "mouth": tuple(n for n in NAMES if n.startswith("mouth")),
    "brows": tuple(n for n in NAMES if n.startswith("brow")),
    "cheeks": ("cheekPuff", "cheekSquintLeft", "cheekSquintRight"),
    "nose": ("noseSneerLeft", "noseSneerRight"),
    "tongue": ("tongueOut",),
}
assert sorted(sum(GROUPS.values(), ())) == sorted(NAMES)

# Channels driven by speech articulation (the lip channels of EmoTalker's split).
SPEECH_CHANNELS: tuple[str, ...] = GROUPS["jaw"] + GROUPS["mouth"] + GROUPS["tongue"]
# Channels of the eyelids and gaze, driven by blinks and saccades.
BLINK_CHANNELS: tuple[str, ...] = ("eyeBlinkLeft", "eyeBlinkRight")
GAZE_CHANNELS: tuple[str, ...] = tuple(
    n for n in GROUPS["eyes"] if n.startswith("eyeLook")
)


def mirror(name: str) -> str:
    """The channel on the other side of the face (itself if it has no side)."""
    if name.endswith("Left"):
        return name[: -len("Left")] + "Right"
    if name.endswith("Right"):
        return name[: -len("Right")] + "Left"
    return name


# Left/right pairs as (left, right) column tuples.
PAIRS: tuple[tuple[int, int], ...] = tuple(
    (i, _INDEX[mirror(n)]) for i, n in enumerate(NAMES) if n.endswith("Left")
)


def group_mask(*groups: str):
    """Boolean mask [52] that is True on the channels of the named groups."""
    import numpy as np

    mask = np.zeros(COUNT, dtype=bool)
    for g in groups:
        if g not in GROUPS:
            raise KeyError(f"unknown channel group {g!r}; choose from {sorted(GROUPS)}")
        mask[indices(GROUPS[g])] = True
    return mask
