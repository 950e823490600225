"""NumPy NPZ animation files: arrays ``weights`` [T, K], ``names`` [K], ``fps``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import arkit
from ..animation import Animation
from ..errors import FormatError
from .atomic import atomic_path


def write(anim: Animation, path: Path) -> None:
    """Write ``anim`` as an uncompressed NPZ (exact float32)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, weights=anim.weights, names=np.array(arkit.NAMES), fps=np.float64(anim.fps))


def read(path: Path) -> Animation:
    """Read an NPZ animation; columns are matched by ``names``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return Animation.from_channels(
                [str(n) for n in z["names"]], z["weights"], float(z["fps"])
            )
    except (KeyError, ValueError, OSError) as e:
        raise FormatError(f"{path} is not a visemo NPZ animation (needs weights, names, fps): {e}") from None
