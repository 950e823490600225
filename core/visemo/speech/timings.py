"""The one entry point from audio (+ optional transcript) to phoneme timings."""

from __future__ import annotations

import logging
import re
from typing import Iterable

from ..audio.load import Audio
from .align import AlignmentError, WordSegment, align
from .phonemes import PhonemeSegment
from .recognize import recognize_phonemes

log = logging.getLogger("visemo.speech")

RECOGNIZERS = ("auto", "model", "whisper", "allphone", "phones")
"""``"phones"`` is an alias of ``"allphone"``."""


class PhonemeTimings(list):
    """A ``list[PhonemeSegment]`` tiling the audio, plus how it was made.

    ``transcript``: the text that was aligned (given or from Whisper), or None
    for phone recognition.  ``method``: ``"alignment"``, ``"whisper+alignment"``,
    ``"articulation"`` (the speech → articulation model: mouth classes named by
    representative phones), ``"g2p+articulation"`` (a transcript in another
    language, its classes timed on the model's frames) or ``"allphone"``.  ``words``: word timings when a
    transcript was aligned.  ``language``: the language Whisper heard, if it ran.
    """

    def __init__(self, segments: Iterable[PhonemeSegment], transcript: str | None,
                 method: str, words: Iterable[WordSegment] = (), language: str | None = None) -> None:
        super().__init__(segments)
        self.transcript = transcript
        self.method = method
        self.words = list(words)
        self.language = language

    @property
    def segments(self) -> tuple[PhonemeSegment, ...]:
        """The segments as a tuple."""
        return tuple(self)


def articulation_model_available() -> bool:
    """Whether the speech → articulation model ships in the models folder."""
    from ..paths import models_dir

    return (models_dir() / "articulation" / "model.json").is_file()


def phoneme_timings(
    audio: Audio,
    transcript: str | None = None,
    recognizer: str = "auto",
    language: str | None = None,
) -> PhonemeTimings:
    """Phone segments (seconds) tiling [0, ``audio.duration``] for 16 kHz mono ``audio``.

    - ``transcript`` given (non-blank): forced alignment of that text — in
      English (``language`` None or "en") with pocketsphinx; in any other
      language (an ISO code espeak-ng knows) its phones (espeak-ng G2P) as
      mouth classes, timed on the articulation model's frames
      (:func:`~visemo.speech.class_align.align_classes`).
    - otherwise ``recognizer``: ``"auto"`` = the speech → articulation model
      (any language, no words) when it ships, else Whisper + alignment when
      Whisper is installed, else ``"allphone"``; ``"model"`` = the
      articulation model (:class:`~visemo.errors.ModelError` if missing);
      ``"whisper"`` = Whisper transcript (language detected) + forced
      alignment — for English; other languages fall back to the model;
      ``"allphone"`` (or ``"phones"``) = pocketsphinx phone recognition.

    When an alignment fails (text does not fit the speech), phone recognition
    is used instead and a warning is logged.
    """
    if recognizer not in RECOGNIZERS:
        raise ValueError(f"recognizer must be one of {RECOGNIZERS}, got {recognizer!r}")
    if transcript is not None and not transcript.strip():
        transcript = None
    method = "alignment"
    heard_language = None
    if transcript is None and recognizer == "auto":
        from .transcribe import whisper_available

        if articulation_model_available():
            recognizer = "model"
        elif whisper_available():
            recognizer = "whisper"
    if transcript is None and recognizer == "model":
        return PhonemeTimings(_articulation(audio), None, "articulation")
    if transcript is None and recognizer == "whisper":
        heard = transcribe_words(audio)
        heard_language = heard.language
        if heard_language not in (None, "en") and articulation_model_available():
            log.info("Whisper heard %s, not English: the articulation model times the mouth instead",
                     heard_language)
            return PhonemeTimings(_articulation(audio), heard.transcript, "articulation", heard.words,
                                  heard_language)
        transcript = heard.transcript
        method = "whisper+alignment"
        log.info("whisper transcript: %s", transcript)
    if transcript is not None and language is not None and not language.lower().startswith("en"):
        from .class_align import align_classes, transcript_classes
        from .articulation_model import load_articulation_model

        words = transcript_classes(transcript, language)
        probabilities = load_articulation_model().alignment_posteriors(audio.samples)
        return PhonemeTimings(align_classes(probabilities, words, audio.duration), transcript,
                              "g2p+articulation", language=language)
    if transcript is not None:
        try:
            result = align(audio, transcript)
            return PhonemeTimings(result.phones, transcript, method, result.words, heard_language or language)
        except AlignmentError as e:
            if recognizer not in ("phones", "allphone") and articulation_model_available():
                log.warning("%s; timing the mouth from the sound alone instead", e)
                return PhonemeTimings(_articulation(audio), None, "articulation", language=heard_language)
            log.warning("%s; recognising phonemes without the transcript instead", e)
    return PhonemeTimings(recognize_phonemes(audio), None, "allphone", language=heard_language)


def _articulation(audio: Audio) -> list[PhonemeSegment]:
    from .articulation_model import recognize_articulation

    return recognize_articulation(audio)


def transcribe_words(audio: Audio) -> PhonemeTimings:
    """What Whisper hears: a :class:`PhonemeTimings` with no segments, the transcript (bracketed
    noises like "[Music]" removed), word timings and the detected ``language``.

    For what needs words (``--emotion auto``) when the mouth was timed without them.
    """
    from .transcribe import transcribe

    heard = transcribe(audio, language=None)
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|♪", " ", heard.text)
    return PhonemeTimings([], " ".join(text.split()) or None, "whisper", heard.words, heard.language)
