"""Backward warp through a triangle mesh: rasterise the moved triangles, sample the photo.

For each output pixel, the triangle that covers it at the current frame
(later triangles in the draw order win) gives an affine map back to where
that triangle sits in the photo; the photo is sampled there (bicubic,
``cv2.remap``).  Pixels no triangle covers are copied unchanged, so
everything outside the mesh is bit-identical to the photo.

Rasterising is ``cv2.fillConvexPoly`` of each triangle's index into an
int32 image at 1/16-pixel precision (≈2 ms for the ~1,100 triangles of a
face); the maps are one gather of per-triangle affine coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUBPIXEL_BITS = 4
MIN_AREA_PX = 1e-3
"""Triangles smaller than this (pixels²) are not drawn (a closed mouth's strip)."""


@dataclass(frozen=True)
class WarpResult:
    """One warped frame's region of interest.

    ``pixels`` uint8 [h, w, 3]: the warped ROI (uncovered pixels copied from
    the photo).  ``triangle`` int32 [h, w]: the triangle drawn at each pixel
    (-1: none).  ``map_x``/``map_y`` float32 [h, w]: where each pixel was
    sampled (atlas pixels; layers stacked downwards).
    """

    pixels: np.ndarray
    triangle: np.ndarray
    map_x: np.ndarray
    map_y: np.ndarray

    def seams(self, jump_px: float = 2.0) -> np.ndarray:
        """bool [h, w]: pixels whose neighbour was sampled more than ``jump_px`` away
        (where one layer or fold meets another: the edges worth anti-aliasing)."""
        seam = np.zeros(self.triangle.shape, bool)
        for axis in (0, 1):
            dx = np.diff(self.map_x, axis=axis)
            dy = np.diff(self.map_y, axis=axis)
            edge = (dx * dx + dy * dy) > jump_px * jump_px
            if axis == 0:
                seam[1:] |= edge
                seam[:-1] |= edge
            else:
                seam[:, 1:] |= edge
                seam[:, :-1] |= edge
        return seam


class BackwardWarp:
    """Warps fixed source images through a mesh whose vertices move per frame.

    ``layers``: uint8 [H, W, 3] images a vertex can sample (the photo first;
    uncovered pixels are copied from it).  ``roi`` (x0, y0, x1, y1): the
    output pixels the mesh can touch; only that part of each layer is kept
    (stacked into one atlas, so one ``remap`` samples every layer).
    Coordinates passed to :meth:`warp` are full-image pixels (x right, y
    down; pixel centres at integers).
    """

    def __init__(self, layers: list[np.ndarray], roi: tuple[int, int, int, int]) -> None:
        self.roi = roi
        x0, y0, x1, y1 = roi
        self.shape = (y1 - y0, x1 - x0)
        self.atlas = np.ascontiguousarray(np.concatenate([img[y0:y1, x0:x1] for img in layers], axis=0))
        self.photo = self.atlas[: self.shape[0]]
        gx, gy = np.meshgrid(np.arange(x1 - x0, dtype=np.float32), np.arange(y1 - y0, dtype=np.float32))
        self._grid = (gx, gy)
        self._ids = np.empty(self.shape, np.int32)

    def affine(self, target: np.ndarray, source: np.ndarray, triangles: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """(coefficients float32 [M, 6], drawable bool [M]): per triangle, source = A @ (x, y, 1)."""
        t = target[triangles].astype(np.float64)                      # [M, 3, 2]
        s = source[triangles].astype(np.float64)
        e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
        det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        ok = np.abs(det) > 2 * MIN_AREA_PX
        safe = np.where(ok, det, 1.0)
        # barycentric (b1, b2) of (x, y): inverse of [e1 e2]; source = s0 + b1 (s1-s0) + b2 (s2-s0)
        inv = np.stack([np.stack([e2[:, 1], -e2[:, 0]], 1), np.stack([-e1[:, 1], e1[:, 0]], 1)], 1) / safe[:, None, None]
        f1, f2 = s[:, 1] - s[:, 0], s[:, 2] - s[:, 0]
        lin = np.stack([f1, f2], axis=2) @ inv                         # [M, 2(out), 2(in)]
        off = s[:, 0] - np.einsum("moi,mi->mo", lin, t[:, 0])
        coef = np.concatenate([lin[:, 0], off[:, :1], lin[:, 1], off[:, 1:]], axis=1)
        return coef.astype(np.float32), ok

    def rasterise(self, target: np.ndarray, triangles: np.ndarray, drawable: np.ndarray,
                  still: np.ndarray | None = None) -> np.ndarray:
        """int32 [h, w]: index of the last drawn triangle covering each ROI pixel (-1: none).

        Triangles flagged ``still`` (they show the photo where it is) are
        drawn as -1: they cover what is under them, and their pixels are
        the photo's own.
        """
        import cv2

        x0, y0 = self.roi[:2]
        ids = self._ids
        ids.fill(-1)
        pts = np.round((target - np.array([x0, y0], np.float32)) * (1 << SUBPIXEL_BITS)).astype(np.int32)
        tri_pts = pts[triangles]
        colour = np.arange(len(triangles))
        if still is not None:
            colour = np.where(still, -1, colour)
        for k in np.flatnonzero(drawable):
            cv2.fillConvexPoly(ids, tri_pts[k], int(colour[k]), cv2.LINE_8, SUBPIXEL_BITS)
        return ids

    def warp(self, target: np.ndarray, source: np.ndarray, layer: np.ndarray, triangles: np.ndarray
             ) -> WarpResult:
        """Warp so that each triangle's ``source`` corners land on its ``target`` corners.

        ``target``/``source`` float32 [N, 2] vertex positions (pixels),
        ``layer`` [N] which layer each vertex samples (a triangle's corners
        share one), ``triangles`` int32 [M, 3] in draw order.  Only the box
        around the pixels that do not show the photo in place is resampled.
        """
        import cv2

        x0, y0 = self.roi[:2]
        layer = np.asarray(layer)
        atlas_src = source - np.array([x0, y0], np.float32)
        atlas_src[:, 1] += layer.astype(np.float32) * self.shape[0]
        coef, ok = self.affine(target - np.array([x0, y0], np.float32), atlas_src, triangles)
        in_place = (np.abs(target - source).max(axis=1) < 1e-3) & (layer == 0)
        ids = self.rasterise(target, triangles, ok, in_place[triangles].all(axis=1))
        gx, gy = self._grid
        map_x, map_y = gx.copy(), gy.copy()
        out = self.photo.copy()
        hit = ids >= 0
        if hit.any():
            a = coef[ids[hit]]
            x, y = gx[hit], gy[hit]
            map_x[hit] = a[:, 0] * x + a[:, 1] * y + a[:, 2]
            map_y[hit] = a[:, 3] * x + a[:, 4] * y + a[:, 5]
            rows, cols = np.flatnonzero(hit.any(axis=1)), np.flatnonzero(hit.any(axis=0))
            box = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
            sampled = cv2.remap(self.atlas, map_x[box], map_y[box], cv2.INTER_CUBIC,
                                borderMode=cv2.BORDER_REPLICATE)
            region, inside = out[box], hit[box]
            region[inside] = sampled[inside]
        return WarpResult(out, ids.copy(), map_x, map_y)
