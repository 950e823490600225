#!/usr/bin/env python
"""Photo prompt: recover known ARKit weights from renders of the bundled head.

    python benchmarks/bench_photo_prompt.py [--quick] [--save DIR]

Renders the head (Blender WORKBENCH through
:class:`visemo.blender.render.HeadRenderer`) with known weights — the 8 basic emotion prototypes
(:func:`visemo.emotion.emotion_vector`) and 6 random sparse combinations —
from 4 camera angles (frontal, ±15° yaw, 8° from above), runs
:func:`visemo.emotion.photo.expression_from_photo` on every render and prints
the mean absolute weight error per channel group and camera, the label
accuracy on the emotion prototypes, then the real portraits shipped with
scikit-image (astronaut) and matplotlib (grace_hopper.jpg), and timings.
Needs bpy and mediapipe.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))

from visemo import arkit  # noqa: E402
from visemo.emotion.facs import BASIC_EMOTIONS, emotion_vector  # noqa: E402
from visemo.emotion.photo import expression_from_photo  # noqa: E402

GROUPS: dict[str, tuple[str, ...]] = {
    "brows": ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
    "eyes": ("eyeBlinkLeft", "eyeBlinkRight", "eyeSquintLeft", "eyeSquintRight",
             "eyeWideLeft", "eyeWideRight"),
    "corners": ("mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
                "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight"),
    "jaw": ("jawOpen", "jawForward", "jawLeft", "jawRight"),
    "all": arkit.NAMES,
}
ANGLES = ((0.0, 0.0), (15.0, 0.0), (-15.0, 0.0), (0.0, 8.0))

# Channels random combinations draw from ("Left" also takes its "Right" mate most of the time).
COMBO_CHANNELS = (
    "browDownLeft", "browInnerUp", "browOuterUpLeft", "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkLeft", "cheekSquintLeft", "noseSneerLeft", "mouthSmileLeft", "mouthFrownLeft",
    "mouthDimpleLeft", "mouthStretchLeft", "mouthPressLeft", "mouthUpperUpLeft",
    "mouthLowerDownLeft", "mouthShrugLower", "mouthShrugUpper", "mouthPucker", "mouthFunnel",
    "jawOpen", "mouthRollLower",
)


def random_combos(n: int, seed: int = 4) -> list[tuple[str, np.ndarray]]:
    """``n`` sparse expressions: 3–4 channels (bilateral 70 % of the time), weights 0.3–0.9."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        w = np.zeros(arkit.COUNT, np.float32)
        for name in rng.choice(COMBO_CHANNELS, size=rng.integers(3, 5), replace=False):
            value = rng.uniform(0.3, 0.9)
            if name.startswith("eyeBlink"):
                value *= 0.6  # a closed eye hides the iris: keep blinks partial
            w[arkit.index(name)] = value
            if name.endswith("Left") and rng.random() < 0.7:
                w[arkit.index(name[:-4] + "Right")] = value * rng.uniform(0.8, 1.0)
        out.append((f"combo{i}", w))
    return out


def test_expressions(combos: int = 6) -> list[tuple[str, np.ndarray]]:
    """The 8 basic emotion prototypes + ``combos`` random sparse combinations."""
    return [(e, emotion_vector(e, 1.0)) for e in BASIC_EMOTIONS] + random_combos(combos)


def group_mae(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Mean |pred - truth| over each group's channels (and expressions), 0..1."""
    err = np.abs(np.asarray(pred, np.float64) - truth)
    return {g: float(err[..., [arkit.index(n) for n in names]].mean()) for g, names in GROUPS.items()}


def run_renders(expressions, angles, save: Path | None = None):
    """[(name, yaw, pitch, truth, PhotoExpression, seconds)] over all expressions x angles."""
    import os
    import tempfile

    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bur-"))
    from visemo.blender.render import HeadRenderer

    renderer = HeadRenderer()
    rows = []
    for name, w in expressions:
        for yaw, pitch in angles:
            rgb, _ = renderer.render(w, yaw, pitch)
            if save is not None:
                from PIL import Image

                save.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rgb).save(save / f"{name}_{yaw:+03.0f}_{pitch:+03.0f}.png")
            t0 = time.perf_counter()
            got = expression_from_photo(rgb)
            rows.append((name, yaw, pitch, w, got, time.perf_counter() - t0))
    return rows


