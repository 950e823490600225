"""Derive the thesaurus table of the text emotion path (``models/emotion_thesaurus``) for German, Spanish,
French, Italian and Portuguese from the LibreOffice thesauri.

    python -m visemo.train.emotion_thesaurus [--mythes /usr/share/mythes] [--out models/emotion_thesaurus]

Build time only; needs Debian's ``mythes-de mythes-es mythes-fr mythes-it mythes-pt-pt mythes-pt-br`` (read
by :mod:`visemo.train.mythes_db`; licences in :data:`~visemo.train.mythes_db.SOURCES`, all
GPL-3.0-compatible) and ``wordnet-base`` (for the English words to leave out, below).
The run time reads the shipped table through :mod:`visemo.emotion.wordnet`, next to the English WordNet one.

*Anchors* are the training-lexicon words of each language (``data/emotion_lexicon``: the concepts' ``words``
and ``more`` forms and the large lexicon after its held-out filter).  Every meaning line of the thesaurus is
a set of synonyms (its headword with its synonyms); a word's senses are the lines of its own entry (rank =
their order) and, for a word that has no entry, the lines it appears in (rank :data:`MEMBER_RANK`).  Each
sense votes ``1 / (rank + 1)`` for the basic emotions of the anchors in it, shared among them; the winner needs
:data:`MIN_SHARE` of the votes (and its senses :data:`MIN_SENSE_SHARE` of the word's rank weight), and its
best-voted anchor becomes the word's replacement.  Words reached only through a
synonym's own line (two steps) were measured too, and left out: :func:`measure` hides each single-word
anchor with its stem relatives and resolves it from the rest (the card's ``step_measurement``); two steps
are right for about half the words, below what the encoder alone names (0.79 of unseen words of these
languages, ``benchmarks/bench_word_folds.py``), and :data:`MIN_STEP_ACCURACY` keeps only step counts above it.
:data:`MIN_SHARE` was chosen on the same cross-validation over the training words (0.5 / 0.6 / 0.7 / 0.8 gave
0.816 / 0.836 / 0.844 / 0.844 top-1 with the encoder behind), never on the held-out set.

English words (every lemma in WordNet's index) are left out of the table unless they are training words of
the language ("normal", "allegro"): the tables are looked up without knowing the prompt's language, and an
English prompt ("effort", "accident", "arm") must not take a French or German meaning ("peine", "arm" =
poor).  So the build reads WordNet too.

A word left out although its senses hold anchors keeps its weak candidates (:func:`build_weak`, ``weak.tsv``,
as in the WordNet table).

Inflected forms the thesaurus does not list ("heureuse", "wütende", "tristes") are looked up through
:data:`SUFFIX_RULES` (feminine and plural endings to the masculine singular), shipped with the table.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from ..emotion.wordnet import suffix_forms
from . import mythes_db as M
from . import wordnet_db as W
from .emotion_wordnet import Anchor, anchors, candidate_shares, related, weak_rows, write_tsv

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "models" / "emotion_thesaurus"
LANGUAGES = tuple(M.SOURCES)
MEMBER_RANK = 3
MIN_SHARE = 0.7
MIN_SENSE_SHARE = 0.2
"""The senses voting for the winner need this share of the rank weight of all the word's senses, as in the
WordNet table: a rare sense of an everyday word does not decide.  Measured: 0.2 takes "paquete" → pena,
"chiuso" → spento and "noite" → desgosto out of the emotion-free sentence words, leave-one-out unchanged."""
MIN_STEP_ACCURACY = 0.8
MEASURED_STEPS = (1, 2)
SUFFIX_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "de": (("en", ""), ("er", ""), ("es", ""), ("em", ""), ("e", "")),
    "es": (("as", "o"), ("a", "o"), ("os", "o"), ("es", ""), ("s", "")),
    "fr": (("euses", "eux"), ("euse", "eux"), ("ives", "if"), ("ive", "if"), ("ées", "é"), ("ée", "é"),
           ("és", "é"), ("es", "e"), ("es", ""), ("e", ""), ("s", "")),
    "it": (("a", "o"), ("e", "o"), ("i", "o"), ("e", "a"), ("i", "e")),
    "pt": (("as", "o"), ("a", "o"), ("os", "o"), ("es", ""), ("s", "")),
}
"""(suffix, replacement) per language, tried in order on a word the table lacks (at least 3 letters kept)."""


class Thesaurus:
    """One language's thesaurus as sense lines, with its anchors."""

    def __init__(self, entries: dict[str, list[tuple[str, ...]]], anchor_words: dict[str, Anchor]):
        self.anchors = anchor_words
        self.senses: dict[str, list[tuple[int, frozenset[str]]]] = defaultdict(list)
        for head, meanings in entries.items():
            for rank, syns in enumerate(meanings):
                self.senses[head].append((rank, frozenset((head, *syns))))
        for head, meanings in entries.items():
            for syns in meanings:
                line = frozenset((head, *syns))
                for s in syns:
                    if s not in entries:
                        self.senses[s].append((MEMBER_RANK, line))

    def resolve(self, word: str, max_steps: int = 1, hidden=frozenset()) -> tuple[str, int] | None:
        """(anchor, steps) for ``word`` (lower case), or None when no sense within ``max_steps`` holds an
        anchor or no emotion wins :data:`MIN_SHARE` of the votes.  Step 2 walks each synonym's first line."""
        score, sense_weight, anchor_score, steps_of, senses = self._sense_votes(word, max_steps, hidden)
        if not score:
            return None
        group, best = score.most_common(1)[0]
        if best < MIN_SHARE * sum(score.values()) or \
                sense_weight[group] < MIN_SENSE_SHARE * sum(1 / (rank + 1) for rank, _ in senses):
            return None
        anchor = min((a for a in anchor_score if self.anchors[a].group == group),
                     key=lambda a: (-anchor_score[a], steps_of[a], a))
        return anchor, steps_of[anchor]

    def candidates(self, word: str, max_steps: int = 1, hidden=frozenset()) -> list[tuple[str, float]]:
        """The best-voted anchor of each emotion among ``word``'s senses, as the lexicon writes it, with
        that emotion's share of the votes (:func:`~visemo.train.emotion_wordnet.candidate_shares`)."""
        score, _, anchor_score, _, _ = self._sense_votes(word, max_steps, hidden)
        return [(self.anchors[a].word, v) for a, v in
                candidate_shares(score, anchor_score, lambda a: self.anchors[a].group)]

    def _sense_votes(self, word: str, max_steps: int, hidden) -> tuple[Counter, Counter, Counter, dict, tuple]:
        """Votes of ``word``'s senses: score per emotion, the rank weight of the senses voting for each
        emotion, score per anchor, each anchor's steps, and the senses."""
        score: Counter = Counter()
        sense_weight: Counter = Counter()   # per emotion: the rank weight of the senses voting for it
        anchor_score: Counter = Counter()
        steps_of: dict[str, int] = {}
        senses = self.senses.get(word, ())
        for rank, line in senses:
            layer, seen = [s for s in line if s != word], {word}
            for steps in range(1, max_steps + 1):
                found = [s for s in layer if s in self.anchors and s not in hidden]
                if found:
                    for s in found:
                        v = 0.5 ** (steps - 1) / (rank + 1) / len(found)
                        score[self.anchors[s].group] += v
                        anchor_score[s] += v
                        steps_of[s] = min(steps_of.get(s, 99), steps)
                    for g in {self.anchors[s].group for s in found}:
                        sense_weight[g] += 1 / (rank + 1)
                    break
                seen |= set(layer)
                layer = sorted({t for s in layer for _, ln in self.senses.get(s, ())[:1] for t in ln} - seen)
        return score, sense_weight, anchor_score, steps_of, senses

    def lemmas(self, word: str, rules: tuple[tuple[str, str], ...]) -> list[str]:
        """``word`` and the forms :data:`SUFFIX_RULES` make of it that the thesaurus has."""
        return list(dict.fromkeys([word] + [f for f in suffix_forms(word, rules) if f in self.senses]))


