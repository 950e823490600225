"""Phoneme recognition without a transcript: pocketsphinx "allphone" search.

Decodes the audio as a free phone sequence under a phone n-gram model
(``en-us-phone.lm.bin``).  Less accurate than aligning a transcript but
needs nothing but the audio; language-independent enough to drive lips for
non-English speech.  Times are seconds; segments tile [0, duration].
"""

from __future__ import annotations

import threading

from ..audio.load import Audio
from .align import FRAME_RATE, TIME_OFFSET, AlignmentError, start_utterance
from .phonemes import SIL, PhonemeSegment, normalize_phone, tile

# Tuned on flite TTS (4 voices) and LibriVox speech: see benchmarks/bench_alignment.py.
# (pocketsphinx 5 allphone ignores ``pip``; the phone insertion penalty is ``wip``.)
LANGUAGE_WEIGHT = 2.0
INSERTION_PENALTY = 0.65
BEAM = 1e-20
CONTEXT_INDEPENDENT = True
CHUNK_SECONDS = 60.0
"""Longer audio is decoded in consecutive pieces of this length."""

_lock = threading.Lock()
_decoders: dict[tuple, object] = {}


def _get_decoder(lw: float, wip: float, beam: float, ci: bool):
    key = (lw, wip, beam, ci)
    if key not in _decoders:
        from pocketsphinx import Decoder, get_model_path

        m = get_model_path()
        _decoders[key] = Decoder(hmm=f"{m}/en-us/en-us", allphone=f"{m}/en-us/en-us-phone.lm.bin",
                                 lw=lw, wip=wip, beam=beam, pbeam=beam, allphone_ci=ci,
                                 samprate=16000, lm=None, loglevel="FATAL")
    return _decoders[key]


def recognize_phonemes(
    audio: Audio,
    lw: float = LANGUAGE_WEIGHT,
    wip: float = INSERTION_PENALTY,
    beam: float = BEAM,
    context_independent: bool = CONTEXT_INDEPENDENT,
) -> list[PhonemeSegment]:
    """Recognised phones of 16 kHz mono ``audio``, tiling [0, duration] seconds.

    ``lw`` is the phone language-model weight, ``wip`` the phone insertion
    penalty (a probability: lower gives fewer, longer phones), ``beam`` the
    search beam, ``context_independent`` False scores triphones (slower).  Raises
    :class:`AlignmentError` if the decoder returns nothing.
    """
    if audio.sample_rate != 16000:
        raise AlignmentError(f"phoneme recognition needs 16 kHz audio, got {audio.sample_rate} Hz")
    segs: list[PhonemeSegment] = []
    with _lock:
        dec = _get_decoder(lw, wip, beam, context_independent)
        t = 0.0
        while t < audio.duration:
            end = min(audio.duration, t + CHUNK_SECONDS)
            if audio.duration - end < 5.0:
                end = audio.duration
            segs += _decode(dec, audio.slice(t, end), t)
            t = end
    if not segs:
        raise AlignmentError("phoneme recognition found nothing in the audio")
    return tile(segs, audio.duration)


def _decode(dec, audio: Audio, offset: float) -> list[PhonemeSegment]:
    try:
        start_utterance(dec)
        dec.process_raw(audio.pcm16(), full_utt=True)
        dec.end_utt()
    except (RuntimeError, ValueError) as e:
        raise AlignmentError(f"phoneme recognition failed ({e})") from None
    t0 = offset + TIME_OFFSET
    out = []
    for s in dec.seg():
        try:
            p = normalize_phone(s.word)
        except ValueError:
            p = SIL
        out.append(PhonemeSegment(p, t0 + s.start_frame / FRAME_RATE,
                                  t0 + (s.end_frame + 1) / FRAME_RATE))
    return out
