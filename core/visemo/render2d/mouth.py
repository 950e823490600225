"""The inside of the mouth, painted where the lips part.

One photo shows no mouth interior (or a closed-up smile's worth), so it is
painted per frame into the pixels of the mouth-opening strip
(:data:`~visemo.render2d.mesh.HOLE`), in mouth coordinates: ``s`` along the
line between the rest mouth corners (-1 … 1), ``t`` across it, downwards
(pixels).

- **Cavity**: the lip colour darkened to ``CAVITY``, darkest in the middle.
- **Upper teeth**, fixed to the skull: from a gum line just above the rest
  inner upper lip down ``UPPER_TEETH`` mouth widths at the middle (a
  gentle arch, ``TEETH_SPAN`` of the mouth wide), with darker gaps
  between incisors, laterals and canines.
- **Lower teeth**, moving with the jaw (the lower inner lip's motion at the
  middle): ``LOWER_TEETH`` mouth widths showing above the lower lip.
- **Tongue**: a lip-coloured ellipse behind the lower teeth.
- **Shading**: every part darkens near the lips (ambient occlusion from the
  distance to the opening's edge) and towards the corners.

Colours come from the photo (:func:`mouth_colours`): lips from the lip
band, teeth from the photo's own teeth when its mouth is open, else from
the whites of its eyes, never brighter than the face's bright skin.  The
photo's grain is added back to the painted pixels, the same noise every
frame (no crawling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import topology as topo
from .grain import grain_level, grain_noise

CAVITY = 0.42
UPPER_TEETH = 0.12
LOWER_TEETH = 0.05
TEETH_SPAN = 0.72
GUM = 0.05
TOOTH_EDGES = (0.0, 0.2, 0.37, 0.52)
"""Gaps between teeth, as ``|s|`` (the centre line, then incisors, laterals, canines, premolar)."""

DEFAULT_TEETH = np.array([236.0, 230.0, 218.0])


@dataclass(frozen=True)
class MouthColours:
    """RGB float [3] each: ``lips``, ``teeth``, ``tongue``, ``cavity``; ``grain``: the photo's
    pixel noise (standard deviation, 0..255)."""

    lips: np.ndarray
    teeth: np.ndarray
    tongue: np.ndarray
    cavity: np.ndarray
    grain: float


def _polygon_pixels(image: np.ndarray, outline: np.ndarray) -> np.ndarray:
    import cv2

    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 255)
    return image[mask > 0].astype(np.float64)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114])


def mouth_colours(image: np.ndarray, points: np.ndarray, mouth_open: bool) -> MouthColours:
    """Colours of the mouth's inside, read from the photo (see the module doc)."""
    upper = np.concatenate([points[list(topo.LIPS_UPPER_OUTER)], points[list(topo.LIPS_UPPER_INNER)][::-1]])
    lower = np.concatenate([points[list(topo.LIPS_LOWER_OUTER)], points[list(topo.LIPS_LOWER_INNER)][::-1]])
    lip_px = np.concatenate([_polygon_pixels(image, upper), _polygon_pixels(image, lower)])
    lips = np.median(lip_px, axis=0) if len(lip_px) else np.array([150.0, 80.0, 75.0])
    face = _polygon_pixels(image, points[list(topo.FACE_OVAL)])
    bright = np.percentile(_luma(face), 95) if len(face) else 220.0
    teeth = None
    if mouth_open:
        inside = _polygon_pixels(image, points[list(topo.ring(topo.LIPS_UPPER_INNER, topo.LIPS_LOWER_INNER))])
        if len(inside) >= 20:
            lum = _luma(inside)
            top = inside[lum >= np.percentile(lum, 70)]
            if _luma(np.median(top, axis=0)) > 0.6 * bright:
                teeth = np.median(top, axis=0)
    if teeth is None:
        # ivory, with a little of the skin's colour cast (the photo's light)
        skin = np.median(face, axis=0) if len(face) else DEFAULT_TEETH
        teeth = DEFAULT_TEETH * (0.15 * skin / max(skin.mean(), 1.0) + 0.85)
    teeth = teeth * min(1.0, 0.92 * bright / max(_luma(teeth), 1.0))
    tongue = 0.75 * lips + 0.25 * np.array([205.0, 95.0, 100.0])
    return MouthColours(lips=lips, teeth=np.clip(teeth, 0, 255), tongue=tongue,
                        cavity=lips * CAVITY * np.array([1.15, 0.8, 0.8]),
                        grain=grain_level(image, points[list(topo.FACE_OVAL)]))


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class MouthPainter:
    """Paints the mouth's inside into warped frames of one portrait.

    ``rest`` float [478, 2]: the landmarks with the mouth closed (pixels);
    ``colours``: :class:`MouthColours`; ``roi_origin`` (x0, y0) of the
    frames' region of interest.
    """

    def __init__(self, rest: np.ndarray, colours: MouthColours, roi_origin: tuple[int, int],
                 shape: tuple[int, int], seed: int = 0) -> None:
        self.colours = colours
        o = np.array(roi_origin, np.float64)
        self.upper0 = rest[list(topo.LIPS_UPPER_INNER)] - o
        self.lower0 = rest[list(topo.LIPS_LOWER_INNER)] - o
        right, left = self.upper0[0], self.upper0[-1]
        self.centre = 0.5 * (right + left)
        self.width = float(np.linalg.norm(left - right))
        self.axis = (left - right) / max(self.width, 1e-9)
        self.down = np.array([-self.axis[1], self.axis[0]])
        if self.down[1] < 0:
            self.down = -self.down
        self.noise = grain_noise(shape, seed)

    def _local(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = pts - self.centre
        return d @ self.axis / (0.5 * self.width), d @ self.down

    def _line(self, line: np.ndarray, s: np.ndarray) -> np.ndarray:
        ls, lt = self._local(line)
        order = np.argsort(ls)
        return np.interp(s, ls[order], lt[order])

    def paint(self, pixels: np.ndarray, hole: np.ndarray, lower_inner: np.ndarray) -> None:
        """Paint into ``pixels`` (uint8 [h, w, 3], the warped ROI) where ``hole`` (bool [h, w]).

        ``lower_inner`` float [11, 2]: the lower inner lip line this frame
        (full-image pixels minus the ROI origin), which carries the jaw.
        """
        import cv2

        if not hole.any():
            return
        ys, xs = np.nonzero(hole)
        pad = 3
        y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, hole.shape[0])
        x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, hole.shape[1])
        box = hole[y0:y1, x0:x1]
        gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        s, t = self._local(np.stack([gx, gy], axis=-1))
        w = self.width
        c = self.colours
        # jaw: how far the lower lip's middle has moved down from rest
        _, t_now = self._local(lower_inner[3:8])
        _, t_rest = self._local(self.lower0[3:8])
        jaw = float(np.mean(t_now - t_rest))
        u_line = self._line(self.upper0, s)
        l_line = self._line(self.lower0, s) + jaw
        # cavity, darker in the middle of the opening
        mid = 0.5 * (u_line + l_line)
        depth = np.exp(-((t - mid) / max(0.25 * w, 1.0)) ** 2 - (s / 0.9) ** 2)
        colour = np.broadcast_to(c.cavity * 1.0, s.shape + (3,)) * (1.0 - 0.4 * depth)[..., None]
        # tongue: an ellipse behind the lower teeth
        tongue_top = l_line - (LOWER_TEETH + 0.07) * w
        ty = (t - (tongue_top + 0.16 * w)) / (0.16 * w)
        tongue = ((s / 0.55) ** 2 + ty ** 2) < 1.0
        tongue_shade = 0.55 + 0.35 * np.clip(1 - np.hypot(s / 0.62, ty), 0, 1)
        colour = np.where(tongue[..., None], c.tongue * tongue_shade[..., None], colour)
        # teeth: an arch on top, a smaller one on the jaw
        arch_u = np.sqrt(np.clip(1 - (s / TEETH_SPAN) ** 2, 0, 1))
        arch_l = np.sqrt(np.clip(1 - (s / (0.85 * TEETH_SPAN)) ** 2, 0, 1))
        upper = (t > u_line - GUM * w) & (t < u_line + UPPER_TEETH * w * arch_u) & (arch_u > 0)
        lower = (t < l_line + 0.02 * w) & (t > l_line - LOWER_TEETH * w * arch_l) & (arch_l > 0)
        teeth = upper | lower
        gaps = np.min(np.abs(np.abs(s)[..., None] - np.array(TOOTH_EDGES)), axis=-1) * 0.5 * w
        tooth_shade = (1.0 - 0.35 * np.abs(s) ** 2) * (1.0 - 0.07 * np.exp(-(gaps / 1.5) ** 2))
        tooth_shade = tooth_shade * np.where(upper, 0.92 + 0.08 * _smoothstep(0, UPPER_TEETH * w, t - u_line), 0.85)
        colour = np.where(teeth[..., None], c.teeth * tooth_shade[..., None], colour)
        # shading from the lips: darker near the opening's edge
        dist = cv2.distanceTransform(box.astype(np.uint8), cv2.DIST_L2, 3)
        colour = colour * (1.0 - 0.35 * np.exp(-dist / max(0.03 * w, 0.8)))[..., None]
        colour = colour + c.grain * self.noise[y0:y1, x0:x1, None]
        # soften the lips' inner edge by a pixel
        alpha = cv2.GaussianBlur(box.astype(np.float32), (3, 3), 0.6)[..., None]
        region = pixels[y0:y1, x0:x1].astype(np.float32)
        pixels[y0:y1, x0:x1] = np.clip(alpha * colour + (1 - alpha) * region + 0.5, 0, 255).astype(np.uint8)
