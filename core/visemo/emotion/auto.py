"""Emotion from the speech itself (``--emotion auto``): an editable EmotionTrack.

What is said and how loudly/highly it is said:

* **Words.**  The transcript is split into sentences (``.``, ``!``, ``?``,
  ``…``, ``;`` and line breaks); each goes through the text path,
  :func:`visemo.emotion.prompts.resolve_prompt`.  A sentence the text path
  does not take (a :class:`~visemo.errors.PromptError`: no emotion in it, or
  the lookup only knows single words) is neutral.
* **Voice.**  Per sentence, the median level (dBFS) and the median pitch
  (semitones; :func:`pitch_track`, YIN in numpy) of its voiced frames,
  relative to the speaker's own medians over the whole clip.  Louder and
  higher than usual reads as more intense: ``intensity = BASE_INTENSITY +
  DB_GAIN * Δlevel + SEMITONE_GAIN * Δpitch``, clipped to
  [``MIN_INTENSITY``, 1].

One :class:`~visemo.emotion.track.EmotionKey` per sentence, ``LEAD`` seconds
before its first word (never before the previous sentence's last word; the
first key at 0 s), so the track's transition is under way as the sentence
starts.  The result is an ordinary :class:`EmotionTrack`: change a key's
prompt or intensity and rebuild it to edit.  Sentence times come from the
aligned words (``timings.words``); without them the transcript's sentences
are spread over the voiced audio by word count; without a transcript the
clip is cut into phrases at pauses (neutral, intensity from the voice only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..audio.features import rms_db, voice_activity
from ..audio.load import Audio
from ..errors import PromptError
from ..speech.text import normalize_transcript
from .prompts import resolve_prompt
from .track import EmotionKey, EmotionTrack

FPS = 100.0
"""Analysis frame rate (frames per second) for level and pitch."""

BASE_INTENSITY = 0.6
"""Intensity of a sentence spoken at the speaker's median level and pitch."""

DB_GAIN = 0.03
"""Intensity per dB above the speaker's median level (12 dB louder: +0.36)."""

SEMITONE_GAIN = 0.03
"""Intensity per semitone above the speaker's median pitch."""

MIN_INTENSITY = 0.2
"""Quietest sentences keep at least this much of their emotion."""

LEAD = 0.25
"""Seconds a key comes before its sentence's first word."""

PAUSE = 0.5
"""Without a transcript: a silence this long (s) separates phrases."""

