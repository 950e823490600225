"""``Animation``: 52 ARKit blendshape curves sampled at a fixed frame rate.

Frame ``i`` is the pose at time ``i / fps`` seconds.  Weights are float32 in
[0, 1], shape [T, 52], columns in :data:`visemo.arkit.NAMES` order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from . import arkit
from .errors import FormatError

LAYER_MODES = ("add", "multiply", "override")


def frame_count(duration: float, fps: float) -> int:
    """Frames covering ``duration`` seconds at ``fps``: ceil(duration * fps), at least 1."""
    return max(1, int(np.ceil(duration * fps - 1e-9)))


@dataclass(frozen=True, eq=False)
class Animation:
    """Blendshape weights float32 [T, 52] at ``fps`` frames per second."""

    weights: np.ndarray
    fps: float

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float32)
        if w.ndim != 2 or w.shape[1] != arkit.COUNT:
            raise FormatError(
                f"animation weights must have shape [frames, 52], got {w.shape}"
            )
        if not np.all(np.isfinite(w)):
            raise FormatError("animation weights contain NaN or infinite values")
        if not (self.fps > 0 and np.isfinite(self.fps)):
            raise FormatError(f"fps must be a positive number, got {self.fps!r}")
        w.setflags(write=False)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "fps", float(self.fps))

    # ------------------------------------------------------------------ construction
    @classmethod
    def zeros(cls, frames: int, fps: float) -> "Animation":
        """A neutral (all-zero) animation of ``frames`` frames."""
        return cls(np.zeros((frames, arkit.COUNT), np.float32), fps)

    @classmethod
    def from_channels(
        cls, names: Sequence[str], values: np.ndarray, fps: float
    ) -> "Animation":
        """Build from columns in any order: ``values[:, j]`` is channel ``names[j]``.

        Channels not named stay 0; names outside the 52 ARKit names raise.
        """
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 2 or values.shape[1] != len(names):
            raise FormatError(
                f"expected {len(names)} columns for {len(names)} names, got shape {values.shape}"
            )
        w = np.zeros((values.shape[0], arkit.COUNT), np.float32)
        try:
            w[:, arkit.indices(names)] = values
        except KeyError as e:
            raise FormatError(str(e.args[0])) from None
        return cls(w, fps)

    # ------------------------------------------------------------------ properties
    @property
    def names(self) -> tuple[str, ...]:
        """Channel names of the columns (always ARKit order)."""
        return arkit.NAMES

    @property
    def frames(self) -> int:
        """Number of frames T."""
        return int(self.weights.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds (frames / fps)."""
        return self.frames / self.fps

    @property
    def times(self) -> np.ndarray:
        """Time of each frame in seconds, float64 [T]."""
        return np.arange(self.frames, dtype=np.float64) / self.fps

    def channel(self, name: str) -> np.ndarray:
        """The curve of one ARKit channel, float32 [T] (read-only view)."""
        return self.weights[:, arkit.index(name)]

    def __len__(self) -> int:
        return self.frames

    def __getitem__(self, frames: slice) -> "Animation":
        """Frame slice, e.g. ``anim[30:90]`` (steps other than 1 are refused)."""
        if not isinstance(frames, slice) or frames.step not in (None, 1):
            raise TypeError("Animation supports contiguous frame slices only, e.g. anim[10:50]")
        return Animation(self.weights[frames].copy(), self.fps)

    def slice_time(self, start: float, end: float) -> "Animation":
        """Frames whose time lies in [start, end) seconds."""
        a = max(0, int(np.ceil(start * self.fps - 1e-9)))
        b = max(a, int(np.ceil(end * self.fps - 1e-9)))
        return self[a:b]

    # ------------------------------------------------------------------ transforms
    def with_weights(self, weights: np.ndarray) -> "Animation":
        """A copy with new weights at the same fps."""
        return Animation(weights, self.fps)

    def resample(self, fps: float) -> "Animation":
        """Linear resampling to ``fps``; the duration is kept (frames rounded)."""
        if fps == self.fps:
            return self
        n = max(1, int(round(self.frames * fps / self.fps)))
        t_new = np.arange(n, dtype=np.float64) / fps
        t_old = self.times
        w = np.empty((n, arkit.COUNT), np.float32)
        for j in range(arkit.COUNT):
            w[:, j] = np.interp(t_new, t_old, self.weights[:, j])
        return Animation(w, fps)

    def smooth(self, sigma: float, channels: Iterable[str] | None = None) -> "Animation":
        """Gaussian temporal smoothing with standard deviation ``sigma`` seconds.

        Only ``channels`` (default: all) are smoothed; ends are held (no fade to 0).
        """
        if sigma <= 0 or self.frames < 2:
            return self
        from scipy.ndimage import gaussian_filter1d

        cols = list(range(arkit.COUNT)) if channels is None else arkit.indices(channels)
        w = self.weights.copy()
        w[:, cols] = gaussian_filter1d(
            w[:, cols].astype(np.float64), sigma * self.fps, axis=0, mode="nearest"
        )
        return Animation(w, self.fps)

    def clamp(self, low: float = 0.0, high: float = 1.0) -> "Animation":
        """Weights clipped to [low, high]."""
        return Animation(np.clip(self.weights, low, high), self.fps)

    def scaled(self, factor: float | np.ndarray) -> "Animation":
        """Weights multiplied by ``factor`` (a scalar, or [52] per channel)."""
        return Animation(self.weights * np.asarray(factor, np.float32), self.fps)

    def layer(
        self,
        other: "Animation",
        mode: str = "add",
        channels: Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        clamp: bool = True,
    ) -> "Animation":
        """Combine ``other`` on top of this animation.

        ``mode``: ``add`` (this + other), ``multiply`` (this * other) or
        ``override`` (other replaces this).  Only the listed ``channels`` and/or
        channel ``groups`` (see :data:`visemo.arkit.GROUPS`) are touched; with
        neither, all 52.  ``other`` must have the same fps; a shorter ``other``
        holds its last frame, a longer one is cut.  Result is clamped to [0, 1]
        unless ``clamp`` is False.
        """
        if mode not in LAYER_MODES:
            raise ValueError(f"layer mode must be one of {LAYER_MODES}, got {mode!r}")
        if abs(other.fps - self.fps) > 1e-9:
            raise ValueError(
                f"cannot layer animations at {other.fps} and {self.fps} fps; resample first"
            )
        mask = np.zeros(arkit.COUNT, dtype=bool)
        if channels is None and groups is None:
            mask[:] = True
        if channels is not None:
            mask[arkit.indices(channels)] = True
        if groups is not None:
            mask |= arkit.group_mask(*groups)
        ow = fit_frames(other.weights, self.frames)
        w = self.weights.copy()
        if mode == "add":
            w[:, mask] += ow[:, mask]
        elif mode == "multiply":
            w[:, mask] *= ow[:, mask]
        else:
            w[:, mask] = ow[:, mask]
        if clamp:
            np.clip(w, 0.0, 1.0, out=w)
        return Animation(w, self.fps)

    # ------------------------------------------------------------------ io
    def save(self, path: str | Path) -> Path:
        """Write to ``path``; the format follows the suffix (.json, .csv, .npz)."""
        from .export import write_animation

        return write_animation(self, path)

    @classmethod
    def load(cls, path: str | Path, fps: float | None = None) -> "Animation":
        """Read a .json, .csv (Live Link Face) or .npz animation.

        ``fps`` is needed only for CSV files whose timecodes don't tell it.
        """
        from .export import read_animation

        return read_animation(path, fps=fps)

    def __repr__(self) -> str:
        return f"Animation(frames={self.frames}, fps={self.fps:g}, duration={self.duration:.3f}s)"


def fit_frames(x: np.ndarray, frames: int, empty: float = 0.0) -> np.ndarray:
    """Cut or extend ``x`` along its first axis to ``frames`` rows, holding the last row.

    An empty ``x`` becomes rows filled with ``empty``.
    """
    x = np.asarray(x)
    if x.shape[0] >= frames:
        return x[:frames]
    if x.shape[0] == 0:
        return np.full((frames,) + x.shape[1:], empty, x.dtype)
    pad = np.repeat(x[-1:], frames - x.shape[0], axis=0)
    return np.concatenate([x, pad], axis=0)
