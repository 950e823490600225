"""Live animation: 16 kHz speech pushed in chunks → ARKit-52 frames, a fixed 140 ms behind.

The building block for live puppeteering and ``visemo stream``.
:class:`LiveAnimator` takes audio in chunks of any size (a millisecond or a
second) and returns each frame once it is final; the frames do not depend on
how the audio was cut into chunks.  Per 10 ms row of the articulation model:

1. class probabilities from :class:`~visemo.speech.articulation_model.ArticulationStream`
   (row t arrives with the audio up to t/100 s + the model's look-ahead + half a
   mel window: 52.5 ms for a 4-row look-ahead);
2. one Viterbi step (the offline decoder's arithmetic, :func:`~visemo.speech.
   articulation_model.viterbi`) and a back-trace from the best class now: the
   best class path so far.  Only the last :attr:`LiveAnimator.window_rows`
   rows are kept; older decisions are frozen, so cost and memory do not grow;
3. every frame at time t whose *context* — the path up to t + ``context``
   seconds — is known is made from that path: segments → the procedural
   engine (:func:`visemo.lipsync.articulate` on a few frames) → emotion →
   gaze and blinks → bilabial closure last, as :func:`visemo.pipeline.compose`.

Latency: a frame at t is out once the audio up to t + :attr:`LiveAnimator.latency`
has been pushed.  ``max_latency`` (140 ms by default, leaving 10 ms of a 150 ms
budget to processing) bounds it: what the model needs (52.5 ms), up to 5 ms for
the 10 ms row grid, and the rest is context (82.5 ms).  Below ~18 fps a frame's
loudness window (1/fps wide) may need more; at 30 fps it is 139 ms.  A caller
that buffers chunks adds their length: the frame comes with the chunk that
completes its audio.

What differs from :func:`visemo.pipeline.perform` (recognizer "model") on the same audio:

- anticipation: a sound that starts more than ``context`` after t is not known
  when frame t is made; its dominance at t is at most 1.2·exp(−(context/0.06)²)
  of the current sound's (0.14 at 82.5 ms) — offline the mouth starts moving
  towards it a little earlier;
- class decisions: the path when the frame is made, not the whole utterance's;
  they differ where the Viterbi changes its mind more than ``context`` later
  (the newest rows stay in the old class until a new one has won by
  ``SWITCH_COST`` nats);
- a rounded diphthong (OROUND → OW, AO then UW) still sounding: its middle is
  taken at 0.15 s (the median OW) after its start until its end is heard;
- loudness (jaw opening): offline normalises over the whole utterance
  (:func:`visemo.audio.features.loudness`); here over the levels of the last
  :data:`LOUDNESS_HISTORY` seconds of frames up to the newest one whose audio
  is in, with a simpler voice detection (a threshold, no hysteresis, no gap
  closing); the first words of a stream are normalised on what came so far;
- an offset and rumble below 20 Hz are removed as offline (:class:`~visemo.audio.load.DCBlocker`, the same
  filter: the same samples);
- level: quiet speech is raised to the speech floor as offline (:func:`visemo.audio.load_audio`), but by
  the gain of the 20 ms blocks heard so far (the last :data:`LOUDNESS_HISTORY` seconds), from
  :data:`LIFT_AFTER` seconds of speech on: until then quiet speech moves the mouth less.  The model reads the
  raised samples; the running loudness reads them unraised (it is relative to their own history, which a
  gain that grows as speech is heard would skew: the jaw of a stream 30 dB quieter opened 21 % wider than
  the loud stream's, 7 % reading them unraised);
- blinks and gaze: identical to :func:`visemo.idle.blink_curves` and
  :func:`visemo.idle.gaze_curves` for the same seed.

``visemo stream`` (:func:`run_stream`) reads raw PCM on stdin and writes one
JSON line per frame on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Protocol

import numpy as np

from . import arkit
from .animation import frame_count
from .audio.features import DB_FLOOR, MIN_WINDOW
from .audio.load import LEVEL_BLOCK, DCBlocker, block_level_db, has_speech_dynamics, speech_blocks, speech_gain
from .audio.melspec import FRAME_RATE, HOP, SAMPLE_RATE, WINDOW
from .errors import AudioError, PromptError, VisemoError
from .idle import BlinkSettings, SaccadeSettings, blink_profile, compose_blinks, gaze_to_weights
from .lipsync import articulate
from .lipsync.closure import apply_closure
from .lipsync.targets import DIPHTHONGS
from .speech.articulation_classes import CLASSES, REPRESENTATIVE
from .speech.articulation_model import SWITCH_COST, timing_probabilities, trim_closures
from .speech.phonemes import PhonemeSegment

DEFAULT_LATENCY = 0.14
"""Default bound on the algorithmic latency (s): 150 ms less 10 ms for processing."""

SEGMENT_REACH = 0.3
"""How far back (s) a frame looks for sounds: beyond 4 × the longest dominance spread (0.24 s)."""

DIPHTHONG_GUESS = 0.15
"""Assumed length (s) of a diphthong whose end is not heard yet (the median flite OW)."""

LOUDNESS_HISTORY = 30.0
"""Seconds of past frame levels the running loudness normalises over (and the running lift of quiet speech)."""

LIFT_AFTER = 0.5
"""Seconds of speech heard before quiet live speech is raised (:class:`_RunningLift`): of 20 ms blocks that
rise over the noise floor (:func:`~visemo.audio.load.speech_blocks`).  Counting the blocks near the top of
the history instead, a dialogue line's lead-in noise and its first syllable set a lift of 40 dB."""

