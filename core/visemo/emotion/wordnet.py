"""The lexical tables behind the text emotion path: rare words → a word the emotion space was trained on.

The small sentence encoders place rare words ("afeared", "uppity", "woeful", "wutentbrannt") near the wrong
neighbours.  Two tables, derived at build time, map such words to a training-lexicon word (its *anchor*):

* ``models/emotion_wordnet`` (English, from Princeton WordNet 3.0 by :mod:`visemo.train.emotion_wordnet`):
  every WordNet word within a measured number of links of an anchor, and whether the word negates it
  ("unafraid" → not afraid), with WordNet's exception lists;
* ``models/emotion_thesaurus`` (German, Spanish, French, Italian, Portuguese, from the LibreOffice thesauri
  by :mod:`visemo.train.emotion_thesaurus`): every thesaurus word sharing a meaning line with anchors of
  its language, with the feminine/plural endings to strip.

Both are read as :class:`WordTables`, English first: a word is looked up (and lemmatised by that table's
own rules) in the WordNet table, then in the thesaurus table.  The training words of every language map
to themselves and come first, so what the model learnt is left alone.

:func:`rewrite` applies the table to a parsed clause before the encoder sees it:

* the whole core ("afeared", "hot under the collar", "heavy-hearted", "de mauvaise humeur");
* else a single word after lemmatising it with WordNet's exception lists and the suffix rules
  ("infuriated" → infuriate, "saddest" → sad, "heureuse" → heureux);
* "<adverb in -ly> <word>" compounds word by word ("woefully angry");
* a core of four to six words that is a table phrase and one word more ("mir bleibt die Spucke weg").

A negating entry flips the clause's negation, so "not unafraid" reads as afraid and "unafraid" as
"not afraid" (the existing negation rule).  A clause still negated whose one-word core has a direct
WordNet antonym of another state (``opposites.tsv``: "sure" → uncertain, "relaxed" → tense) carries that
anchor as its ``opposite``, which the prompt path shows a little of (:func:`visemo.emotion.prompts._negated`).

A word whose senses reach training words but give no emotion a clear enough majority is left out of the
table; its *weak candidates* (each emotion's best-voted training word and its share of the votes,
``weak.tsv``) are kept instead, and :func:`candidates` hands them to the prompt path, which overrules the
encoder's reading of the word only where the candidates contradict it
(:func:`visemo.emotion.prompts._overrule`).

The WordNet table also lists the English words that name things (``things.tsv``: "tractor", "bananas",
"stapler"; built by :func:`visemo.train.emotion_wordnet.build_things`); :func:`thing` finds a prompt that is
one of them alone, which the prompt path refuses: the emotion head took most such words for emotions.

Nothing is downloaded; WordNet and the thesauri are not needed at run time.  Where a model folder is
absent the text path runs without that table.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace
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

# English words that may stand before a noun that names a thing (:func:`thing`).
DETERMINERS = frozenset({"a", "an", "the", "some", "any", "my", "your", "his", "her", "its", "our", "their",
                         "this", "that", "these", "those"})

# English words that open what an adjective is about: "not sure about this", "not pleased with you" (the
# opposite of the adjective is looked up, :func:`rewrite`).
COMPLEMENT_WORDS = frozenset({"about", "with", "of", "at", "in", "for", "by", "on", "to", "that", "what", "how",
                              "if", "whether", "why", "when", "where", "who", "anymore", "today", "now"})


@dataclass(frozen=True)
class Entry:
    """A table row: the ``anchor`` (English training word) a word stands for, WordNet ``steps`` between them,
    and whether the word ``negated`` the anchor."""

    anchor: str
    steps: int
    negated: bool


@dataclass(frozen=True)
class WordTable:
    """``words`` {word: :class:`Entry`}, ``exceptions`` {irregular form: lemma}, the (suffix, replacement)
    ``rules`` tried in order on a word the table lacks, ``weak`` {word: ((anchor, share), …)}: the
    candidates of a word left out of ``words`` (:func:`candidates`), ``things``: the words (and their
    plurals) that name things (:func:`thing`), and ``opposites`` {adjective: anchor of its antonym}
    (:func:`rewrite`)."""

    words: dict[str, Entry]
    exceptions: dict[str, str]
    rules: tuple[tuple[str, str], ...] = SUFFIX_RULES
    weak: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    things: frozenset[str] = frozenset()
    opposites: dict[str, str] = field(default_factory=dict)

    def _find(self, word: str, table: dict):
        """The value ``table`` has for ``word`` (lower case), its hyphen/space variants (:func:`spellings`) or
        its lemma."""
        for w in spellings(word):
            if w in table:
                return table[w]
        if " " in word:
            return None
        lemma = self.exceptions.get(word)
        if lemma in table:
            return table[lemma]
        for form in suffix_forms(word, self.rules):
            if form in table:
                return table[form]
        return None

    def lookup(self, word: str) -> Entry | None:
        """The entry of ``word`` (lower case), of its hyphen/space variants, or of its lemma; None if none."""
        return self._find(word, self.words)

    def candidates(self, word: str) -> tuple[tuple[str, float], ...]:
        """The weak candidates of ``word`` or its lemma, found as :meth:`lookup` finds entries; () if none."""
        return self._find(word, self.weak) or ()

    def opposite(self, word: str) -> str:
        """The anchor of the antonym of ``word`` or its lemma (found as :meth:`lookup` finds entries); "" if none."""
        return self._find(word, self.opposites) or ""


def spellings(word: str) -> tuple[str, ...]:
    """``word`` and its hyphen/space variants, in the order they are looked up: "light hearted" is also
    light-hearted and lighthearted, "heart-broken" heart broken and heartbroken."""
    return tuple(dict.fromkeys((word, word.replace("-", " "), word.replace("-", ""), word.replace(" ", "-"),
                                word.replace(" ", ""))))


def suffix_forms(word: str, rules: tuple[tuple[str, str], ...]):
    """The forms the (suffix, replacement) ``rules`` make of ``word``, in rule order (3 letters kept at least)."""
    for suffix, repl in rules:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            yield word[: len(word) - len(suffix)] + repl


def _read_tsv(path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines[1:] if line]


@dataclass(frozen=True)
class WordTables:
    """Several :class:`WordTable` in precedence order (English first): a word is looked up in each in turn,
    each lemmatising it by its own rules, so that a German rule never turns English "made" into "mad"."""

    tables: tuple[WordTable, ...]

    @functools.cached_property
    def words(self) -> dict[str, Entry]:
        """All entries as one dict, the first table's winning (for inspection; :meth:`lookup` reads)."""
        out: dict[str, Entry] = {}
        for t in reversed(self.tables):
            out.update(t.words)
        return out

    def candidates(self, word: str) -> tuple[tuple[str, float], ...]:
        """The weak candidates (anchor, share) of ``word`` from the first table that has them, where no table
        has an entry for it; () if none."""
        if self.lookup(word) is not None:
            return ()
        for t in self.tables:
            found = t.candidates(word)
            if found:
                return found
        return ()

    def joined(self, text: str) -> str:
        """``text`` written as a table has it where that is with hyphens or closed up ("so so" → so-so,
        "light hearted" → light-hearted), else ``text``."""
        if " " in text and not any(text in t.words for t in self.tables):
            for w in spellings(text)[1:]:
                if " " not in w and any(w in t.words for t in self.tables):
                    return w
        return text

    def opposite(self, word: str) -> str:
        """The anchor of ``word``'s antonym from the first table that has one for it or its lemma; "" if none."""
        return next((found for t in self.tables if (found := t.opposite(word))), "")

    def names_a_thing(self, word: str) -> bool:
        """Whether ``word`` is a thing word of a table (:func:`thing`) and no table has an entry or candidates
        for it."""
        return any(word in t.things for t in self.tables) and self.lookup(word) is None and \
            not any(t.candidates(word) for t in self.tables)

    def lookup(self, word: str) -> Entry | None:
        """``word`` itself where it is a training word in any table (0 steps: French "spleen" stays spleen,
        not WordNet's choleric); else the entry of the first table that has ``word`` or one of its lemmas;
        None if none has."""
        for t in self.tables:
            entry = t.words.get(word)
            if entry is not None and entry.steps == 0:
                return entry
        for t in self.tables:
            entry = t.lookup(word)
            if entry is not None:
                return entry
        return None


