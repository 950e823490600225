"""The one loader of the emotion text tables in ``data/emotion_lexicon/`` (build time only).

The tables are plain JSON lines, one row a concept, situation or sentence, so
that they can be edited without touching code (field reference:
``data/emotion_lexicon/README.md``):

* ``concepts.jsonl`` — one facial configuration a row: ``concept`` key, basic
  ``label`` (or null), FACS ``aus`` (action unit → intensity 0..1, ``"L12"`` /
  ``"R12"`` one side), English ``adjectives`` / ``nouns`` / ``adverbs``,
  other-language ``words`` and ``more`` ({lang: forms}, the dense lexicon);
* ``lexicon_large.jsonl`` — more forms per concept ({lang: forms}); filtered
  against the held-out set before training
  (:func:`visemo.train.emotion_dataset.large_entries`);
* ``situations.jsonl`` — what happened → concept (``source`` base, large or
  events: events told plainly, which train the expression but not the
  emotion/no-emotion head; large and events go through the held-out filter);
* ``no_emotion.jsonl`` — short texts that name no emotion;
* ``sentences.jsonl`` — whole sentences: ``label`` null (emotion-free) or the
  basic emotion of an emotional dialogue line;
* ``heldout.jsonl`` — the evaluation prompts, never training data (sets
  words, paraphrases, situations, languages, compounds, negations, negatives);
* ``dev.jsonl`` — the development prompts, in the held-out format: never
  training data either, but the set on which settings and data are chosen
  (the held-out set only reports).

:func:`load` reads them once and returns :class:`EmotionTables`; rows are
checked (unknown concepts, labels or fields raise ``ValueError`` naming the
file and line).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..emotion.facs import BASIC_EMOTIONS

DATA = Path(__file__).resolve().parents[3] / "data" / "emotion_lexicon"
LANGS = ("en", "fr", "de", "es", "it", "pt")
SITUATION_SOURCES = ("base", "large", "events")
HELDOUT_SETS = ("words", "paraphrases", "situations", "languages", "compounds", "negations", "negatives")

AUs = dict  # action unit (int, or "L12"/"R12") → intensity 0..1
Forms = dict  # language → tuple of forms


@dataclass(frozen=True)
class Concept:
    """One facial configuration and the words that name it (a row of ``concepts.jsonl``)."""

    key: str
    label: str | None                 # basic emotion it reads as, or None
    aus: AUs
    adjectives: tuple[str, ...] = ()  # "furious", "on the verge of tears"
    nouns: tuple[str, ...] = ()       # "fury", "rage"
    adverbs: tuple[str, ...] = ()     # "furiously" (for compounds "furiously sad")
    words: Forms = field(default_factory=dict)  # other language → forms
    more: Forms = field(default_factory=dict)   # language → more forms (the dense lexicon)


@dataclass(frozen=True)
class EmotionTables:
    """Everything in ``data/emotion_lexicon/``, in file order.

    ``situations`` / ``situations_large`` / ``situations_events``: {concept: sentences}, by ``source``;
    ``large``: {concept: {lang: forms}};
    ``neutral_sentences``: [(text, lang)]; ``emotional_lines``: [(text, lang, basic emotion)];
    ``heldout``: held-out records (``set``, ``text``, ``lang``, ``label`` / ``labels`` / ``negates``);
    ``dev``: development records, the same fields.
    """

    concepts: tuple[Concept, ...]
    situations: dict[str, tuple[str, ...]]
    situations_large: dict[str, tuple[str, ...]]
    situations_events: dict[str, tuple[str, ...]]
    large: dict[str, Forms]
    no_emotion: tuple[str, ...]
    neutral_sentences: tuple[tuple[str, str], ...]
    emotional_lines: tuple[tuple[str, str, str], ...]
    heldout: tuple[dict, ...]
    dev: tuple[dict, ...] = ()

    @property
    def by_key(self) -> dict[str, Concept]:
        """Concepts by key."""
        return {c.key: c for c in self.concepts}

    @property
    def extra(self) -> dict[str, Forms]:
        """{concept: {lang: forms}} of the concepts' ``more`` forms (only concepts that have some)."""
        return {c.key: c.more for c in self.concepts if c.more}


def read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a JSON-lines file (blank lines skipped); errors name the file and line."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: not a JSON object: {e}") from None
    return rows