LIFT_STEP_DB = 1.0
"""The live gain moves at most this much from one 20 ms block to the next (25 dB in half a second)."""

_RENORMALISE = -1e5  # Viterbi scores are shifted up once they fall below this (hours of audio)


class StreamInputError(AudioError, ValueError):
    """Samples pushed to a stream are not mono 16 kHz float32 in [-1, 1] or int16."""


class ProbabilitySource(Protocol):
    """What :class:`LiveAnimator` reads class probabilities from (an ``ArticulationStream``).

    ``push(samples)`` / ``finish()`` return rows [n, len(CLASSES)] at 100 per
    second; row t arrives once the audio up to sample ``(t + model.lookahead)
    * HOP + WINDOW // 2`` has been pushed, and ``finish`` returns every row
    up to ``melspec.frame_count(samples)``.  ``model.decoder()``, when there,
    gives the decoding (:meth:`~visemo.speech.articulation_model.ArticulationModel.decoder`);
    else the default switch cost and no closure rule.
    """

    model: object

    def push(self, samples: np.ndarray) -> np.ndarray: ...

    def finish(self) -> np.ndarray: ...


def as_samples(samples) -> np.ndarray:
    """``samples`` as float32 [n] in [-1, 1]: float32/float64 in [-1, 1] or int16 (÷ 32768), [n] or [n, 1].

    Raises :class:`StreamInputError` (a ``ValueError``) for another dtype or
    shape, NaN or infinity, or floats far outside [-1, 1] (16-bit data read
    as float); floats up to ±2 are clipped to ±1.
    """
    a = np.asarray(samples)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise StreamInputError(f"stream samples must be mono, shape [n] or [n, 1]; got shape {a.shape}")
    if a.dtype == np.int16:
        return a.astype(np.float32) / np.float32(32768.0)
    if a.dtype not in (np.float32, np.float64):
        raise StreamInputError(f"stream samples must be float32 in [-1, 1] or int16, got dtype {a.dtype}; "
                               "convert them first (e.g. x.astype(np.float32) / 32768 for other integers)")
    x = a.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise StreamInputError("stream samples contain NaN or infinity; is the input 16-bit PCM read as float "
                               "(use s16le), or damaged?")
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak > 2.0:
        raise StreamInputError(f"float stream samples must lie in [-1, 1], got a peak of {peak:.3g}; is the input "
                               "16-bit PCM read as float (use s16le)?")
    return np.clip(x, -1.0, 1.0) if peak > 1.0 else x