def portraits() -> list[tuple[str, np.ndarray]]:
    """The real portrait photos that ship with scikit-image and matplotlib."""
    out = []
    try:
        from skimage import data

        out.append(("astronaut (skimage)", data.astronaut()))
    except ImportError:
        pass
    try:
        import matplotlib.cbook as cbook
        from PIL import Image

        with cbook.get_sample_data("grace_hopper.jpg") as f:
            out.append(("grace_hopper (matplotlib)", np.asarray(Image.open(f).convert("RGB"))))
    except (ImportError, OSError, ValueError):
        pass
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 combos, frontal + one yaw only")
    ap.add_argument("--save", type=Path, default=None, help="keep the renders here")
    args = ap.parse_args(argv)
    exprs = test_expressions(2 if args.quick else 6)
    angles = ANGLES[:2] if args.quick else ANGLES
    rows = run_renders(exprs, angles, args.save)

    print(f"\n## Renders of the bundled head: {len(exprs)} expressions x {len(angles)} views\n")
    header = "| view | " + " | ".join(GROUPS) + " | label ok |"
    print(header)
    print("|" + "---|" * (len(GROUPS) + 2))
    for yaw, pitch in list(angles) + [(None, None)]:
        sel = [r for r in rows if yaw is None or (r[1], r[2]) == (yaw, pitch)]
        truth = np.stack([r[3] for r in sel])
        pred = np.stack([r[4].weights for r in sel])
        mae = group_mae(truth, pred)
        emo = [r for r in sel if r[0] in BASIC_EMOTIONS]
        ok = sum(r[4].label == r[0] for r in emo)
        view = "all views" if yaw is None else f"yaw {yaw:+.0f}°, pitch {pitch:+.0f}°"
        print(f"| {view} | " + " | ".join(f"{mae[g]:.3f}" for g in GROUPS) + f" | {ok}/{len(emo)} |")

    print("\n## Per expression (all views): MAE all / corners, label, fer\n")
    print("| expression | MAE all | MAE brows | MAE eyes | MAE corners | labels | fer |")
    print("|---|---|---|---|---|---|---|")
    for name, _ in exprs:
        sel = [r for r in rows if r[0] == name]
        mae = group_mae(np.stack([r[3] for r in sel]), np.stack([r[4].weights for r in sel]))
        labels = ",".join(sorted({r[4].label for r in sel}))
        fer = ",".join(sorted({str(r[4].fer_label) for r in sel}))
        print(f"| {name} | {mae['all']:.3f} | {mae['brows']:.3f} | {mae['eyes']:.3f} | "
              f"{mae['corners']:.3f} | {labels} | {fer} |")

    print("\n## Real portraits\n")
    print("| photo | label | top channels | fer | pose (yaw, pitch, roll) | residual |")
    print("|---|---|---|---|---|---|")
    for name, rgb in portraits():
        got = expression_from_photo(rgb)
        top = ", ".join(f"{n} {w:.2f}" for n, w in got.top_channels(6))
        fer = "-" if got.probabilities is None else ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(got.probabilities.items(), key=lambda kv: -kv[1])[:3])
        pose = ", ".join(f"{a:+.0f}°" for a in got.pose_deg)
        print(f"| {name} | {got.label} | {top} | {fer} | {pose} | {got.residual_mm:.1f} mm |")

    times = np.array([r[5] for r in rows[1:]])  # first call builds mediapipe's graph
    print(f"\nexpression_from_photo: median {np.median(times) * 1000:.0f} ms, "
          f"max {times.max() * 1000:.0f} ms per 512² image (first call {rows[0][5] * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
