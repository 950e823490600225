"""WordNet behind the text emotion path: rare English words → a word the emotion space was trained on.

The small sentence encoders place rare words ("afeared", "uppity", "woeful") near the wrong neighbours.
``models/emotion_wordnet`` (derived at build time from Princeton WordNet 3.0 by
:mod:`visemo.train.emotion_wordnet`) maps every WordNet word within a measured number of links of a
training-lexicon word (its *anchor*) to that anchor, and says when the word negates it ("unafraid" → not
afraid).  The training words map to themselves, so what the model learnt is left alone.

:func:`rewrite` applies the table to a parsed clause before the encoder sees it:

* the whole core ("afeared", "hot under the collar", "heavy-hearted");
* else a single word after lemmatising it with WordNet's exception lists and suffix rules
  ("infuriated" → infuriate, "saddest" → sad);
* "<adverb in -ly> <word>" compounds word by word ("woefully angry").

A negating entry flips the clause's negation, so "not unafraid" reads as afraid and "unafraid" as
"not afraid" (the existing negation rule).  Nothing is downloaded; WordNet itself is not needed at run time.
Where the model folder is absent the text path runs without it.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from .. import models
from .semantics import Clause

log = logging.getLogger(__name__)

MODEL_NAME = "emotion_wordnet"
# WordNet's detachment rules (morphy), by part of speech: (suffix, replacement).
SUFFIX_RULES: tuple[tuple[str, str], ...] = (
    ("ies", "y"), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
    ("es", "e"), ("es", ""), ("s", ""),                         # nouns, verbs
    ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""),         # verbs
    ("est", "e"), ("est", ""), ("er", "e"), ("er", ""),         # adjectives
)  # no "-ly" rule: WordNet lists its adverbs, and the table maps them to the lexicon's adverbs


@dataclass(frozen=True)
class Entry:
    """A table row: the ``anchor`` (English training word) a word stands for, WordNet ``steps`` between them,
    and whether the word ``negated`` the anchor."""

    anchor: str
    steps: int
    negated: bool


@dataclass(frozen=True)
class WordTable:
    """``words`` {word: :class:`Entry`} and ``exceptions`` {irregular form: lemma}."""

    words: dict[str, Entry]
    exceptions: dict[str, str]

    def lookup(self, word: str) -> Entry | None:
        """The entry of ``word`` (lower case), of its hyphen/space variants, or of its lemma; None if none."""
        for w in dict.fromkeys((word, word.replace("-", " "), word.replace("-", ""))):
            if w in self.words:
                return self.words[w]
        if " " in word:
            return None
        lemma = self.exceptions.get(word)
        if lemma in self.words:
            return self.words[lemma]
        for suffix, repl in SUFFIX_RULES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                entry = self.words.get(word[: len(word) - len(suffix)] + repl)
                if entry is not None:
                    return entry
        return None


def _read_tsv(path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:] if line]


@functools.lru_cache(maxsize=4)
def _load(folder: str) -> WordTable:
    m = models.load(MODEL_NAME, Path(folder))
    words = {w: Entry(a, int(s), n == "1") for w, a, s, n in _read_tsv(m.file("words"))}
    exceptions = {f: lemma for f, lemma in _read_tsv(m.file("exceptions"))}
    return WordTable(words, exceptions)


def table() -> WordTable | None:
    """The shipped table (read once per models folder), or None where ``models/emotion_wordnet`` is absent.

    Raises :class:`ModelError` when the folder is there but a file is damaged.
    """
    base = models.models_dir()
    if not (base / MODEL_NAME / "model.json").is_file():
        log.debug("visemo: no %s model in %s; free-text prompts go to the encoder alone", MODEL_NAME, base)
        return None
    return _load(str(base))


def rewrite(clause: Clause, words: WordTable | None = None) -> Clause:
    """``clause`` with its core replaced by the anchor(s) the table gives (see the module docstring); the
    clause unchanged where the table has nothing or is absent."""
    words = table() if words is None else words
    core = clause.core
    if words is None or not core:
        return clause
    entry = words.lookup(core)
    if entry is not None:
        new, negated = entry.anchor, clause.negated != entry.negated
    else:
        parts = core.split()
        if len(parts) != 2 or not parts[0].endswith("ly"):
            return clause
        found = [words.lookup(p) for p in parts]
        new = " ".join(e.anchor if e is not None and not e.negated else p for p, e in zip(parts, found))
        negated = clause.negated
    if new == core and negated == clause.negated:
        return clause
    text = clause.text.replace(core, new) if core in clause.text else new
    return replace(clause, text=text, core=new, negated=negated)
