"""Keyframing speed: bulk foreach_set vs one keyframe_insert per key.

    python benchmarks/bench_keyframing.py [--frames 1800] [--repeat 3]

Keys 52 ARKit shape keys over N frames on a small synthetic head (needs the
``bpy`` module) and prints a table: seconds per method and the ratio.  The two
results are checked to be the same curves.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="visemo-bench-"))
try:
    import visemo  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

from visemo import Animation, arkit  # noqa: E402
from visemo.blender import build_head_object, key_animation, key_animation_keyframe_insert, new_empty_scene  # noqa: E402
from visemo.blender.keyframes import channel_fcurves  # noqa: E402


def grid_head(n: int = 8, seed: int = 0):
    xs = np.linspace(-0.1, 0.1, n)
    verts = np.array([(x, 0.0, z) for z in xs for x in xs], np.float32)
    faces = [(j * n + i, j * n + i + 1, (j + 1) * n + i + 1, (j + 1) * n + i)
             for j in range(n - 1) for i in range(n - 1)]
    deltas = np.random.default_rng(seed).normal(0, 0.005, (52, len(verts), 3)).astype(np.float32)
    return verts, np.full(len(faces), 4), np.array(faces).ravel(), deltas, arkit.NAMES


def animation(frames: int, fps: float = 30.0, seed: int = 1) -> Animation:
    from scipy.ndimage import gaussian_filter1d

    w = gaussian_filter1d(np.random.default_rng(seed).random((frames, 52)), 2.0, axis=0)
    return Animation(np.clip(w, 0, 1), fps)


def fresh_head():
    scene = new_empty_scene()
    scene.render.fps = 30
    return build_head_object(*grid_head())


def time_it(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        obj = fresh_head()
        t = time.perf_counter()
        fn(obj)
        best = min(best, time.perf_counter() - t)
        result = {p: np.array([tuple(k.co) for k in fc.keyframe_points])
                  for p, fc in channel_fcurves(obj.data.shape_keys).items()}
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1800)
    ap.add_argument("--repeat", type=int, default=3, help="best of N (the slow path runs once)")
    args = ap.parse_args()
    anim = animation(args.frames)
    bulk, curves_bulk = time_it(lambda o: key_animation(o, anim), args.repeat)
    slow, curves_slow = time_it(lambda o: key_animation_keyframe_insert(o, anim), 1)
    assert curves_bulk.keys() == curves_slow.keys() and len(curves_bulk) == 52
    worst = max(np.abs(curves_bulk[p] - curves_slow[p]).max() for p in curves_bulk)
    assert worst < 1e-6, worst
    keys = 52 * args.frames
    print(f"\nkeying 52 curves x {args.frames} frames ({keys} keys), Blender {bpy.app.version_string}")
    print(f"{'method':<34}{'seconds':>10}{'keys/s':>14}{'ratio':>9}")
    print(f"{'keyframe_points.add + foreach_set':<34}{bulk:>10.4f}{keys / bulk:>14,.0f}{'1x':>9}")
    print(f"{'keyframe_insert per key':<34}{slow:>10.4f}{keys / slow:>14,.0f}{slow / bulk:>8.0f}x")
    print(f"(same curves: max difference {worst:.1e})")


if __name__ == "__main__":
    main()
