"""Language-independent mouth classes: what the lips, jaw and tongue show, not which phoneme.

The speech → articulation model (:mod:`visemo.speech.articulation_model`)
predicts one of :data:`CLASSES` per 10 ms frame, trained on speech in many
languages whose phones come in IPA (espeak-ng) or a TTS voice's own phone
set (festival, flite; mapped through ARPAbet).  Every class names the ARPAbet
phone whose pose the procedural engine (:mod:`visemo.lipsync`) uses for it
(:data:`REPRESENTATIVE`), so recognised classes become mouth curves the same
way aligned phonemes do, and ground truth in any phone set can be scored
with the same metrics (:mod:`visemo.lipsync.metrics`).

:func:`ipa_class` maps one IPA phone (length marks, stress, tie bars and
most diacritics ignored) to its class; :func:`arpabet_class` maps an
ARPAbet phone.  Unknown symbols map to ``None`` (callers decide).
"""

from __future__ import annotations

import unicodedata

CLASSES: tuple[str, ...] = (
    "SIL",      # silence, pause
    "PBM",      # lips closed: bilabial stops and nasal
    "FV",       # lower lip to upper teeth
    "TH",       # tongue between the teeth
    "L",        # tongue tip up, mouth fairly open
    "W",        # rounded glide: lips pursed
    "S",        # teeth close, lips spread a little: s z ts
    "SH",       # teeth close, lips pushed out: ʃ ʒ tʃ dʒ ɕ ʑ ʂ ʐ
    "R",        # r-colouring, slight rounding
    "C",        # other consonants (t d n k g h j x ...): the mouth follows the vowels
    "OPEN",     # open vowels: a ɑ æ
    "MID",      # mid unrounded: e ɛ
    "SCHWA",    # central: ə ɜ ʌ ɘ ɐ (unstressed, reduced)
    "SPREAD",   # close unrounded: i ɪ ɨ ɯ
    "AROUND",   # open-mid rounded, jaw open: ɔ ɒ œ
    "OROUND",   # close-mid rounded: o ø ɵ
    "UROUND",   # close rounded: u ʊ y ʏ ʉ
)
"""Class names, in the order of the model's outputs (the model card lists them by name too)."""

REPRESENTATIVE: dict[str, str] = {
    "SIL": "SIL", "PBM": "B", "FV": "F", "TH": "TH", "L": "L", "W": "W", "S": "S", "SH": "SH",
    "R": "R", "C": "T", "OPEN": "AA", "MID": "EH", "SCHWA": "AH", "SPREAD": "IY", "AROUND": "AO",
    "OROUND": "OW", "UROUND": "UW",
}
"""Class → the ARPAbet phone whose articulation pose stands for it."""

# ---------------------------------------------------------------------- IPA
_IPA_CONSONANTS: dict[str, str] = {}
for _cls, _symbols in {
    "PBM": "pbmɸβʙ",
    "FV": "fvɱʋ",
    "TH": "θð",
    "L": "lɫɭʎʟɬɮ",
    "W": "wʍɥ",
    "S": "szʦʣ",
    "SH": "ʃʒɕʑʂʐʧʤ",
    "R": "ɹɻɚɝ",
    "C": "tdnŋɲɳkgɡqɢɴcɟhɦxɣχʁħʕʔjʝçɾɽrɺʀʜʢɰʈɖ",
}.items():
    for _s in _symbols:
        _IPA_CONSONANTS[_s] = _cls

_IPA_VOWELS: dict[str, str] = {}
for _cls, _symbols in {
    "OPEN": "aɑæä",
    "MID": "eɛ",
    "SCHWA": "əɜʌɘɐɤ",
    "SPREAD": "iɪɨɯᵻ",
    "AROUND": "ɔɒœɶɞ",
    "OROUND": "oøɵ",
    "UROUND": "uʊyʏʉᵿ",
}.items():
    for _s in _symbols:
        _IPA_VOWELS[_s] = _cls

_AFFRICATES = {"ts": "S", "dz": "S", "tʃ": "SH", "dʒ": "SH", "tɕ": "SH", "dʑ": "SH", "tʂ": "SH",
               "dʐ": "SH", "pf": "FV", "bv": "FV"}
_IGNORED = set("ˈˌːˑ.‿͜͡ʰʷʲˠˤ̥̩̯̪̺̻̙̘̝̞̟̠̃̊̈̽ʼ-_'")


def _clean(phone: str) -> str:
    """``phone`` without stress, length, tie bars and diacritics (combining marks)."""
    decomposed = unicodedata.normalize("NFD", phone)
    return "".join(ch for ch in decomposed if ch not in _IGNORED and not unicodedata.combining(ch))


def ipa_class(phone: str) -> str | None:
    """The class of one IPA phone (e.g. ``"b"`` → PBM, ``"ɔː"`` → OROUND, ``"tʃ"`` → SH).

    Diphthongs take their first vowel's class (``"aɪ"`` → OPEN); an
    affricate its release (``"ts"`` → S); a syllabic consonant its own.
    Returns None for a symbol it does not know.
    """
    p = _clean(phone)
    if not p:
        return None
    if p in _AFFRICATES:
        return _AFFRICATES[p]
    for ch in p:
        if ch in _IPA_VOWELS:
            return _IPA_VOWELS[ch]
    for ch in p:
        if ch in _IPA_CONSONANTS:
            return _IPA_CONSONANTS[ch]
    return None


# ---------------------------------------------------------------------- ARPAbet
ARPABET_CLASS: dict[str, str] = {
    "SIL": "SIL", "P": "PBM", "B": "PBM", "M": "PBM", "F": "FV", "V": "FV", "TH": "TH", "DH": "TH",
    "L": "L", "W": "W", "S": "S", "Z": "S", "SH": "SH", "ZH": "SH", "CH": "SH", "JH": "SH",
    "R": "R", "ER": "R",
    "T": "C", "D": "C", "N": "C", "NG": "C", "K": "C", "G": "C", "HH": "C", "Y": "C",
    "AA": "OPEN", "AE": "OPEN", "AW": "OPEN", "AY": "OPEN",
    "EH": "MID", "EY": "MID",
    "AH": "SCHWA",
    "IH": "SPREAD", "IY": "SPREAD",
    "AO": "AROUND", "OW": "OROUND", "OY": "AROUND",
    "UH": "UROUND", "UW": "UROUND",
}
"""ARPAbet (CMUdict, flite and pocketsphinx phones, stress digits dropped) → class."""


def arpabet_class(phone: str) -> str | None:
    """The class of an ARPAbet phone (``"AA1"`` → OPEN); None for an unknown one."""
    return ARPABET_CLASS.get(phone.upper().rstrip("012"))