def _read_table(m: models.Model) -> WordTable:
    words = {w: Entry(a, int(s), n == "1") for w, a, s, n in _read_tsv(m.file("words"))}
    files = m.files()
    exceptions = {f: lemma for f, lemma in _read_tsv(m.file("exceptions"))} if "exceptions" in files else {}
    rules = tuple((suffix, repl) for suffix, repl in _read_tsv(m.file("suffixes"))) if "suffixes" in files \
        else SUFFIX_RULES
    weak: dict[str, list[tuple[str, float]]] = {}
    for w, a, v in (_read_tsv(m.file("weak")) if "weak" in files else ()):
        weak.setdefault(w, []).append((a, float(v)))
    things = frozenset(w for w, in _read_tsv(m.file("things"))) if "things" in files else frozenset()
    opposites = dict(_read_tsv(m.file("opposites"))) if "opposites" in files else {}
    return WordTable(words, exceptions, rules, {w: tuple(c) for w, c in weak.items()}, things, opposites)


@functools.lru_cache(maxsize=4)
def _load(folder: str, names: tuple[str, ...]) -> WordTables:
    return WordTables(tuple(_read_table(models.load(name, Path(folder))) for name in names))


def table() -> WordTables | None:
    """The shipped tables, English first (read once per models folder), or None where neither
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


def candidates(core: str, words: WordTables | None = None) -> tuple[tuple[str, float], ...]:
    """What the lexical tables say of a one-word ``core`` they leave out: ((anchor, share of the votes), …),
    largest share first, or () (a phrase, a word in a table, a word whose senses reach no training word, or
    no table).  :func:`visemo.emotion.prompts._overrule` weighs them against the encoder's reading."""
    words = table() if words is None else words
    if words is None or not core or " " in core:
        return ()
    return words.candidates(core)


