"""Which shape key of a rig takes which ARKit channel (pure Python, no bpy).

A rig's shape keys are matched to the 52 ARKit channels in two passes:

1. a **preset** table (:mod:`visemo.rigmap_presets`: ARKit, Live Link /
   MetaHuman, Character Creator 4, Ready Player Me, VRoid) — by exact name,
   or by the same name ignoring case, spaces, ``_ . - : |``;
2. **fuzzy names** for the channels still free: :func:`normalize` reads
   ``MouthSmile_L``, ``mouth_smile_left``, ``mouthSmile.L``, ``L_mouthSmile``,
   ``Mouth Smile Left`` and ``mouthSmileLeft`` all as ``mouthSmileLeft``.

"Left" keeps ARKit's meaning, the *character's* left: a key marked left
(``_L``, ``.L``, ``Left``, ``L_``...) only ever takes a ``...Left`` channel.

The result is a :class:`Mapping`: ``channels`` (ARKit name → the shape keys
it drives), per-channel ``gain``, the ``preset`` used, and the report —
``unmapped`` channels, ``unused`` keys, ``missing`` keys (named by a stored
mapping but absent from the mesh).  ``Mapping.to_dict`` / ``from_dict`` give
the JSON form stored in a .blend (``obj["visemo_mapping"]``)::

    {"format": "visemo.rigmap", "version": 1, "preset": "cc4",
     "channels": {"jawOpen": "Jaw_Open", "browInnerUp": ["Brow_Raise_Inner_L", "Brow_Raise_Inner_R"]},
     "gain": {"jawOpen": 0.8}}

``channels`` there is the complete table.  Without ``channels`` the table is
built from ``preset`` (default ``"auto"``) when used, and ``overrides`` (same
form; ``null`` removes a channel) are applied on top — handy for a
hand-written file: ``{"preset": "cc4", "gain": {"jawOpen": 0.7}}``.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Iterable

from .arkit import NAMES
from .errors import RigError
from .rigmap_presets import PRESETS

__all__ = [
    "Mapping", "normalize", "build_mapping", "resolve", "detect_preset", "preset_names",
    "suggest", "explain_no_match", "PRESETS", "FORMAT", "VERSION", "MAX_GAIN", "PROPERTY",
]

FORMAT = "visemo.rigmap"
PROPERTY = "visemo_mapping"  # the object custom property holding a stored mapping (JSON string)
VERSION = 1
MAX_GAIN = 10.0

_SIDES = {"l": "left", "left": "left", "lf": "left", "lft": "left",
          "r": "right", "right": "right", "rt": "right", "rgt": "right"}
_SEPARATORS = re.compile(r"[\s_.\-:|]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Tool prefixes in front of the real name: "blendShape1.", "ARKit_", "BS_", "SK_", "morph_".
_PREFIX = re.compile(r"^(?:arkit|blend[_ ]?shapes?\d*|bs|sk|morph)[_.\-: ]+", re.IGNORECASE)
_ARKIT = frozenset(NAMES)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for part in _SEPARATORS.split(text):
        out += _CAMEL.findall(part)
    return [t.lower() for t in out]


def _core_and_side(tokens: list[str]) -> tuple[str, str | None]:
    side = None
    if len(tokens) > 1 and tokens[-1] in _SIDES:
        side, tokens = _SIDES[tokens[-1]], tokens[:-1]
    elif len(tokens) > 1 and tokens[0] in _SIDES:
        side, tokens = _SIDES[tokens[0]], tokens[1:]
    return "".join(tokens), side


_LOOKUP: dict[tuple[str, str | None], str] = {_core_and_side(_tokens(n)): n for n in NAMES}
assert len(_LOOKUP) == len(NAMES)


def _run_together_forms() -> dict[str, str]:
    """Names written with no separators or case ("lefteyeblink", "mouthsmilel") → channel."""
    out: dict[str, str] = {}
    for (core, side), name in _LOOKUP.items():
        forms = [core] if side is None else [core + side, side + core, core + side[0], side[0] + core]
        for form in forms:
            assert out.setdefault(form, name) == name, form
    return out


_RUN_TOGETHER = _run_together_forms()


def _candidates(name: str) -> list[str]:
    """``name`` without a namespace (``Face:``, ``Mesh|``), tool prefix, or leading dotted parts."""
    base = re.split(r"[:|]", name)[-1]
    out = [base]
    stripped = _PREFIX.sub("", base)
    if stripped != base:
        out.append(stripped)
    parts = base.split(".")
    out += [".".join(parts[i:]) for i in range(1, len(parts))]
    return out


@functools.lru_cache(maxsize=8192)
def normalize(name: str) -> str | None:
    """The ARKit channel a shape-key name spells, or None.

    Case, ``_ . - :`` and spaces, camelCase, and a side written as a suffix or
    prefix (``L``/``R``/``Left``/``Right``, also ``Lf``/``Rt``) do not matter:
    ``MouthSmile_L``, ``mouth_smile_left``, ``mouthSmile.L``, ``L_mouthSmile``,
    ``Mouth Smile Left`` → ``"mouthSmileLeft"``.  A namespace (``Face:``) or a
    tool prefix (``blendShape1.``, ``ARKit_``) is skipped.  The side is never
    swapped: "L" is the character's left, as ARKit's "Left".
    """
    if not isinstance(name, str) or not name:
        return None
    for candidate in _candidates(name):
        hit = _LOOKUP.get(_core_and_side(_tokens(candidate)))
        if hit is None:
            hit = _RUN_TOGETHER.get(_SEPARATORS.sub("", candidate).lower())
        if hit is not None:
            return hit
    return None


def _loose(name: str) -> str:
    return _SEPARATORS.sub("", name).lower()


def _as_tuple(value, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(v for v in value if v)
    raise RigError(f"{what} must be a shape key name or a list of names, got {value!r}")


def _check_channel(name) -> str:
    if name in _ARKIT:
        return name
    hint = normalize(name) if isinstance(name, str) else None
    close = hint or ", ".join(difflib.get_close_matches(str(name), NAMES, 3, 0.6))
    raise RigError(
        f"{name!r} is not an ARKit channel"
        + (f" (did you mean {close}?)" if close else "; use names such as eyeBlinkLeft, jawOpen, tongueOut")
    )


def _check_gain(channel: str, value) -> float:
    try:
        g = float(value)
    except (TypeError, ValueError):
        raise RigError(f"gain of {channel} must be a number, got {value!r}") from None
    if not (math.isfinite(g) and 0.0 <= g <= MAX_GAIN):
        raise RigError(f"gain of {channel} must be between 0 and {MAX_GAIN:g}, got {value!r}")
    return g


def _clean_gain(gain) -> dict[str, float]:
    if gain is None:
        return {}
    if not isinstance(gain, dict):
        raise RigError(f"gain must be a table of ARKit channel -> number, got {type(gain).__name__}")
    return {_check_channel(k): _check_gain(k, v) for k, v in gain.items()}


def preset_names() -> tuple[str, ...]:
    """The preset names, ``"arkit"`` first (plus ``"auto"``, which picks one)."""
    return tuple(PRESETS)


def _preset_table(preset: str) -> dict:
    try:
        return PRESETS[preset][1]
    except KeyError:
        raise RigError(
            f"unknown rig preset {preset!r}; choose one of: auto, {', '.join(PRESETS)}"
        ) from None


@dataclass
class Mapping:
    """ARKit channels → shape keys of one rig, with gains and a report.

    ``channels``: ``{arkit_name: (key_name, ...)}`` in ARKit order; one
    channel may drive several keys (all at the same value); a key takes at
    most one channel.  ``gain``: ``{arkit_name: factor}`` (absent = 1.0;
    0..10); keyed values are ``value × gain``, clamped to the key's slider
    range.  ``preset``: the table the channels came from (``"custom"`` once
    edited).  ``unmapped``: ARKit channels with no key (ARKit order).
    ``unused``: the rig's keys no channel drives (rig order).  ``missing``:
    keys a given mapping named that the rig does not have (dropped).
    """

    channels: dict[str, tuple[str, ...]]
    gain: dict[str, float] = field(default_factory=dict)
    preset: str = "custom"
    unmapped: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """How many ARKit channels are mapped (0..52)."""
        return len(self.channels)

    def __len__(self) -> int:
        return len(self.channels)

    def targets(self, channel: str) -> tuple[str, ...]:
        """The shape keys ``channel`` drives (empty when unmapped)."""
        return self.channels.get(channel, ())

    def gain_for(self, channel: str) -> float:
        """The gain of ``channel`` (1.0 unless set)."""
        return self.gain.get(channel, 1.0)

    def pairs(self) -> list[tuple[str, str]]:
        """``(arkit_name, key_name)`` for every driven key, in ARKit order."""
        return [(ch, key) for ch, keys in self.channels.items() for key in keys]

    def summary(self) -> str:
        """One line: how many channels map, with which preset, and which do not."""
        text = f"{self.count} of {len(NAMES)} ARKit channels mapped (preset {self.preset})"
        if self.unmapped:
            shown = ", ".join(self.unmapped[:8]) + (", ..." if len(self.unmapped) > 8 else "")
            text += f"; unmapped: {shown}"
        if self.missing:
            text += f"; keys not on the mesh: {', '.join(self.missing)}"
        return text

    def to_dict(self) -> dict:
        """The JSON-able form (complete table; gains only where not 1)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "preset": self.preset,
            "channels": {ch: (keys[0] if len(keys) == 1 else list(keys)) for ch, keys in self.channels.items()},
            "gain": {ch: g for ch, g in self.gain.items() if g != 1.0},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=None, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict) -> "Mapping":
        """A mapping from :meth:`to_dict`'s form (``channels`` required here).

        Not yet checked against a rig: use :func:`resolve` for that.
        Raises RigError on unknown channels, bad gains or a foreign format.
        """
        if not isinstance(data, dict):
            raise RigError(f"a rig mapping must be a JSON object, got {type(data).__name__}")
        fmt = data.get("format", FORMAT)
        if fmt != FORMAT:
            raise RigError(f"not a visemo rig mapping (format {fmt!r}, expected {FORMAT!r})")
        version = data.get("version", VERSION)
        if not isinstance(version, int) or version > VERSION:
            raise RigError(f"rig mapping version {version!r} is newer than this visemo ({VERSION}); update visemo")
        unknown = set(data) - {"format", "version", "preset", "channels", "gain", "overrides"}
        if unknown:
            raise RigError(
                f"unknown field(s) in rig mapping: {', '.join(sorted(unknown))}; "
                "use preset, channels, gain, overrides"
            )
        raw = data.get("channels") or {}
        if not isinstance(raw, dict):
            raise RigError("rig mapping 'channels' must be a table of ARKit channel -> shape key name(s)")
        channels = {}
        for ch, keys in raw.items():
            keys = _as_tuple(keys, f"the key of {ch}")
            if keys:
                channels[_check_channel(ch)] = keys
        preset = data.get("preset") or "custom"
        if not isinstance(preset, str):
            raise RigError(f"rig mapping 'preset' must be a name, got {preset!r}")
        ordered = {n: channels[n] for n in NAMES if n in channels}
        return cls(ordered, _clean_gain(data.get("gain")), preset)

    @classmethod
    def from_json(cls, text: str) -> "Mapping":
        return cls.from_dict(_parse_json(text))


