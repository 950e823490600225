"""Prompt semantics that do not need a model: intensity words, negation, compounds.

A prompt is cut into clauses at conjunctions ("sad and surprised", "triste
mais soulagé"); each clause loses its leading intensity words ("slightly",
"very", "un peu", "sehr" → a scale factor) and its negation ("not", "pas",
"nicht" → negated); what is left (the *core*) is looked up or sent to the
learned text → expression model.  The same rules build the training data
(:mod:`visemo.train.emotion_dataset`), so the model and the parser agree.

All weights here are ARKit weights float32 [52] in 0..1.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .facs import EMOTION_AUS, au_vector

# Intensity words → scale of the expression (1 = the prototype).  Longest match first.
INTENSITY_WORDS: dict[str, float] = {
    # English
    "barely": 0.2, "hardly": 0.2, "scarcely": 0.2, "faintly": 0.3, "slightly": 0.35, "a tiny bit": 0.3,
    "a little bit": 0.4, "a little": 0.4, "a bit": 0.4, "a touch": 0.4, "mildly": 0.4, "kind of": 0.5, "sort of": 0.5,
    "a bit of": 0.4, "a little bit of": 0.4, "a touch of": 0.4, "a tiny bit of": 0.3, "a hint of": 0.3,
    "trying not to": 0.5, "try not to": 0.5, "tried not to": 0.5,   # a feeling held back shows half
    "somewhat": 0.55, "moderately": 0.6, "rather": 0.75, "fairly": 0.7, "pretty": 0.8,
    "quite": 0.8, "really": 1.2, "very": 1.25, "so": 1.2, "truly": 1.2, "deeply": 1.3,
    "super": 1.3, "highly": 1.3, "terribly": 1.35, "awfully": 1.35, "incredibly": 1.4,
    "totally": 1.4, "intensely": 1.4, "immensely": 1.4, "extremely": 1.45, "utterly": 1.45,
    "absolutely": 1.45, "completely": 1.45, "overwhelmingly": 1.5,
    "kinda": 0.5, "sorta": 0.5, "half": 0.5, "semi": 0.5, "lowkey": 0.5, "low-key": 0.5, "less": 0.5,
    "way too": 1.45, "mega": 1.4, "ultra": 1.4, "super duper": 1.4, "highkey": 1.3,
    "too": 1.3, "entirely": 1.4, "fully": 1.4, "exactly": 1.0,     # "not too sure", "not exactly thrilled"
    # French
    "légèrement": 0.35, "un peu": 0.4, "un peu de": 0.4, "assez": 0.75, "très": 1.25, "vraiment": 1.2,
    "tellement": 1.3, "extrêmement": 1.45, "profondément": 1.3, "un tout petit peu": 0.3, "plutôt": 0.75,
    "trop": 1.4, "hyper": 1.4, "vachement": 1.35, "carrément": 1.4,
    # German
    "leicht": 0.35, "ein bisschen": 0.4, "etwas": 0.45, "ziemlich": 0.8, "sehr": 1.25,
    "wirklich": 1.2, "total": 1.4, "extrem": 1.45, "äußerst": 1.45, "zutiefst": 1.35, "ein wenig": 0.4,
    "ein kleines bisschen": 0.3, "voll": 1.3, "richtig": 1.3, "echt": 1.2,
    # Spanish
    "ligeramente": 0.35, "un poco": 0.4, "un poco de": 0.4, "algo": 0.5, "bastante": 0.8, "muy": 1.25,
    "realmente": 1.2, "sumamente": 1.45, "extremadamente": 1.45, "profundamente": 1.3, "un poquito": 0.3,
    "súper": 1.3, "tan": 1.2,
    # Italian
    "leggermente": 0.35, "un po'": 0.4, "un po' di": 0.4, "un po": 0.4, "piuttosto": 0.75, "molto": 1.25,
    "davvero": 1.2, "estremamente": 1.45, "profondamente": 1.3, "un pochino": 0.3, "un pochettino": 0.3,
    "troppo": 1.4, "abbastanza": 0.75, "parecchio": 1.2,
    # Portuguese
    "levemente": 0.35, "um pouco": 0.4, "um pouco de": 0.4, "meio": 0.5, "muito": 1.25, "bem": 1.15,
    "extremamente": 1.45, "um pouquinho": 0.3, "tão": 1.2,
}
SCALE_RANGE = (0.1, 1.6)

# Negation words, anywhere in a short clause.  ("no" is also Spanish "not".)
NEGATIONS: tuple[str, ...] = (
    "not at all", "not", "never", "no longer", "not really", "anything but", "far from", "less than",
    "isn't", "aren't", "wasn't", "don't", "doesn't", "n't", "no",
    "pas du tout", "pas", "ne", "n'", "plus",           # French: ne … pas / plus
    "nicht", "kein", "keine", "gar nicht", "überhaupt nicht", "kein bisschen", "nie", "niemals",
    "nada", "nunca", "jamás",                           # Spanish (+ "no")
    "non", "per niente", "mai",                         # Italian
    "não", "nao", "nem", "jamais",                      # Portuguese (French "jamais" goes with "ne")
)
# French "plus" negates with "ne" ("je ne suis plus triste"); without it, it is "more" ("plus heureux").
NE_ONLY: tuple[str, ...] = ("plus",)
_NEGATIONS_WITHOUT_NE = tuple(n for n in NEGATIONS if n not in NE_ONLY)
# After these a negation word is "ever", not "never": "más feliz que nunca", "plus heureux que jamais".
COMPARATIVES: tuple[str, ...] = ("que", "che", "than", "als")
# Pronouns and copulas that a negated clause may carry: "I am not angry", "je ne suis pas triste".
FILLERS: tuple[str, ...] = (
    "i", "i'm", "im", "am", "i am", "feel", "feeling", "he", "she", "is", "are", "be", "looks", "look",
    "je", "suis", "il", "elle", "est", "ich", "bin", "er", "sie", "ist", "estoy", "está", "esta",
    "soy", "es", "sono", "è", "e'", "sto", "estou", "sou", "está", "at all", "du tout", "both",
)
MAX_NEGATED_WORDS = 4   # longer clauses with a negation are left whole to the model
# A bare "no" negates what follows it ("no fear", "no estoy triste", "non sono triste"); with nothing of its
# own after it it is an exclamation of dismay or disbelief, read as typed: "oh no", "no no no", "ah non",
# and the idiom "no way".
BARE_NO: tuple[str, ...] = ("no", "non", "não", "nao")
EXCLAIMED_NO: tuple[str, ...] = ("no way",)

CONJUNCTIONS = ("and", "but", "yet", "while", "et", "mais", "und", "aber", "y", "pero",
                "ma", "e", "mas")
_SPLIT = re.compile(r"\s*(?:[,;/+&]|\b(?:" + "|".join(CONJUNCTIONS) + r")\b)\s*")
# Words that hold a conversation together and name no feeling: a prompt (or an --emotion auto sentence)
# made only of these and the words above ("well, maybe", "listen", "alors, bon") names none (a trained one
# alone, "okay" or "hmm", is still read as trained).
DISCOURSE_WORDS: tuple[str, ...] = (
    "ok", "okay", "hmm", "erm", "right", "well", "maybe", "perhaps", "of course", "i see", "uh huh", "mm hmm",
    "mhm", "um", "uh", "wait", "listen", "look", "hello", "hi", "please", "excuse me", "pardon", "anyway",
    "actually", "basically", "you know", "i mean", "let's see", "then", "now",
    "bon", "alors", "ben", "euh", "bref", "voilà", "d'accord", "enfin", "bonjour", "salut", "s'il vous plaît",
    "also", "na", "ähm", "äh", "halt", "eben", "ja", "genau", "hallo", "bitte", "moment",
    "pues", "bueno", "vale", "o sea", "hola", "por favor", "a ver", "entonces",
    "allora", "beh", "ecco", "cioè", "ciao", "dunque", "insomma", "per favore", "va bene",
    "então", "tipo", "olá", "oi", "pois", "né", "tá",
)
# Every word and phrase above that names no feeling (:func:`function_words_only`; the list of things leaves
# them out).
FUNCTION_WORDS: tuple[str, ...] = (*NEGATIONS, *FILLERS, *INTENSITY_WORDS, *CONJUNCTIONS, *DISCOURSE_WORDS)

# How strongly an adverb ("sadly surprised") adds its emotion to the adjective's.
ADVERB_WEIGHT = 0.7


# Emoji and pictographs (U+1F300–1FAFF, U+2600–27BF) that show a feeling — faces, hearts, a few gestures and
# symbols (:data:`_FEELING_EMOJI`) — are read by their Unicode names ("😢" → crying face, "😱" → face screaming
# in fear); the others show things ("🍕" slice of pizza, "🐶" dog face) and are dropped, as are joiners,
# variation selectors and skin tones.  Read by name, 65–75 of 90 object emoji had come out as an emotion.
# Flags are pairs of regional indicators (U+1F1E6–1F1FF): things too.
_PICTOGRAPHS = ((0x1F300, 0x1FAFF), (0x2600, 0x27BF), (0x1F1E6, 0x1F1FF))
_EMOJI_MARKS = frozenset({0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)})
_FEELING_EMOJI = (
    (0x1F600, 0x1F64F),                     # the Emoticons block: faces, cat faces, 🙅 🙌 🙏
    (0x1F910, 0x1F92F), (0x1F970, 0x1F97A), (0x1F9D0, 0x1F9D0), (0x1FAE0, 0x1FAE8),   # later faces
    (0x2639, 0x263A), (0x1F47F, 0x1F480),   # ☹ ☺ 👿 💀
    (0x2763, 0x2764), (0x1F494, 0x1F49F), (0x1F5A4, 0x1F5A4), (0x1F90D, 0x1F90E), (0x1F9E1, 0x1F9E1),
    (0x1FA75, 0x1FA77),                     # hearts
    (0x1F44D, 0x1F44F), (0x1F4A2, 0x1F4A2),  # 👍 👎 👏 💢
)

# Where an emoji's Unicode name is a historical misnomer for the face it shows, its CLDR short name (the name
# phones and keyboards display; Unicode License) is read instead: 😡 shows rage, not a pout; 👿 is an angry
# face with horns ("imp" reads as roguish).
_EMOJI_NAMES = {"\U0001F621": "enraged face", "\U0001F47F": "angry face with horns"}


# Text emoticons, read as the emoji each stands for (then by its name, as emoji are).  Whole
# whitespace-separated tokens only, case as typed; ":)" also as ":-)" (a nose after the eyes).
_EMOTICON_EMOJI: dict[str, str] = {
    ":)": "🙂", "(:": "🙂", "=)": "🙂", ":]": "🙂", ":}": "🙂",
    ":(": "😞", "):": "😞", "=(": "😞", ":[": "😞", ":c": "😞", ":<": "😞",
    ":D": "😀", "=D": "😀", "XD": "😆", "xD": "😆", ";)": "😉",
    ":'(": "😢", ";(": "😢", "T_T": "😭", "T.T": "😭", ";_;": "😭", ":')": "😂",
    ":P": "😛", ":p": "😛", ":O": "😮", ":o": "😮", "o_O": "😳", "O_o": "😳", "O_O": "😲", "o_o": "😲",
    ">:(": "😠", ">:[": "😠", ":@": "😠", ">_<": "😣", "D:": "😧",
    ":|": "😐", "-_-": "😑", ":/": "😕", ":\\": "😕", ":S": "😖", ":s": "😖",
    "^_^": "😊", "^^": "😊", "^.^": "😊", ":*": "😘", "<3": "😍", "</3": "💔",
}
EMOTICONS: dict[str, str] = {**_EMOTICON_EMOJI, **{
    e[:-1] + "-" + e[-1]: emoji for e, emoji in _EMOTICON_EMOJI.items() if e[-2] in ":;=" and len(e) >= 2}}
"""Text emoticons → the emoji each stands for."""


def emoticon_emoji(text: str) -> str:
    """``text`` with each whitespace-separated emoticon (:data:`EMOTICONS`) replaced by its emoji."""
    words = text.split()
    if not any(w in EMOTICONS for w in words):
        return text
    return " ".join(EMOTICONS.get(w, w) for w in words)


def _in(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def emoji_names(text: str) -> str:
    """``text`` with each emoji that shows a feeling replaced by its Unicode name in lower case (its CLDR
    name where the Unicode one misleads: :data:`_EMOJI_NAMES`), between spaces, and each other pictograph
    dropped (:data:`_FEELING_EMOJI`)."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        cp = ord(ch)
        if cp in _EMOJI_MARKS:
            out.append(" ")
        elif _in(cp, _PICTOGRAPHS) and unicodedata.name(ch, ""):
            name = _EMOJI_NAMES.get(ch) or unicodedata.name(ch).lower()
            out.append(f" {name} " if _in(cp, _FEELING_EMOJI) else " ")
        else:
            out.append(ch)
    return "".join(out)


