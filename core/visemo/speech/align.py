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
from ..errors import VisemoError, quoted
from .lexicon import pronounce
from .phonemes import SIL, PhonemeSegment, normalize_phone, tile
from .text import normalize_transcript

log = logging.getLogger("visemo.speech")

FRAME_RATE = 100
"""pocketsphinx feature frames per second (10 ms hop)."""

CHUNK_SECONDS = 30.0
"""Longer audio is phone-aligned in chunks cut at pauses."""

TIME_OFFSET = 0.007
"""Seconds added to every pocketsphinx boundary: on flite speech (4 voices) its
boundaries came 7 ms early on average (alignment and allphone alike)."""


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
_decoders: dict[int, object] = {}

# Search beams per attempt.  pocketsphinx's defaults (1e-48) lose the path on
# some noisy speech (1 of 40 flite utterances at 15 dB SNR); 1e-80 finds all of
# them for ~15 % more time; the last attempt is wider still.
_BEAMS = ({"beam": 1e-80, "pbeam": 1e-80, "wbeam": 1e-60},
          {"beam": 1e-160, "pbeam": 1e-160, "wbeam": 1e-120, "maxhmmpf": -1})


def _get_decoder(attempt: int = 0):
    """pocketsphinx decoder for alignment attempt 0 or 1 (created on first use, ~0.15 s)."""
    if attempt not in _decoders:
        try:
            from pocketsphinx import Decoder
        except ImportError as e:  # pragma: no cover - a core dependency
            from ..errors import DependencyError
            raise DependencyError(f"pocketsphinx is not installed ({e}) -- "
                                  "pip install pocketsphinx==5.1.1") from None
        _decoders[attempt] = Decoder(samprate=16000, bestpath=False, lm=None,
                                     loglevel="FATAL", **_BEAMS[attempt])
    return _decoders[attempt]


def start_utterance(dec, fresh: bool = True) -> None:
    """``dec.start_utt()``; with ``fresh``, feature extraction starts anew first.

    pocketsphinx carries its noise estimate and running cepstral mean from one
    utterance to the next, so without this a result would depend on what the
    same process decoded before (measured: phone boundaries up to 90 ms apart).
    """
    if fresh:
        dec.reinit_feat()
    dec.start_utt()


def prepare_words(transcript: str, decoder=None, quiet: bool = False
                  ) -> tuple[list[str], dict[str, list[str]]]:
    """Normalise ``transcript`` and make every word known to the decoder's dictionary.

    Returns the words and ``{word: phones}`` for those that had to be added
    (logged as a warning).  Raises :class:`AlignmentError` if no word is left.
    """
    dec = decoder or _get_decoder(0)
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
    if unknown and not quiet:
        log.warning("words not in the pronouncing dictionary (pronunciation derived or "
                    "guessed; give a spelling it knows to fix): %s",
                    ", ".join(f"{w} [{' '.join(p)}]" for w, p in unknown.items()))
    if not out:
        raise AlignmentError(f"the transcript {quoted(transcript)} has no words to align -- "
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
        for attempt in range(len(_BEAMS)):
            dec = _get_decoder(attempt)
            words, unknown = prepare_words(transcript, dec, quiet=attempt > 0)
            _check_fits(dec, audio, words, transcript)
            try:
                phones, wsegs = _align(dec, audio, words)
                break
            except AlignmentError:
                if attempt == len(_BEAMS) - 1:
                    raise
                log.info("alignment lost its path; retrying with wider search beams")
    return Alignment(tile(phones, audio.duration), wsegs, unknown)


def _check_fits(dec, audio: Audio, words: list[str], transcript: str) -> None:
    """Fail fast when the text has more phones than the audio has room for (3 frames each)."""
    n_phones = sum(len((dec.lookup_word(w) or "x").split()) for w in words)
    if 3 * n_phones > audio.duration * FRAME_RATE:
        raise AlignmentError(
            f"the transcript ({len(words)} words) is far too long for {audio.duration:.1f} s "
            f"of speech ({quoted(transcript)}) -- give the text actually spoken")


def _align(dec, audio: Audio, words: list[str]
           ) -> tuple[list[PhonemeSegment], list[WordSegment]]:
    """Whole audio in one go, or in chunks cut at pauses when it is long."""
    if audio.duration <= CHUNK_SECONDS:
        return _align_chunk(dec, audio, words, 0.0)
    phones, wsegs = [], []
    for start, end, chunk_words in _chunks(dec, audio, words):
        if chunk_words:
            p, w = _align_chunk(dec, audio.slice(start, end), chunk_words, start)
            phones += p
            wsegs += w
    return phones, wsegs


# ---------------------------------------------------------------------- passes
def _search(dec, pcm: bytes, words: list[str]) -> None:
    """Pass 1: word search through the transcript; AlignmentError if no path."""
    try:
        dec.set_align_text(" ".join(words))
        start_utterance(dec)
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
        start_utterance(dec, fresh=False)  # keep what pass 1 learnt of this same stretch
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
