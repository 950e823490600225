"""Generate the text–expression dataset (ExpCLIP's TEAD, built from our lexicon).

    python -m visemo.train.emotion_dataset [--out data/emotion_prompts]

Templates × the lexicon of ``data/emotion_lexicon/`` (read by
:mod:`visemo.train.emotion_tables`) → one JSON line per prompt:
``text``, ``lang``, ``kind`` (word | noun | intensity | negation | compound |
situation | topic | language | dialogue | negative | sentence), ``concept``, ``label`` (basic emotion or
null), ``is_emotion``, ``aus`` (action unit → intensity, after modifiers),
``scale`` and ``weights`` (ARKit name → weight, non-zero channels only,
through :func:`visemo.emotion.facs.au_vector`); ``gate``: false on a prompt
that trains the expression but not the emotion/no-emotion head (situations of
source events).  The same seed gives the same
file.  Also writes ``heldout.jsonl`` from ``data/emotion_lexicon/heldout.jsonl``,
after checking that no held-out prompt or held-out word is in the training
data.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
from pathlib import Path

import numpy as np

from .. import arkit
from ..emotion import semantics
from ..emotion.facs import au_vector
from . import emotion_tables
from .emotion_tables import Concept

SEED = 4
ROOT = Path(__file__).resolve().parents[3]
BENCH_AUTO = ROOT / "benchmarks" / "bench_auto_emotion.py"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox/transcription")

ADJ_TEMPLATES = ("{w}", "feeling {w}", "i am {w}", "looking {w}", "a {w} face", "a {w} expression",
                 "she looks {w}", "he is {w}", "visibly {w}", "{w} mood")
PHRASE_TEMPLATES = ("{w}", "feeling {w}", "i am {w}", "looking {w}")
NOUN_TEMPLATES = ("{w}", "full of {w}", "an expression of {w}", "a face full of {w}", "filled with {w}",
                  "showing {w}")
NOUN_INTENSITY = (("a hint of {w}", 0.35), ("a touch of {w}", 0.4), ("a trace of {w}", 0.3),
                  ("overcome with {w}", 1.4), ("bursting with {w}", 1.4), ("consumed by {w}", 1.45))
EN_INTENSITY = [w for w in semantics.INTENSITY_WORDS if re.fullmatch(r"[a-z ]+", w)
                and w not in ("bem", "total", "extrem", "algo", "meio", "leicht", "assez", "etwas", "muy",
                              "molto", "muito", "sehr", "tres")]
EN_NEGATIONS = ("not {w}", "not at all {w}", "not {w} at all", "no longer {w}", "never {w}", "far from {w}",
                "i'm not {w}", "anything but {w}", "she is not {w}")
LANG_INTENSITY = {
    "fr": ("un peu", "légèrement", "très", "extrêmement"), "de": ("etwas", "leicht", "sehr", "extrem"),
    "es": ("un poco", "ligeramente", "muy", "extremadamente"), "it": ("un po'", "leggermente", "molto", "estremamente"),
    "pt": ("um pouco", "levemente", "muito", "extremamente"),
}
LANG_NEGATION = {"fr": "pas {w}", "de": "nicht {w}", "es": "no {w}", "it": "non {w}", "pt": "não {w}"}
LANG_PREFIX = {"fr": "je suis {w}", "de": "ich bin {w}", "es": "estoy {w}", "it": "sono {w}", "pt": "estou {w}"}
COMPOUND_TEMPLATES = (("{b} and {a}", 1.0), ("{b} but {a}", 1.0), ("{b} yet {a}", 1.0))
EMOTIONAL_LABELS = ("happy", "sad", "angry", "fearful", "surprised", "disgusted", "contemptuous")
# "<word> <preposition> <topic>" ("glum about the rain"): what a feeling is about does not change it; the
# topics name nothing emotional, so the emotion head learns that an emotion word keeps its reading with them
TOPIC_PREPOSITIONS = {
    "happy": ("about", "with", "for"), "sad": ("about", "over"),
    "angry": ("about", "at", "with"), "fearful": ("about", "of"), "surprised": ("by", "at"),
    "disgusted": ("by", "at"), "contemptuous": ("of", "toward"), None: ("about",),
}
TOPICS = ("the rain", "the weather", "the news", "the meeting", "the exam", "the results", "the noise",
          "the delay", "the bill", "my job", "the trip", "the party", "his answer", "her letter", "the game",
          "the traffic", "the neighbours", "the price", "the weekend", "the holiday", "the dinner", "the call",
          "the move", "the interview", "the situation", "the whole thing", "it", "everything", "that", "the plan",
          "the film", "the report", "the decision", "the email", "the kids", "the dog", "the car", "the house",
          "work", "school", "the food", "the smell", "the song", "the gift", "the visit", "the answer", "him",
          "her", "them", "the team", "the boss", "the teacher", "the letter", "the phone", "the garden")
# the same in the other languages: (prepositions, topics) whose grammar holds for every pairing
LANG_TOPICS = {
    "fr": (("à cause de", "à propos de"),
           ("la pluie", "la réunion", "mon patron", "ma sœur", "l'examen", "la facture", "la nouvelle", "mon travail",
            "l'école", "lui", "tout ça", "ce voyage", "ces gens", "la circulation", "mes voisins", "la lettre",
            "la réponse", "cette histoire", "mon fils")),
    "de": (("über", "auf"),
           ("den Regen", "das Wetter", "die Nachrichten", "meinen Chef", "die Arbeit", "die Prüfung", "das Essen",
            "den Lärm", "die Rechnung", "das Spiel", "die Reise", "ihn", "sie", "dich", "euch", "alles",
            "die Nachbarn", "den Verkehr", "den Brief", "die Antwort")),
    "es": (("por", "con"),
           ("la lluvia", "el examen", "mi jefe", "la reunión", "el ruido", "la factura", "las noticias", "el viaje",
            "mis vecinos", "él", "ella", "todo esto", "el trabajo", "la escuela", "la carta", "la respuesta",
            "el partido", "la comida", "el tráfico", "mi hermano")),
    "it": (("per", "con"),
           ("la pioggia", "l'esame", "il mio capo", "la riunione", "il rumore", "la bolletta", "le notizie",
            "il viaggio", "i vicini", "lui", "lei", "tutto questo", "il lavoro", "la scuola", "la lettera",
            "la risposta", "la partita", "il cibo", "il traffico", "mio fratello")),
    "pt": (("com",),
           ("a chuva", "o exame", "o meu chefe", "a reunião", "o barulho", "a conta", "as notícias", "a viagem",
            "os vizinhos", "ele", "ela", "tudo isto", "o trabalho", "a escola", "a carta", "a resposta", "o jogo",
            "a comida", "o trânsito", "o meu irmão")),
}

NEG_OBJECTS = ("chair", "lamp", "cup", "pencil", "wall", "roof", "bottle", "shelf", "sofa", "window", "bag",
               "hat", "shirt", "plate", "clock", "fence", "boat", "truck", "bench", "pillow", "jar")
NEG_COLORS = ("red", "blue", "green", "yellow", "white", "black", "orange", "purple", "pink", "silver")
NEG_PLACES = ("kitchen", "shelf", "floor", "roof", "garden", "desk", "counter", "balcony", "garage")
# other-language text with no emotion: (objects, colours, templates) per language
NEG_LANG = {
    "fr": (("chaise", "lampe", "fenêtre", "bouteille", "voiture", "maison"), ("rouge", "bleue", "verte", "blanche"),
           ("la {o} est {c}", "une {o} {c}", "{n} {o}s dans la cuisine", "ouvre la {o}")),
    "de": (("Stuhl", "Lampe", "Fenster", "Flasche", "Auto", "Haus"), ("rot", "blau", "grün", "weiß"),
           ("der {o} ist {c}", "ein {c}es {o}", "{n} {o}s in der Küche", "öffne das {o}")),
    "es": (("silla", "lámpara", "ventana", "botella", "coche", "casa"), ("roja", "azul", "verde", "blanca"),
           ("la {o} es {c}", "una {o} {c}", "{n} {o}s en la cocina", "abre la {o}")),
    "it": (("sedia", "lampada", "finestra", "bottiglia", "macchina", "casa"), ("rossa", "blu", "verde", "bianca"),
           ("la {o} è {c}", "una {o} {c}", "{n} {o} in cucina", "apri la {o}")),
    "pt": (("cadeira", "lâmpada", "janela", "garrafa", "carro", "casa"), ("vermelha", "azul", "verde", "branca"),
           ("a {o} é {c}", "uma {o} {c}", "{n} {o}s na cozinha", "abra a {o}")),
}
NEG_TEMPLATES = ("the {o} is {c}", "a {c} {o}", "{n} {o}s on the {p}", "the {o} is in the {p}",
                 "move the {o} to the {p}", "the {o} weighs {n} kilos", "buy a new {o}", "{n} {c} {o}s")


def _weights_dict(w: np.ndarray) -> dict[str, float]:
    return {n: round(float(v), 4) for n, v in zip(arkit.NAMES, w) if v > 1e-4}


def concept_vector(c: Concept) -> np.ndarray:
    """ARKit weights [52] of a concept at intensity 1."""
    return au_vector(c.aus)


def _record(text, lang, kind, concept, label, aus, weights, scale=1.0, is_emotion=True, extra=None):
    r = {"text": " ".join(text.split()), "lang": lang, "kind": kind, "concept": concept, "label": label,
         "is_emotion": bool(is_emotion), "scale": round(float(scale), 3),
         "aus": {str(k): round(float(v), 3) for k, v in aus.items()}, "weights": _weights_dict(weights)}
    if extra:
        r.update(extra)
    return r


def _scaled_aus(aus: dict, s: float) -> dict:
    return {k: min(1.0, v * s) for k, v in aus.items()}


def _max_aus(*pairs) -> dict:
    out: dict = {}
    for aus, s in pairs:
        for k, v in aus.items():
            out[k] = max(out.get(k, 0.0), min(1.0, v * s))
    return out


def _gibberish(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    rows = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(rng.randint(1, 3))]
        elif kind == 1:
            row = rng.choice(rows)
            a = rng.randint(0, len(row) - 4)
            words = [row[a:a + rng.randint(3, len(row) - a)]]
        elif kind == 2:
            syll = ["".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in range(rng.randint(2, 3)))
                    for _ in range(rng.randint(1, 3))]
            words = syll
        else:
            c = rng.choice(letters)
            words = [c * rng.randint(3, 6) + "".join(rng.choice(letters) for _ in range(rng.randint(0, 3)))]
        out.append(" ".join(words))
    return out


# Words that say nothing on their own: never count as shared "content" between a phrase and a held-out one.
FUNCTION_WORDS = frozenset("""a an the i i'm im me my mine you your he she it its we our they their them him her
    is am are was were be been being do does did have has had of to in on at by for with from into out up down
    over off and or but so as that this these those what which who when where how not no very just all
    de la le les un une des du et en à au à l' der die das ein eine und mit von zu im el los las y con un una
    il lo gli e di da o os as um uma com em no na do da feel feeling like someone something just got get
    so really again today""".split())


def _content_words(text: str) -> set[str]:
    return _words(text) - FUNCTION_WORDS


def _related(word: str, held: str) -> bool:
    """``word`` is a stem relative of the held-out ``held``: same first five letters, ``held`` (4+ letters)
    inside ``word``, or ``word`` (5+ letters) inside ``held``."""
    if len(word) >= 5 and len(held) >= 5 and word[:5] == held[:5]:
        return True
    return (len(held) >= 4 and held in word) or (len(word) >= 5 and word in held)


def heldout_filter(held: list[dict] | None = None, base: list[dict] | None = None):
    """``why(entry) -> reason or None``: why a new training entry is too close to the held-out set
    (see :func:`large_entries` for the four rules)."""
    held = heldout_records() if held is None else held
    base = build(SEED, large=False) if base is None else base
    base_words = set().union(*(_words(r["text"]) for r in base))
    held_texts = {semantics.normalize(h["text"]) for h in held}
    word_items = [h for h in held if h["set"] in ("words", "languages")]
    new_held_words = set().union(*(_words(h["text"]) for h in word_items)) - base_words
    singles = {semantics.normalize(h["text"]) for h in word_items if " " not in h["text"].strip()}
    held_parts = singles | {p for w in singles for p in w.split("-") if len(p) >= 5}
    phrases = [_content_words(h["text"]) for h in held if h["set"] in ("paraphrases", "situations")]

    def why(entry: str) -> str | None:
        t = semantics.normalize(entry)
        ws = _words(t)
        if t in held_texts:
            return "is a held-out prompt"
        if ws & new_held_words:
            return f"uses held-out word {sorted(ws & new_held_words)[0]!r}"
        for w in ws - base_words:
            for part in {w, *w.split("-")}:
                for h in held_parts:
                    if _related(part, h):
                        return f"{w!r} is a relative of held-out {h!r}"
        cw = ws - FUNCTION_WORDS
        for p in phrases:
            if len(cw & p) >= 2:
                return f"shares {sorted(cw & p)} with a held-out phrase"
        return None

    return why


def kept_entries(entries, why, dropped: list) -> tuple[str, ...]:
    """``entries`` that the filter ``why`` (:func:`heldout_filter`) lets through; the others are appended to
    ``dropped`` as (entry, reason)."""
    keep = []
    for entry in entries:
        reason = why(entry)
        if reason:
            dropped.append((entry, reason))
        else:
            keep.append(entry)
    return tuple(keep)


def large_entries(held: list[dict] | None = None, base: list[dict] | None = None, why=None):
    """The large lexicon and its situations (``lexicon_large.jsonl``, ``situations.jsonl`` source large) with
    everything near a held-out prompt removed.

    An entry is dropped when it (1) is a held-out prompt, (2) contains a word of a held-out
    ``words``/``languages`` prompt that the base lexicon does not already use, (3) brings in a word
    that the base lexicon does not use and that is a stem relative (:func:`_related`) of a word of a
    held-out ``words``/``languages`` single word (or of a part of a hyphenated one), or (4) shares two or more content words with a held-out
    paraphrase or situation.  Returns (words {concept: {lang: forms}}, situations
    {concept: sentences}, dropped [(entry, reason)]).  ``why``: the filter, if already built.
    """
    why = heldout_filter(held, base) if why is None else why

    words: dict[str, dict[str, tuple[str, ...]]] = {}
    dropped = []
    tables = emotion_tables.load()
    for key, langs in tables.large.items():
        for lang, entries in langs.items():
            keep = kept_entries((e for e in (e.strip() for e in entries) if e), why, dropped)
            words.setdefault(key, {})[lang] = tuple(dict.fromkeys(keep))
    sits = {key: kept_entries(entries, why, dropped) for key, entries in tables.situations_large.items()}
    return words, sits, dropped


def bench_sentences() -> list[str]:
    """The sentences of ``benchmarks/bench_auto_emotion.py`` (its NARRATION and EMOTIONAL tables, read
    with :mod:`ast`, and the LibriVox lines it adds): the evaluation set of ``--emotion auto``, never
    training data.  Empty where the benchmark is not shipped."""
    out: list[str] = []
    if BENCH_AUTO.is_file():
        tree = ast.parse(BENCH_AUTO.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in ("NARRATION", "EMOTIONAL")
                                                    for t in node.targets):
                value = ast.literal_eval(node.value)
                for v in (value.values() if isinstance(value, dict) else [value]):
                    out += list(v)
    return out + librivox_lines()


def librivox_lines() -> list[str]:
    """The five LibriVox transcripts of Debian's pocketsphinx-testdata ([] when not installed)."""
    if not LIBRIVOX.is_file():
        return []
    lines = (line.replace("<s>", "").split("</s>")[0].strip() for line in LIBRIVOX.read_text().splitlines())
    return [text for text in lines if text]


