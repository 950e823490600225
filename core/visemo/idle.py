"""Idle life: spontaneous blinks and small eye saccades, reproducible from a seed.

Blink timing follows conversational rates: about 17 blinks a minute with
gamma-distributed gaps (never closer than 0.8 s), a fast close (~75 ms) and a
slower re-opening (~150 ms).  Saccades are small, fast gaze shifts every
0.6–3 s between fixations near the centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import arkit

_BLINK_L = arkit.index("eyeBlinkLeft")
_BLINK_R = arkit.index("eyeBlinkRight")


@dataclass(frozen=True)
class BlinkSettings:
    """Blink parameters: ``rate`` per minute, phase durations in seconds."""

    rate: float = 17.0
    min_gap: float = 0.8
    close: float = 0.075
    hold: float = 0.03
    reopen: float = 0.15
    asymmetry: float = 0.05  # max relative left/right difference in depth and timing


@dataclass(frozen=True)
class SaccadeSettings:
    """Gaze parameters: fixation gap range (s), amplitude (0..1 of full look), shift time (s)."""

    min_gap: float = 0.6
    max_gap: float = 3.0
    amplitude: float = 0.18
    shift: float = 0.045


def blink_times(duration: float, rng: np.random.Generator, settings: BlinkSettings = BlinkSettings()) -> np.ndarray:
    """Start times (s) of blinks over ``duration`` seconds."""
    mean_gap = 60.0 / settings.rate
    shape = 3.0  # gamma shape: regular-ish but varied gaps
    times = []
    t = rng.uniform(0.3, mean_gap)
    while t < duration:
        times.append(t)
        gap = max(settings.min_gap, rng.gamma(shape, mean_gap / shape))
        t += gap
    return np.array(times, np.float64)


def blink_profile(t: np.ndarray, start: float, s: BlinkSettings, depth: float) -> np.ndarray:
    """Eyelid closure (0..depth) of one blink starting at ``start`` at times ``t``."""
    x = t - start
    out = np.zeros_like(t)
    closing = (x >= 0) & (x < s.close)
    out[closing] = np.sin(0.5 * np.pi * x[closing] / s.close) ** 2
    held = (x >= s.close) & (x < s.close + s.hold)
    out[held] = 1.0
    opening = (x >= s.close + s.hold) & (x < s.close + s.hold + s.reopen)
    y = (x[opening] - s.close - s.hold) / s.reopen
    out[opening] = np.cos(0.5 * np.pi * y) ** 2
    return out * depth


def blink_curves(frames: int, fps: float, seed: int | None, settings: BlinkSettings = BlinkSettings()) -> np.ndarray:
    """Eyelid closure float32 [frames, 2] (left, right) for spontaneous blinks.

    Curves are evaluated at each frame time; a blink that falls between two
    frames still reaches at least 0.7 on one of them (the hold spans a frame
    at up to 30 fps, and the profile is sampled at the frame nearest its peak).
    """
    rng = np.random.default_rng(seed)
    # depth and left/right lag from a generator of their own, so blink k's shape does not depend on
    # how many blinks the clip holds (a stream, visemo.stream, makes the same blinks as a file)
    shapes = np.random.default_rng(None if seed is None else (seed, 1))
    t = np.arange(frames) / fps
    out = np.zeros((frames, 2), np.float64)
    for start in blink_times(frames / fps, rng, settings):
        a = settings.asymmetry
        depth = 1.0 - shapes.uniform(0, a, size=2)
        lag = shapes.uniform(-a, a) * settings.close
        # snap the peak onto a frame so every blink is visible at low fps
        peak = start + settings.close + 0.5 * settings.hold
        start += round(peak * fps) / fps - peak
        out[:, 0] = np.maximum(out[:, 0], blink_profile(t, start, settings, depth[0]))
        out[:, 1] = np.maximum(out[:, 1], blink_profile(t, start + lag, settings, depth[1]))
    return out.astype(np.float32)


def gaze_curves(frames: int, fps: float, seed: int | None, settings: SaccadeSettings = SaccadeSettings()) -> np.ndarray:
    """Gaze direction float32 [frames, 2]: (yaw, pitch) in -1..1 of a full look.

    Positive yaw looks to the character's left, positive pitch up.
    """
    rng = np.random.default_rng(None if seed is None else seed + 7919)
    t = np.arange(frames) / fps
    yaw = np.zeros(frames)
    pitch = np.zeros(frames)
    cur = np.zeros(2)
    s = rng.uniform(settings.min_gap, settings.max_gap)
    while s < frames / fps:
        # fixations drift back toward the centre (the listener)
        target = 0.5 * cur + rng.normal(0, settings.amplitude, 2) * np.array([1.0, 0.6])
        target = np.clip(target, -0.5, 0.5)
        x = np.clip((t - s) / settings.shift, 0.0, 1.0)
        ease = x * x * (3 - 2 * x)
        yaw = np.where(t >= s, cur[0] + ease * (target[0] - cur[0]), yaw)
        pitch = np.where(t >= s, cur[1] + ease * (target[1] - cur[1]), pitch)
        cur = target
        s += rng.uniform(settings.min_gap, settings.max_gap)
    return np.stack([yaw, pitch], axis=1).astype(np.float32)


def gaze_to_weights(gaze: np.ndarray) -> np.ndarray:
    """(yaw, pitch) [T, 2] → ARKit eyeLook* weights float32 [T, 52]."""
    w = np.zeros((len(gaze), arkit.COUNT), np.float32)
    yaw, pitch = gaze[:, 0], gaze[:, 1]
    left = np.maximum(yaw, 0)
    right = np.maximum(-yaw, 0)
    up = np.maximum(pitch, 0)
    down = np.maximum(-pitch, 0)
    for name, value in (
        ("eyeLookOutLeft", left), ("eyeLookInRight", left),
        ("eyeLookInLeft", right), ("eyeLookOutRight", right),
        ("eyeLookUpLeft", up), ("eyeLookUpRight", up),
        ("eyeLookDownLeft", down), ("eyeLookDownRight", down),
    ):
        w[:, arkit.index(name)] = value
    return w


def compose_blinks(weights: np.ndarray, blinks: np.ndarray) -> np.ndarray:
    """Lay blink closure [T, 2] over expression ``weights`` [T, 52] (new array).

    Lids already partly closed by the expression close the rest of the way
    (``e + (1 - e) * b``); eyeWide relaxes while the lids are shut.
    """
    w = np.array(weights, np.float32, copy=True)
    for col, side, wide in ((_BLINK_L, 0, "eyeWideLeft"), (_BLINK_R, 1, "eyeWideRight")):
        b = blinks[:, side]
        w[:, col] = w[:, col] + (1.0 - w[:, col]) * b
        w[:, arkit.index(wide)] *= 1.0 - b
    return w