def write_jsonl(path: Path, rows) -> None:
    """Write ``rows`` (dicts) as JSON lines, UTF-8, non-ASCII kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def _au_key(key: str) -> int | str:
    return int(key) if key.isdigit() else key


def _forms(value: dict, where: str) -> Forms:
    unknown = set(value) - set(LANGS)
    if unknown:
        raise ValueError(f"{where}: unknown language(s) {sorted(unknown)}; use {', '.join(LANGS)}")
    return {lang: tuple(forms) for lang, forms in value.items()}


def _check_label(label, where: str) -> None:
    if label is not None and label not in BASIC_EMOTIONS:
        raise ValueError(f"{where}: label {label!r} is not a basic emotion ({', '.join(BASIC_EMOTIONS)}) or null")


def _concepts(path: Path) -> tuple[Concept, ...]:
    keys = {"concept", "label", "aus", "adjectives", "nouns", "adverbs", "words", "more"}
    out = []
    for n, r in enumerate(read_jsonl(path), 1):
        where = f"{path.name}:{n}"
        if set(r) - keys or "concept" not in r:
            raise ValueError(f"{where}: fields must be among {sorted(keys)} and include 'concept'")
        _check_label(r.get("label"), where)
        out.append(Concept(r["concept"], r.get("label"), {_au_key(k): float(v) for k, v in r.get("aus", {}).items()},
                           tuple(r.get("adjectives", ())), tuple(r.get("nouns", ())), tuple(r.get("adverbs", ())),
                           _forms(r.get("words", {}), where), _forms(r.get("more", {}), where)))
    return tuple(out)


def _check_concept(key: str, known: set[str], where: str) -> None:
    if key not in known:
        raise ValueError(f"{where}: unknown concept {key!r}; concepts are the keys of concepts.jsonl")


@functools.cache
def load(folder: Path = DATA) -> EmotionTables:
    """All tables of ``folder`` (default ``data/emotion_lexicon``), read once per process."""
    folder = Path(folder)
    concepts = _concepts(folder / "concepts.jsonl")
    known = {c.key for c in concepts}
    large: dict[str, Forms] = {}
    for n, r in enumerate(read_jsonl(folder / "lexicon_large.jsonl"), 1):
        _check_concept(r["concept"], known, f"lexicon_large.jsonl:{n}")
        large[r["concept"]] = _forms(r["words"], f"lexicon_large.jsonl:{n}")
    sits: dict[str, dict[str, list[str]]] = {source: {} for source in SITUATION_SOURCES}
    for n, r in enumerate(read_jsonl(folder / "situations.jsonl"), 1):
        _check_concept(r["concept"], known, f"situations.jsonl:{n}")
        source = r.get("source", "base")
        if source not in sits:
            raise ValueError(f"situations.jsonl:{n}: source {source!r} is not one of {', '.join(SITUATION_SOURCES)}")
        sits[source].setdefault(r["concept"], []).append(r["text"])
    neutral, emotional = [], []
    for n, r in enumerate(read_jsonl(folder / "sentences.jsonl"), 1):
        _check_label(r.get("label"), f"sentences.jsonl:{n}")
        (emotional.append((r["text"], r["lang"], r["label"])) if r.get("label")
         else neutral.append((r["text"], r["lang"])))
    held, dev = read_jsonl(folder / "heldout.jsonl"), read_jsonl(folder / "dev.jsonl")
    for name, rows in (("heldout.jsonl", held), ("dev.jsonl", dev)):
        for n, h in enumerate(rows, 1):
            if h.get("set") not in HELDOUT_SETS:
                raise ValueError(f"{name}:{n}: set {h.get('set')!r} is not one of {', '.join(HELDOUT_SETS)}")
    return EmotionTables(
        concepts=concepts,
        situations={k: tuple(v) for k, v in sits["base"].items()},
        situations_large={k: tuple(v) for k, v in sits["large"].items()},
        situations_events={k: tuple(v) for k, v in sits["events"].items()},
        large=large,
        no_emotion=tuple(r["text"] for r in read_jsonl(folder / "no_emotion.jsonl")),
        neutral_sentences=tuple(neutral),
        emotional_lines=tuple(emotional),
        heldout=tuple(held),
        dev=tuple(dev),
    )


def save(tables: EmotionTables, folder: Path) -> None:
    """Write ``tables`` as the seven JSON-lines files of ``folder`` (what :func:`load` reads back)."""
    folder = Path(folder)
    write_jsonl(folder / "concepts.jsonl", (
        {"concept": c.key, "label": c.label, "aus": {str(k): v for k, v in c.aus.items()},
         "adjectives": list(c.adjectives), "nouns": list(c.nouns), "adverbs": list(c.adverbs),
         "words": {lang: list(f) for lang, f in c.words.items()},
         "more": {lang: list(f) for lang, f in c.more.items()}} for c in tables.concepts))
    write_jsonl(folder / "lexicon_large.jsonl", (
        {"concept": k, "words": {lang: list(f) for lang, f in forms.items()}} for k, forms in tables.large.items()))
    write_jsonl(folder / "situations.jsonl", [
        {"concept": k, "text": t, "source": source}
        for source, table in (("base", tables.situations), ("large", tables.situations_large),
                              ("events", tables.situations_events))
        for k, texts in table.items() for t in texts])
    write_jsonl(folder / "no_emotion.jsonl", ({"text": t} for t in tables.no_emotion))
    write_jsonl(folder / "sentences.jsonl", [{"text": t, "lang": lang, "label": None}
                                             for t, lang in tables.neutral_sentences]
                + [{"text": t, "lang": lang, "label": label} for t, lang, label in tables.emotional_lines])
    write_jsonl(folder / "heldout.jsonl", tables.heldout)
    write_jsonl(folder / "dev.jsonl", tables.dev)
