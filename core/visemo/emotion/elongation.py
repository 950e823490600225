"""Letters held for effect, as people type them: "yaaaay", "sooo sad", "awwww", "grrrrr".

A word with a run of three or more of the same letter that the emotion
vocabulary does not know is read as the first of its shortened spellings
that it does know (:func:`respell`).  Each such run is tried at two
letters, then one, then three ("yaaaay" → yaay, **yay**; "sooo" → soo,
**so**; "ewwwww" → eww, ew, **ewww** when that is the known one).  A word
with no known shortening is left as typed, so the encoder still reads it.

Only runs of three or more are touched: double letters are ordinary
spelling ("happy", "terrified"), and a word the vocabulary knows as typed
("grrr", a training word) stays as it is.
"""

from __future__ import annotations

import itertools
import re
from typing import Callable, Iterator

RUN = re.compile(r"(\w)\1{2,}")
"""Three or more of the same letter."""

RUN_LENGTHS = (2, 1, 3)
"""Lengths a held run is tried at, in this order."""

MAX_RUNS = 3
"""Words with more held runs than this are left as typed (3³ spellings at most)."""


def shortenings(word: str) -> Iterator[str]:
    """The spellings of ``word`` with each run of 3+ same letters cut to :data:`RUN_LENGTHS`, in order
    (nothing for a word without such runs or with more than :data:`MAX_RUNS`)."""
    runs = list(RUN.finditer(word))
    if not runs or len(runs) > MAX_RUNS:
        return
    seen = {word}
    for lengths in itertools.product(RUN_LENGTHS, repeat=len(runs)):
        parts, at = [], 0
        for m, n in zip(runs, lengths):
            parts += [word[at:m.start()], m.group(1) * n]
            at = m.end()
        form = "".join(parts) + word[at:]
        if form not in seen:
            seen.add(form)
            yield form


def respell(text: str, known: Callable[[str], bool], modifiers: frozenset[str] = frozenset()) -> str:
    """``text`` (normalised, words split by spaces) with each held-letter word that ``known`` rejects
    replaced by its first shortening that ``known`` accepts.  A shortening in ``modifiers`` (intensity
    words, negations) counts only before another word: "sooo sad" → so sad, but a lone "nooooo" is a cry,
    not the word "no"."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if RUN.search(w) and not known(w):
            last = i == len(words) - 1
            words[i] = next((f for f in shortenings(w) if known(f) and not (last and f in modifiers)), w)
    return " ".join(words)
