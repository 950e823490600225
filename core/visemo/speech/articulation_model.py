"""Run the speech → articulation model: audio in any language → mouth-class segments.

The model (``models/articulation``, trained by :mod:`visemo.train.articulation`)
reads log-mel frames (:mod:`visemo.audio.melspec`, 100 per second) and gives
per frame a score for each language-independent mouth class
(:mod:`visemo.speech.articulation_classes`).  It is causal with a fixed
look-ahead and carries its state explicitly, so:

- :meth:`ArticulationModel.posteriors` runs a whole recording at once;
- :class:`ArticulationStream` runs it on chunks as they arrive and gives the
  same frames (the look-ahead is the only delay).

:func:`decode_segments` turns per-frame class probabilities into segments
(Viterbi with a cost for switching class, so single-frame flickers do not
become mouth movements; closures found with the card's weight and timed with
a lighter one, :func:`trim_closures`), each named by its class's representative ARPAbet
phone, which the procedural engine (:mod:`visemo.lipsync`) then turns into
curves exactly as it does aligned phonemes.
"""

from __future__ import annotations

import functools

import numpy as np

from ..audio.melspec import FRAME_RATE, MelStream, log_mel
from ..errors import ModelError
from .articulation_classes import CLASSES, REPRESENTATIVE
from .noise_gauge import NoiseGauge, closure_weight
from .phonemes import PhonemeSegment, tile

MODEL_NAME = "articulation"

SWITCH_COST = 1.0
"""Viterbi cost (nats) of changing class between two frames, when the model card's ``decoding``
names none (cards chose theirs on the training corpus's development utterances:
:mod:`visemo.train.articulation_decoding`)."""


