#!/usr/bin/env python
"""Portrait refiner: does a small trained generator fix what generator v1 misses?

    python benchmarks/bench_portrait_refiner.py [--steps 2000] [--max-minutes 10] [--work DIR] [--quick]

1. **Training videos, made here.**  Four flite sentences, each animated by
   :func:`visemo.animate` with its own emotion (happy, angry, surprised,
   sad; blinks and gaze on) at 15 fps, after 6 neutral frames and a 4-frame
   ramp, are played back on the bundled painted head (Blender WORKBENCH,
   :func:`visemo.blender.playblast.write_playblast`, 512², fixed camera).
   Real geometry and real shading: teeth, tongue and the dark mouth, lids
   sliding over the eyeballs, light changing on moving skin — none of it in
   the first frame that v1 warps.
2. **Training** (:mod:`visemo.train.portrait_refiner`, CPU here): reference =
   the least-expressive training frame (the neutral start), ``--align crop``
   (the camera does not move), the last 20 % of every video held out.
   v1 is driven by the weights *fitted* to each frame (mediapipe +
   fit_expression), as for any user video.
3. **Table**: L1 (8-bit levels), PSNR, SSIM on the face box and on the mouth
   box, for "reference" (the neutral frame, no motion), v1 and refined, on
   held-out frames; the same held-out frames with v1 driven by the *true*
   weights (the run-time case: weights come from an animation, not from a
   fit); and a sample of training frames (the generalisation gap).

Caveats printed with the table: one face (the bundled head), held-out frames
are later frames of the same videos; v1's motion basis comes from the same
head model that is rendered, so v1's geometry is unusually good here and the
gap is mostly appearance.  Needs bpy, mediapipe, torch, flite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))

from visemo.render2d import refine as rf  # noqa: E402
from visemo.train import portrait_refiner as pr  # noqa: E402

CLIPS = (
    ("happy", "We finally found the little house by the river, and it was perfect."),
    ("angry", "You promised me yesterday, and now you tell me it was never ready!"),
    ("surprised", "Wait, the whole band is playing at our wedding tomorrow morning?"),
    ("sad", "She packed her old books slowly and closed the door behind her."),
)
FPS = 15.0
LEAD, RAMP = 6, 4


def make_videos(work: Path, clips=CLIPS, size: int = 512) -> list[tuple[Path, np.ndarray]]:
    """Render the training videos (cached in ``work``); [(mp4, true weights [T, 52])]."""
    import visemo
    from visemo.animation import Animation

    out = []
    for k, (emotion, text) in enumerate(clips):
        mp4, npy = work / f"head_{k}_{emotion}.mp4", work / f"head_{k}_{emotion}.npy"
        if not (mp4.is_file() and npy.is_file()):
            wav = work / f"clip_{k}.wav"
            subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(wav)], check=True)
            anim = visemo.animate(str(wav), emotion, fps=FPS, seed=k, recognizer="phones")
            first = anim.weights[0]
            ramp = np.linspace(0, 1, RAMP + 2)[1:-1, None] * first[None]
            w = np.concatenate([np.zeros((LEAD, 52), np.float32), ramp.astype(np.float32), anim.weights])
            os.environ.setdefault("BLENDER_USER_RESOURCES", str(work / "blender"))
            from visemo.blender.playblast import write_playblast

            t = time.time()
            write_playblast(Animation(w, FPS), mp4, speech_path=None, size=size)
            np.save(npy, w)
            print(f"  rendered {mp4.name}: {len(w)} frames in {time.time() - t:.0f} s", flush=True)
        out.append((mp4, np.load(npy)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--max-minutes", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--work", default=None, help="folder for videos, cache and model (default: a temp folder)")
    ap.add_argument("--quick", action="store_true", help="2 videos, 60 steps: a smoke run")
    args = ap.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="visemo-bench-refiner-"))
    work.mkdir(parents=True, exist_ok=True)
    clips = CLIPS[:2] if args.quick else CLIPS
    steps = 60 if args.quick else args.steps
    t0 = time.time()
    print(f"work folder: {work}", flush=True)
    print("1. training videos (playblasts of the painted head)", flush=True)
    videos = make_videos(work, clips)
    t_video = time.time() - t0

    print("2. pairs (fits, v1 renders)", flush=True)
    opts = pr.PrepareOptions(size=512, reference="neutral", align="crop", holdout=0.2)
    cache = work / "cache"
    t1 = time.time()
    prepared = [pr.prepare_video(v, opts, cache=cache) for v, _ in videos]
    t_prep = time.time() - t1
    true_w = [pr.prepare_video(v, opts, cache=cache, weights=w) for v, w in videos]

    print("3. training", flush=True)
    config = rf.RefinerConfig()
    train = pr.TrainOptions(steps=steps, max_minutes=args.max_minutes, batch=args.batch, device="auto")
    net, hist = pr.train_network(prepared, config, train)
    refiner = rf.PortraitRefiner(net, config, hist["device"])
    rf.save_refiner(net, config, work / "model", {"name": "portrait_refiner", "note": "benchmark run"})

    print("4. evaluation", flush=True)
    t2 = time.time()
    results = {
        "held-out, fitted w": pr.evaluate(refiner, prepared, "heldout"),
        "held-out, true w": pr.evaluate(refiner, true_w, "heldout"),
        "train, fitted w": pr.evaluate(refiner, prepared, "train", limit=12),
    }
    t_eval = time.time() - t2
    import cv2

    cv2.imwrite(str(work / "heldout_examples.png"), pr.example_sheet(refiner, prepared)[:, :, ::-1])

    n_train = sum(p.train_count for p in prepared)
    n_held = sum(p.heldout_count for p in prepared)
    boxes = sorted({p.box[2] for p in prepared})
    print()
    print(f"portrait refiner benchmark — {len(prepared)} playblast videos of the painted head, 512² working image, "
          f"face box {boxes} px")
    print(f"frames: {n_train} training, {n_held} held out (last 20 % of each video); skipped without a face: "
          f"{sum(p.skipped for p in prepared)}")
    print(f"model: {rf.parameter_count(net):,} parameters, net {config.net_size}², trained at "
          f"{train.train_size}², {hist['steps']} steps × batch {train.batch} on {hist['device']} "
          f"in {hist['seconds']:.0f} s; first/last logged loss {hist['loss'][0][1]:.4f} / {hist['loss'][-1][1]:.4f} "
          f"(v1 on the same batches {hist['v1_loss'][-1][1]:.4f})")
    print(f"time: videos {t_video:.0f} s, pairs {t_prep:.0f} s (+ true-weight pairs), "
          f"evaluation {t_eval:.0f} s, total {time.time() - t0:.0f} s")
    print()
    print(pr.format_table(results))
    print()
    print("L1 in 8-bit levels (lower is better); PSNR dB, SSIM (higher is better); face = the square face box,")
    print("mouth = the lips' box with room for the jaw; 'reference' = the neutral frame shown unchanged.")
    print("One face only; held-out frames are the later frames of the same videos: this measures new")
    print("frames of a known face, not new faces.  v1's basis is the rendered head's own geometry.")
    print(f"examples (v1 | refined | real | 4×|refined−real|): {work / 'heldout_examples.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
