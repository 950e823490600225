"""Forced alignment of a known transcript with pocketsphinx (en-us model, cmudict).

Two passes per stretch of audio (FIELD_NOTES): a word-level search through the
transcript grammar, then a state-level alignment that gives phone times at
10 ms resolution.  Audio longer than :data:`CHUNK_SECONDS` is first
word-aligned as a whole, then cut at pauses into chunks that are
phone-aligned one by one (memory of the phone pass grows faster than linearly).

Times are seconds from the start of the audio; the returned phone segments tile
[0, duration] with ``SIL`` in every gap.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ..audio.load import Audio
from ..errors import VisemoError
from .lexicon import pronounce
from .phonemes import SIL, PhonemeSegment, normalize_phone, tile
from .text import normalize_transcript

log = logging.getLogger("visemo.speech")

FRAME_RATE = 100
"""pocketsphinx feature frames per second (10 ms hop)."""

CHUNK_SECONDS = 30.0
"""Longer audio is phone-aligned in chunks cut at pauses."""

TIME_OFFSET = 0.0
"""Seconds added to every pocketsphinx boundary (measured bias correction)."""


class AlignmentError(VisemoError):
    """The transcript could not be aligned to the audio (wrong text, no speech, ...)."""


@dataclass(frozen=True)
class WordSegment:
    """One transcript word (``word`` as spoken, lower case) from ``start`` to ``end`` s."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Alignment:
    """Result of :func:`align`: phones tiling the audio, words, unknown words.

    ``unknown`` maps each word missing from the dictionary to the phones used
    for it (guessed or derived, see :mod:`visemo.speech.lexicon`).
    """

    phones: list[PhonemeSegment]
    words: list[WordSegment]
    unknown: dict[str, list[str]] = field(default_factory=dict)


# ---------------------------------------------------------------------- decoder
_lock = threading.Lock()
_decoder = None


def _get_decoder():
    """One shared pocketsphinx decoder for alignment (created on first use, ~0.15 s)."""
    global _decoder
    if _decoder is None:
        try:
            from pocketsphinx import Decoder
        except ImportError as e:  # pragma: no cover - a core dependency
            from ..errors import DependencyError
            raise DependencyError(f"pocketsphinx is not installed ({e}) -- "
                                  "pip install pocketsphinx==5.1.1") from None
        _decoder = Decoder(samprate=16000, bestpath=False, lm=None, loglevel="FATAL")
    return _decoder


def prepare_words(transcript: str, decoder=None) -> tuple[list[str], dict[str, list[str]]]:
    """Normalise ``transcript`` and make every word known to the decoder's dictionary.

    Returns the words and ``{word: phones}`` for those that had to be added
    (logged as a warning).  Raises :class:`AlignmentError` if no word is left.
    """
    dec = decoder or _get_decoder()
    words = normalize_transcript(transcript)
    unknown: dict[str, list[str]] = {}
    out = []
    for w in words:
        if w in unknown or dec.lookup_word(w):
            out.append(w)
            continue
        phones, how = pronounce(w, dec.lookup_word)
        if not phones:
            log.warning("dropping %r from the transcript: no pronunciation", w)
            continue
        dec.add_word(w, " ".join(phones), True)
        unknown[w] = phones
        out.append(w)
    if unknown:
        log.warning("words not in the pronouncing dictionary (pronunciation derived or "
                    "guessed; give a spelling it knows to fix): %s",
                    ", ".join(f"{w} [{' '.join(p)}]" for w, p in unknown.items()))
    if not out:
        raise AlignmentError(f"the transcript {transcript[:60]!r} has no words to align -- "
                             "give the spoken text, or leave it out to recognise phonemes")
    return out, unknown


