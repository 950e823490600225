"""Recording level: does the mouth move the same for speech recorded quieter?

    .venv/bin/python benchmarks/bench_levels.py [--n 8]

Each clip is animated at its own level and again 10, 20, 30 and 40 dB quieter (the samples scaled, as a
microphone set too low records them), with the speech floor of :func:`visemo.audio.load_audio` (quiet
speech raised to ``SPEECH_FLOOR_DBFS``) and without it.  Data: the five LibriVox clips of Debian
``pocketsphinx-testdata`` (human speech, -23 to -19 dBFS) and ``--n`` flite TTS lines (about -15 dBFS).
Recognizer "auto" (the speech → articulation model), no transcript, no blinks or gaze.

Per level, medians over the clips:
  level dBFS   the quieter clip's speech level (``visemo.audio.load.speech_level_db``)
  jaw r        correlation of jawOpen with the clip at its own level
  |Δ|          mean absolute difference over all 52 channels and frames
  jaw mean     mean jawOpen over the clip at its own level = 1.00
Clips whose loudest 20 ms falls below -50 dBFS are refused by the loader ("no audible speech") and counted.

A second table does the same live (:class:`visemo.stream.LiveAnimator`, 20 ms chunks) against the stream at
the clip's own level, with the running lift (from ``LIFT_AFTER`` s of speech on) and without it, over the
frames from 1.5 s on (the lift needs the speech heard first).

A third table adds an offset (DC) of 0.005–0.05 to each clip, with the loader's 20 Hz high-pass
(``DCBlocker``) and without it: jaw r and jaw mean against the clip as recorded.

A fourth shows what is not handled: the level dropping 6, 11 or 20 dB half-way through a clip (a quieter
second voice), jaw mean after the drop against the clip at one level, offline and live.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import tts  # noqa: E402
from bench_alignment import librivox_set  # noqa: E402

import visemo.audio.load as audio_load  # noqa: E402
import visemo.stream as live  # noqa: E402
from visemo.audio import load_audio  # noqa: E402
from visemo.errors import AudioError  # noqa: E402
from visemo.pipeline import perform  # noqa: E402

OFFSETS_DB = (0, -10, -20, -30, -40)
FPS = 30.0


def clips(n: int) -> list[tuple[str, np.ndarray]]:
    """[(name, 16 kHz samples)]: the LibriVox clips, then ``n`` flite lines."""
    out = [(f"librivox {path.stem[-4:]}", load_audio(path).samples) for path, _ in librivox_set() if path.exists()]
    cache = Path(tempfile.gettempdir()) / f"visemo-bench-tts-{os.getuid()}"
    for u in tts.corpus(n, out_dir=cache):
        out.append((f"flite {u.voice}", load_audio(u.path).samples))
    return out


def curves(x: np.ndarray) -> np.ndarray:
    """The 52 curves of 16 kHz ``x`` offline (recognizer auto, no blinks or gaze)."""
    return perform(x, sample_rate=16000, fps=FPS, blinks=False, eye_motion=False, recognizer="auto").animation.weights


def weights(x: np.ndarray, floor: float) -> np.ndarray | None:
    """:func:`curves` with the loader's speech floor at ``floor`` dBFS (None: refused as silent)."""
    saved = audio_load.SPEECH_FLOOR_DBFS
    audio_load.SPEECH_FLOOR_DBFS = floor
    try:
        return curves(x)
    except AudioError:
        return None
    finally:
        audio_load.SPEECH_FLOOR_DBFS = saved


def streamed(x: np.ndarray, lift: bool) -> np.ndarray:
    """The frames of ``x`` pushed live in 20 ms chunks, with the running lift or without it."""
    saved = live.LIFT_AFTER
    live.LIFT_AFTER = saved if lift else float("inf")
    try:
        a = live.LiveAnimator(fps=FPS, seed=0, blinks=False, eye_motion=False)
        return np.concatenate([a.push(x[k:k + 320]) for k in range(0, len(x), 320)] + [a.finish()])
    finally:
        live.LIFT_AFTER = saved


def offset_weights(x: np.ndarray, blocker: bool) -> np.ndarray:
    """:func:`curves` with the loader's offset filter, or without it."""
    saved = audio_load.DCBlocker.push
    if not blocker:
        audio_load.DCBlocker.push = lambda self, y: np.asarray(y, np.float32)
    try:
        return curves(x)
    finally:
        audio_load.DCBlocker.push = saved


