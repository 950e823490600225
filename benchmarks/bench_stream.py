"""Streaming (visemo.stream): latency, time per chunk, and how close it stays to the offline result.

On dialogue lines of flite speech (two sentences with pauses, voices in turn;
see tests/dialogue.py), with the articulation model in the models folder:

- latency: audio past a frame's time needed before it is out (algorithmic),
  and the time one push takes for 20 ms and 100 ms chunks (model included);
- stream vs offline (:func:`visemo.pipeline.perform`, recognizer "model",
  same seed, blinks and eye motion off): max / mean |weight difference|, and
  both scored on the head's lip gap against flite's phone timings
  (:mod:`visemo.lipsync.metrics`);
- the same with an ideal model (class probabilities from the true phones, as
  tests/test_stream.py makes them): what streaming alone costs;
- minutes of silence in 100 ms chunks: speed and buffer sizes.

    .venv/bin/python benchmarks/bench_stream.py [--models DIR] [--n 10] [--fps 30] [--silence-minutes 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import tts  # noqa: E402
from dialogue import dialogue  # noqa: E402
from test_stream import OracleSource, offline  # noqa: E402

from visemo import arkit  # noqa: E402
from visemo.animation import frame_count  # noqa: E402
from visemo.audio import load_audio, loudness_envelope  # noqa: E402
from visemo.audio.melspec import frame_count as rows_for  # noqa: E402
from visemo.face.model import load_face_model  # noqa: E402
from visemo.lipsync import articulate  # noqa: E402
from visemo.lipsync.metrics import score_lipsync  # noqa: E402
from visemo.pipeline import perform  # noqa: E402
from visemo.speech.articulation_classes import CLASSES, arpabet_class  # noqa: E402
from visemo.speech.phonemes import phones_at  # noqa: E402
from visemo.stream import LiveAnimator  # noqa: E402

SR = 16000


def lines(n: int, out: Path) -> list:
    """``n`` dialogue lines: sentences i and i+7, voice i mod 4 (as bench_lipsync)."""
    k = len(tts.SENTENCES)
    return [dialogue(tts.synthesize(tts.SENTENCES[i % k], tts.VOICES[i % 4], out),
                     tts.synthesize(tts.SENTENCES[(i + 7) % k], tts.VOICES[i % 4], out), out)
            for i in range(n)]


def streamed(x: np.ndarray, chunk: int, fps: float, source=None) -> tuple[np.ndarray, list[float], LiveAnimator]:
    """Frames of ``x`` pushed ``chunk`` samples at a time, and the seconds each push took."""
    a = LiveAnimator(fps=fps, seed=0, blinks=False, eye_motion=False, source=source)
    out, took = [], []
    for k in range(0, len(x), chunk):
        t0 = time.perf_counter()
        out.append(a.push(x[k:k + chunk]))
        took.append(time.perf_counter() - t0)
    out.append(a.finish())
    return np.concatenate(out), took, a


def ideal_probabilities(segments, samples: int, seed: int) -> np.ndarray:
    """Class probabilities of the true phones, softened with noise (a good model's output)."""
    rows = rows_for(samples)
    idx = [CLASSES.index("SIL" if p == "SIL" else arpabet_class(p)) for p in phones_at(segments, np.arange(rows) / 100)]
    z = np.random.default_rng(seed).normal(0, 1.0, (rows, len(CLASSES)))
    z[np.arange(rows), idx] += 3.0
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def score(head, weights: np.ndarray, u, fps: float, ref_gaps: np.ndarray):
    return score_lipsync(1000.0 * np.asarray(head.lip_gap_of_weights(weights)), u.segments, fps,
                         reference_gaps_mm=ref_gaps)


def pooled(scores) -> str:
    b = sum(s.bilabial_recall * s.bilabials for s in scores) / max(1, sum(s.bilabials for s in scores))
    o = sum(s.open_recall * s.open_vowels for s in scores) / max(1, sum(s.open_vowels for s in scores))
    p = sum(s.silence_closure * s.pause_frames for s in scores) / max(1, sum(s.pause_frames for s in scores))
    lag = float(np.median([s.lag_frames for s in scores]))
    return f"{b:8.3f} {o:6.3f} {p:8.3f} {lag:5.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=None, metavar="DIR", help="models folder (default: visemo's)")
    ap.add_argument("--n", type=int, default=10, help="dialogue lines (default 10)")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--silence-minutes", type=float, default=10.0)
    args = ap.parse_args()
    if args.models:
        from visemo.paths import set_models_dir

        set_models_dir(args.models)
    from visemo.speech.articulation_model import load_articulation_model
    from visemo.paths import models_dir

    model = load_articulation_model()
    card = model.model.card
    head = load_face_model()
    fps = args.fps
    out = Path(tempfile.gettempdir()) / "visemo-tts"
    utts = lines(args.n, out)

    times = {320: [], 1600: []}
    rows = {"model": [[], [], [], []], "ideal": [[], [], [], []]}  # diffs, frame maxima, stream scores, offline scores
    chunk_gap, audio_s, offline_s = 0.0, 0.0, 0.0
    for i, u in enumerate(utts):
        x = load_audio(u.path).samples
        audio_s += len(x) / SR
        frames = frame_count(len(x) / SR, fps)
        truth = articulate(u.segments, len(x) / SR, fps, loudness=loudness_envelope(load_audio(u.path), fps, frames))
        ref_gaps = 1000.0 * np.asarray(head.lip_gap_of_weights(truth.animation.weights))
        t0 = time.perf_counter()
        off = perform(x, sample_rate=SR, recognizer="model", fps=fps, seed=0, blinks=False,
                      eye_motion=False).animation.weights
        offline_s += time.perf_counter() - t0
        runs = {}
        for chunk in times:
            runs[chunk], took, a = streamed(x, chunk, fps)
            times[chunk] += took[1:]  # the first push builds the session's first run
        chunk_gap = max(chunk_gap, float(np.abs(runs[320] - runs[1600]).max()))
        probs = ideal_probabilities(u.segments, len(x), i)
        ideal, _, _ = streamed(x, 320, fps, source=OracleSource(probs))
        ideal_off = offline(x, probs, fps, eye_motion=False)
        for key, got, ref in (("model", runs[320], off), ("ideal", ideal, ideal_off)):
            d = np.abs(got - ref)
            rows[key][0].append(d.ravel())
            rows[key][1].append(d.max(axis=1))
            rows[key][2].append(score(head, got, u, fps, ref_gaps))
            rows[key][3].append(score(head, ref, u, fps, ref_gaps))

    hours = card.get("training", {}).get("hours", "?")
    print(f"Streaming on {args.n} dialogue lines ({audio_s:.0f} s of flite speech), {fps:g} fps, blinks and eye "
          f"motion off; model: {models_dir() / 'articulation'} (trained on {hours} h)")
    print(f"algorithmic latency {a.latency * 1000:.1f} ms = model {1000 * a.row_delay / SR:.1f} ms (look-ahead "
          f"{model.lookahead} rows + half a mel window) + row grid <= 5 ms + context {a.context * 1000:.1f} ms")
    print(f"\n{'chunk':>7} {'mean ms':>8} {'p99 ms':>7} {'max ms':>7} {'x realtime':>10} {'worst lag ms':>13}")
    for chunk, took in times.items():
        took_ms = 1000 * np.array(took)
        worst = a.latency * 1000 + 1000 * chunk / SR + np.percentile(took_ms, 99)
        print(f"{chunk * 1000 // SR:4d} ms {took_ms.mean():8.2f} {np.percentile(took_ms, 99):7.2f} "
              f"{took_ms.max():7.2f} {(chunk / SR) / (took_ms.mean() / 1000):10.0f} {worst:13.0f}")
    print("worst lag: algorithmic latency + waiting for the chunk + p99 processing; "
          f"20 ms vs 100 ms chunks: frames differ by at most {chunk_gap:.1e}; offline x realtime "
          f"{audio_s / offline_s:.0f}")
    print(f"\n{'classes from':14} {'max|d|':>7} {'mean|d|':>8} {'frames >0.05':>12}   {'':9}{'bilabial':>8} "
          f"{'open':>6} {'silence':>8} {'lag':>5}")
    for key, (diffs, frame_max, s_stream, s_off) in rows.items():
        d, fm = np.concatenate(diffs), np.concatenate(frame_max)
        name = "the model" if key == "model" else "ideal model"
        print(f"{name:14} {d.max():7.3f} {d.mean():8.4f} {np.mean(fm > 0.05):12.1%}   "
              f"{'stream':9}{pooled(s_stream)}")
        print(f"{'':14} {'':7} {'':8} {'':12}   {'offline':9}{pooled(s_off)}")
    print("|d|: stream vs offline per weight; frames >0.05: share of frames with a weight off by more than 0.05")

    minutes = args.silence_minutes
    a = LiveAnimator(fps=fps, seed=0)
    zeros = np.zeros(1600, np.int16)
    mouth = arkit.indices(arkit.SPEECH_CHANNELS)
    pushes = int(minutes * 600)
    t0 = time.perf_counter()
    peak = 0.0
    for k in range(pushes):
        if k == 600:
            sizes = a.buffers()
        f = a.push(zeros)
        if len(f):
            peak = max(peak, float(f[:, mouth].max()))
    took = time.perf_counter() - t0
    print(f"\nsilence: {minutes:g} min in 100 ms chunks, {1000 * took / pushes:.2f} ms a chunk "
          f"({minutes * 60 / took:.0f} x realtime); buffers after 1 min {sum(sizes.values())} numbers, after "
          f"{minutes:g} min {sum(a.buffers().values())}; jaw/mouth max {peak:.3f}")


if __name__ == "__main__":
    main()