# ---------------------------------------------------------------------- class path
class _ClassPath:
    """The best class path so far: Viterbi steps as rows come, back-traced over a bounded window.

    The forward step is :func:`~visemo.speech.articulation_model.viterbi`'s;
    after each row the path is traced back from the best class now until it
    joins the previous trace (the usual case within a few rows).  Rows older
    than ``window`` are frozen.  After the last row the path over the window
    is the offline decoder's (where the offline path did not change further back).
    """

    def __init__(self, classes: int, window: int, switch_cost: float = SWITCH_COST,
                 closure: tuple[int, float] | None = None) -> None:
        self.window = window
        self.switch_cost = switch_cost
        self.closure = closure
        self.timed = _ClassPath(classes, window, switch_cost) if closure else None
        """The second path that times closures (:func:`~visemo.speech.articulation_model.trim_closures`)."""
        self.back = np.zeros((window, classes), np.int16)
        self.path = np.zeros(window, np.int16)   # class of row j at j % window
        self.score: np.ndarray | None = None
        self.rows = 0
        self.frozen_class = -1                     # class of the newest frozen row
        self.frozen_start = 0                      # first row of its run
        self._arange = np.arange(classes)

    @staticmethod
    def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
        """Rows [n, C] of probabilities → the decoder's log-probabilities (float64)."""
        return np.log(np.maximum(probabilities, 1e-6)).astype(np.float64)

    def push_rows(self, probabilities: np.ndarray) -> None:
        """Rows [n, C] of class probabilities, one :meth:`push` each (and the timing path's)."""
        if self.timed is not None:
            for row in self.log_probabilities(timing_probabilities(probabilities, self.closure[1])):
                self.timed.push(row)
        for row in self.log_probabilities(probabilities):
            self.push(row)

    def push(self, logp: np.ndarray) -> None:
        """One row of :meth:`log_probabilities` [C] (this path's only)."""
        W, n = self.window, self.rows
        if n >= W:  # row n - W leaves the window
            cls = int(self.path[n % W])
            if cls != self.frozen_class:
                self.frozen_class, self.frozen_start = cls, n - W
        if self.score is None:
            score, back = logp.copy(), self._arange
        else:
            stay = self.score
            best = stay.argmax()
            move = stay[best] - self.switch_cost
            back = np.where(stay >= move, self._arange, best)
            score = np.maximum(stay, move)
            score += logp
            if n % 1024 == 0 and score.max() < _RENORMALISE:
                score -= score.max()
        self.score = score
        self.back[n % W] = back
        self.rows = n + 1
        c = int(score.argmax())
        self.path[n % W] = c
        j, oldest = n, max(0, n - W + 1)
        while j > oldest:
            c = int(self.back[j % W, c])
            if j - 1 < n and self.path[(j - 1) % W] == c:
                break  # joined the previous trace: everything before agrees
            self.path[(j - 1) % W] = c
            j -= 1

    def segments(self, first_row: int, end: float | None) -> list[PhonemeSegment]:
        """Segments of the path from the run holding ``first_row`` to the newest row.

        Times as :func:`~visemo.speech.articulation_model.decode_segments`
        gives them.  ``end``: where the last run ends (the duration, once all
        rows are in); None while it may go on (a guess, see :data:`DIPHTHONG_GUESS`).
        """
        W, R = self.window, self.rows
        if R == 0:
            return []
        valid = max(0, R - W)
        row = min(max(first_row, valid), R - 1)
        seq = self.path[np.arange(valid, R) % W]
        if self.timed is not None:
            seq = trim_closures(seq, self.timed.path[np.arange(valid, R) % W], self.closure[0])
        cuts = np.flatnonzero(seq[1:] != seq[:-1]) + 1 + valid   # first rows of runs after the first
        k = int(np.searchsorted(cuts, row, side="right"))
        starts = [int(cuts[k - 1]) if k else valid] + cuts[k:].tolist()
        if starts[0] == valid and valid > 0 and seq[0] == self.frozen_class:
            starts[0] = self.frozen_start
        ends = starts[1:] + [R]
        out = []
        for j0, j1 in zip(starts, ends):
            phone = REPRESENTATIVE[CLASSES[seq[j1 - 1 - valid]]]
            a = max(0.0, (j0 - 0.5) / FRAME_RATE)
            if j1 < R:
                b = (j1 - 0.5) / FRAME_RATE
            elif end is not None:
                b = end
            else:
                b = (R - 0.5) / FRAME_RATE
                if phone in DIPHTHONGS:
                    b = max(b, a + DIPHTHONG_GUESS)
            if b > a:
                out.append(PhonemeSegment(phone, a, b))
        return out

    def size(self) -> int:
        """Numbers held (bounded by the window)."""
        return self.back.size + self.path.size + (self.timed.size() if self.timed is not None else 0)


