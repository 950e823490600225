"""Generator v1: one frame of the talking portrait from 52 ARKit weights, no learned weights.

:class:`PortraitRenderer` holds everything fixed for one photo — the
:class:`~visemo.render2d.rig.PortraitRig`, its
:class:`~visemo.render2d.mesh.WarpMesh`, the three source layers (photo,
lid skin, eyeball) and the :class:`~visemo.render2d.mouth.MouthPainter` —
and makes a frame in four steps:

1. landmark motion = the rig's basis · (weights − replace · baseline) + rest offset;
2. the mesh's vertices and sources for that motion (lids closing as sheets);
3. backward warp (:class:`~visemo.render2d.warp.BackwardWarp`);
4. the mouth's inside painted where the lips part, and the seams where
   one layer meets another (lid over eye, lips over mouth) softened by a
   pixel.

Pixels outside the mesh are the photo's own, bit for bit; a frame depends
only on its weights (no state carried between frames), so the same curves
give the same video.  An optional learned ``refiner``
(:func:`visemo.render2d.refine.load_refiner`, trained by ``visemo train
portrait-refiner``) corrects v1's frame afterwards; it is never needed.
"""

from __future__ import annotations

import numpy as np

from .mesh import FALLOFF, HOLE, WarpMesh, build_mesh, eyeball_image, lid_skin_image
from .mouth import MouthPainter, mouth_colours
from .rig import PortraitRig
from .warp import BackwardWarp
from . import topology as topo

class PortraitRenderer:
    """Frames of one portrait: ``renderer.frame(weights)`` → RGB uint8 [H, W, 3]."""

    def __init__(self, rig: PortraitRig, mesh: WarpMesh | None = None, refiner=None) -> None:
        self.rig = rig
        self.refiner = refiner  # optional learned refinement (visemo.render2d.refine), after v1
        self.mesh = mesh or build_mesh(rig)
        image = rig.image
        self.warp = BackwardWarp([image, lid_skin_image(image, self.mesh), eyeball_image(image, self.mesh)],
                                 self.mesh.roi)
        closed = rig.points + rig.rest_offset
        x0, y0, _, _ = self.mesh.roi
        self.mouth = MouthPainter(closed, mouth_colours(image, rig.points, rig.mouth_gap > 0.05),
                                  (x0, y0), self.warp.shape)
        self._kind = np.append(self.mesh.kind, np.uint8(FALLOFF))  # index -1: no triangle
        self._lower_inner = np.array(topo.LIPS_LOWER_INNER)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of a frame in pixels."""
        return self.rig.size

    def frame(self, weights: np.ndarray, replace: float = 0.0) -> np.ndarray:
        """One frame, RGB uint8 [H, W, 3], for ARKit ``weights`` [52] (0..1, ARKit order).

        ``replace`` (0..1): how much the frame's emotion replaces the
        photo's own (:func:`~visemo.render2d.rig.emotion_strength`).
        """
        out = self.rig.image.copy()
        x0, y0, x1, y1 = self.mesh.roi
        out[y0:y1, x0:x1] = self.frame_roi(weights, replace)
        if self.refiner is not None:
            out = self.refiner.refine_frame(self, weights, out, replace)
        return out

    def frame_roi(self, weights: np.ndarray, replace: float = 0.0) -> np.ndarray:
        """The frame's region of interest only (uint8 [h, w, 3]; the rest is the photo)."""
        mesh = self.mesh
        pos, src = mesh.frame(self.rig.displacement(weights, replace))
        res = self.warp.warp(pos, src, mesh.layer, mesh.triangles)
        kind = self._kind[res.triangle]
        x0, y0 = mesh.roi[:2]
        hole = kind == HOLE
        seam = res.seams() & ~hole
        self.mouth.paint(res.pixels, hole, pos[self._lower_inner] - np.array([x0, y0], np.float32))
        _soften(res.pixels, seam)
        return res.pixels


def _soften(pixels: np.ndarray, seam: np.ndarray) -> None:
    """Blur ``pixels`` by a pixel where ``seam`` (anti-aliasing where one source meets another)."""
    import cv2

    if not seam.any():
        return
    ys, xs = np.nonzero(seam)
    y0, y1 = max(ys.min() - 1, 0), ys.max() + 2
    x0, x1 = max(xs.min() - 1, 0), xs.max() + 2
    region = pixels[y0:y1, x0:x1]
    blurred = cv2.GaussianBlur(region, (3, 3), 0.7)
    m = seam[y0:y1, x0:x1]
    region[m] = blurred[m]