def measure(th: Thesaurus, lang: str) -> dict:
    """Leave-one-out over ``lang``'s single-word anchors: hide the word and its stem relatives, resolve it
    (or, failing that, its inflection-stripped forms) from the rest with up to two steps.
    {steps: {"n", "correct"}} with "none" for words left unresolved."""
    out: dict = {s: {"n": 0, "correct": 0} for s in (*MEASURED_STEPS, "none")}
    words = sorted(a for a in th.anchors if " " not in a)
    for w in words:
        hidden = frozenset(a for a in th.anchors if related(a, w))
        r = None
        for form in th.lemmas(w, SUFFIX_RULES[lang]):
            r = th.resolve(form, max(MEASURED_STEPS), hidden)
            if r:
                break
        key = "none" if r is None else r[1]
        out[key]["n"] += 1
        out[key]["correct"] += r is not None and th.anchors[r[0]].group == th.anchors[w].group
    return out


def choose_steps(measured: dict) -> int:
    """The last step count whose words are resolved at :data:`MIN_STEP_ACCURACY` or better (0: none)."""
    best = 0
    for s in MEASURED_STEPS:
        m = measured[s]
        if m["n"] and m["correct"] / m["n"] >= MIN_STEP_ACCURACY:
            best = s
        else:
            break
    return best