# ---------------------------------------------------------------------- level
class _RunningLift:
    """Quiet live speech raised as :func:`visemo.audio.load_audio` raises a file
    (:func:`~visemo.audio.load.speech_gain`), from what came so far: each 20 ms block is scaled by the gain of
    the blocks before it (the last :data:`LOUDNESS_HISTORY` seconds), so the result does not depend on how
    the audio is cut into chunks.  The gain is 1 until :data:`LIFT_AFTER` seconds of speech have been heard
    (the first syllable alone does not set it); it is updated only while the history sounds like speech
    (:func:`~visemo.audio.load.has_speech_dynamics`: room tone before the first word, or a long pause, keeps
    the gain it had) and moves at most :data:`LIFT_STEP_DB` a block.  Unlike a file's, the gain is not held
    down by the loudest sample: a click is clipped at ±1 instead (the model reads a sudden drop of the level
    mid-speech as silence: a click 20 dB above quiet speech that cut the gain from 25 to 13 dB left the mouth
    shut for the rest of the clip)."""

    def __init__(self, history: float = LOUDNESS_HISTORY) -> None:
        self.pending = np.zeros(0, np.float32)   # samples of the block being filled
        self.levels = np.zeros(max(1, int(round(history * SAMPLE_RATE / LEVEL_BLOCK))), np.float64)  # dBFS, a ring
        self.count = 0           # blocks closed
        self.target = 1.0        # the gain it moves to
        self.gain = 1.0          # applied to the block being filled

    def push(self, x: np.ndarray) -> np.ndarray:
        """Samples in → the same samples, scaled (and clipped at ±1)."""
        out, i = [], 0
        while i < len(x):
            seg = x[i:i + LEVEL_BLOCK - len(self.pending)]
            i += len(seg)
            out.append(np.clip(seg * np.float32(self.gain), -1.0, 1.0) if self.gain != 1.0 else seg)
            self.pending = np.concatenate([self.pending, seg])
            if len(self.pending) == LEVEL_BLOCK:
                self._close()
        return np.concatenate(out) if len(out) > 1 else (out[0] if out else x)

    def _close(self) -> None:
        self.levels[self.count % len(self.levels)] = block_level_db(self.pending)
        self.count += 1
        self.pending = self.pending[:0]
        if self.count % 5 == 0:         # the target every 100 ms (percentiles of up to 1500 levels)
            h = self.levels[:min(self.count, len(self.levels))]
            heard = len(speech_blocks(h))
            if heard * LEVEL_BLOCK >= LIFT_AFTER * SAMPLE_RATE and has_speech_dynamics(h):
                self.target = speech_gain(h)
        step = 10 ** (LIFT_STEP_DB / 20)
        self.gain = float(np.clip(self.target, self.gain / step, self.gain * step))

    def size(self) -> int:
        """Numbers held."""
        return len(self.levels) + len(self.pending)


# ---------------------------------------------------------------------- loudness
class _RunningLoudness:
    """Per-frame level (dB, :func:`visemo.audio.features.rms_db`'s windows) and a running loudness 0..1."""

    def __init__(self, fps: float, history: float = LOUDNESS_HISTORY, range_db: float = 35.0) -> None:
        self.fps = fps
        self.half = max(1.0 / fps, MIN_WINDOW) * SAMPLE_RATE / 2.0
        self.range_db = range_db
        self.buffer = np.zeros(0, np.float32)
        self.offset = 0          # sample index of buffer[0]
        self.received = 0
        self.levels: dict[int, float] = {}  # frame → dB, computed and not yet in the history or used
        self.next_level = 0      # next frame whose dB to compute
        self.history = np.zeros(max(1, int(round(history * fps))), np.float64)
        self.count = 0           # frames added to the history

    def window(self, i: int) -> tuple[int, int]:
        """Sample range [lo, hi) of frame i's window (before clipping at the end)."""
        centre = i * (SAMPLE_RATE / self.fps)
        lo = round(centre - self.half)   # halves to even, as np.round
        hi = round(centre + self.half)
        return max(lo, 0), max(hi, 0)

    def push(self, x: np.ndarray) -> None:
        """Audio in; the levels of frames whose windows are complete are computed."""
        self.buffer = np.concatenate([self.buffer, x])
        self.received += len(x)
        self._levels(self.received, final=False)

    def finish(self, frames: int) -> None:
        """All audio is in: levels of frames up to ``frames``, windows clipped at the end."""
        self._levels(frames, final=True)

    def _levels(self, limit: int, final: bool) -> None:
        n = self.received
        while True:
            i = self.next_level
            lo, hi = self.window(i)
            if final:
                if i >= limit:
                    break
                lo, hi = min(lo, n), min(hi, n)
                hi = max(hi, min(lo + 1, n))
            elif hi > n:
                break
            seg = self.buffer[lo - self.offset:hi - self.offset].astype(np.float64)
            energy = max(float(np.dot(seg, seg)) / max(hi - lo, 1), 0.0)
            db = np.float32(10.0 * np.log10(max(energy, 10 ** (DB_FLOOR / 10))))
            self.levels[i] = float(db)
            self.next_level = i + 1
        keep = min(self.window(self.next_level)[0], n)  # samples before the next window are done with
        if keep > self.offset:
            self.buffer = self.buffer[keep - self.offset:]
            self.offset = keep

    def ready(self, i: int) -> bool:
        """Whether frame i's level is known."""
        return i < self.next_level

    def advance(self, known: int) -> None:
        """Put the levels of frames up to ``known`` into the history (frames after
        the one being made whose audio is in)."""
        while self.count <= known:
            self.history[self.count % len(self.history)] = self.levels[self.count]
            self.count += 1

    def release(self, end: int) -> None:
        """Forget the levels of frames before ``end`` (made)."""
        for j in [j for j in self.levels if j < end]:
            del self.levels[j]

    def loudness(self, i: int) -> float:
        """Loudness 0..1 of frame i, as :func:`visemo.audio.features.loudness`
        over the history (:meth:`advance`): its last :data:`LOUDNESS_HISTORY` seconds."""
        db = self.levels[i]
        h = np.sort(self.history[:min(self.count, len(self.history))])
        p10, p98 = _percentile(h, 10), _percentile(h, 98)
        quiet = max(p10, -80.0)
        voiced = h[:0]
        if p98 >= -55.0:
            span = p98 - quiet
            on = -55.0 if span < 10.0 else max(quiet + 0.4 * span, -55.0)
            voiced = h[np.searchsorted(h, on, side="right"):]
        ref = _percentile(voiced if len(voiced) else h, 95)
        floor = max(ref - self.range_db, p10 + 6.0)
        if ref - floor < 3.0:
            return 1.0 if db > floor else 0.0
        return float(np.clip((db - floor) / (ref - floor), 0.0, 1.0))

    def size(self) -> int:
        """Numbers held (bounded)."""
        return len(self.buffer) + len(self.levels) + len(self.history)


