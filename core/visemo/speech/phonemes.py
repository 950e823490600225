"""Phoneme inventory (ARPAbet, 39 CMU phones + SIL) and timed segments.

All times are in seconds from the start of the audio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

SIL = "SIL"

PHONES: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY",
    "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P",
    "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH", SIL,
)
"""The 39 CMU dictionary phones without stress, then ``SIL`` (40 symbols)."""

VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY",
                    "OW", "OY", "UH", "UW"})
BILABIALS = frozenset({"P", "B", "M"})
LABIODENTALS = frozenset({"F", "V"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY"})

# Non-speech symbols of pocketsphinx/CMU Sphinx, flite, TIMIT and MFA -> SIL.
_SILENCES = {
    "SIL", "<SIL>", "<S>", "</S>", "SP", "SPN", "PAU", "H#", "EPI", "PAU0", "",
    "+NSN+", "+SPN+", "+BREATH+", "+COUGH+", "+SMACK+", "+UH+", "+UM+", "+NOISE+",
    "+GARBAGE+", "+LAUGH+", "++NOISE++",
}
# Phones outside the CMU set used by flite/festival or TIMIT -> nearest CMU phone.
_ALIASES = {
    "AX": "AH", "AXR": "ER", "AXH": "AH", "IX": "IH", "UX": "UW", "EL": "L",
    "EM": "M", "EN": "N", "ENG": "NG", "NX": "N", "DX": "D", "Q": "T", "HV": "HH",
}
_STRESS = re.compile(r"[0-9]+$")
_INDEX = {p: i for i, p in enumerate(PHONES)}


def normalize_phone(name: str) -> str:
    """Map any ARPAbet-ish label to :data:`PHONES`.

    Strips stress digits (``AH0`` -> ``AH``) and pocketsphinx context markers,
    uppercases, maps fillers and pauses (``+NSN+``, ``<sil>``, ``pau``, ``sp``) to
    ``SIL`` and non-CMU phones (``ax``, ``axr``, ``dx`` ...) to their CMU
    neighbour.  Raises ``ValueError`` for a label that is none of these.
    """
    s = str(name).strip().upper()
    if s.startswith("+") or s in _SILENCES:
        return SIL
    s = _STRESS.sub("", s.split("(")[0])
    s = _ALIASES.get(s, s)
    if s in _SILENCES:
        return SIL
    if s not in _INDEX:
        raise ValueError(f"unknown phone {name!r}")
    return s


def phone_index(phone: str) -> int:
    """Position of ``phone`` (already normalised) in :data:`PHONES`."""
    return _INDEX[phone]


@dataclass(frozen=True)
class PhonemeSegment:
    """One phone ``phone`` (in :data:`PHONES`) from ``start`` to ``end`` seconds."""

    phone: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if self.phone not in _INDEX:
            raise ValueError(f"unknown phone {self.phone!r}; normalise it with normalize_phone()")
        if not self.end >= self.start:
            raise ValueError(f"segment {self.phone} ends ({self.end}) before it starts ({self.start})")

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start

    @property
    def center(self) -> float:
        """Midpoint in seconds."""
        return 0.5 * (self.start + self.end)


def tile(segments: Iterable[PhonemeSegment], duration: float,
         min_length: float = 1e-6) -> list[PhonemeSegment]:
    """Segments covering exactly [0, ``duration``] seconds, in order, gap-free.

    Sorts by start, clips to [0, duration], resolves overlaps (a later segment
    starts where the previous one ends), fills gaps with ``SIL``, merges
    neighbouring ``SIL`` and drops segments shorter than ``min_length``.  An
    empty input gives one ``SIL`` segment.
    """
    out: list[PhonemeSegment] = []
    t = 0.0
    for s in sorted(segments, key=lambda s: (s.start, s.end)):
        start = min(max(s.start, t), duration)
        end = min(max(s.end, start), duration)
        if end - start < min_length:
            continue
        if start - t >= min_length:
            _push(out, PhonemeSegment(SIL, t, start))
        else:
            start = t  # close a tiny gap
        _push(out, PhonemeSegment(s.phone, start, end))
        t = end
    if duration - t >= min_length or not out:
        _push(out, PhonemeSegment(SIL, t, max(t, duration)))
    elif out[-1].end != duration:
        out[-1] = PhonemeSegment(out[-1].phone, out[-1].start, duration)
    return out


def _push(out: list[PhonemeSegment], seg: PhonemeSegment) -> None:
    if out and out[-1].phone == SIL and seg.phone == SIL:
        out[-1] = PhonemeSegment(SIL, out[-1].start, seg.end)
    else:
        out.append(seg)


def phones_at(segments: Sequence[PhonemeSegment], times: Sequence[float]) -> list[str]:
    """The phone sounding at each time in ``times`` (seconds); ``SIL`` outside."""
    import bisect

    starts = [s.start for s in segments]
    res = []
    for t in times:
        i = bisect.bisect_right(starts, t) - 1
        res.append(segments[i].phone if 0 <= i < len(segments) and t < segments[i].end
                   else SIL)
    return res
