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

RECOGNIZERS = ("auto", "whisper", "allphone", "phones")
"""``"phones"`` is an alias of ``"allphone"``."""


class PhonemeTimings(list):
    """A ``list[PhonemeSegment]`` tiling the audio, plus how it was made.

    ``transcript``: the text that was aligned (given or from Whisper), or None
    for phone recognition.  ``method``: ``"alignment"``, ``"whisper+alignment"``
    or ``"allphone"``.  ``words``: word timings when a transcript was aligned.
    """

    def __init__(self, segments: Iterable[PhonemeSegment], transcript: str | None,
                 method: str, words: Iterable[WordSegment] = ()) -> None:
        super().__init__(segments)
        self.transcript = transcript
        self.method = method
        self.words = list(words)

    @property
    def segments(self) -> tuple[PhonemeSegment, ...]:
        """The segments as a tuple."""
        return tuple(self)


def phoneme_timings(
    audio: Audio,
    transcript: str | None = None,
    recognizer: str = "auto",
) -> PhonemeTimings:
    """Phone segments (seconds) tiling [0, ``audio.duration``] for 16 kHz mono ``audio``.

    - ``transcript`` given (non-blank): forced alignment of that text.
    - otherwise ``recognizer``: ``"auto"`` = Whisper transcript + forced
      alignment when the optional Whisper packages are installed, else
      ``"allphone"``; ``"whisper"`` = require Whisper (raises
      :class:`~visemo.errors.DependencyError` if absent); ``"allphone"`` (or
      ``"phones"``) = pocketsphinx phone recognition, no words involved.

    When an alignment fails (text does not fit the speech), phone recognition
    is used instead and a warning is logged.
    """
    if recognizer not in RECOGNIZERS:
        raise ValueError(f"recognizer must be one of {RECOGNIZERS}, got {recognizer!r}")
    if transcript is not None and not transcript.strip():
        transcript = None
    method = "alignment"
    if transcript is None and recognizer in ("auto", "whisper"):
        from .transcribe import transcribe, whisper_available

        if recognizer == "whisper" or whisper_available():
            text = re.sub(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|♪", " ", transcribe(audio).text)
            transcript = " ".join(text.split()) or None  # no "[Music]", "(laughs)"
            method = "whisper+alignment"
            log.info("whisper transcript: %s", transcript)
    if transcript is not None:
        try:
            result = align(audio, transcript)
            return PhonemeTimings(result.phones, transcript, method, result.words)
        except AlignmentError as e:
            log.warning("%s; recognising phonemes without the transcript instead", e)
    return PhonemeTimings(recognize_phonemes(audio), None, "allphone")