def _percentile(ascending: np.ndarray, q: float) -> float:
    """``np.percentile(x, q)`` (linear) of values already sorted."""
    k = (len(ascending) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ascending) - 1)
    return float(ascending[lo] + (ascending[hi] - ascending[lo]) * (k - lo))


# ---------------------------------------------------------------------- idle life
class _IdleLife:
    """Blinks and gaze for frames asked for in increasing time, from a seed.

    Gaze equals :func:`visemo.idle.gaze_curves`; blink times equal
    :func:`visemo.idle.blink_curves`'s, depth and lag come from ``(seed, 1)``.
    """

    def __init__(self, fps: float, seed: int, blinks: BlinkSettings = BlinkSettings(),
                 gaze: SaccadeSettings = SaccadeSettings()) -> None:
        self.fps, self.bs, self.gs = fps, blinks, gaze
        self.times_rng = np.random.default_rng(seed)
        self.shape_rng = np.random.default_rng((seed, 1))
        self.mean_gap = 60.0 / blinks.rate
        self.next_blink = self.times_rng.uniform(0.3, self.mean_gap)
        self.blinks: list[tuple[float, float, np.ndarray]] = []  # (start, lag, depth[2])
        self.gaze_rng = np.random.default_rng(seed + 7919)
        self.next_saccade = self.gaze_rng.uniform(gaze.min_gap, gaze.max_gap)
        self.cur = np.zeros(2)
        self.saccades: list[tuple[float, np.ndarray, np.ndarray]] = []  # (time, from, to)

    def blink_curves(self, t: np.ndarray) -> np.ndarray:
        """Eyelid closure float32 [len(t), 2] at times ``t`` (s, ascending)."""
        s = self.bs
        while self.next_blink <= t[-1] + 1.0 / self.fps + 0.01:  # snapping and lag move a blink < 0.01 s
            start = self.next_blink
            depth = 1.0 - self.shape_rng.uniform(0, s.asymmetry, size=2)
            lag = self.shape_rng.uniform(-s.asymmetry, s.asymmetry) * s.close
            peak = start + s.close + 0.5 * s.hold
            start += round(peak * self.fps) / self.fps - peak
            self.blinks.append((start, lag, depth))
            self.next_blink += max(s.min_gap, self.times_rng.gamma(3.0, self.mean_gap / 3.0))
        length = s.close + s.hold + s.reopen + s.asymmetry * s.close
        self.blinks = [b for b in self.blinks if b[0] + length >= t[0]]
        out = np.zeros((len(t), 2), np.float64)
        for start, lag, depth in self.blinks:
            out[:, 0] = np.maximum(out[:, 0], blink_profile(t, start, s, depth[0]))
            out[:, 1] = np.maximum(out[:, 1], blink_profile(t, start + lag, s, depth[1]))
        return out.astype(np.float32)

    def gaze_curves(self, t: np.ndarray) -> np.ndarray:
        """Gaze (yaw, pitch) float32 [len(t), 2] at times ``t`` (s, ascending)."""
        g = self.gs
        while self.next_saccade <= t[-1]:
            target = 0.5 * self.cur + self.gaze_rng.normal(0, g.amplitude, 2) * np.array([1.0, 0.6])
            target = np.clip(target, -0.5, 0.5)
            self.saccades.append((self.next_saccade, self.cur, target))
            self.cur = target
            self.next_saccade += self.gaze_rng.uniform(g.min_gap, g.max_gap)
        while len(self.saccades) > 1 and self.saccades[1][0] <= t[0]:
            self.saccades.pop(0)  # superseded before the earliest time still to come
        yaw, pitch = np.zeros(len(t)), np.zeros(len(t))
        for s, a, b in self.saccades:
            x = np.clip((t - s) / g.shift, 0.0, 1.0)
            ease = x * x * (3 - 2 * x)
            yaw = np.where(t >= s, a[0] + ease * (b[0] - a[0]), yaw)
            pitch = np.where(t >= s, a[1] + ease * (b[1] - a[1]), pitch)
        return np.stack([yaw, pitch], axis=1).astype(np.float32)

    def size(self) -> int:
        """Events held (bounded)."""
        return len(self.blinks) + len(self.saccades)


