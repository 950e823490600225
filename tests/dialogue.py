"""Dialogue lines with real pauses: two TTS utterances joined by silence.

flite's own pauses are short (≤ 0.25 s); a dialogue line as an animator gets
it has lead-in and tail silence and pauses between sentences.  The ground
truth shifts with the inserted silence, which becomes one SIL segment.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf

from tts import Utterance
from visemo.speech.phonemes import PhonemeSegment, tile

NOISE_DBFS = -66.0  # room tone under the silences, as in real recordings


def dialogue(first: Utterance, second: Utterance, out_dir: Path, lead: float = 0.5,
             gap: float = 0.7, tail: float = 0.6) -> Utterance:
    """``lead`` s silence, ``first``, ``gap`` s silence, ``second``, ``tail`` s silence."""
    key = hashlib.sha1(f"{first.path}|{second.path}|{lead}|{gap}|{tail}".encode()).hexdigest()[:12]
    path = Path(out_dir) / f"dialogue-{key}.wav"
    a, sr = sf.read(first.path, dtype="float32")
    b, sr2 = sf.read(second.path, dtype="float32")
    if sr != sr2:
        raise ValueError("both utterances need the same sample rate")
    rng = np.random.default_rng(int(key, 16) % 2**32)

    def quiet(seconds: float) -> np.ndarray:
        return (rng.standard_normal(int(round(seconds * sr))) * 10 ** (NOISE_DBFS / 20)).astype(np.float32)

    parts = [quiet(lead), a, quiet(gap), b, quiet(tail)]
    sf.write(path, np.concatenate(parts), sr, subtype="PCM_16")
    t_a = lead
    t_b = lead + len(a) / sr + gap
    segs = [PhonemeSegment("SIL", 0.0, lead)]
    segs += [PhonemeSegment(s.phone, s.start + t_a, s.end + t_a) for s in first.segments]
    segs += [PhonemeSegment(s.phone, s.start + t_b, s.end + t_b) for s in second.segments]
    duration = sum(len(p) for p in parts) / sr
    return Utterance(f"{first.text} {second.text}", first.voice, path,
                     tuple(tile(segs, duration)), duration, sr)