def _near(a: set[str], b: set[str]) -> bool:
    """Content-word sets too alike: three shared, or two shared making half of the smaller one."""
    shared = len(a & b)
    return shared >= 3 or (shared >= 2 and shared >= 0.5 * min(len(a), len(b)))


def sentence_entries(held: list[dict] | None = None, base: list[dict] | None = None):
    """The sentences of ``sentences.jsonl`` after the held-out filter (:func:`heldout_filter`) and away from the
    ``--emotion auto`` benchmark: a sentence equal to a benchmark sentence, or sharing too many content
    words with one (:func:`_near`), is dropped.  Returns (neutral [(text, lang)], emotional
    [(text, lang, label)], dropped [(text, reason)]); texts normalised as prompts are at run time."""
    why = heldout_filter(held, base)
    bench = [(semantics.normalize(b), _content_words(b)) for b in bench_sentences()]

    def reason(text: str) -> str | None:
        r = why(text)
        if r:
            return r
        t, cw = semantics.normalize(text), _content_words(text)
        for b, bw in bench:
            if t == b:
                return "is a bench_auto_emotion sentence"
            if _near(cw, bw):
                return f"too close to bench_auto_emotion sentence {b!r}"
        return None

    neutral, emotional, dropped = [], [], []
    tables = emotion_tables.load()
    for text, lang in tables.neutral_sentences:
        r = reason(text)
        (dropped.append((text, r)) if r else neutral.append((semantics.normalize(text), lang)))
    for text, lang, label in tables.emotional_lines:
        r = reason(text)
        (dropped.append((text, r)) if r else emotional.append((semantics.normalize(text), lang, label)))
    return neutral, emotional, dropped


