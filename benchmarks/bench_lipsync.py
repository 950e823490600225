"""Lip-sync accuracy on TTS speech with exact phoneme timings, measured on the head.

Each test line is two flite sentences joined with real pauses (lead-in,
gap, tail; see tests/dialogue.py), voices in turn.  For each: run visemo on
the audio alone (the default engine — the articulation model —, Whisper +
alignment, phone recognition), and with the transcript; evaluate the bundled head; score lip gaps
against flite's phone timings (see visemo.lipsync.metrics).  Lag is measured
against the same engine driven by the true timings.

    .venv/bin/python benchmarks/bench_lipsync.py [--n 24] [--modes auto,whisper,phones,transcript]
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

from visemo.audio import load_audio, loudness_envelope  # noqa: E402
from visemo.animation import frame_count  # noqa: E402
from visemo.face.model import load_face_model  # noqa: E402
from visemo.lipsync import articulate  # noqa: E402
from visemo.lipsync.metrics import score_lipsync  # noqa: E402
from visemo.pipeline import perform  # noqa: E402

FPS = 30.0


def gaps_mm(model, weights: np.ndarray) -> np.ndarray:
    """Lip gap per frame in millimetres."""
    return 1000.0 * np.asarray(model.lip_gap_of_weights(weights))


def lines(n: int, out: Path) -> list:
    """``n`` dialogue lines: sentences i and i+7, voice i mod 4."""
    k = len(tts.SENTENCES)
    return [dialogue(tts.synthesize(tts.SENTENCES[i % k], tts.VOICES[i % 4], out),
                     tts.synthesize(tts.SENTENCES[(i + 7) % k], tts.VOICES[i % 4], out), out)
            for i in range(n)]


def run(n: int, modes: list[str]) -> list[dict]:
    model = load_face_model()
    out = Path(tempfile.gettempdir()) / "visemo-tts"
    utterances = lines(n, out)
    rows = []
    for mode in modes:
        scores, seconds, audio_s = [], 0.0, 0.0
        for u in utterances:
            audio = load_audio(u.path)
            frames = frame_count(audio.duration, FPS)
            ref = articulate(u.segments, audio.duration, FPS,
                             loudness=loudness_envelope(audio, FPS, frames)).animation
            t0 = time.perf_counter()
            if mode == "transcript":
                perf = perform(u.path, transcript=u.text, fps=FPS, blinks=False, eye_motion=False)
            else:
                perf = perform(u.path, fps=FPS, recognizer=mode, blinks=False, eye_motion=False)
            seconds += time.perf_counter() - t0
            audio_s += audio.duration
            scores.append(score_lipsync(gaps_mm(model, perf.animation.weights), u.segments, FPS,
                                        reference_gaps_mm=gaps_mm(model, ref.weights)))
        lags = np.array([s.lag_frames for s in scores])
        rows.append({
            "input": {"transcript": "audio + transcript", "auto": "audio only (default: model)",
                      "phones": "audio only (phone recognition)", "whisper": "audio only (Whisper + align)"}[mode],
            "bilabial": np.sum([s.bilabial_recall * s.bilabials for s in scores]) / max(1, sum(s.bilabials for s in scores)),
            "open": np.sum([s.open_recall * s.open_vowels for s in scores]) / max(1, sum(s.open_vowels for s in scores)),
            "silence": np.sum([s.silence_closure * s.pause_frames for s in scores]) / max(1, sum(s.pause_frames for s in scores)),
            "lag": float(np.median(lags)),
            "max|lag|": int(np.abs(lags).max()),
            "events": f"{sum(s.bilabials for s in scores)}/{sum(s.open_vowels for s in scores)}/{sum(s.pause_frames for s in scores)}",
            "x realtime": audio_s / seconds,
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24, help="utterances (voices round-robin)")
    ap.add_argument("--modes", default="auto,whisper,phones,transcript")
    args = ap.parse_args()
    rows = run(args.n, args.modes.split(","))
    voices = sorted({tts.VOICES[i % 4] for i in range(args.n)})
    print(f"Lip sync on {args.n} dialogue lines ({2 * args.n} flite sentences), voices {', '.join(voices)}, {FPS:g} fps, "
          f"closure/open measured on the bundled head's lip gap")
    print(f"{'input':34} {'bilabial':>8} {'open':>6} {'silence':>8} {'lag':>5} {'max|lag|':>8} "
          f"{'events b/o/p':>14} {'x realtime':>10}")
    for r in rows:
        print(f"{r['input']:34} {r['bilabial']:8.3f} {r['open']:6.3f} {r['silence']:8.3f} {r['lag']:5.1f} "
              f"{r['max|lag|']:8d} {r['events']:>14} {r['x realtime']:10.1f}")
    print("targets: bilabial >= 0.95, open >= 0.95, silence >= 0.95, |lag| <= 1 frame; "
          "Rhubarb 1.14 (same kind of data): 0.89/0.93 audio only, 0.98/0.95 with transcript")


if __name__ == "__main__":
    main()