def thing(core: str, words: WordTables | None = None) -> str | None:
    """The word of a ``core`` that is one English word naming a thing, after determiners ("the tractor",
    "bananas", "my pencil": its first and most WordNet noun senses an object, food, plant, animal, substance,
    place, time or quantity, with no adjective or feeling sense; ``things.tsv``, built by
    :func:`visemo.train.emotion_wordnet.build_things`); None for anything else or without the table."""
    words = table() if words is None else words
    parts = core.split()
    while len(parts) > 1 and parts[0] in DETERMINERS:
        parts = parts[1:]
    if words is None or len(parts) != 1 or not words.names_a_thing(parts[0]):
        return None
    return parts[0]


def rewrite(clause: Clause, words: WordTable | WordTables | None = None) -> Clause:
    """``clause`` with its core replaced by the anchor(s) the table gives (see the module docstring); the
    clause unchanged where the table has nothing or is absent."""
    words = table() if words is None else words
    core = clause.core
    if words is None or not core:
        return clause
    entry = words.lookup(core)
    if entry is None and (inner := _phrase_within(core, words)):
        core, entry = inner, words.lookup(inner)
    if entry is not None:
        new, negated = entry.anchor, clause.negated != entry.negated
    else:
        parts = core.split()
        if len(parts) != 2 or not parts[0].endswith("ly"):
            return _with_opposite(clause, words)
        found = [words.lookup(p) for p in parts]
        new = " ".join(e.anchor if e is not None and not e.negated else p for p, e in zip(parts, found))
        negated = clause.negated
    if new == core and negated == clause.negated:
        return _with_opposite(clause, words)
    text = clause.text.replace(core, new) if core in clause.text else new
    return _with_opposite(replace(clause, text=text, core=new, negated=negated), words, core)


def _phrase_within(core: str, words: WordTable | WordTables) -> str:
    """The table phrase of three words or more that is all of ``core`` (four to six words) but one word ("mir
    bleibt die Spucke weg" holds the thesaurus's "bleibt die Spucke weg"); "" if none."""
    parts = core.split()
    if not 4 <= len(parts) <= 6:
        return ""
    m = len(parts) - 1
    return next((sub for i in range(len(parts) - m + 1)
                 if words.lookup(sub := " ".join(parts[i:i + m])) is not None), "")


def _with_opposite(clause: Clause, words: WordTable | WordTables, word: str = "") -> Clause:
    """``clause`` with the anchor of the antonym of its core's word (``word``: the core as typed, where the table
    replaced it; its first word where :data:`COMPLEMENT_WORDS` follow: "sure about this") as its ``opposite``
    where it is negated ("not sure" → uncertain)."""
    if not clause.negated:
        return clause
    word = word or clause.core
    parts = word.split()
    if len(parts) > 1 and parts[1] in COMPLEMENT_WORDS:
        word = parts[0]
    if " " in word:
        return clause
    found = words.opposite(word)
    return replace(clause, opposite=found) if found else clause