def things_only(text: str) -> bool:
    """Whether ``text`` is made of emoji that show things, not feelings ("🍕", "🐶🌳"), and nothing else."""
    t = emoticon_emoji(text or "")
    return any(_in(ord(c), _PICTOGRAPHS) for c in t) and not emoji_names(t).strip()


def normalize(text: str | None) -> str:
    """Emoticons → emoji (:func:`emoticon_emoji`) → their names (:func:`emoji_names`), lower-case, NFC,
    typographic quotes → ASCII, runs of spaces → one, ends stripped."""
    t = unicodedata.normalize("NFC", emoji_names(emoticon_emoji(text or ""))).lower()
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    t = re.sub(r"[\"!?¡¿.…:()\[\]{}]+", " ", t)
    return " ".join(t.split())


# "neither A nor B" in each language: (first word, second word); both name what is not felt.
CORRELATIVE_NEGATIONS: tuple[tuple[str, str], ...] = (
    ("neither", "nor"), ("weder", "noch"), ("ni", "ni"), ("né", "né"), ("nem", "nem"), ("nè", "nè"))
_CORRELATIVE = [re.compile(rf"^(?:(.*?)\s+)?{a}\s+(.+?)\s+{b}\s+(.+)$") for a, b in CORRELATIVE_NEGATIONS]


