"""Train the speech → articulation model (torch; never imported at run time).

    python -m visemo.train.articulation CORPUS_DIR -o models/articulation [--minutes 40] [--seed 0]

Input: a corpus made by :mod:`visemo.train.tts_corpus` (``manifest.jsonl``,
16 kHz wavs, per-utterance class segments).  Only its ``train`` split is
read for training; 3 % of its utterances (whole utterances, by a fixed
hash) are a development set for picking the checkpoint.  The held-out
splits (unseen voices, unseen languages, the reserved festival voices) are
never read here.

Model (streaming-native, causal with ``LOOKAHEAD`` frames of look-ahead):
log-mel [T, 64] (:mod:`visemo.audio.melspec`) → normalised by the training
set's per-band mean/std (inside the graph) → three causal 1-D convolutions
(kernels 5, 3, 3, dilations 1, 2, 4; their left context carried as state)
→ a GRU (its hidden state carried) → per-frame logits over
:data:`visemo.speech.articulation_classes.CLASSES`.  The output at frame t
names the class of frame t − ``LOOKAHEAD``.  Exported to ONNX with the
states as inputs and outputs, so the same graph runs a whole file (zero
states) or 100 ms chunks (states carried).

Augmentation, per training crop, so that it carries to voices and rooms it
never heard: speed (0.85–1.15, which moves pitch and formants too), a
vocal-tract-length warp of the mel axis (0.88–1.12), gain (±15 dB), noise at
0–30 dB SNR (white, pink or babble made of other utterances), reverb
(synthetic room responses, RT60 0.1–0.8 s), band limits (telephone,
low-pass), μ-law quantisation, a lossy codec (MP3/AAC through PyAV), and, with
``--level-step P``, a step of the level within a share P of the crops (±20 dB).
Loss: cross-entropy with class weights (inverse square root of frequency)
and label smoothing 0.05; AdamW with a cosine schedule over a time budget.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..audio.melspec import FRAME_RATE, N_MELS, log_mel
from ..errors import VisemoError
from ..speech.articulation_classes import CLASSES

LOOKAHEAD = 4
"""Frames (10 ms each) the model sees past the frame it names."""


@dataclass(frozen=True)
class NetConfig:
    """Shape of the network (stored in the model card)."""

    n_mels: int = N_MELS
    channels: int = 128
    kernels: tuple[int, ...] = (5, 3, 3)
    dilations: tuple[int, ...] = (1, 2, 4)
    hidden: int = 160
    classes: int = len(CLASSES)
    lookahead: int = LOOKAHEAD

    def pads(self) -> list[int]:
        """Left context (frames) each convolution keeps as state."""
        return [(k - 1) * d for k, d in zip(self.kernels, self.dilations)]

    def conv_inputs(self) -> list[int]:
        """Input channels of each convolution."""
        return [self.n_mels] + [self.channels] * (len(self.kernels) - 1)


def build_network(config: NetConfig, mean: np.ndarray | None = None, std: np.ndarray | None = None):
    """The torch network for ``config`` (``forward(x, *conv_states, h) -> (logits, *states, h)``)."""
    import torch
    from torch import nn

    class ArticulationNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = config
            self.register_buffer("mean", torch.as_tensor(np.zeros(config.n_mels) if mean is None else mean,
                                                         dtype=torch.float32))
            self.register_buffer("std", torch.as_tensor(np.ones(config.n_mels) if std is None else std,
                                                        dtype=torch.float32))
            self.convs = nn.ModuleList(
                nn.Conv1d(cin, config.channels, k, dilation=d)
                for cin, k, d in zip(config.conv_inputs(), config.kernels, config.dilations))
            self.norms = nn.ModuleList(nn.LayerNorm(config.channels) for _ in config.kernels)  # per frame: causal
            self.gru = nn.GRU(config.channels, config.hidden, batch_first=True)
            self.head = nn.Linear(config.hidden, config.classes)

        def forward(self, x, *states):
            """x [B, T, n_mels] raw log-mel; states: one [B, C_in, pad] per conv, then h [1, B, hidden]."""
            conv_states, h = states[:-1], states[-1]
            y = ((x - self.mean) / self.std).transpose(1, 2)            # [B, n_mels, T]
            new_states = []
            for i, (conv, norm, state) in enumerate(zip(self.convs, self.norms, conv_states)):
                full = torch.cat([state, y], dim=2)
                new_states.append(full[:, :, full.shape[2] - state.shape[2]:])
                out = torch.relu(norm(conv(full).transpose(1, 2)).transpose(1, 2))
                y = out + y if i > 0 else out
            y, h = self.gru(y.transpose(1, 2), h)
            return (self.head(y), *new_states, h)

        def zero_states(self, batch: int = 1):
            """Initial states (zeros: the normalised mean frame)."""
            return [torch.zeros(batch, cin, pad) for cin, pad in zip(config.conv_inputs(), config.pads())] + \
                [torch.zeros(1, batch, config.hidden)]

    return ArticulationNet()


# ---------------------------------------------------------------------- data
@dataclass
class Utterance:
    """One corpus utterance: int16 samples, per-frame class indices (100 Hz), who and what."""

    id: str
    samples: np.ndarray
    labels: np.ndarray
    language: str
    voice: str
    text: str = ""


def frame_labels(classes: list, duration: float) -> np.ndarray:
    """int64 [frames] class index of each 10 ms frame (centre t / 100 s) from class segments."""
    n = int(duration * FRAME_RATE) + 1
    centres = np.arange(n) / FRAME_RATE
    out = np.full(n, CLASSES.index("SIL"), np.int64)
    for name, start, end in classes:
        out[(centres >= start) & (centres < end)] = CLASSES.index(name)
    return out


def read_corpus(root: Path, splits: tuple[str, ...] = ("train",)) -> list[Utterance]:
    """The utterances of ``splits`` in ``root/manifest.jsonl`` (VisemoError if there is none)."""
    import soundfile as sf

    manifest = Path(root) / "manifest.jsonl"
    if not manifest.is_file():
        raise VisemoError(f"no corpus at {root} (no manifest.jsonl); build one with "
                          "python -m visemo.train.tts_corpus")
    out = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        if entry.get("split") not in splits:
            continue
        meta_path = Path(root) / entry.get("json", f"{entry['id']}.json")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else entry
        wav = Path(root) / entry.get("wav", f"{entry['id']}.wav")
        x, sr = sf.read(wav, dtype="int16")
        if sr != 16000 or x.ndim != 1:
            raise VisemoError(f"{wav}: the corpus must be 16 kHz mono")
        out.append(Utterance(entry["id"], x, frame_labels(meta["classes"], len(x) / sr),
                             meta.get("language", "?"), meta.get("voice", "?"), meta.get("text", "")))
    if not out:
        raise VisemoError(f"no utterances of split(s) {', '.join(splits)} in {manifest}")
    return out


def is_dev(utterance_id: str, share: float = 0.03) -> bool:
    """Whether an utterance belongs to the development set (a fixed hash of its id)."""
    h = int(hashlib.sha1(utterance_id.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < share


# ---------------------------------------------------------------------- augmentation
@dataclass
class Augment:
    """Probabilities and ranges of the augmentations (see the module doc)."""

    speed: tuple[float, float] = (0.85, 1.15)
    vtlp: tuple[float, float] = (0.88, 1.12)
    gain_db: float = 15.0
    p_noise: float = 0.7
    snr_db: tuple[float, float] = (0.0, 30.0)
    p_reverb: float = 0.3
    p_band: float = 0.25
    p_mulaw: float = 0.05
    p_codec: float = 0.08
    p_level_step: float = 0.0
    """Share of crops whose level steps (:func:`_level_step`; ``--level-step``): 0 for the shipped model."""
    level_step_db: float = 20.0


def _resample_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster (fewer samples; pitch and formants move up)."""
    from scipy.signal import resample_poly

    up = 100
    down = int(round(up * factor))
    return resample_poly(x, up, down).astype(np.float32)