class ArticulationModel:
    """An articulation model folder (default: the shipped one; ``root``: another models folder), run with
    onnxruntime on one thread."""

    def __init__(self, name: str = MODEL_NAME, root=None) -> None:
        from .. import models

        self.model = models.load(name, root)
        card = self.model.card
        self.classes = self.model.channels("main", "logits")
        unknown = set(self.classes) - set(CLASSES)
        if unknown:
            raise ModelError(f"model {name!r} names classes this visemo does not know: {sorted(unknown)}; "
                             "update visemo or the model folder")
        self.lookahead = int(card.get("lookahead_frames", 0))
        inputs = card["files"]["main"]["inputs"]
        self.state_names = [n for n in inputs if n != "log_mel"]
        self.state_shapes = [tuple(inputs[n]["shape"]) for n in self.state_names]
        self.session = self.model.session("main")
        # model column → index in CLASSES (columns are read by name)
        self._order = np.array([self.classes.index(c) if c in self.classes else -1 for c in CLASSES])
        # per-class prior weights (the card's "class_bias", e.g. PBM ×4: short closures are worth more
        # than their share of frames), applied before renormalising
        decoding = card.get("decoding", {})
        bias = decoding.get("class_bias", {})
        self.switch_cost = float(decoding.get("switch_cost_nats", SWITCH_COST))
        """Viterbi cost (nats) of a change of class, the card's ``decoding`` (default :data:`SWITCH_COST`)."""
        closure = decoding.get("closure")
        self.closure = (int(closure["core_frames"]), float(closure["timing_cost_nats"])) if closure else None
        """(core frames, timing cost in nats) of :func:`trim_closures`, or None (closures as found)."""
        self._bias = np.array([float(bias.get(c, 1.0)) for c in CLASSES], np.float32)
        align = decoding.get("alignment_class_bias", {})
        self._align_bias = np.array([float(align.get(c, 1.0)) for c in CLASSES], np.float32)
        noise = decoding.get("noise")
        self.noise = (float(noise["PBM"]), tuple(float(v) for v in noise["snr_db"])) if noise else None
        """(P/B/M weight in noise, (low, high) SNR band in dB) or None: see :mod:`visemo.speech.noise_gauge`."""

    def decoder(self) -> tuple[float, tuple[int, float] | None]:
        """(switch cost, closure rule): the card's decoding, as :func:`decode_path` takes it."""
        return self.switch_cost, self.closure

    def gauge(self) -> NoiseGauge | None:
        """A fresh noise gauge when the card asks for noise-dependent closure weights, else None."""
        return NoiseGauge() if self.noise else None

    def zero_states(self) -> list[np.ndarray]:
        """Initial states: zeros."""
        return [np.zeros(s, np.float32) for s in self.state_shapes]

    def run(self, mel: np.ndarray, states: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """(logits [n, C] in model column order, new states) for log-mel frames [n, 64]."""
        feeds = {"log_mel": np.ascontiguousarray(mel[None], np.float32),
                 **dict(zip(self.state_names, states))}
        out = self.session.run(feeds)
        return out["logits"][0], [out[f"{n}_out"] for n in self.state_names]

    def softmax(self, logits: np.ndarray) -> np.ndarray:
        """Softmax of model logits, columns in :data:`CLASSES` order (unweighted), float32 [n, len(CLASSES)]."""
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        out = np.zeros((len(p), len(CLASSES)), np.float32)
        for k, col in enumerate(self._order):
            if col >= 0:
                out[:, k] = p[:, col]
        return out

    def probabilities(self, logits: np.ndarray, snr_db: np.ndarray | None = None) -> np.ndarray:
        """:meth:`softmax` weighted by the card's decoding (:func:`weigh_classes`), float32 [n, len(CLASSES)].
        ``snr_db``: per row, from a :class:`~visemo.speech.noise_gauge.NoiseGauge`."""
        return weigh_classes(self.softmax(logits), self._bias, snr_db, self.noise)

    def unweighted_posteriors(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(:meth:`softmax` probabilities [frames, len(CLASSES)], the noise gauge's SNR estimate (dB) per
        row [frames]) of 16 kHz ``samples``, row t = frame t: what :meth:`posteriors` weighs."""
        mel = log_mel(samples)
        if not len(mel):
            return np.zeros((0, len(CLASSES)), np.float32), np.zeros(0)
        full = np.concatenate([mel, np.repeat(mel[-1:], self.lookahead, axis=0)])  # look-ahead past the end
        logits, _ = self.run(full, self.zero_states())
        snr = NoiseGauge().push(full)[self.lookahead:]  # row j: the estimate as input row j came
        return self.softmax(logits[self.lookahead:]), snr

    def posteriors(self, samples: np.ndarray) -> np.ndarray:
        """Class probabilities float32 [frames, len(CLASSES)] of 16 kHz ``samples``, row t = frame t."""
        probs, snr = self.unweighted_posteriors(samples)
        return weigh_classes(probs, self._bias, snr, self.noise)

    def alignment_posteriors(self, samples: np.ndarray) -> np.ndarray:
        """Class probabilities [frames, len(CLASSES)] for aligning a transcript (:mod:`~visemo.speech.class_align`):
        :meth:`softmax` weighted by the card's ``alignment_class_bias`` (none: the model's own) — the text
        names the closures, so the decoder's weights for finding them would only stretch them."""
        probs, _ = self.unweighted_posteriors(samples)
        return weigh_classes(probs, self._align_bias)

    def stream(self) -> "ArticulationStream":
        """A new :class:`ArticulationStream` on this model."""
        return ArticulationStream(self)


class ArticulationStream:
    """Class probabilities of audio pushed in chunks; frame t is known ``lookahead`` frames later.

    Concatenating what :meth:`push` and :meth:`finish` return gives the same
    rows as :meth:`ArticulationModel.posteriors` on the whole audio (within
    floating-point rounding).
    """

    def __init__(self, model: ArticulationModel) -> None:
        self.model = model
        self.mel = MelStream()
        self.states = model.zero_states()
        self.skip = model.lookahead   # leading outputs that name frames before the start
        self.noise = model.gauge()
        self.last = None               # the latest mel frame (repeated past the end)
        self.frames = 0                # rows returned so far

    def _run(self, mel: np.ndarray) -> np.ndarray:
        if not len(mel):
            return np.zeros((0, len(CLASSES)), np.float32)
        self.last = mel[-1:]
        logits, self.states = self.model.run(mel, self.states)
        probs = self.model.probabilities(logits, self.noise.push(mel) if self.noise else None)
        cut = min(self.skip, len(probs))
        self.skip -= cut
        probs = probs[cut:]
        self.frames += len(probs)
        return probs

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities [n, len(CLASSES)] of the frames completed so far (possibly none)."""
        return self._run(self.mel.push(samples))

    def finish(self) -> np.ndarray:
        """The remaining frames' probabilities (the look-ahead past the end filled in)."""
        rest = self.mel.finish()
        out = [self._run(rest)]
        if self.last is not None:
            out.append(self._run(np.repeat(self.last, self.model.lookahead, axis=0)))
        return np.concatenate(out) if out else np.zeros((0, len(CLASSES)), np.float32)


@functools.lru_cache(maxsize=2)
def load_articulation_model(name: str = MODEL_NAME) -> ArticulationModel:
    """The articulation model (cached per process)."""
    return ArticulationModel(name)


def weigh_classes(probabilities: np.ndarray, bias: np.ndarray, snr_db: np.ndarray | None = None,
                  noise: tuple[float, tuple[float, float]] | None = None) -> np.ndarray:
    """``probabilities`` [n, len(CLASSES)] times the per-class weights ``bias`` [len(CLASSES)], renormalised.

    With a ``noise`` rule (P/B/M weight in noise, (low, high) SNR band in dB) and the per-row
    ``snr_db``, P/B/M's weight follows :func:`~visemo.speech.noise_gauge.closure_weight`
    between ``bias``'s and the rule's.
    """
    weights = np.broadcast_to(np.asarray(bias, np.float32), probabilities.shape).copy()
    if noise is not None and snr_db is not None:
        k = CLASSES.index("PBM")
        weights[:, k] = closure_weight(snr_db, float(bias[k]), noise[0], noise[1])
    out = probabilities * weights
    return (out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def viterbi(probabilities: np.ndarray, switch_cost: float = SWITCH_COST) -> np.ndarray:
    """Most likely class per frame, int [T]: log-probabilities minus ``switch_cost`` per change.

    With one cost for every change, frame t's best predecessor of class c is
    either c itself or the best class at t - 1; only that class and whether
    each class switched are kept (the inner loop is a handful of array
    operations per frame).
    """
    logp = np.log(np.maximum(probabilities, 1e-6)).astype(np.float64)
    T, C = logp.shape
    if T == 0:
        return np.zeros(0, np.int64)
    best = np.zeros(T, np.int64)       # best class at t - 1 (the predecessor of every switch into t)
    moved = np.zeros((T, C), bool)     # class c at t came from best[t] rather than from c
    score = logp[0].copy()
    move = np.empty(C)
    for t in range(1, T):
        b = score.argmax()
        best[t] = b
        np.less(score, score[b] - switch_cost, out=moved[t])
        np.maximum(score, score[b] - switch_cost, out=move)
        np.add(move, logp[t], out=score)
    path = np.empty(T, np.int64)
    c = int(score.argmax())
    path[-1] = c
    for t in range(T - 1, 0, -1):
        if moved[t, c]:
            c = int(best[t])
        path[t - 1] = c
    return path


def timing_probabilities(probabilities: np.ndarray, timing_cost: float) -> np.ndarray:
    """``probabilities`` [T, len(CLASSES)] with P/B/M ``timing_cost`` nats less likely (not renormalised:
    the Viterbi path does not depend on a per-row factor): what :func:`trim_closures` times closures on."""
    out = np.array(probabilities, np.float32, copy=True)
    out[:, CLASSES.index("PBM")] *= np.float32(np.exp(-timing_cost))
    return out


def trim_closures(found: np.ndarray, timed: np.ndarray, core: int) -> np.ndarray:
    """Class path [T]: ``found`` with each P/B/M run cut to the frames where ``timed`` also has P/B/M.

    ``found`` is decoded with the card's P/B/M weight, which finds short closures but, on every frame,
    also stretches them into the sounds around them ("pop" never opening); ``timed`` is decoded with
    P/B/M lighter (:func:`timing_probabilities`) and says where the lips really are shut.  A run
    ``timed`` closes on fewer than ``core`` frames keeps its middle ``core`` frames (the closure was
    found; it stays, short).  Frames cut from a run take ``timed``'s class.
    """
    k = CLASSES.index("PBM")
    out = np.array(found, copy=True)
    closed = np.asarray(found) == k
    if not closed.any():
        return out
    edges = np.flatnonzero(np.diff(np.concatenate([[0], closed.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):
        keep = np.asarray(timed[a:b]) == k
        if keep.sum() < core:
            keep[:] = False
            m = a + max(0, (b - a - core) // 2)
            keep[m - a:m - a + core] = True
        out[a:b] = np.where(keep, k, timed[a:b])
    return out


def decode_path(probabilities: np.ndarray, switch_cost: float = SWITCH_COST,
                closure: tuple[int, float] | None = None) -> np.ndarray:
    """Class per 10 ms frame, int [T]: :func:`viterbi`, then with a ``closure`` rule (core frames, timing
    cost in nats) :func:`trim_closures` against a second path on :func:`timing_probabilities`."""
    path = viterbi(probabilities, switch_cost)
    if closure is None:
        return path
    core, cost = closure
    return trim_closures(path, viterbi(timing_probabilities(probabilities, cost), switch_cost), core)


def decode_segments(probabilities: np.ndarray, duration: float, switch_cost: float = SWITCH_COST,
                    closure: tuple[int, float] | None = None) -> list[PhonemeSegment]:
    """Segments tiling [0, ``duration``] s, named by each class's representative phone.

    ``probabilities`` [T, len(CLASSES)] at 100 frames per second (row t is
    the frame centred on t / 100 s); the rest as :func:`decode_path`.
    """
    return path_segments(decode_path(probabilities, switch_cost, closure), duration)


def path_segments(path: np.ndarray, duration: float) -> list[PhonemeSegment]:
    """Class index per 100 fps frame → segments tiling [0, ``duration``] s, named by each class's
    representative phone (frame t is centred on t / 100 s)."""
    segs = []
    start = 0
    for t in range(1, len(path) + 1):
        if t == len(path) or path[t] != path[start]:
            a = max(0.0, (start - 0.5) / FRAME_RATE)
            b = min(duration, (t - 0.5) / FRAME_RATE) if t < len(path) else duration
            if b > a:
                segs.append(PhonemeSegment(REPRESENTATIVE[CLASSES[path[start]]], a, b))
            start = t
    return tile(segs, duration)


def recognize_articulation(audio) -> list[PhonemeSegment]:
    """Mouth-class segments (as representative phones) of a 16 kHz :class:`~visemo.audio.Audio`."""
    model = load_articulation_model()
    return decode_segments(model.posteriors(audio.samples), audio.duration, *model.decoder())