_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:mr|mrs|ms|mx|dr|prof|st|sr|jr|rev|gen|col|capt|lt|sgt|mt|vs|e\.g|i\.e|[a-z])\.$",
    re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|(?<=[.!?…;][\"'”’)\]])\s+|\n+")


@dataclass(frozen=True)
class AutoSentence:
    """One sentence (or phrase) and what auto made of it.

    ``start``/``end``: first word's start, last word's end (s).  ``text``: the
    sentence ("" for a phrase found without a transcript).  ``prompt``: the
    key's prompt (the sentence when the text path took it, else
    ``"neutral"``); ``label``: the basic emotion it resolved to.
    ``level_db``/``pitch_st``: median level (dB) and pitch (semitones) of its
    voiced frames relative to the speaker's medians (0.0 when unmeasurable).
    ``intensity``: the key's intensity, 0..1.
    """

    start: float
    end: float
    text: str
    prompt: str
    label: str
    level_db: float
    pitch_st: float
    intensity: float


@dataclass(frozen=True)
class AutoEmotion:
    """:func:`auto_emotion`'s result: the ``track`` and the ``sentences`` behind it."""

    track: EmotionTrack
    sentences: tuple[AutoSentence, ...]


# ---------------------------------------------------------------------- sentences
def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (stripped, non-empty, each with a speakable word).

    A full stop after an abbreviation ("Mr.", "Dr.", "e.g.") or an initial
    ("J.") does not end a sentence.  "No." and "etc." do: they end a spoken
    sentence far more often than they abbreviate ("No. I won't.").
    """
    parts: list[str] = []
    for part in (p.strip() for p in _SENTENCE_END.split(text or "")):
        if not part:
            continue
        if parts and _ABBREVIATION.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {part}"
        else:
            parts.append(part)
    return [p for p in parts if normalize_transcript(p)]


def sentence_spans(timings, duration: float | None = None,
                   voiced: tuple[float, float] | None = None) -> list[tuple[float, float, str]]:
    """(start s, end s, sentence) for the transcript of ``timings``.

    ``timings``: :class:`~visemo.speech.timings.PhonemeTimings` (``transcript``
    and ``words``).  Sentence words are matched in order to the aligned words
    (words the aligner dropped are skipped).  Without aligned words the
    sentences share ``voiced`` = (first, last voiced second) — or
    (0, ``duration``) — in proportion to their word counts.  Empty without a
    transcript.
    """
    transcript = getattr(timings, "transcript", None)
    sentences = split_sentences(transcript or "")
    if not sentences:
        return []
    words = list(getattr(timings, "words", None) or [])
    counts = [normalize_transcript(s) for s in sentences]
    if not words:
        lo, hi = voiced or (0.0, duration or 0.0)
        total = sum(len(c) for c in counts)
        edges = lo + (hi - lo) * np.cumsum([0] + [len(c) for c in counts]) / max(total, 1)
        return [(float(a), float(b), s) for a, b, s in zip(edges[:-1], edges[1:], sentences)]
    spans, i = [], 0
    for sentence, sent_words in zip(sentences, counts):
        first = last = None
        for w in sent_words:
            j = i
            while j < len(words) and words[j].word.lower() != w:
                j += 1
            if j == len(words):  # not aligned: dropped or spelled differently
                continue
            first = j if first is None else first
            last, i = j, j + 1
        if first is not None:
            spans.append((float(words[first].start), float(words[last].end), sentence))
    return spans


def pause_phrases(active: np.ndarray, fps: float, pause: float = PAUSE) -> list[tuple[float, float]]:
    """(start s, end s) of voiced stretches separated by at least ``pause`` s of silence."""
    out: list[list[float]] = []
    idx = np.flatnonzero(active)
    if not len(idx):
        return []
    start = prev = idx[0]
    for i in idx[1:]:
        if (i - prev) / fps >= pause:
            out.append([start / fps, (prev + 1) / fps])
            start = i
        prev = i
    out.append([start / fps, (prev + 1) / fps])
    return [(a, b) for a, b in out]


# ---------------------------------------------------------------------- pitch
def pitch_track(audio: Audio, fps: float = FPS, fmin: float = 60.0, fmax: float = 500.0,
                threshold: float = 0.15, window: float = 0.03) -> np.ndarray:
    """Fundamental frequency (Hz) per frame, float32 [ceil(duration*fps)]; 0 = unvoiced.

    YIN (de Cheveigné & Kawahara 2002): cumulative-mean-normalised difference
    function over a ``window``-second frame centred on ``i/fps``, first dip
    below ``threshold`` between 1/``fmax`` and 1/``fmin``, refined to its
    local minimum and by parabolic interpolation.  Frames with no dip, or
    that :func:`~visemo.audio.voice_activity` calls silent, are 0.
    """
    x = np.asarray(audio.samples, np.float64)
    sr = audio.sample_rate
    w = int(round(window * sr))
    tau_min, tau_max = max(2, int(sr / fmax)), int(np.ceil(sr / fmin))
    n_frames = int(np.ceil(audio.duration * fps - 1e-9))
    if n_frames == 0:
        return np.zeros(0, np.float32)
    starts = np.round(np.arange(n_frames) * sr / fps - w / 2).astype(np.int64)
    pad = w + tau_max + 1
    xp = np.concatenate([np.zeros(pad), x, np.zeros(2 * pad)])
    span = w + tau_max + 1
    frames = np.lib.stride_tricks.sliding_window_view(xp, span)[starts + pad]  # [T, span]
    n_fft = 1 << int(np.ceil(np.log2(span + w)))
    spec_a = np.fft.rfft(frames[:, :w], n_fft)
    spec_b = np.fft.rfft(frames, n_fft)
    corr = np.fft.irfft(np.conj(spec_a) * spec_b, n_fft)[:, :tau_max + 1]  # c(tau)
    sq = np.concatenate([np.zeros((n_frames, 1)), np.cumsum(frames ** 2, axis=1)], axis=1)
    e0 = sq[:, w:w + 1]
    taus = np.arange(tau_max + 1)
    e_tau = sq[:, taus + w] - sq[:, taus]
    diff = np.maximum(e0 + e_tau - 2.0 * corr, 0.0)
    diff[:, 0] = 0.0
    cum = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * taus[1:] / np.maximum(cum, 1e-12)
    voiced = voice_activity(audio, fps)[:n_frames]
    f0 = np.zeros(n_frames, np.float32)
    for t in np.flatnonzero(voiced):
        row = cmnd[t]
        below = np.flatnonzero(row[tau_min:tau_max] < threshold)
        if not len(below):
            continue
        k = tau_min + below[0]
        while k + 1 < tau_max and row[k + 1] < row[k]:
            k += 1
        a, b, c = row[k - 1], row[k], row[k + 1]
        den = a - 2 * b + c
        shift = 0.5 * (a - c) / den if den > 1e-12 else 0.0
        f0[t] = sr / (k + np.clip(shift, -0.5, 0.5))
    return f0


# ---------------------------------------------------------------------- auto
def _text_prompt(sentence: str) -> tuple[str, str]:
    """(prompt, label) the text path gives a sentence; ("neutral", "neutral") if none."""
    if not sentence:
        return "neutral", "neutral"
    try:
        expression = resolve_prompt(sentence)
    except PromptError:
        return "neutral", "neutral"
    return sentence, expression.label


def auto_emotion(audio: Audio, timings=None, *, transition: float = 0.4) -> AutoEmotion:
    """Emotion keys from the transcript's sentences and the voice (see the module notes).

    ``audio``: 16 kHz mono :class:`~visemo.audio.Audio`; ``timings``: the
    :class:`~visemo.speech.timings.PhonemeTimings` of it (or None: voice
    only).  Returns the track and, per key, an :class:`AutoSentence`.
    """
    db = rms_db(audio, FPS).astype(np.float64)
    active = voice_activity(audio, FPS)
    f0 = pitch_track(audio, FPS)
    n = min(len(db), len(active), len(f0))
    db, active, f0 = db[:n], active[:n], f0[:n]
    pitched = active & (f0 > 0)
    level_ref = float(np.median(db[active])) if active.any() else 0.0
    pitch_ref = float(np.median(12 * np.log2(f0[pitched]))) if pitched.any() else 0.0
    voiced_span = ((np.flatnonzero(active)[0] / FPS, (np.flatnonzero(active)[-1] + 1) / FPS)
                   if active.any() else (0.0, audio.duration))

    spans = sentence_spans(timings, audio.duration, voiced_span) if timings is not None else []
    if not spans:
        spans = [(a, b, "") for a, b in pause_phrases(active, FPS)] or [(0.0, audio.duration, "")]

    sentences, keys, prev_end = [], [], 0.0
    for k, (start, end, text) in enumerate(spans):
        lo, hi = int(np.floor(start * FPS)), max(int(np.ceil(end * FPS)), int(np.floor(start * FPS)) + 1)
        sel = np.zeros(n, bool)
        sel[max(lo, 0):min(hi, n)] = True
        level = float(np.median(db[sel & active]) - level_ref) if (sel & active).any() else 0.0
        pitch = (float(np.median(12 * np.log2(f0[sel & pitched])) - pitch_ref)
                 if (sel & pitched).any() else 0.0)
        intensity = float(np.clip(BASE_INTENSITY + DB_GAIN * level + SEMITONE_GAIN * pitch,
                                  MIN_INTENSITY, 1.0))
        prompt, label = _text_prompt(text)
        time = 0.0 if k == 0 else max(prev_end, start - LEAD)
        keys.append(EmotionKey(round(time, 3), prompt, round(intensity, 3)))
        sentences.append(AutoSentence(start, end, text, prompt, label, round(level, 2),
                                      round(pitch, 2), round(intensity, 3)))
        prev_end = end
    return AutoEmotion(EmotionTrack(tuple(keys), transition), tuple(sentences))


def auto_emotion_track(audio: Audio, timings=None, *, transition: float = 0.4) -> EmotionTrack:
    """:func:`auto_emotion`'s track: one key per sentence, user-editable."""
    return auto_emotion(audio, timings, transition=transition).track