# ---------------------------------------------------------------------- the animator
class LiveAnimator:
    """Speech pushed in chunks → ARKit-52 frames, each final ``latency`` seconds of audio after its time.

    ``emotion``: a prompt (``"happy"``), an :class:`~visemo.emotion.EmotionTrack`
    (keys over the stream's time) or None (neutral); ``"auto"`` needs the
    whole speech and is refused.  ``intensity`` 0..1 scales it.  ``fps``:
    output frames per second.  ``seed``: same seed, same gaze and blink
    times as offline (None: random).  ``source``: where class probabilities
    come from (default: a new stream of the shipped articulation model,
    :class:`ModelError` if it is missing).  ``max_latency``: bound (s) on
    :attr:`latency`; what the model does not need goes to context.
    ``loudness``: louder speech opens the jaw wider (as offline).

    :meth:`push` and :meth:`finish` return float32 [n, 52] in [0, 1],
    columns in :data:`visemo.arkit.NAMES` order, frame i at ``i / fps`` s;
    :attr:`frames` have been returned so far.
    """

    def __init__(self, emotion=None, intensity: float = 1.0, fps: float = 30.0, seed: int | None = 0,
                 blinks: bool = True, eye_motion: bool = True, source: ProbabilitySource | None = None,
                 max_latency: float = DEFAULT_LATENCY, loudness: bool = True) -> None:
        from .pipeline import emotion_track, is_auto

        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and 0 < fps <= 1000):
            raise VisemoError(f"fps must be a number of frames per second in (0, 1000], got {fps!r}")
        if is_auto(emotion):
            raise PromptError("emotion 'auto' reads it from the whole speech; a stream needs a prompt "
                              "(e.g. 'happy'), an EmotionTrack or none")
        self.track = emotion_track(emotion, intensity)
        if source is None:
            from .speech.articulation_model import load_articulation_model

            source = load_articulation_model().stream()
        self.source = source
        self.fps = float(fps)
        self.blinks, self.eye_motion, self.use_loudness = blinks, eye_motion, loudness
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise VisemoError(f"seed must be a whole number >= 0, got {seed!r}")
        self.seed = seed
        lookahead = int(getattr(source.model, "lookahead", 0))
        self.row_delay = lookahead * HOP + WINDOW // 2  # samples from row t's centre to when it arrives
        self.context = max_latency - self.row_delay / SAMPLE_RATE - 0.5 / FRAME_RATE
        """Seconds of class path after a frame's time known when it is made."""
        if not self.context >= 0.01:
            raise VisemoError(f"max_latency {max_latency * 1000:.0f} ms leaves no context: the articulation "
                              f"model alone needs {1000 * self.row_delay / SAMPLE_RATE + 5:.1f} ms, give it "
                              "at least 10 ms more")
        self.window_rows = int(math.ceil((self.context + SEGMENT_REACH + 0.15) * FRAME_RATE)) + 16
        decoder = source.model.decoder() if hasattr(source.model, "decoder") else (SWITCH_COST, None)
        self._path = _ClassPath(len(CLASSES), self.window_rows, *decoder)
        self._loud = _RunningLoudness(self.fps)
        self._dc = DCBlocker()
        self._lift = _RunningLift()
        self._idle = _IdleLife(self.fps, seed)
        self.frames = 0          # frames returned
        self.samples = 0         # samples pushed
        self._finished = False
        self._next_due = 0       # row after which the next frame is due
        self.latency = max(self._due(i)[1] for i in range(int(math.ceil(self.fps * 10)) + 1))
        """Algorithmic latency (s): the most audio past a frame's time needed before it is returned."""

    # --------------------------------------------------------------- public
    def push(self, samples) -> np.ndarray:
        """Audio in (16 kHz mono; see :func:`as_samples`) → the frames now final, float32 [n, 52]."""
        if self._finished:
            raise VisemoError("this stream is finished; start a new LiveAnimator")
        x = as_samples(samples)
        if not len(x):
            return np.zeros((0, arkit.COUNT), np.float32)
        self.samples += len(x)
        x = self._dc.push(x)
        self._loud.push(x)
        return self._rows(self.source.push(self._lift.push(x)))

    def finish(self) -> np.ndarray:
        """The end of the audio → the remaining frames (``frame_count(duration, fps)`` in all)."""
        if self._finished:
            return np.zeros((0, arkit.COUNT), np.float32)
        self._finished = True
        self._path.push_rows(self.source.finish())
        total = frame_count(self.samples / SAMPLE_RATE, self.fps) if self.samples else 0
        self._loud.finish(total)
        if self.frames >= total:
            return np.zeros((0, arkit.COUNT), np.float32)
        return self._make(self.frames, total, self.samples, final=True)

    @property
    def duration(self) -> float:
        """Seconds of audio pushed."""
        return self.samples / SAMPLE_RATE

    def buffers(self) -> dict[str, int]:
        """Numbers held in each internal buffer (they stay bounded however long the stream)."""
        mel = getattr(getattr(self.source, "mel", None), "_buffer", np.zeros(0))
        return {"class_path": self._path.size(), "loudness": self._loud.size(), "idle": self._idle.size(),
                "mel": int(len(mel)), "lift": self._lift.size()}

    # --------------------------------------------------------------- inside
    def _due(self, i: int) -> tuple[int, float]:
        """(row after which frame i is made, audio (s) past its time needed by then)."""
        t = i / self.fps
        row = math.ceil((t + self.context) * FRAME_RATE - 0.5 - 1e-9)
        hi = self._loud.window(i)[1]
        row = max(row, math.ceil((hi - self.row_delay) / HOP), 0)
        return row, (row * HOP + self.row_delay) / SAMPLE_RATE - t

    def _rows(self, probabilities: np.ndarray) -> np.ndarray:
        out = []
        for row in probabilities:
            self._path.push_rows(row[None])
            newest = self._path.rows - 1
            i1 = self.frames
            if self._next_due > newest:
                continue
            while self._due(i1)[0] <= newest and self._loud.ready(i1):
                i1 += 1
            if i1 > self.frames:
                out.append(self._make(self.frames, i1, newest * HOP + self.row_delay))
                self._next_due = self._due(self.frames)[0]
        if not out:
            return np.zeros((0, arkit.COUNT), np.float32)
        return np.concatenate(out) if len(out) > 1 else out[0]

    def _make(self, i0: int, i1: int, audio: int, final: bool = False) -> np.ndarray:
        """Frames [i0, i1) from the path as it is now; ``audio``: samples surely in by now
        (the same whatever the chunks); ``final``: all rows are in."""
        fps = self.fps
        j0 = max(0, i0 - 2)                 # closure edges and merges reach two frames
        j1 = i1 if final else i1 + 2
        times = np.arange(j0, j1, dtype=np.float64) / fps
        first_row = int(math.floor((j0 / fps - SEGMENT_REACH) * FRAME_RATE))
        segs = self._path.segments(first_row, self.duration if final else None)
        shift = j0 / fps                    # the engine works on frames 0.. of the window
        segs = [PhonemeSegment(s.phone, s.start - shift, s.end - shift) for s in segs]
        curves = self.track.curves(times)
        known = i1 - 1
        while known + 1 < self._loud.next_level and self._loud.window(known + 1)[1] <= audio:
            known += 1
        self._loud.advance(known)
        k0, k1 = i0 - j0, i1 - j0
        if len(segs) == 1 and segs[0].phone == "SIL":  # a pause: the engine gives rest, exactly
            speech, closure = np.zeros((k1 - k0, arkit.COUNT), np.float32), np.zeros(k1 - k0, np.float32)
        else:
            loud = None
            if self.use_loudness:
                loud = np.ones(j1 - j0, np.float32)
                for i in range(i0, i1):
                    loud[i - j0] = self._loud.loudness(i)
            art = articulate(segs, (j1 - j0) / fps, fps, loudness=loud, gain=curves.speech_gain)
            speech, closure = art.animation.weights[k0:k1], art.closure[k0:k1]
        t = times[k0:k1]
        # as visemo.pipeline.compose
        w = speech + curves.weights[k0:k1]
        if self.eye_motion:
            w = w + gaze_to_weights(self._idle.gaze_curves(t))
        w = np.clip(w, 0.0, 1.0)
        if self.blinks:
            w = compose_blinks(w, self._idle.blink_curves(t))
        w = apply_closure(w, closure)
        self._loud.release(i1)
        self.frames = i1
        return np.clip(w, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------- visemo stream
FORMATS = {"s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``visemo stream`` on ``p``."""
    how = p.add_mutually_exclusive_group()
    how.add_argument("--emotion", default=None,
                     help="emotion word or phrase for the whole stream, e.g. happy, 'quietly furious' (default neutral)")
    how.add_argument("--emotion-keys", default=None, metavar="FILE|KEYS",
                     help="emotion over the stream's time: a .json/.csv keys file or 'TIME=PROMPT[@INTENSITY]; ...' "
                          "(seconds from the first sample), e.g. '0=neutral; 30=happy'")
    p.add_argument("--intensity", type=float, default=1.0, help="emotion intensity 0..1 (default 1)")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed for blinks and eye motion (default 0)")
    p.add_argument("--no-blinks", action="store_true", help="no spontaneous blinks")
    p.add_argument("--no-eye-motion", action="store_true", help="no eye saccades")
    p.add_argument("--format", choices=tuple(FORMATS), default="s16le",
                   help="stdin samples: 16 kHz mono signed 16-bit (s16le, default) or float32 in [-1, 1] (f32le), "
                        "little-endian, no header")
    p.add_argument("--chunk-ms", type=float, default=20.0,
                   help="read at most this much audio at a time (1-1000 ms, default 20)")
    p.add_argument("--max-latency-ms", type=float, default=DEFAULT_LATENCY * 1000,
                   help=f"bound on how far a frame's output lags its audio (default {DEFAULT_LATENCY * 1000:.0f})")
    p.add_argument("-q", "--quiet", action="store_true", help="no start line on stderr")


def run_stream(args: argparse.Namespace, stdin=None, stdout=None, source: ProbabilitySource | None = None) -> int:
    """``visemo stream``: raw PCM on ``stdin`` (binary) → one JSON line per frame on ``stdout`` (text).

    Each line: ``{"frame": i, "t": seconds, "weights": {ARKit name: 0..1, ...}}``
    (52 names, 4 decimals), written and flushed as soon as the frame is final.
    Returns 0 at the end of the input (after the last frames) or when the
    reader of stdout goes away (nothing more is written, no traceback).
    Raises :class:`~visemo.errors.VisemoError` (exit 2 in the CLI) for bad
    options, a missing model, bad samples, or input that ends inside a sample.
    """
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    if not (1.0 <= args.chunk_ms <= 1000.0):
        raise VisemoError(f"--chunk-ms must be between 1 and 1000, got {args.chunk_ms:g}")
    dtype = FORMATS[args.format]
    emotion = args.emotion
    if getattr(args, "emotion_keys", None) is not None:
        from .emotion.keys_file import keys_spec

        emotion = keys_spec(args.emotion_keys)
    animator = LiveAnimator(emotion, intensity=args.intensity, fps=args.fps, seed=args.seed,
                            blinks=not args.no_blinks, eye_motion=not args.no_eye_motion, source=source,
                            max_latency=args.max_latency_ms / 1000.0)
    if not args.quiet:
        print(f"visemo: streaming {args.format} 16 kHz mono → {animator.fps:g} fps JSON lines, "
              f"latency {animator.latency * 1000:.0f} ms", file=sys.stderr, flush=True)
    read = getattr(stdin, "read1", stdin.read)
    size = max(1, int(round(args.chunk_ms * SAMPLE_RATE / 1000))) * dtype.itemsize
    pending = b""
    try:
        while True:
            data = read(size)
            if not data:
                break
            data = pending + data
            whole = len(data) - len(data) % dtype.itemsize
            pending = data[whole:]
            if whole:
                _write_frames(stdout, animator.push(np.frombuffer(data[:whole], dtype)), animator)
        if pending:
            raise StreamInputError(
                f"the input ended inside a sample: {len(pending)} byte(s) after {animator.samples} whole "
                f"{args.format} samples; send whole {dtype.itemsize}-byte samples")
        _write_frames(stdout, animator.finish(), animator)
    except BrokenPipeError:
        _drop_stdout(stdout)
    return 0


def _write_frames(stdout, frames: np.ndarray, animator: LiveAnimator) -> None:
    if not len(frames):
        return
    first = animator.frames - len(frames)
    values = np.round(frames.astype(np.float64), 4).tolist()
    lines = []
    for k, row in enumerate(values):
        i = first + k
        lines.append(json.dumps({"frame": i, "t": round(i / animator.fps, 4), "weights": dict(zip(arkit.NAMES, row))},
                                separators=(",", ":")))
    stdout.write("\n".join(lines) + "\n")
    stdout.flush()


def _drop_stdout(stdout) -> None:
    """The reader went away: point stdout at /dev/null so nothing fails at exit."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stdout.fileno())
        os.close(null)
    except (AttributeError, OSError, ValueError):
        pass


def main(argv: list[str] | None = None, source: ProbabilitySource | None = None) -> int:
    """``python -m visemo.stream``: :func:`run_stream` with the CLI's exit statuses (2 bad input)."""
    p = argparse.ArgumentParser(prog="visemo stream", description=run_stream.__doc__.splitlines()[0])
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        return run_stream(args, source=source)
    except VisemoError as e:
        print(f"visemo: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
