"""Pronunciations for words the CMU dictionary lacks.

:func:`pronounce` tries, in order: the dictionary, a possessive/plural of a
known word, a compound of two known words, and last a rough letter-to-sound
guess (:func:`guess_pronunciation`).  The guess gets consonants -- the lip
shapes that matter most for lip sync -- mostly right and vowels roughly.
"""

from __future__ import annotations

from typing import Callable, Optional

Lookup = Callable[[str], Optional[str]]
"""word -> space-separated ARPAbet phones, or None when unknown."""

_VOWEL_LETTERS = set("aeiouy")
# Longest graphemes first; "^" = only at word start.
_GRAPHEMES: list[tuple[str, str]] = sorted([
    ("tch", "CH"), ("sch", "S K"), ("igh", "AY"), ("ough", "AO"), ("augh", "AO"),
    ("eigh", "EY"), ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ture", "CH ER"),
    ("ph", "F"), ("th", "TH"), ("sh", "SH"), ("ch", "CH"), ("ck", "K"), ("ng", "NG"),
    ("qu", "K W"), ("wh", "W"), ("^kn", "N"), ("^wr", "R"), ("^ps", "S"), ("^gn", "N"),
    ("gh", ""), ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"),
    ("oi", "OY"), ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"),
    ("ei", "EY"), ("ey", "EY"), ("ie", "IY"), ("oa", "OW"), ("ue", "UW"), ("ew", "UW"),
    ("ar", "AA R"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("or", "AO R"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"),
    ("h", "HH"), ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"),
    ("o", "AA"), ("p", "P"), ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"),
    ("v", "V"), ("w", "W"), ("x", "K S"), ("y", "Y"), ("z", "Z"),
], key=lambda g: -len(g[0].lstrip("^")))
_LONG = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW", "y": "AY"}


def guess_pronunciation(word: str) -> list[str]:
    """Rough letter-to-sound ARPAbet for an English-looking ``word`` (letters only)."""
    w = "".join(c for c in word.lower() if c.isalpha())
    if not w:
        return []
    magic = (len(w) >= 4 and w.endswith("e") and w[-2] not in _VOWEL_LETTERS
             and w[-3] in _VOWEL_LETTERS and (len(w) < 4 or w[-4] not in _VOWEL_LETTERS))
    if len(w) > 3 and w.endswith("e") and w[-2] not in _VOWEL_LETTERS and w[-2] != "l":
        w = w[:-1]  # silent final e
    phones: list[str] = []
    i = 0
    while i < len(w):
        for g, p in _GRAPHEMES:
            start_only = g.startswith("^")
            g = g.lstrip("^")
            if (start_only and i) or not w.startswith(g, i):
                continue
            nxt = w[i + len(g)] if i + len(g) < len(w) else ""
            if g == "c" and nxt in ("e", "i", "y"):
                p = "S"
            elif g == "y":
                p = "Y" if i == 0 and nxt in _VOWEL_LETTERS else "IY" if not nxt else "IH"
            elif magic and i == len(w) - 2 and g in _LONG:
                p = _LONG[g]
            new = p.split()
            if new and phones and new[0] == phones[-1] and new[0] not in _LONG.values():
                new = new[1:]  # doubled consonant letters
            phones.extend(new)
            i += len(g)
            break
        else:  # pragma: no cover - every letter has a grapheme
            i += 1
    return phones


def pronounce(word: str, lookup: Lookup) -> tuple[list[str], str]:
    """Phones for ``word`` and how they were found.

    The second item is ``"dict"``, ``"inflected"`` (possessive or plural of a
    known word), ``"compound"`` or ``"guessed"``.  Returns ``([], "none")`` only
    when ``word`` has no letters.
    """
    found = lookup(word)
    if found:
        return found.split(), "dict"
    base = None
    for suffix in ("'s", "s'", "'", "s", "es"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            base = lookup(word[: -len(suffix)])
            if base:
                base_phones = base.split()
                if suffix in ("'",):
                    return base_phones, "inflected"
                last = base_phones[-1]
                add = (["IH", "Z"] if last in ("S", "Z", "SH", "ZH", "CH", "JH")
                       else ["S"] if last in ("P", "T", "K", "F", "TH") else ["Z"])
                return base_phones + add, "inflected"
    best = None
    for k in range(2, len(word) - 1):
        a, b = lookup(word[:k]), lookup(word[k:])
        if a and b:
            score = min(k, len(word) - k)
            if best is None or score > best[0]:
                best = (score, a.split() + b.split())
    if best and best[0] >= 3:
        return best[1], "compound"
    guess = guess_pronunciation(word)
    return (guess, "guessed") if guess else ([], "none")