def correlative_negation(text: str) -> str:
    """``text`` with "neither A nor B" (weder … noch, ni … ni, né … né, nem … nem) written as two negated
    clauses, "not A, not B" (what comes before stays: "i am neither happy nor sad" → "i am not happy, not
    sad"); ``text`` unchanged without that pattern, or where A or B is longer than :data:`MAX_NEGATED_WORDS`
    (a sentence: "neither of them came nor called" is the model's to read)."""
    for pattern in _CORRELATIVE:
        m = pattern.match(text)
        if m and max(len(m.group(2).split()), len(m.group(3).split())) <= MAX_NEGATED_WORDS:
            head = f"{m.group(1)} " if m.group(1) else ""
            return f"{head}not {m.group(2)}, not {m.group(3)}"
    return text


# "never been happier", "couldn't be happier", "never felt better": a negated comparative is a superlative.
_NEVER_BETTER = re.compile(r"^(?:i\s+|i've\s+|i have\s+)?(?:never|could\s*n[o']t|can't|cannot)"
                           r"\s+(?:have\s+)?(?:be|been|feel|felt|look|looked)\s+(\w+er|worse|(?:more|so)\s+[\w-]+)$")
_COMPARATIVE_OF = {"better": "good", "worse": "bad"}


def never_better(clause: str) -> str:
    """``clause`` with an English negated comparative written as the superlative it means ("never been
    happier" → "extremely happier", read through the word tables as extremely happy; "couldn't be more
    relieved", "never been so relieved" → "extremely relieved"; "never felt better" → "extremely good");
    ``clause`` unchanged otherwise."""
    m = _NEVER_BETTER.match(clause)
    if not m:
        return clause
    word = m.group(1).split()[-1]
    return "extremely " + _COMPARATIVE_OF.get(word, word)