def neutral_share(th: Thesaurus, lang: str, max_steps: int) -> dict:
    """Words of ``lang``'s emotion-free training sentences (not anchors) that the table would give an emotion."""
    import re

    from . import emotion_tables

    words = sorted({w for text, lg in emotion_tables.load().neutral_sentences if lg == lang
                    for w in re.findall(r"\w+", text.lower()) if len(w) > 2} - set(th.anchors))
    hits = [(w, r[0]) for w in words if (r := th.resolve(w, max_steps)) and th.anchors[r[0]].group != "neutral"]
    return {"n": len(words), "emotion": len(hits), "examples": [f"{w} → {a}" for w, a in hits[:8]]}


def build_table(th: Thesaurus, max_steps: int, english=frozenset()) -> dict[str, tuple[str, int]]:
    """{word: (anchor as the lexicon writes it, steps)} for every thesaurus word in reach, except the words
    in ``english`` (an English prompt "effort" must not become French "peine"); anchors map to themselves at
    0 steps."""
    words = {a: (anchor.word, 0) for a, anchor in th.anchors.items()}
    for word in th.senses:
        if word not in words and word not in english and max_steps and (r := th.resolve(word, max_steps)):
            words[word] = (th.anchors[r[0]].word, r[1])
    return words


def build_weak(th: Thesaurus, words: dict, max_steps: int,
               english=frozenset()) -> dict[str, list[tuple[str, float]]]:
    """{word: :meth:`Thesaurus.candidates`} for every thesaurus word the table (``words``) leaves out, except
    the words in ``english``, whose senses hold anchors within ``max_steps``: as
    :func:`visemo.train.emotion_wordnet.build_weak`."""
    return {w: c for w in th.senses if w not in words and w not in english and max_steps
            and (c := th.candidates(w, max_steps))}


def merge_weak(weak: dict[str, dict], words: dict) -> dict[str, list[tuple[str, float]]]:
    """One weak table over the languages: a word the merged table (``words``) has is left out, and so is a
    word two languages give candidates for (its language is not known when it is typed)."""
    seen = Counter(w for table in weak.values() for w in table)
    return dict(sorted((w, c) for table in weak.values() for w, c in table.items()
                       if seen[w] == 1 and w not in words))