def table(rows: list[tuple[str, list[float], list[float]]]) -> None:
    print("| quieter by | jaw r with the lift | \\|Δ\\| with | jaw r without | \\|Δ\\| without |")
    print("|---|---|---|---|---|")
    for name, with_, without in rows:
        print(f"| {name} | " + " | ".join(f"{np.median(v):.3f}" for v in (*with_, *without)) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8, help="flite lines (default 8)")
    args = ap.parse_args()
    from visemo import arkit

    jaw = arkit.indices(("jawOpen",))[0]
    data = clips(args.n)
    settings = {"with the floor": audio_load.SPEECH_FLOOR_DBFS, "without": -float("inf")}
    print(f"{len(data)} clips ({sum(len(x) for _, x in data) / 16000:.0f} s); "
          f"speech floor {audio_load.SPEECH_FLOOR_DBFS:g} dBFS\n")
    print("| quieter by | level dBFS | refused | " +
          " | ".join(f"jaw r {s} | \\|Δ\\| {s} | jaw mean {s}" for s in settings) + " |")
    print("|---" * (3 + 3 * len(settings)) + "|")
    refs = [weights(x, settings["with the floor"]) for _, x in data]
    for off in OFFSETS_DB:
        g = np.float32(10 ** (off / 20))
        levels = [audio_load.speech_level_db(x * g) for _, x in data]
        cells, refused = [], 0
        for floor in settings.values():
            r, d, m = [], [], []
            for (_, x), ref in zip(data, refs):
                w = weights(x * g, floor)
                if w is None:
                    refused += floor == settings["with the floor"]
                    continue
                r.append(np.corrcoef(w[:, jaw], ref[:, jaw])[0, 1])
                d.append(np.abs(w - ref).mean())
                m.append(w[:, jaw].mean() / ref[:, jaw].mean())
            cells += [f"{np.median(v):.3f}" if v else "–" for v in (r, d, m)]
        print(f"| {-off} dB | {np.median(levels):.1f} | {refused}/{len(data)} | " + " | ".join(cells) + " |")

    print("\nlive (visemo stream), frames from 1.5 s on, clips the loader accepts at that level")
    own = [streamed(x, True) for _, x in data]
    start = int(1.5 * FPS)
    rows = []
    for off in OFFSETS_DB[1:]:
        g = np.float32(10 ** (off / 20))
        res = {True: ([], []), False: ([], [])}
        for (_, x), ref in zip(data, own):
            if audio_load.block_levels_db(x * g).max() < audio_load.SPEECH_LEVEL_DBFS:
                continue
            for lift in (True, False):
                w = streamed(x * g, lift)[start:]
                res[lift][0].append(np.corrcoef(w[:, jaw], ref[start:, jaw])[0, 1])
                res[lift][1].append(np.abs(w - ref[start:]).mean())
        rows.append((f"{-off} dB", list(res[True]), list(res[False])))
    table(rows)

    print("\nan offset added to the samples (median over the clips, against the clip as recorded)")
    print("| offset | jaw r filtered | jaw mean filtered | jaw r unfiltered | jaw mean unfiltered |")
    print("|---|---|---|---|---|")
    for dc in (0.005, 0.01, 0.05):
        cells = []
        for blocker in (True, False):
            r, m = [], []
            for (_, x), ref in zip(data, refs):
                w = offset_weights(x + np.float32(dc), blocker)
                r.append(np.corrcoef(w[:, jaw], ref[:, jaw])[0, 1])
                m.append(w[:, jaw].mean() / ref[:, jaw].mean())
            cells += [f"{np.median(r):.3f}", f"{np.median(m):.3f}"]
        print(f"| {dc:g} | " + " | ".join(cells) + " |")

    print("\nthe level dropping half-way through (not handled: the model reads the quieter part as silence)")
    print("| drop | jaw mean after it, offline | live |")
    print("|---|---|---|")
    for drop in (6, 11, 20):
        ratios = {"offline": [], "live": []}
        for (_, x), ref, ref_live in zip(data, refs, own):
            half = len(x) // 2
            y = x.copy()
            y[half:] *= np.float32(10 ** (-drop / 20))
            after = slice(int(half / 16000 * FPS) + 15, None)
            for kind, w, r in (("offline", weights(y, audio_load.SPEECH_FLOOR_DBFS), ref),
                               ("live", streamed(y, True), ref_live)):
                ratios[kind].append(w[after, jaw].mean() / max(r[after, jaw].mean(), 1e-6))
        print(f"| {drop} dB | {np.median(ratios['offline']):.2f} | {np.median(ratios['live']):.2f} |")


if __name__ == "__main__":
    main()