def _parse_json(text: str) -> dict:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as e:
        raise RigError(f"the rig mapping is not valid JSON ({e})") from None


class _Keys:
    """Find a rig key by exact name, else by its loose form (if unique)."""

    def __init__(self, names: list[str]):
        self.names = names
        self.exact = set(names)
        self.loose: dict[str, str | None] = {}
        for n in names:
            lo = _loose(n)
            self.loose[lo] = None if lo in self.loose else n  # None: ambiguous

    def find(self, name: str) -> str | None:
        if name in self.exact:
            return name
        return self.loose.get(_loose(name))


def _unique(names: Iterable[str]) -> list[str]:
    names = list(names)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise RigError(f"shape key names must be strings, got {bad[0]!r}")
    return list(dict.fromkeys(names))


def _table_channels(keys: _Keys, table: dict) -> tuple[dict[str, tuple[str, ...]], int]:
    """Channels a preset table finds on the rig, and how many of its names matched exactly."""
    channels: dict[str, tuple[str, ...]] = {}
    used: set[str] = set()
    exact = 0
    for ch in NAMES:
        found = []
        for target in _as_tuple(table.get(ch), ch):
            key = keys.find(target)
            if key is not None and key not in used:
                found.append(key)
                used.add(key)
                exact += key == target
        if found:
            channels[ch] = tuple(found)
    return channels, exact