def _coloured_noise(n: int, rng: np.random.Generator, kind: str) -> np.ndarray:
    white = rng.standard_normal(n).astype(np.float32)
    if kind == "white":
        return white
    spec = np.fft.rfft(white)
    f = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    return np.fft.irfft(spec / np.sqrt(f), n).astype(np.float32)  # pink: 1/f power


def _reverb(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import fftconvolve

    rt60 = rng.uniform(0.1, 0.8)
    n = int(rt60 * 16000)
    t = np.arange(n) / 16000
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0 / max(rng.uniform(0.2, 1.0), 1e-3)  # direct sound against the tail
    y = fftconvolve(x, ir)[: len(x)]
    return (y * (np.abs(x).max() / max(np.abs(y).max(), 1e-9))).astype(np.float32)


def _band(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    if rng.random() < 0.5:
        sos = butter(4, [300, 3400], btype="bandpass", fs=16000, output="sos")
    else:
        sos = butter(6, rng.uniform(3000, 6500), btype="lowpass", fs=16000, output="sos")
    return sosfilt(sos, x).astype(np.float32)


def _level_step(x: np.ndarray, rng: np.random.Generator, db: float) -> np.ndarray:
    """``x`` with its level stepping by up to ±``db`` somewhere in its middle two thirds, over a 10–200 ms
    ramp (a second, quieter or louder voice; a speaker turning away): one level per crop taught the model to
    read speech 11 dB under what came before as silence."""
    n = len(x)
    cut = int(rng.integers(n // 6, max(n // 6 + 1, 5 * n // 6)))
    ramp = int(rng.uniform(0.01, 0.2) * 16000)
    env = np.full(n, 10 ** (rng.uniform(-db, db) / 20), np.float32)
    env[:cut] = 1.0
    end = min(n, cut + ramp)
    env[cut:end] = np.linspace(1.0, env[-1], end - cut, dtype=np.float32)
    return x * env


def _mulaw(x: np.ndarray) -> np.ndarray:
    mu = 255.0
    y = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1.0)) / np.log1p(mu)
    y = np.round(y * 127) / 127
    return (np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu).astype(np.float32)


def _codec(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` through a lossy encoder and back (MP3 or AAC at a low bit rate, PyAV)."""
    import io

    import av

    codec, fmt = ("libmp3lame", "mp3") if rng.random() < 0.5 else ("aac", "adts")
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=16000, layout="mono")
        stream.bit_rate = int(rng.choice([24000, 32000, 48000]))
        frame = av.AudioFrame.from_ndarray(np.clip(x, -1, 1)[None].astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    chunks = []
    with av.open(buf, "r") as inp:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        for frame in inp.decode(audio=0):
            for f in resampler.resample(frame):
                chunks.append(f.to_ndarray().reshape(-1))
    y = np.concatenate(chunks) if chunks else np.zeros_like(x)
    out = np.zeros_like(x)
    n = min(len(x), len(y))
    out[:n] = y[:n]
    return out


def _vtlp(mel: np.ndarray, factor: float) -> np.ndarray:
    """Warp the mel axis by ``factor`` (>1: formants move up), linear interpolation."""
    bands = np.arange(mel.shape[1], dtype=np.float64)
    src = np.clip(bands / factor, 0, mel.shape[1] - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, mel.shape[1] - 1)
    w = (src - lo).astype(np.float32)
    return mel[:, lo] * (1 - w) + mel[:, hi] * w


def make_example(utt: Utterance, frames: int, rng: np.random.Generator, aug: Augment | None,
                 babble: list[Utterance]) -> tuple[np.ndarray, np.ndarray]:
    """(log-mel [frames, 64], labels [frames]) of a random crop of ``utt``, augmented."""
    x = utt.samples.astype(np.float32) / 32768.0
    labels = utt.labels
    if aug is not None:
        speed = rng.uniform(*aug.speed)
        x = _resample_speed(x, speed)
        idx = np.minimum((np.arange(int(len(labels) / speed)) * speed).round().astype(int), len(labels) - 1)
        labels = labels[idx]
    need = (frames - 1) * 160
    if len(x) > need:
        start = int(rng.integers(0, (len(x) - need) // 160 + 1)) * 160
    else:
        start = 0
    seg = np.zeros(need, np.float32)
    piece = x[start:start + need]
    seg[: len(piece)] = piece
    lab = np.full(frames, CLASSES.index("SIL"), np.int64)
    l0 = start // 160
    got = labels[l0:l0 + frames]
    lab[: len(got)] = got
    if aug is not None:
        if rng.random() < aug.p_reverb:
            seg = _reverb(seg, rng)
        if rng.random() < aug.p_noise:
            kind = rng.choice(["white", "pink", "babble"]) if babble else rng.choice(["white", "pink"])
            if kind == "babble":
                noise = np.zeros_like(seg)
                for other in rng.choice(len(babble), size=4):
                    o = babble[other].samples.astype(np.float32) / 32768.0
                    if len(o) >= len(seg):
                        k = int(rng.integers(0, len(o) - len(seg) + 1))
                        noise += o[k:k + len(seg)]
            else:
                noise = _coloured_noise(len(seg), rng, kind)
            power = float(np.mean(seg ** 2)) + 1e-10
            npower = float(np.mean(noise ** 2)) + 1e-10
            snr = rng.uniform(*aug.snr_db)
            seg = seg + noise * math.sqrt(power / npower / 10 ** (snr / 10))
        if rng.random() < aug.p_band:
            seg = _band(seg, rng)
        if rng.random() < aug.p_codec:
            seg = _codec(seg, rng)
        if rng.random() < aug.p_mulaw:
            seg = _mulaw(seg)
        if rng.random() < aug.p_level_step:
            seg = _level_step(seg, rng, aug.level_step_db)
        seg = seg * 10 ** (rng.uniform(-aug.gain_db, aug.gain_db) / 20)
    mel = log_mel(seg)[:frames]
    if aug is not None:
        mel = _vtlp(mel, rng.uniform(*aug.vtlp))
    return mel.astype(np.float32), lab


# ---------------------------------------------------------------------- training
@dataclass
class TrainOptions:
    """Training budget and optimiser settings."""

    minutes: float = 40.0
    batch: int = 24
    frames: int = 300
    lr: float = 2e-3
    seed: int = 0
    workers: int = 1
    config: NetConfig = field(default_factory=NetConfig)
    init: Path | None = None
    """A model folder whose weights to start from (same config), else random."""
    init_note: str = ""
    """What ``init`` was, for the model card (e.g. its training minutes and steps)."""
    level_step: float = 0.0
    """Share of crops whose level steps within the crop (:attr:`Augment.p_level_step`)."""


def _batches(utts: list[Utterance], opts: TrainOptions, aug: Augment, seed: int):
    """Endless (x [B, T, 64], y [B, T]) batches from ``utts`` (a generator; run in a worker)."""
    rng = np.random.default_rng(seed)
    weights = np.array([len(u.labels) for u in utts], np.float64)
    weights /= weights.sum()
    while True:
        xs, ys = [], []
        for i in rng.choice(len(utts), size=opts.batch, p=weights):
            x, y = make_example(utts[i], opts.frames, rng, aug, utts)
            xs.append(x)
            ys.append(y)
        yield np.stack(xs), np.stack(ys)


def _worker(utts, opts, aug, seed, queue) -> None:
    for batch in _batches(utts, opts, aug, seed):
        queue.put(batch)


def class_weights(utts: list[Utterance]) -> np.ndarray:
    """Per-class loss weights: inverse square root of frame frequency, mean 1."""
    counts = np.bincount(np.concatenate([u.labels for u in utts]), minlength=len(CLASSES)).astype(np.float64)
    w = 1.0 / np.sqrt(np.maximum(counts, 1.0))
    return (w / w[counts > 0].mean()).astype(np.float32)


def feature_stats(utts: list[Utterance], n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and std of log-mel over ``n`` random utterances."""
    rng = np.random.default_rng(seed)
    mels = [log_mel(utts[i].samples.astype(np.float32) / 32768.0) for i in rng.choice(len(utts), min(n, len(utts)), replace=False)]
    allm = np.concatenate(mels)
    return allm.mean(axis=0).astype(np.float32), np.maximum(allm.std(axis=0), 1e-3).astype(np.float32)


def evaluate(net, utts: list[Utterance]) -> dict:
    """Frame accuracy, bilabial (PBM) recall and precision on whole utterances (no augmentation)."""
    import torch

    L = net.config.lookahead
    correct = total = pbm_hit = pbm_n = pbm_pred = pbm_true_pred = 0
    pbm = CLASSES.index("PBM")
    net.eval()
    with torch.no_grad():
        for u in utts:
            mel = torch.from_numpy(log_mel(u.samples.astype(np.float32) / 32768.0))[None]
            pad = mel[:, -1:].repeat(1, L, 1)  # look-ahead past the end: the last frame again (as at run time)
            logits = net(torch.cat([mel, pad], 1), *net.zero_states(1))[0][0, L:]
            pred = logits.argmax(-1).numpy()[: len(u.labels)]
            y = u.labels[: len(pred)]
            correct += int((pred == y).sum())
            total += len(y)
            pbm_n += int((y == pbm).sum())
            pbm_hit += int(((y == pbm) & (pred == pbm)).sum())
            pbm_pred += int((pred == pbm).sum())
            pbm_true_pred += int(((pred == pbm) & (y == pbm)).sum())
    net.train()
    return {"frame_accuracy": correct / max(total, 1), "pbm_recall": pbm_hit / max(pbm_n, 1),
            "pbm_precision": pbm_true_pred / max(pbm_pred, 1), "frames": total}


def train(corpus: Path, out_dir: Path, opts: TrainOptions = TrainOptions(), log=print) -> dict:
    """Train on ``corpus``'s train split, export to ``out_dir`` (ONNX + model.json); return the report."""
    import multiprocessing as mp

    import torch

    torch.manual_seed(opts.seed)
    torch.set_num_threads(1 if opts.workers else 2)
    utts = read_corpus(corpus)
    dev = [u for u in utts if is_dev(u.id)]
    train_utts = [u for u in utts if not is_dev(u.id)]
    log(f"corpus: {len(train_utts)} training utterances ({sum(len(u.samples) for u in train_utts) / 16000 / 3600:.2f} h), "
        f"{len(dev)} development, {len({u.language for u in utts})} languages, {len({u.voice for u in utts})} voices")
    mean, std = feature_stats(train_utts)
    net = build_network(opts.config, mean, std)
    if opts.init is not None:
        load_onnx_weights(net, opts.init)
        log(f"starting from {opts.init}: {evaluate(net, dev)}")
    weights = torch.from_numpy(class_weights(train_utts))
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=0.05, ignore_index=-100)
    optim = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=1e-4)
    aug = Augment(p_level_step=opts.level_step)
    if opts.workers:
        ctx = mp.get_context("fork")
        queue = ctx.Queue(maxsize=8)
        procs = [ctx.Process(target=_worker, args=(train_utts, opts, aug, opts.seed + 1 + k, queue), daemon=True)
                 for k in range(opts.workers)]
        for p in procs:
            p.start()
        next_batch = queue.get
    else:
        gen = _batches(train_utts, opts, aug, opts.seed + 1)
        next_batch = gen.__next__
    L = opts.config.lookahead
    started = time.perf_counter()
    budget = opts.minutes * 60.0
    step, best, best_state, history = 0, -1.0, None, []
    running = None
    try:
        while True:
            elapsed = time.perf_counter() - started
            if elapsed >= budget:
                break
            lr = opts.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(elapsed / budget, 1.0))))
            if step < 200:
                lr *= (step + 1) / 200
            for g in optim.param_groups:
                g["lr"] = lr
            xb, yb = next_batch()
            x = torch.from_numpy(xb)
            y = torch.from_numpy(yb)
            target = torch.full_like(y, -100)
            target[:, L:] = y[:, : y.shape[1] - L]    # output t names frame t - L
            logits = net(x, *net.zero_states(x.shape[0]))[0]
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            optim.step()
            running = float(loss) if running is None else 0.98 * running + 0.02 * float(loss)
            step += 1
            if step % 250 == 0 or time.perf_counter() - started >= budget:
                scores = evaluate(net, dev)
                score = scores["frame_accuracy"] + scores["pbm_recall"]
                history.append({"step": step, "minutes": round((time.perf_counter() - started) / 60, 1),
                                "loss": round(running, 4), **{k: round(v, 4) for k, v in scores.items()}})
                log(f"step {step}: loss {running:.3f}, dev frame accuracy {scores['frame_accuracy']:.3f}, "
                    f"PBM recall {scores['pbm_recall']:.3f} precision {scores['pbm_precision']:.3f} "
                    f"({history[-1]['minutes']} min)")
                if score > best:
                    best = score
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    finally:
        if opts.workers:
            for p in procs:
                p.terminate()
    if best_state is not None:
        net.load_state_dict(best_state)
    report = {"steps": step, "minutes": round((time.perf_counter() - started) / 60, 1),
              "development": evaluate(net, dev), "history": history,
              "training": {"utterances": len(train_utts),
                           "hours": round(sum(len(u.samples) for u in train_utts) / 16000 / 3600, 2),
                           "languages": sorted({u.language for u in train_utts}),
                           "voices": len({u.voice for u in train_utts}),
                           "minutes": round((time.perf_counter() - started) / 60, 1), "steps": step,
                           **({"started_from": opts.init_note or str(opts.init)} if opts.init else {}),
                           **({"level_step_share": opts.level_step} if opts.level_step else {})}}
    export(net, out_dir, report)
    return report


# ---------------------------------------------------------------------- warm start
def load_onnx_weights(net, model_dir: Path) -> None:
    """Copy a shipped ``articulation.onnx``'s weights into ``net`` (same config), to train on from them.

    Named initializers are copied by name; the GRU's ONNX weights (gates z, r, h)
    are put back in torch's order (r, z, n); a weight exported as MatMul is
    transposed back.  The result is checked: the torch network must give the
    ONNX model's logits on random input (VisemoError otherwise).
    """
    import onnx
    import onnxruntime as ort
    import torch
    from onnx import numpy_helper

    path = Path(model_dir) / "articulation.onnx"
    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state = net.state_dict()
    new = {}
    for name, tensor in state.items():
        if name in init and tuple(init[name].shape) == tuple(tensor.shape):
            new[name] = torch.from_numpy(init[name].copy())
    gru = next(n for n in graph.node if n.op_type == "GRU")
    w, r, b = (init[n] for n in gru.input[1:4])
    H = net.config.hidden

    def torch_order(m):  # ONNX z, r, h → torch r, z, n along axis 0
        z, r_, h = m[:H], m[H:2 * H], m[2 * H:]
        return np.concatenate([r_, z, h])

    new["gru.weight_ih_l0"] = torch.from_numpy(torch_order(w[0]))
    new["gru.weight_hh_l0"] = torch.from_numpy(torch_order(r[0]))
    new["gru.bias_ih_l0"] = torch.from_numpy(torch_order(b[0, :3 * H]))
    new["gru.bias_hh_l0"] = torch.from_numpy(torch_order(b[0, 3 * H:]))
    for name, tensor in state.items():
        if name not in new:  # e.g. the head's weight, exported transposed for a MatMul
            shape_t = tuple(reversed(tensor.shape))
            match = [k for k, v in init.items() if tuple(v.shape) == shape_t and tensor.dim() == 2]
            if len(match) != 1:
                raise VisemoError(f"{path}: cannot find the weight for {name} {tuple(tensor.shape)}")
            new[name] = torch.from_numpy(init[match[0]].T.copy())
    net.load_state_dict(new)
    x = np.random.default_rng(0).normal(-4, 2, (1, 40, net.config.n_mels)).astype(np.float32)
    states = net.zero_states(1)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {"log_mel": x, **{i.name: s.numpy() for i, s in zip(sess.get_inputs()[1:], states)}}
    want = sess.run(["logits"], feed)[0]
    net.eval()
    with torch.no_grad():
        got = net(torch.from_numpy(x), *states)[0].numpy()
    net.train()
    if not np.allclose(got, want, atol=1e-3):
        raise VisemoError(f"{path}: weights copied, but the network's logits differ from the ONNX model's "
                          f"by up to {np.abs(got - want).max():.3g}")


# ---------------------------------------------------------------------- export
def export(net, out_dir: Path, report: dict) -> Path:
    """Write ``articulation.onnx`` and ``model.json`` (card: inputs, states, classes by name, sha256)."""
    import torch

    from ..face.storage import sha256_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = net.config
    net.eval()
    states = net.zero_states(1)
    state_names = [f"conv{i}_state" for i in range(len(cfg.kernels))] + ["gru_state"]
    out_state_names = [f"{n}_out" for n in state_names]
    path = out_dir / "articulation.onnx"
    x = torch.zeros(1, 50, cfg.n_mels)
    dynamic = {"log_mel": {1: "T"}, "logits": {1: "T"}}
    torch.onnx.export(net, (x, *states), str(path), input_names=["log_mel", *state_names],
                      output_names=["logits", *out_state_names], opset_version=17, dynamo=False,
                      dynamic_axes=dynamic)
    card = {
        "name": "articulation",
        "kind": "speech_to_articulation",
        "format_version": 1,
        "description": "Speech → mouth class per 10 ms frame, any language, no words: log-mel in, logits over "
                       "language-independent articulation classes out (visemo.speech.articulation_classes). "
                       "Causal with a fixed look-ahead; the states make it streamable.",
        "files": {"main": {
            "file": path.name, "sha256": sha256_file(path),
            "inputs": {"log_mel": {"shape": [1, "T", cfg.n_mels], "dtype": "float32",
                                   "meaning": "visemo.audio.melspec.log_mel frames (100 per second)"},
                       **{n: {"shape": list(s.shape), "dtype": "float32", "meaning": "carried state (zeros to start)"}
                          for n, s in zip(state_names, states)}},
            "outputs": {"logits": {"shape": [1, "T", cfg.classes], "names": list(CLASSES),
                                   "meaning": f"output t names frame t - {cfg.lookahead}"},
                        **{n: {"meaning": "state to pass on"} for n in out_state_names}},
        }},
        "lookahead_frames": cfg.lookahead,
        "frame_rate": FRAME_RATE,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()},
        "parameters": int(sum(p.numel() for p in net.parameters())),
        "training": report.get("training", {}),
        "development": report.get("development", {}),
        "heldout": report.get("heldout", {}),
        "decoding": report.get("decoding", {"class_bias": {"PBM": 4.0}, "switch_cost_nats": 1.0}),
        "licence": "GPL-3.0-or-later (visemo); trained here on synthetic speech (see training_data)",
        "training_data": "TTS made by visemo.train.tts_corpus: espeak-ng (GPL-3.0-or-later) in many languages and "
                         "voice variants, festival voices (Italian, Finnish, English) and flite voices (English), "
                         "with the engines' own phone timings; festival's Czech, Catalan and Russian voices and "
                         "whole held-out languages and voices were never used for training.",
        "code": "core/visemo/train/articulation.py",
    }
    (out_dir / "model.json").write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m visemo.train.articulation CORPUS -o OUT_DIR [--minutes M] [--seed S]``."""
    p = argparse.ArgumentParser(prog="python -m visemo.train.articulation", description=__doc__.splitlines()[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--minutes", type=float, default=40.0, help="training time budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1, help="processes making augmented batches")
    p.add_argument("--init", type=Path, help="a model folder to start from (e.g. models/articulation)")
    p.add_argument("--lr", type=float, default=TrainOptions.lr, help="peak learning rate")
    p.add_argument("--level-step", type=float, default=0.0,
                   help="share of crops whose level steps by up to ±20 dB within the crop (default 0)")
    args = p.parse_args(argv)
    try:
        report = train(args.corpus, args.output, TrainOptions(minutes=args.minutes, seed=args.seed,
                                                              workers=args.workers, init=args.init, lr=args.lr,
                                                              level_step=args.level_step))
    except VisemoError as e:
        print(f"visemo: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in report.items() if k != "history"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
