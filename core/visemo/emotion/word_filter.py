"""Which strings are words of English, German, Spanish, French, Italian or Portuguese (``models/word_filter``).

A Bloom filter over every lemma of WordNet 3.0, every term of the
LibreOffice thesauri and every word of Debian's word lists (built by
:mod:`visemo.train.word_filter`): "table", "with" and "brown" are words,
"anrgy" is not.  :mod:`visemo.emotion.spelling` corrects
only strings that are not words, so a real word is never turned into a
nearby emotion word ("table" is not read as "fable").  A Bloom filter
answers "a word" for a few non-words (:data:`FALSE_POSITIVE_RATE`); such a
slip is then simply left as typed.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from .. import models

MODEL_NAME = "word_filter"
FALSE_POSITIVE_RATE = 0.05
"""Share of non-words the filter takes for words (the build's target)."""
_PERSON = b"visemo-words"


def _positions(word: str, bits: int, hashes: int) -> np.ndarray:
    """The ``hashes`` bit positions of ``word`` (double hashing of one BLAKE2b digest)."""
    d = hashlib.blake2b(word.encode("utf-8"), digest_size=16, person=_PERSON).digest()
    h1, h2 = int.from_bytes(d[:8], "little"), int.from_bytes(d[8:], "little") | 1
    return np.array([(h1 + i * h2) % bits for i in range(hashes)], np.int64)


class WordFilter:
    """A set of words as a Bloom filter: ``word in f``.  ``bits`` uint8 [ceil(size / 8)] packed (little bit
    order), ``size`` bits, ``hashes`` positions a word."""

    def __init__(self, bits: np.ndarray, size: int, hashes: int) -> None:
        self.bits, self.size, self.hashes = np.asarray(bits, np.uint8), int(size), int(hashes)

    @classmethod
    def build(cls, words, false_positive_rate: float = FALSE_POSITIVE_RATE) -> "WordFilter":
        """The filter of ``words`` (an iterable of str) sized for ``false_positive_rate``."""
        words = sorted(set(words))
        n = max(len(words), 1)
        size = int(np.ceil(-n * np.log(false_positive_rate) / np.log(2) ** 2))
        hashes = max(1, int(round(size / n * np.log(2))))
        on = np.zeros(size, bool)
        for w in words:
            on[_positions(w, size, hashes)] = True
        return cls(np.packbits(on, bitorder="little"), size, hashes)

    def __contains__(self, word: str) -> bool:
        p = _positions(word, self.size, self.hashes)
        return bool(np.all((self.bits[p >> 3] >> (p & 7).astype(np.uint8)) & 1))

    def save(self, path: Path) -> None:
        np.savez(path, bits=self.bits, size=np.int64(self.size), hashes=np.int64(self.hashes))

    @classmethod
    def load(cls, path: Path) -> "WordFilter":
        with np.load(path, allow_pickle=False) as f:
            return cls(f["bits"], int(f["size"]), int(f["hashes"]))


def word_filter() -> WordFilter | None:
    """The shipped filter (read once per models folder), or None where ``models/word_filter`` is absent.

    Raises :class:`ModelError` when the folder is there but its file is damaged.
    """
    base = models.models_dir()
    if not (base / MODEL_NAME / "model.json").is_file():
        return None
    return _load(str(base))


@functools.lru_cache(maxsize=4)
def _load(folder: str) -> WordFilter:
    return WordFilter.load(models.load(MODEL_NAME, Path(folder)).file("words"))