def build(seed: int = SEED, large: bool = True) -> list[dict]:
    """All training records (deterministic for a seed); ``large``: with the filtered large lexicon."""
    rng = random.Random(seed)
    tables = emotion_tables.load()
    by_key = tables.by_key
    extra: dict[str, dict[str, tuple[str, ...]]] = {k: dict(v) for k, v in tables.extra.items()}
    situations = dict(tables.situations)
    events: dict[str, tuple[str, ...]] = {}
    sentences = None
    if large:
        base = build(seed, large=False)
        why = heldout_filter(base=base)
        big, big_sits, _ = large_entries(base=base, why=why)
        events = {k: kept_entries(v, why, []) for k, v in tables.situations_events.items()}
        sentences = sentence_entries(base=base)
        for key, langs in big.items():
            for lang, forms in langs.items():
                extra.setdefault(key, {})[lang] = extra.get(key, {}).get(lang, ()) + forms
        for key, sits in big_sits.items():
            situations[key] = situations.get(key, ()) + sits
    # a held-out or development prompt among the situations or dense forms is left out with its template variants
    kept_out = {semantics.normalize(h["text"]) for h in (*heldout_records(), *dev_records())}
    situations = {k: tuple(s for s in v if semantics.normalize(s) not in kept_out) for k, v in situations.items()}
    events = {k: tuple(s for s in v if semantics.normalize(s) not in kept_out) for k, v in events.items()}
    extra = {k: {lang: tuple(f for f in forms if semantics.normalize(f) not in kept_out) for lang, forms in v.items()}
             for k, v in extra.items()}
    recs: list[dict] = []
    for c in tables.concepts:
        v = concept_vector(c)
        basic = c.key == c.label
        for w in c.adjectives:
            templates = ADJ_TEMPLATES if " " not in w else PHRASE_TEMPLATES
            chosen = templates if basic else rng.sample(templates, min(4, len(templates)))
            if "{w}" not in chosen:
                chosen = ("{w}",) + tuple(chosen)
            for t in chosen:
                recs.append(_record(t.format(w=w), "en", "word", c.key, c.label, c.aus, v))
            # intensity words
            for mod in rng.sample(EN_INTENSITY, 3 if basic else 2):
                s = semantics.INTENSITY_WORDS[mod]
                recs.append(_record(f"{mod} {w}", "en", "intensity", c.key, c.label, _scaled_aus(c.aus, s),
                                    semantics.scale(v, s), scale=s))
            # negations
            if c.label != "neutral":
                for t in rng.sample(EN_NEGATIONS, 2):
                    nv = semantics.negate(c.label) if c.label else np.zeros(arkit.COUNT, np.float32)
                    recs.append(_record(t.format(w=w), "en", "negation", c.key, None, {}, nv,
                                        extra={"negates": c.label or c.key}))
        for w in c.nouns:
            for t in (NOUN_TEMPLATES if basic else rng.sample(NOUN_TEMPLATES, 3)):
                recs.append(_record(t.format(w=w), "en", "noun", c.key, c.label, c.aus, v))
            if c.label != "neutral":
                t, s = rng.choice(NOUN_INTENSITY)
                recs.append(_record(t.format(w=w), "en", "intensity", c.key, c.label, _scaled_aus(c.aus, s),
                                    semantics.scale(v, s), scale=s))
        for lang, forms in c.words.items():
            for w in forms:
                recs.append(_record(w, lang, "language", c.key, c.label, c.aus, v))
                recs.append(_record(LANG_PREFIX[lang].format(w=w), lang, "language", c.key, c.label, c.aus, v))
                if c.label != "neutral":
                    mod = rng.choice(LANG_INTENSITY[lang])
                    s = semantics.INTENSITY_WORDS[mod]
                    recs.append(_record(f"{mod} {w}", lang, "intensity", c.key, c.label, _scaled_aus(c.aus, s),
                                        semantics.scale(v, s), scale=s))
                    nv = semantics.negate(c.label) if c.label else np.zeros(arkit.COUNT, np.float32)
                    recs.append(_record(LANG_NEGATION[lang].format(w=w), lang, "negation", c.key, None, {}, nv,
                                        extra={"negates": c.label or c.key}))
    # extra words (dense lexicon): fewer templates each
    for key, langs in extra.items():
        c = by_key[key]
        v = concept_vector(c)
        for lang, forms in langs.items():
            for w in forms:
                if lang == "en":
                    templates = ADJ_TEMPLATES if " " not in w else PHRASE_TEMPLATES
                    for t in ("{w}",) + tuple(rng.sample(templates[1:], 2)):
                        recs.append(_record(t.format(w=w), "en", "word", c.key, c.label, c.aus, v))
                    if c.label == "neutral":
                        continue
                    mod = rng.choice(EN_INTENSITY)
                    s = semantics.INTENSITY_WORDS[mod]
                    recs.append(_record(f"{mod} {w}", "en", "intensity", c.key, c.label, _scaled_aus(c.aus, s),
                                        semantics.scale(v, s), scale=s))
                    recs.append(_record(rng.choice(EN_NEGATIONS).format(w=w), "en", "negation", c.key, None, {},
                                        semantics.negate(c.label), extra={"negates": c.label}))
                else:
                    recs.append(_record(w, lang, "language", c.key, c.label, c.aus, v))
                    recs.append(_record(LANG_PREFIX[lang].format(w=w), lang, "language", c.key, c.label, c.aus, v))
                    if c.label != "neutral":
                        recs.append(_record(LANG_NEGATION[lang].format(w=w), lang, "negation", c.key, None, {},
                                            semantics.negate(c.label), extra={"negates": c.label}))
    # compounds: "<adverb of A> <adjective of B>" and "B and A"
    emotional = [c for c in tables.concepts if c.label in EMOTIONAL_LABELS]
    pairs = [(a, b) for a in emotional for b in emotional if a.label != b.label]
    for a, b in rng.sample(pairs, min(len(pairs), 700)):
        va, vb = concept_vector(a), concept_vector(b)
        if a.adverbs and b.adjectives:
            adv, adj = rng.choice(a.adverbs), rng.choice(b.adjectives)
            text = f"{adv} {adj}" if not adv.startswith(("in ", "with ")) else f"{adj} {adv}"
            recs.append(_record(text, "en", "compound", f"{a.key}+{b.key}", None,
                                _max_aus((b.aus, 1.0), (a.aus, semantics.ADVERB_WEIGHT)),
                                semantics.blend([vb, semantics.ADVERB_WEIGHT * va]),
                                extra={"labels": [b.label, a.label]}))
    for a, b in rng.sample(pairs, 250):
        t, _ = rng.choice(COMPOUND_TEMPLATES)
        text = t.format(a=rng.choice(a.adjectives), b=rng.choice(b.adjectives))
        recs.append(_record(text, "en", "compound", f"{b.key}+{a.key}", None, _max_aus((b.aus, 1.0), (a.aus, 1.0)),
                            semantics.blend([concept_vector(b), concept_vector(a)]),
                            extra={"labels": [b.label, a.label]}))
    for a, b in rng.sample(pairs, 120):
        text = f"{rng.choice(b.adjectives)} with a hint of {rng.choice(a.nouns)}"
        recs.append(_record(text, "en", "compound", f"{b.key}+{a.key}", None, _max_aus((b.aus, 1.0), (a.aus, 0.35)),
                            semantics.blend([concept_vector(b), 0.35 * concept_vector(a)]),
                            extra={"labels": [b.label, a.label]}))
    # situations; events told plainly train the expression but not the emotion/no-emotion head ("gate": trained
    # on, the head read plain narration as emotional)
    for table, extra_fields in ((situations, None), (events, {"gate": False})):
        for key, sits in table.items():
            c = by_key[key]
            for s in sits:
                for t in ("{s}", "when {s}",
                          "the face of someone who {s}" if not s.startswith(("i ", "my ")) else "{s}"):
                    recs.append(_record(t.format(s=s), "en", "situation", key, c.label, c.aus, concept_vector(c),
                                        extra=extra_fields))
    # "<word> <preposition> <topic>": one per single word of a concept that is not neutral, in each language ("calm
    # about the exam" needs no model); a separate generator, so that the other draws stay as they were
    topic_rng = random.Random(seed + 1)
    for c in (c for c in tables.concepts if c.label != "neutral"):
        forms = [*c.adjectives, *extra.get(c.key, {}).get("en", ())]
        for w in dict.fromkeys(f for f in forms if " " not in f):
            text = f"{w} {topic_rng.choice(TOPIC_PREPOSITIONS[c.label])} {topic_rng.choice(TOPICS)}"
            recs.append(_record(text, "en", "topic", c.key, c.label, c.aus, concept_vector(c)))
        for lang, (preps, topics) in LANG_TOPICS.items():
            forms = [*c.words.get(lang, ()), *extra.get(c.key, {}).get(lang, ())]   # extra holds c.more
            for w in dict.fromkeys(f for f in forms if " " not in f):
                text = f"{w} {topic_rng.choice(preps)} {topic_rng.choice(topics)}"
                recs.append(_record(text, lang, "topic", c.key, c.label, c.aus, concept_vector(c)))
    # whole sentences (sentences.jsonl): emotional lines with their basic emotion; emotion-free sentences
    # below, each with its clauses (the text path asks every clause of a sentence, and the whole)
    sentence_negs: list[tuple[str, str]] = []
    if sentences is not None:
        neutral, emotional, _ = sentences
        for text, lang, label in emotional:
            c = by_key[label]
            recs.append(_record(text, lang, "dialogue", label, label, c.aus, concept_vector(c)))
        for text, lang in neutral:
            sentence_negs.append((text, lang))
            clauses = semantics.split_clauses(text)
            if len(clauses) > 1:
                for cl in clauses:
                    sentence_negs.append((cl, lang))
                    core = semantics.parse_clause(cl).core
                    if core and core != cl:
                        sentence_negs.append((core, lang))
    # no emotion
    negs = list(tables.no_emotion)
    for _ in range(220):
        negs.append(rng.choice(NEG_TEMPLATES).format(o=rng.choice(NEG_OBJECTS), c=rng.choice(NEG_COLORS),
                                                     p=rng.choice(NEG_PLACES), n=rng.randint(2, 12)))
    for lang, (objs, cols, temps) in NEG_LANG.items():
        for _ in range(30):
            negs.append(rng.choice(temps).format(o=rng.choice(objs), c=rng.choice(cols), n=rng.randint(2, 9)))
    negs += _gibberish(rng, 260)
    for t in negs:
        recs.append(_record(t, "xx", "negative", None, None, {}, np.zeros(arkit.COUNT, np.float32),
                            is_emotion=False))
    for t, lang in sentence_negs:
        recs.append(_record(t, lang, "sentence", None, None, {}, np.zeros(arkit.COUNT, np.float32),
                            is_emotion=False))
    # de-duplicate by text (the first record wins); held-out and development prompts never enter training
    seen, out = set(kept_out), []
    for r in recs:
        k = semantics.normalize(r["text"])
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def dev_records() -> list[dict]:
    """The development prompts (``data/emotion_lexicon/dev.jsonl``, the held-out format) as fresh copies: kept
    out of training as texts, like the held-out ones, but their stem relatives may be trained on; settings
    and data are chosen on them, and the held-out set only reports."""
    return [dict(h) for h in emotion_tables.load().dev]


