"""Forced alignment of a known mouth-class sequence to the articulation model's frames.

When the words are known (a transcript in any language, phonemised by
:mod:`visemo.speech.g2p`), the classes and their order are known too; only
their timing is not.  :func:`align_classes` finds it: a left-to-right
Viterbi over the model's per-frame class probabilities, one state per phone
(at least one 10 ms frame each) and an optional pause before, between and
after words.  The model's own guesses of *which* class is said are then
replaced by the transcript's, so P/B/M the text contains are never missed.
"""

from __future__ import annotations

import numpy as np

from ..audio.melspec import FRAME_RATE
from .articulation_classes import CLASSES, REPRESENTATIVE
from .phonemes import PhonemeSegment, tile

_SIL = CLASSES.index("SIL")


def _states(words: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(class index per state, whether the state may be skipped) for words of classes."""
    classes, optional = [_SIL], [True]
    for word in words:
        for c in word:
            classes.append(CLASSES.index(c))
            optional.append(False)
        classes.append(_SIL)
        optional.append(True)
    return np.array(classes), np.array(optional)


def align_classes(probabilities: np.ndarray, words: list[list[str]], duration: float) -> list[PhonemeSegment]:
    """Segments tiling [0, ``duration``] s for ``words`` (lists of class names) on ``probabilities``.

    ``probabilities`` [T, len(CLASSES)] at 100 frames per second.  Pauses
    between words are taken only where the audio has them.  With more phones
    than frames, it falls back to spreading the phones evenly.
    """
    if not any(words):
        return tile([], duration)
    cls, optional = _states(words)
    logp = np.log(np.maximum(probabilities, 1e-6))[:, cls]          # [T, S]
    T, S = logp.shape
    n_required = int((~optional).sum())
    if T < max(n_required, 1):
        return _even(cls[~optional], duration)
    neg = -1e18
    score = np.full(S, neg)
    score[0] = logp[0, 0]
    if S > 1:
        score[1] = logp[0, 1]  # the first pause may be skipped
    back = np.zeros((T, S), np.int8)  # 0 stay, 1 from previous, 2 from two back (skipping a pause)
    skip_ok = np.concatenate([[False, False], optional[1:-1]])  # entering s from s-2 skips state s-1
    for t in range(1, T):
        stay = score
        step = np.concatenate([[neg], score[:-1]])
        jump = np.where(skip_ok, np.concatenate([[neg, neg], score[:-2]]), neg)
        best = np.maximum(stay, np.maximum(step, jump))
        back[t] = np.where(best == stay, 0, np.where(best == step, 1, 2))
        score = best + logp[t]
    # end in the last state, or the one before it when the final pause is skipped
    s = S - 1 if score[S - 1] >= score[S - 2] or S < 2 else S - 2
    path = np.empty(T, np.int64)
    for t in range(T - 1, -1, -1):
        path[t] = s
        s -= int(back[t, s]) if t > 0 else 0
    segs = []
    start = 0
    for t in range(1, T + 1):
        if t == T or path[t] != path[start]:
            a = max(0.0, (start - 0.5) / FRAME_RATE)
            b = min(duration, (t - 0.5) / FRAME_RATE) if t < T else duration
            if b > a:
                segs.append(PhonemeSegment(REPRESENTATIVE[CLASSES[cls[path[start]]]], a, b))
            start = t
    return tile(segs, duration)


def _even(cls: np.ndarray, duration: float) -> list[PhonemeSegment]:
    edges = np.linspace(0.0, duration, len(cls) + 1)
    return tile([PhonemeSegment(REPRESENTATIVE[CLASSES[c]], a, b) for c, a, b in zip(cls, edges[:-1], edges[1:])],
                duration)


def transcript_classes(transcript: str, language: str) -> list[list[str]]:
    """The transcript as words of mouth classes (espeak-ng G2P; phones it cannot class are dropped)."""
    from .articulation_classes import ipa_class
    from .g2p import phonemize

    words = []
    for phones in phonemize(transcript, language):
        classes = [c for c in (ipa_class(p) for p in phones) if c is not None and c != "SIL"]
        if classes:
            words.append(classes)
    return words