def align(audio: Audio, transcript: str) -> Alignment:
    """Phone and word timings of ``transcript`` spoken in ``audio`` (16 kHz mono).

    Raises :class:`AlignmentError` when the search finds no path through the
    transcript (text does not match the speech, or the audio has no speech).
    """
    if audio.sample_rate != 16000:
        raise AlignmentError(f"alignment needs 16 kHz audio, got {audio.sample_rate} Hz "
                             "-- load it with visemo.audio.load_audio")
    with _lock:
        dec = _get_decoder()
        words, unknown = prepare_words(transcript, dec)
        if audio.duration <= CHUNK_SECONDS:
            phones, wsegs = _align_chunk(dec, audio, words, 0.0)
        else:
            phones, wsegs = [], []
            for start, end, chunk_words in _chunks(dec, audio, words):
                if not chunk_words:
                    continue
                p, w = _align_chunk(dec, audio.slice(start, end), chunk_words, start)
                phones += p
                wsegs += w
    return Alignment(tile(phones, audio.duration), wsegs, unknown)


# ---------------------------------------------------------------------- passes
def _search(dec, pcm: bytes, words: list[str]) -> None:
    """Pass 1: word search through the transcript; AlignmentError if no path."""
    try:
        dec.set_align_text(" ".join(words))
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
    except (RuntimeError, ValueError) as e:
        raise AlignmentError(f"alignment failed ({e}) -- check the transcript") from None
    if dec.hyp() is None:
        raise AlignmentError("the transcript does not fit the speech (no alignment found) "
                             "-- check that the text is what is said")


def _align_chunk(dec, audio: Audio, words: list[str], offset: float
                 ) -> tuple[list[PhonemeSegment], list[WordSegment]]:
    """Both passes on one stretch; times shifted by ``offset`` seconds."""
    pcm = audio.pcm16()
    _search(dec, pcm, words)
    try:
        dec.set_alignment()
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
        alignment = dec.get_alignment()
    except (RuntimeError, ValueError) as e:
        raise AlignmentError(f"phone alignment failed ({e}) -- check the transcript") from None
    if alignment is None:
        raise AlignmentError("phone alignment failed -- check the transcript")
    phones, wsegs = [], []
    t0 = offset + TIME_OFFSET
    for w in alignment:
        name = w.name.split("(")[0]
        ws, we = t0 + w.start / FRAME_RATE, t0 + (w.start + w.duration) / FRAME_RATE
        if name not in ("<sil>", "<s>", "</s>") and not name.startswith("+"):
            wsegs.append(WordSegment(name, ws, we))
        for ph in w:
            try:
                p = normalize_phone(ph.name)
            except ValueError:
                p = SIL
            s = t0 + ph.start / FRAME_RATE
            phones.append(PhonemeSegment(p, s, s + ph.duration / FRAME_RATE))
    return phones, wsegs


def _chunks(dec, audio: Audio, words: list[str]) -> list[tuple[float, float, list[str]]]:
    """Cut long audio into <= CHUNK_SECONDS pieces at pauses, with their words.

    Uses a word-level pass over the whole audio (linear in time and memory);
    cuts go in the middle of the longest pause near each chunk's end, or
    between two words when there is no pause.
    """
    _search(dec, audio.pcm16(), words)
    segs = []  # (word or None for silence, start, end) in order
    for s in dec.seg():
        name = s.word.split("(")[0]
        start, end = s.start_frame / FRAME_RATE, (s.end_frame + 1) / FRAME_RATE
        segs.append((None if name.startswith("<") or name.startswith("+") else name,
                     start, end))
    chunks, chunk_start, cur_words = [], 0.0, []
    best_cut = None  # (score, index in segs, cut time)
    i = 0
    while i < len(segs):
        name, s, e = segs[i]
        if name is None:
            pause = e - s
            if best_cut is None or pause >= best_cut[0] * 0.8:
                best_cut = (pause, i, 0.5 * (s + e), len(cur_words))
        else:
            if e - chunk_start > CHUNK_SECONDS and cur_words:
                if best_cut is not None and best_cut[2] - chunk_start > CHUNK_SECONDS / 3:
                    cut, n = best_cut[2], best_cut[3]
                else:  # no usable pause: cut before this word
                    cut, n = s, len(cur_words)
                chunks.append((chunk_start, cut, cur_words[:n]))
                chunk_start, cur_words, best_cut = cut, cur_words[n:], None
            cur_words.append(name)
        i += 1
    chunks.append((chunk_start, audio.duration, cur_words))
    return chunks