def heldout_records() -> list[dict]:
    """The held-out prompts as records (``set``, ``text``, ``lang``, ``label`` / ``labels`` / ``negates``): fresh
    copies of ``data/emotion_lexicon/heldout.jsonl``."""
    return [dict(h) for h in emotion_tables.load().heldout]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w'-]+", semantics.normalize(text)))


def check_heldout(train: list[dict], held: list[dict], dev: list[dict] = ()) -> list[str]:
    """Problems: held-out (or ``dev``: development) prompts in training, such words used by a training
    prompt, or a sentence of ``benchmarks/bench_auto_emotion.py`` in training (case-insensitive)."""
    train_texts = {semantics.normalize(r["text"]) for r in train}
    train_words = set().union(*(_words(r["text"]) for r in train))
    problems = []
    for kind, rows in (("held-out", held), ("development", dev)):
        for h in rows:
            t = semantics.normalize(h["text"])
            if t in train_texts:
                problems.append(f"{kind} prompt {h['text']!r} ({h['set']}) is in the training data")
            if h["set"] in ("words", "languages") and " " not in t and t in train_words:
                problems.append(f"{kind} word {h['text']!r} ({h['set']}) occurs in a training prompt")
    lowered = {r["text"].lower().strip() for r in train} | train_texts
    for b in bench_sentences():
        if b.lower().strip() in lowered or semantics.normalize(b) in lowered:
            problems.append(f"bench_auto_emotion sentence {b!r} is in the training data")
    return problems