def split_clauses(text: str) -> list[str]:
    """Clauses of a normalised prompt, cut at commas and conjunctions (empty ones dropped)."""
    return [c for c in _SPLIT.split(text) if c]


@functools.lru_cache(maxsize=None)
def _longest_first(phrases: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(p.split() for p in sorted(phrases, key=lambda s: -len(s.split())))


def _strip_phrase(words: list[str], phrases) -> tuple[list[str], str | None]:
    """``words`` without the longest of ``phrases`` they start with, and that phrase (None if none)."""
    for pw in _longest_first(tuple(phrases)):
        if words[:len(pw)] == list(pw):
            return words[len(pw):], " ".join(pw)
    return words, None


@dataclass(frozen=True)
class Clause:
    """One clause: its ``core`` text, intensity ``scale``, whether it is ``negated``, and whether filler
    words ("i am", "est") were dropped from the core (``lost_fillers``: the core then reads unlike a
    phrase, "la table marron", and the whole clause is asked too), and, for a negated one, the training word
    for its core's opposite (``opposite``: "not sure" → uncertain; :func:`visemo.emotion.wordnet.rewrite`)."""

    text: str
    core: str
    scale: float = 1.0
    negated: bool = False
    lost_fillers: bool = False
    opposite: str = ""


def _exclaimed(words: list[str], i: int) -> bool:
    """Whether ``words[i]`` is a bare "no" that exclaims rather than negates (:data:`BARE_NO`): nothing but
    more of them after it ("oh no", "no no no"), or the idiom "no way" (:data:`EXCLAIMED_NO`) ending the clause."""
    return words[i] in BARE_NO and (all(w in BARE_NO for w in words[i + 1:])
                                    or " ".join(words[i:]) in EXCLAIMED_NO)


def function_words_only(text: str) -> bool:
    """Whether normalised ``text`` is made only of intensity words, negations, fillers, conjunctions and
    discourse words ("very", "not so", "i am", "sehr", "well maybe", "listen"), so that it names no feeling;
    a bare "no" exclaims ("no!", :func:`_exclaimed`) and is not counted."""
    words = re.sub(r"[,;/+&]", " ", text).split()
    if not words or any(_exclaimed(words, i) for i in range(len(words))):
        return False
    while words:
        words, found = _strip_phrase(words, FUNCTION_WORDS)    # the longest first: "i see" before "i"
        if found is None:
            return False
    return True


def parse_clause(clause: str) -> Clause:
    """Leading intensity words → ``scale``; a negation in a short clause → ``negated``.

    ``"not very angry"`` → core ``"angry"``, scale 1.25, negated;
    ``"un peu triste"`` → core ``"triste"``, scale 0.4;
    ``"oh no"`` → core ``"oh no"``, not negated (an exclamation: :func:`_exclaimed`);
    ``"plus heureux que jamais"`` → not negated ("plus" without "ne" is more, "que jamais" than ever).
    """
    words = clause.split()
    scale, negated, lost = 1.0, False, False
    short = len(words) <= MAX_NEGATED_WORDS + 2
    negates = short and not any(_exclaimed(words, i) for i in range(len(words)))
    with_ne = any(w == "ne" or w.startswith("n'") for w in words)
    negations = NEGATIONS if with_ne else _NEGATIONS_WITHOUT_NE
    changed = True
    while changed and words:
        changed = False
        if negates:
            rest, neg = _strip_phrase(words, negations)
            if neg is not None and rest:
                words, negated, changed = rest, True, True
                continue
        rest, filler = _strip_phrase(words, FILLERS)
        if filler is not None and rest and short:
            words, changed, lost = rest, True, True
            continue
        rest, word = _strip_phrase(words, INTENSITY_WORDS)
        if word is not None and rest:
            words, changed = rest, True
            scale *= INTENSITY_WORDS[word]
    if short and len(words) <= MAX_NEGATED_WORDS:
        # negation or intensity after the copula or at the end: "je ne suis pas triste", "angry at all"
        kept = []
        for i, w in enumerate(words):
            if w in negations and len(words) > 1 and negates and not (i and words[i - 1] in COMPARATIVES) and \
                    not (i and words[i + 1:i + 2] == ["to"]):     # "trying not to laugh": held back, not denied
                negated = True
            elif w.startswith("n'") and len(w) > 2 and negates:
                negated, w = True, w[2:]
                kept.append(w)
            elif w in FILLERS and len(words) > 1:
                lost = True
                continue
            else:
                kept.append(w)
        if kept and kept[-2:] == ["at", "all"]:
            kept, lost = kept[:-2], True
        if kept:
            words = kept
    lo, hi = SCALE_RANGE
    return Clause(clause, " ".join(words), float(np.clip(scale, lo, hi)), negated, lost)


def scale(weights: np.ndarray, factor: float) -> np.ndarray:
    """Expression scaled by an intensity ``factor`` and clipped to 0..1."""
    return np.clip(np.asarray(weights, np.float32) * np.float32(factor), 0.0, 1.0)


def blend(expressions) -> np.ndarray:
    """Compound of several expressions: per channel, the strongest (a union of action units)."""
    return np.max(np.stack([np.asarray(e, np.float32) for e in expressions]), axis=0)


OPPOSABLE = frozenset({"happy", "neutral", "surprised"})
"""Basic emotions whose words' negation may show the word's opposite (:data:`NEGATED_OPPOSITE`; the WordNet
table lists such opposites, :func:`visemo.train.emotion_wordnet.build_opposites`); negating a word for one of
the unpleasant ones ("not sad", "not scared") removes it and shows no opposite."""
NEGATED_OPPOSITE = 0.35
"""How much of its opposite a negated word shows: "not happy" is sad at this strength, "not sure" uncertain
(:data:`NEGATION_TARGET`, and a word's WordNet antonym in :func:`visemo.emotion.prompts._negated`)."""
# What "not <emotion>" means, by the negated expression's basic emotion:
# "not happy" is mildly sad; every other "not X" is the absence of X (neutral).
NEGATION_TARGET: dict[str, tuple[str, float]] = {
    "happy": ("sad", NEGATED_OPPOSITE),
}


def negate(label: str) -> np.ndarray:
    """The expression of "not <label>" (``label`` a basic emotion)."""
    target = NEGATION_TARGET.get(label)
    if target is None:
        return np.zeros(len(au_vector({})), np.float32)
    emotion, amount = target
    return au_vector(EMOTION_AUS[emotion]) * np.float32(amount)
