"""The photo's grain: how much pixel noise it has, so painted pixels can carry the same.

Painted regions (the inside of the mouth, a closing lid's skin) are smooth;
left so they would look pasted on.  :func:`grain_level` measures the
photo's noise on the face (robust standard deviation of a 1.5 px
high-pass, grey levels 0..255) and :func:`grain_noise` gives a fixed noise
field to scale by it (the same every frame: no crawling).
"""

from __future__ import annotations

import numpy as np

MAX_GRAIN = 6.0
"""Grain is capped at this standard deviation (grey levels): texture, not noise, above it."""


def grain_level(image: np.ndarray, outline: np.ndarray) -> float:
    """Standard deviation (grey levels) of ``image``'s fine noise inside the polygon ``outline`` [K, 2]."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    high = grey - cv2.GaussianBlur(grey, (0, 0), 1.5)
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 255)
    if not mask.any():
        return 1.0
    return float(min(np.median(np.abs(high[mask > 0])) * 1.4826, MAX_GRAIN))


def grain_noise(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Unit Gaussian noise float32 of ``shape``, the same for the same seed."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
