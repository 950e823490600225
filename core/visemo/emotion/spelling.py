"""Prompts as people type them: letters held for effect ("yaaaay", "sooo sad") and slips ("anrgy").

:func:`respell` replaces each word of a normalised prompt that the prompt
:class:`Vocabulary` does not know by a word it does know, in two steps:

1. **Held letters.**  A run of three or more of the same letter is tried
   at two letters, then one, then three ("yaaaay" → yaay, **yay**; "sooo"
   → soo, **so**); the first spelling the vocabulary knows is taken.
   Double letters are ordinary spelling and never touched.
2. **Slips.**  In a short prompt (:data:`MAX_SLIP_WORDS` words at most: an
   emotion, not a sentence) a word of :data:`MIN_SLIP_LETTERS` letters or
   more that is no word of any language the word filter holds ("table" is
   one, "anrgy" is not) becomes the known word one edit away (a letter left out, added,
   changed, or two neighbours swapped; two edits from
   :data:`TWO_EDIT_LETTERS` letters on) — only when every nearest known
   word means the same (one emotion word, one anchor of the word tables);
   otherwise the word is left to the encoder as typed.  A word with held
   letters is never taken for a slip ("aaaa" is not "aaah"), nor a word that
   is a known one with letters in front ("unamused" is not "amused"), nor a
   compound or contraction ("stuck-out" is not "stuck-up").

A shortening that is an intensity or negation word counts only before
another word ("noooot happy" → not happy; a lone "nooooo" is a cry, not
"no").  Words the vocabulary knows are never changed, whatever they look
like ("grrr" is a training word).
"""

from __future__ import annotations

import itertools
import re
from typing import Callable, Iterable, Iterator

RUN = re.compile(r"(\w)\1{2,}")
"""Three or more of the same letter."""

RUN_LENGTHS = (2, 1, 3)
"""Lengths a held run is tried at, in this order."""

MAX_RUNS = 3
"""Words with more held runs than this are left as typed (3³ spellings at most)."""

MIN_SLIP_LETTERS = 4
"""Shorter words are never corrected ("sda" could be anything)."""

TWO_EDIT_LETTERS = 8
"""Words this long may be two edits from the word meant ("dissapointed")."""

MAX_SLIP_WORDS = 4
"""Prompts with more words than this are sentences: their words are not corrected."""

MAX_SLIP_LETTERS = 24
"""Longer words are not corrected (the search grows with the square of a word's length)."""


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


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, change a letter, swap two neighbours) that turn ``a`` into ``b``
    (optimal string alignment distance)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _deletes(word: str, depth: int) -> set[str]:
    """``word`` and every string made from it by deleting up to ``depth`` letters."""
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class Vocabulary:
    """The words a prompt may use, each with what it means.

    ``meanings``: word → meaning (any string; two words with the same
    meaning are interchangeable for :meth:`nearest`).  ``lookup``: a further
    ``word → meaning or None`` for forms not listed (the word tables'
    inflections).  ``modifiers``: words that only modify the next one
    (intensity, negation).  ``is_word``: whether a string is a word of some
    language (:mod:`visemo.emotion.word_filter`); words are never corrected.
    """

    def __init__(self, meanings: dict[str, str], lookup: Callable[[str], str | None] = lambda w: None,
                 modifiers: Iterable[str] = (), is_word: Callable[[str], bool] = lambda w: False) -> None:
        self.meanings = meanings
        self.lookup = lookup
        self.modifiers = frozenset(modifiers)
        self.is_word = is_word
        self._index: dict[str, list[str]] | None = None

    def meaning(self, word: str) -> str | None:
        """What ``word`` means, or None where the vocabulary does not know it."""
        m = self.meanings.get(word)
        return m if m is not None else self.lookup(word)

    def known(self, word: str) -> bool:
        return self.meaning(word) is not None

    def _deletion_index(self) -> dict[str, list[str]]:
        if self._index is None:
            index: dict[str, list[str]] = {}
            for w in self.meanings:
                if len(w) >= MIN_SLIP_LETTERS - 1 and w.replace("-", "").replace("'", "").isalpha():
                    for d in _deletes(w, 1):
                        index.setdefault(d, []).append(w)
            self._index = index
        return self._index

    def nearest(self, word: str) -> str | None:
        """The known word ``word`` is most likely a slip for (see the module docstring), or None."""
        if not MIN_SLIP_LETTERS <= len(word) <= MAX_SLIP_LETTERS or not word.isalpha() or self.is_word(word):
            return None   # compounds ("stuck-out") and contractions are not guessed at
        limit = 2 if len(word) >= TWO_EDIT_LETTERS else 1
        index = self._deletion_index()
        found = {c for d in _deletes(word, limit) for c in index.get(d, ())}
        scored = [(edit_distance(word, c), c) for c in found if abs(len(c) - len(word)) <= limit]
        # all edits at the front ("unamused" / "amused") is a prefix, not a slip
        scored = [(d, c) for d, c in scored if d <= limit and not (c.endswith(word) or word.endswith(c))]
        if not scored:
            return None
        best = min(d for d, _ in scored)
        nearest = sorted(c for d, c in scored if d == best)
        return nearest[0] if len({self.meanings[c] for c in nearest}) == 1 else None


def respell(text: str, vocabulary: Vocabulary, slips: bool = True) -> str:
    """``text`` (normalised, words split by spaces) with unknown words respelled (module docstring);
    ``slips=False``: held letters only."""
    words = text.split(" ")
    slips = slips and len(words) <= MAX_SLIP_WORDS
    for i, w in enumerate(words):
        if vocabulary.known(w):
            continue
        last = i == len(words) - 1

        def usable(form: str | None) -> bool:
            return form is not None and vocabulary.known(form) and not (last and form in vocabulary.modifiers)

        form = next((f for f in shortenings(w) if usable(f)), None)
        if form is None and slips and not RUN.search(w):   # "aaaa" is not a slip for "aaah"
            form = vocabulary.nearest(w)
            form = form if usable(form) else None
        if form is not None:
            words[i] = form
    return " ".join(words)
