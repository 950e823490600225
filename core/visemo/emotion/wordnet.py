"""The lexical tables behind the text emotion path: rare words → a word the emotion space was trained on.

The small sentence encoders place rare words ("afeared", "uppity", "woeful", "wutentbrannt") near the wrong
neighbours.  Two tables, derived at build time, map such words to a training-lexicon word (its *anchor*):

* ``models/emotion_wordnet`` (English, from Princeton WordNet 3.0 by :mod:`visemo.train.emotion_wordnet`):
  every WordNet word within a measured number of links of an anchor, and whether the word negates it
  ("unafraid" → not afraid), with WordNet's exception lists;
* ``models/emotion_thesaurus`` (German, Spanish, French, Italian, Portuguese, from the LibreOffice thesauri
  by :mod:`visemo.train.emotion_thesaurus`): every thesaurus word sharing a meaning line with anchors of
  its language, with the feminine/plural endings to strip.

Both are read into one :class:`WordTable`; where a word is in both, the English entry wins.  The training
words map to themselves, so what the model learnt is left alone.

:func:`rewrite` applies the table to a parsed clause before the encoder sees it:

* the whole core ("afeared", "hot under the collar", "heavy-hearted", "de mauvaise humeur");
* else a single word after lemmatising it with WordNet's exception lists and the suffix rules
  ("infuriated" → infuriate, "saddest" → sad, "heureuse" → heureux);
* "<adverb in -ly> <word>" compounds word by word ("woefully angry").

A negating entry flips the clause's negation, so "not unafraid" reads as afraid and "unafraid" as
"not afraid" (the existing negation rule).  Nothing is downloaded; WordNet and the thesauri are not needed
at run time.  Where a model folder is absent the text path runs without that table.
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
THESAURUS_NAME = "emotion_thesaurus"
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
    """``words`` {word: :class:`Entry`}, ``exceptions`` {irregular form: lemma} and the (suffix, replacement)
    ``rules`` tried in order on a word the table lacks."""

    words: dict[str, Entry]
    exceptions: dict[str, str]
    rules: tuple[tuple[str, str], ...] = SUFFIX_RULES

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
        for suffix, repl in self.rules:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                entry = self.words.get(word[: len(word) - len(suffix)] + repl)
                if entry is not None:
                    return entry
        return None


def _read_tsv(path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:] if line]


def _words(m: models.Model) -> dict[str, Entry]:
    return {w: Entry(a, int(s), n == "1") for w, a, s, n in _read_tsv(m.file("words"))}


@functools.lru_cache(maxsize=4)
def _load(folder: str, names: tuple[str, ...]) -> WordTable:
    base = Path(folder)
    words: dict[str, Entry] = {}
    exceptions: dict[str, str] = {}
    rules = list(SUFFIX_RULES) if MODEL_NAME in names else []
    for name in reversed(names):          # the first table's entries win
        m = models.load(name, base)
        words.update(_words(m))
        if "exceptions" in m.files():
            exceptions.update({f: lemma for f, lemma in _read_tsv(m.file("exceptions"))})
        if "suffixes" in m.files():
            rules += [(suffix, repl) for suffix, repl in _read_tsv(m.file("suffixes"))]
    return WordTable(words, exceptions, tuple(dict.fromkeys(rules)))


def table() -> WordTable | None:
    """The shipped tables as one (read once per models folder), or None where neither
    ``models/emotion_wordnet`` nor ``models/emotion_thesaurus`` is there.

    Raises :class:`ModelError` when a folder is there but a file is damaged.
    """
    base = models.models_dir()
    names = tuple(n for n in (MODEL_NAME, THESAURUS_NAME) if (base / n / "model.json").is_file())
    if not names:
        log.debug("visemo: no %s or %s model in %s; free-text prompts go to the encoder alone",
                  MODEL_NAME, THESAURUS_NAME, base)
        return None
    return _load(str(base), names)


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