def lexicon_words() -> set[str]:
    """Every single-word form of the training lexicon (for the paraphrase overlap report)."""
    out: set[str] = set()
    tables = emotion_tables.load()
    forms = [w for c in tables.concepts for w in c.adjectives + c.nouns + c.adverbs + sum(c.words.values(), ())]
    forms += [w for langs in tables.extra.values() for ws in langs.values() for w in ws]
    forms += [w for langs in large_entries()[0].values() for ws in langs.values() for w in ws]
    for w in forms:
        if " " not in w:
            out.add(semantics.normalize(w))
    return out


def stem_relatives(held: list[dict], train: list[dict], n: int = 5) -> dict[str, str]:
    """Held-out single words sharing their first ``n`` letters with a training word ({held: train word})."""
    train_words = sorted(set().union(*(_words(r["text"]) for r in train)))
    by_stem: dict[str, str] = {}
    for w in train_words:
        if len(w) >= n:
            by_stem.setdefault(w[:n], w)
    out = {}
    for h in held:
        t = semantics.normalize(h["text"])
        if h["set"] in ("words", "languages") and " " not in t and len(t) >= n and t[:n] in by_stem:
            out[h["text"]] = by_stem[t[:n]]
    return out


def write(out_dir: Path, seed: int = SEED) -> tuple[int, int]:
    """Write prompts.jsonl and heldout.jsonl; returns (training, held-out) counts."""
    train, held = build(seed), heldout_records()
    problems = check_heldout(train, held, dev_records())
    if problems:
        raise SystemExit("held-out overlap:\n  " + "\n  ".join(problems))
    lex = lexicon_words()
    relatives = stem_relatives(held, train)
    for h in held:
        if h["set"] in ("words", "languages"):
            h["training_relative"] = relatives.get(h["text"])
        if h["set"] in ("paraphrases", "situations"):
            h["has_training_word"] = bool(_words(h["text"]) & lex)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "prompts.jsonl", "w", encoding="utf-8") as f:
        for r in train:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(out_dir / "heldout.jsonl", "w", encoding="utf-8") as f:
        for r in held:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(train), len(held)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[3] / "data" / "emotion_prompts")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    n, m = write(args.out, args.seed)
    print(f"wrote {n} training prompts and {m} held-out prompts to {args.out}")


if __name__ == "__main__":
    main()