def _fill_fuzzy(names: list[str], channels: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    used = {k for keys in channels.values() for k in keys}
    out = dict(channels)
    # exact ARKit names first, so "jawOpen" beats "Jaw_Open" when a rig has both
    for key in sorted(names, key=lambda k: k not in _ARKIT):
        if key in used:
            continue
        ch = normalize(key)
        if ch is not None and ch not in out:
            out[ch] = (key,)
            used.add(key)
    return {n: out[n] for n in NAMES if n in out}


def _finish(names: list[str], channels, gain, preset, missing=()) -> Mapping:
    used = {k for keys in channels.values() for k in keys}
    return Mapping(
        channels=channels,
        gain=dict(gain),
        preset=preset,
        unmapped=tuple(n for n in NAMES if n not in channels),
        unused=tuple(n for n in names if n not in used),
        missing=tuple(missing),
    )


def detect_preset(shape_key_names: Iterable[str]) -> list[tuple[str, int]]:
    """Every preset with the number of channels it maps on this rig, best first.

    Ranked by channels mapped (preset table + fuzzy names), then by how many
    of the table's names appear verbatim, then by preset order (ARKit wins ties).
    """
    names = _unique(shape_key_names)
    keys = _Keys(names)
    scored = []
    for order, (preset, (_, table)) in enumerate(PRESETS.items()):
        channels, exact = _table_channels(keys, table)
        total = len(_fill_fuzzy(names, channels))
        scored.append((-total, -exact, order, preset, total))
    scored.sort()
    return [(preset, total) for *_, preset, total in scored]


def build_mapping(shape_key_names: Iterable[str], preset: str = "auto", gain: dict | None = None) -> Mapping:
    """Map ARKit channels onto a rig whose shape keys are ``shape_key_names``.

    ``preset``: ``"auto"`` (the preset mapping the most channels, ties →
    ``"arkit"``) or one of :func:`preset_names`.  The preset's table is used
    first, then any remaining key whose name :func:`normalize` reads as a
    free channel.  ``gain``: optional ``{arkit_name: factor}``.  The Basis
    (reference) key should not be among the names.  Never raises for a rig
    that maps nothing: check ``Mapping.count``.
    """
    names = _unique(shape_key_names)
    if preset == "auto":
        preset = detect_preset(names)[0][0]
    table = _preset_table(preset)
    channels, _ = _table_channels(_Keys(names), table)
    return _finish(names, _fill_fuzzy(names, channels), _clean_gain(gain), preset)


def _rebase(names: list[str], mapping: Mapping) -> Mapping:
    """``mapping`` checked against the rig: keys it names that are absent are dropped."""
    present = set(names)
    used: set[str] = set()
    channels, missing = {}, []
    for ch in NAMES:
        keep = []
        for key in mapping.channels.get(ch, ()):
            if key not in present:
                missing.append(key)
            elif key not in used:
                keep.append(key)
                used.add(key)
        if keep:
            channels[ch] = tuple(keep)
    return _finish(names, channels, mapping.gain, mapping.preset, dict.fromkeys(missing))


def resolve(shape_key_names: Iterable[str], spec=None) -> Mapping:
    """The mapping to use on a rig, from whatever the user gave.

    ``spec``: None or ``"auto"`` (detect), a preset name, a :class:`Mapping`,
    its dict form, or that dict as a JSON string.  A complete table
    (``channels``) is used as given, minus keys the rig lacks (listed in
    ``missing``); without ``channels`` the table is built from ``preset`` and
    ``overrides`` applied.  Raises RigError for an unknown preset or a
    malformed mapping.
    """
    names = _unique(shape_key_names)
    if spec is None:
        return build_mapping(names, "auto")
    if isinstance(spec, Mapping):
        return _rebase(names, spec)
    if isinstance(spec, str):
        text = spec.strip()
        if not text.startswith("{"):
            return build_mapping(names, text or "auto")
        spec = _parse_json(text)
    if not isinstance(spec, dict):
        raise RigError(f"a rig mapping must be a preset name or a JSON object, got {type(spec).__name__}")
    if spec.get("channels") is None:
        header = Mapping.from_dict({k: v for k, v in spec.items() if k != "overrides"})
        base = build_mapping(names, spec.get("preset") or "auto")
        overrides = spec.get("overrides") or {}
        if not isinstance(overrides, dict):
            raise RigError("rig mapping 'overrides' must be a table of ARKit channel -> shape key name(s)")
        channels = dict(base.channels)
        for ch, value in overrides.items():
            ch, keys = _check_channel(ch), _as_tuple(value, f"the key of {ch}")
            for other in list(channels):  # a key given to this channel leaves its old one
                rest = tuple(k for k in channels[other] if k not in keys)
                if rest:
                    channels[other] = rest
                else:
                    del channels[other]
            channels.pop(ch, None)
            if keys:
                channels[ch] = keys
        merged = Mapping({n: channels[n] for n in NAMES if n in channels}, header.gain,
                         "custom" if overrides else base.preset)
        return _rebase(names, merged)
    if "overrides" in spec:
        raise RigError("a rig mapping with a complete 'channels' table takes no 'overrides'")
    return _rebase(names, Mapping.from_dict(spec))


def suggest(shape_key_names: Iterable[str], limit: int = 3) -> dict[str, str]:
    """Up to ``limit`` guesses ``{arkit_name: key_name}`` for keys with no exact match."""
    arkit_loose = {_loose(n): n for n in NAMES}
    guesses = []
    for key in _unique(shape_key_names):
        lo = _loose(key)
        if len(lo) < 3:
            continue
        best = max(arkit_loose, key=lambda a: difflib.SequenceMatcher(None, lo, a).ratio()
                   + (0.3 if lo in a else 0.0))
        score = difflib.SequenceMatcher(None, lo, best).ratio() + (0.3 if lo in best else 0.0)
        if score >= 0.5:
            guesses.append((-score, arkit_loose[best], key))
    out: dict[str, str] = {}
    for _, ch, key in sorted(guesses):
        if ch not in out and len(out) < limit:
            out[ch] = key
    return out


def explain_no_match(shape_key_names: Iterable[str]) -> str:
    """Why nothing maps and what to do: the closest preset and a suggested mapping."""
    names = _unique(shape_key_names)
    best, count = detect_preset(names)[0]
    guess = suggest(names) or {"mouthSmileLeft": names[0] if names else "Smile"}
    example = json.dumps({"channels": guess})
    if count:
        lead = f"preset '{best}' would map {count} of {len(NAMES)} channels (use it, or 'auto')"
    else:
        lead = f"no rig preset ({', '.join(PRESETS)}) matches any of them"
    return (
        f"{lead}; name the keys like ARKit (eyeBlinkLeft ... tongueOut; Eye_Blink_L or "
        f"mouth_smile_left styles work too) or give a mapping, e.g. {example} "
        f"(stored as the object's '{PROPERTY}' property)"
    )
