"""Speech: transcripts, phoneme alignment/recognition and phoneme timings.

Main entry: :func:`phoneme_timings` (audio + optional transcript -> phone
segments in seconds tiling the audio).
"""

from .align import Alignment, AlignmentError, WordSegment, align
from .phonemes import (BILABIALS, LABIODENTALS, OPEN_VOWELS, PHONES, SIL, VOWELS,
                       PhonemeSegment, normalize_phone, tile)
from .recognize import recognize_phonemes
from .text import normalize_transcript
from .timings import PhonemeTimings, phoneme_timings

__all__ = [
    "phoneme_timings", "PhonemeTimings", "align", "recognize_phonemes", "normalize_transcript",
    "Alignment", "AlignmentError", "WordSegment", "PhonemeSegment", "normalize_phone",
    "tile", "PHONES", "SIL", "VOWELS", "BILABIALS", "LABIODENTALS", "OPEN_VOWELS",
]