def merge(tables: dict[str, dict[str, tuple[str, int]]], groups: dict[str, dict[str, str]]) -> dict[str, tuple]:
    """One table over the languages: a word two languages resolve to different basic emotions is dropped
    ("burro": butter in Italian, donkey in Spanish), else the entry with the fewest steps is kept (a training
    word of one language stays itself: French "tristesse", not German Tristesse → Melancholie), the first
    language's on a tie."""
    out: dict[str, tuple] = {}
    group_of: dict[str, str] = {}
    dropped: set[str] = set()
    for lang, table in tables.items():
        for word, (anchor, steps) in table.items():
            g = groups[lang][anchor]
            if word in dropped:
                continue
            if word in out:
                if group_of[word] != g:
                    del out[word]
                    dropped.add(word)
                elif steps < out[word][1]:
                    out[word] = (anchor, steps, 0)
                continue
            out[word], group_of[word] = (anchor, steps, 0), g
    return dict(sorted(out.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mythes", type=Path, default=None, help="folder of the MyThes .dat files")
    ap.add_argument("--wordnet", type=Path, default=None, help="WordNet 3.0 database folder (its English lemmas)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    started = time.perf_counter()
    folder = args.mythes or M.mythes_dir()
    english = frozenset(W.read_index(args.wordnet or W.wordnet_dir()))
    tables, groups, report, weak = {}, {}, {}, {}
    for lang in LANGUAGES:
        th = Thesaurus(M.read_language(lang, folder), anchors(lang))
        measured = measure(th, lang)
        steps = choose_steps(measured)
        tables[lang] = build_table(th, steps, english)
        weak[lang] = build_weak(th, tables[lang], steps, english)
        groups[lang] = {a.word: a.group for a in th.anchors.values()}
        report[lang] = {"anchors": len(th.anchors), "words": len(tables[lang]), "max_steps": steps,
                        "step_measurement": {str(s): {"n": m["n"], "accuracy": round(m["correct"] / max(m["n"], 1), 3)}
                                             for s, m in measured.items()},
                        "emotion_free_words": neutral_share(th, lang, steps)}
        shown = ", ".join(f"{s}: {m['n']} words {m['correct'] / max(m['n'], 1):.2f}" for s, m in measured.items())
        print(f"{lang}: {len(tables[lang])} words, at most {steps} step(s); leave-one-out {shown}")
    words = merge(tables, groups)
    weak_words = merge_weak(weak, words)
    rules = sorted({r for lang in LANGUAGES for r in SUFFIX_RULES[lang]}, key=lambda r: (-len(r[0]), r))
    files = write_tsv(args.out, {"words": (["word", "anchor", "steps", "negated"],
                                           [(w, *v) for w, v in words.items()]),
                                 "suffixes": (["suffix", "replacement"], rules),
                                 "weak": weak_rows(weak_words)})
    card = {
        "name": "emotion_thesaurus",
        "kind": "lexical_table",
        "format_version": 1,
        "description": ("German, Spanish, French, Italian and Portuguese words → a word of the emotion-space "
                        "training lexicon in that language (anchor), from the LibreOffice thesauri (words.tsv); "
                        "for the words left out whose senses hold anchors, each emotion's best-voted anchor "
                        "and its share of the votes (weak.tsv); used by visemo.emotion.wordnet for words the "
                        "text encoder was not trained on."),
        "files": files,
        "entries": {"words": len(words), "by_language": {k: v["words"] for k, v in report.items()},
                    "weak": len(weak_words)},
        "origin": {lang: {"resource": f"LibreOffice thesaurus ({s.package}, Debian)", "files_read": list(s.files),
                          "licence": s.licence, "copyright": s.copyright} for lang, s in M.SOURCES.items()},
        "build": {"script": "core/visemo/train/emotion_thesaurus.py",
                  "command": "python -m visemo.train.emotion_thesaurus",
                  "anchors": "other-language words of data/emotion_lexicon (held-out filter applied; no held-out word)",
                  "english_left_out": "every WordNet 3.0 lemma that is not a training word of the language",
                  "member_rank": MEMBER_RANK, "min_share": MIN_SHARE, "min_sense_share": MIN_SENSE_SHARE, "min_step_accuracy": MIN_STEP_ACCURACY,
                  "seconds": round(time.perf_counter() - started, 1)},
        "languages": report,
        "licence": ("derived table, GPL-3.0 as a whole (the Italian thesaurus is GPL-3.0; the others LGPL-2.1, "
                    "LGPL-2.1-or-later, GPL-2.0-or-later, LGPL-3.0 or MPL: see origin); anchors: CC0-1.0 "
                    "(visemo lexicon)"),
    }
    (args.out / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
