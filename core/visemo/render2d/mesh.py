"""The warp mesh over a portrait: which triangles move, what they show, in which order.

:func:`build_mesh` turns a :class:`~visemo.render2d.rig.PortraitRig` into a
:class:`WarpMesh`: vertices at rest (pixels), where each samples the photo,
how each moves with the landmarks (a linear map), and triangles in the order
they are drawn (later ones cover earlier ones):

1. **Falloff** (``FALLOFF``): three rings outside the face outline at
   ``FALLOFF_RINGS`` of a distance that is ``FALLOFF_UPPER`` face heights
   around forehead and temples and ``FALLOFF_JAW`` below the cheeks (the
   neck stretches when the jaw opens).  Each ring point moves with its
   outline point times ``FALLOFF_WEIGHTS`` (a smoothstep: 0.74, 0.26, 0),
   so motion fades to exactly zero at the outer ring and beyond it nothing
   moves.
2. **Eyeballs** (``EYE``): each eye opening (16 lid points) and the iris
   points inside it, plus a band out to a ring ``EYE_RING`` times as wide.
   Lid points stay put (an eyeball does not move with its lids); the iris
   moves with gaze; the band shows the eye continued past its lids
   (:func:`eyeball_image`), so lids opening wider uncover more eye, not old
   lashes.  Drawn before the face, so lids close *over* the eyes.
3. **Mouth opening** (``HOLE``): a strip between the inner lip lines; where
   it is drawn, the renderer paints the inside of the mouth.
4. **Face** (``FACE``): mediapipe's 852 triangles, far ones first (their
   mean depth), each upper lid split by a row just above the lashes
   (``LASH_SHARE`` of the eye opening, at most ``LASH_ROOM`` of the lid).
5. **Closing lids** (``LID``, per frame, :class:`LidSheet`): a lid closing
   over an eye is skin the photo does not show (it sits folded under the
   crease).  The photo's lid keeps ``LID_SKIN_FOLLOWS`` of the closing; a
   sheet drawn over it reaches down to where the lid margin should be: the
   photo's own lash band (rigid) at its bottom edge, and above it lid skin
   from :func:`lid_skin_image` (the eye opening filled in from the skin
   around it), never below the lower lid.  At rest the sheet is exactly the
   photo's lash band, so an open eye is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face.landmarks import LANDMARK_COUNT, MESH_POINTS
from . import topology as topo
from .grain import grain_level, grain_noise
from .rig import PortraitRig, eye_down, face_down

FALLOFF, EYE, HOLE, FACE, LID = 0, 1, 2, 3, 4
KIND_NAMES = ("falloff", "eye", "hole", "face", "lid")
PHOTO, SKIN, EYEBALL = 0, 1, 2
"""Source layers: the photo; the photo with its eye openings filled with lid skin
(:func:`lid_skin_image`); the photo with the eyes' surroundings filled from inside
the eyes (:func:`eyeball_image`)."""

FALLOFF_UPPER = 0.10
FALLOFF_JAW = 0.32
FALLOFF_RINGS = (1 / 3, 2 / 3, 1.0)
FALLOFF_WEIGHTS = (0.74, 0.26, 0.0)
EYE_RING = 1.45
EYE_FILL_FROM = 0.8
"""The eyeball layer is filled from the eye opening shrunk to this share (away from the lashes)."""
LASH_SHARE = 0.18
"""Thickness of the lash band kept rigid on a closing lid, as a share of the eye opening's height."""

LASH_ROOM = 0.45
"""... and at most this share of the lid between the lash line and the crease."""

LID_SKIN_FOLLOWS = 0.0
"""Share of a lid's closing that the photo's own lid (above the sheet) follows (the rest is
the sheet: the photo's lid does not stretch, the skin it hides comes out from under it)."""

LID_SHADE = 0.08
"""A closed lid's skin is this much darker at its top and bottom edges than in the middle."""


@dataclass(frozen=True, eq=False)
class LidSheet:
    """One eye's closing lid: landmark and vertex indices, rows of 9 from corner to corner.

    ``lash``/``lower``: the upper and lower lid lines (landmarks);
    ``mid``: the face-mesh row just above the lashes; ``top``, ``skin``,
    ``band``, ``margin``: the sheet's vertex rows (skin from ``top`` to
    ``skin``, lash band from ``band`` to ``margin``).  ``thickness`` [9]: the
    lash band (pixels); ``down`` [2]: the eye's downward unit vector.
    """

    lash: np.ndarray
    lower: np.ndarray
    mid: np.ndarray
    top: np.ndarray
    skin: np.ndarray
    band: np.ndarray
    margin: np.ndarray
    thickness: np.ndarray
    down: np.ndarray


@dataclass(frozen=True, eq=False)
class WarpMesh:
    """Vertices and triangles of the warp.

    ``rest`` float32 [N, 2]: vertex positions at rest (pixels of the working
    image).  ``source`` float32 [N, 2] and ``layer`` uint8 [N]: where each
    vertex samples (pixels of layer :data:`PHOTO` or :data:`SKIN`).
    ``motion`` float32 [N, 478]: vertex motion = ``motion`` @ landmark motion
    (each axis).  ``triangles`` int32 [M, 3] in draw order; ``kind`` uint8
    [M] (:data:`FALLOFF`, :data:`EYE`, :data:`HOLE`, :data:`FACE`,
    :data:`LID`).  ``roi`` (x0, y0, x1, y1): the pixels the mesh can touch
    (the outer falloff ring's box, inside the image).  ``lids``: the two
    :class:`LidSheet`.
    """

    rest: np.ndarray
    source: np.ndarray
    layer: np.ndarray
    motion: np.ndarray
    triangles: np.ndarray
    kind: np.ndarray
    roi: tuple[int, int, int, int]
    lids: tuple[LidSheet, ...] = ()

    def frame(self, landmark_motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vertex positions, vertex sources) float32 [N, 2] for landmark motion [478, 2] (pixels)."""
        d = np.array(landmark_motion, np.float32)
        full = d.copy()
        for lid in self.lids:
            closing = np.clip(full[lid.lash] @ lid.down, 0.0, None)
            d[lid.lash] -= (1.0 - LID_SKIN_FOLLOWS) * closing[:, None] * lid.down
        pos = self.rest + self.motion @ d
        src = self.source.copy()
        for lid in self.lids:
            top = pos[lid.mid]
            margin = self.rest[lid.lash] + full[lid.lash]
            lower = self.rest[lid.lower] + full[lid.lower]
            # never further below the lower lid than at rest
            below = (margin - lower) @ lid.down - np.clip((self.rest[lid.lash] - self.rest[lid.lower]) @ lid.down, 0, None)
            margin -= np.clip(below, 0.0, None)[:, None] * lid.down
            room = np.clip((margin - top) @ lid.down, 0.0, None)
            band_top = margin - np.minimum(lid.thickness, room)[:, None] * lid.down
            pos[lid.top], pos[lid.skin], pos[lid.band], pos[lid.margin] = top, band_top, band_top, margin
            src[lid.top], src[lid.skin] = top, band_top
        return pos, src


class _Builder:
    def __init__(self) -> None:
        self.rest: list[np.ndarray] = []
        self.source: list[np.ndarray] = []
        self.motion: list[np.ndarray] = []
        self.layer: list[np.ndarray] = []
        self.tris: list[np.ndarray] = []
        self.kinds: list[np.ndarray] = []
        self.count = 0

    def add(self, rest: np.ndarray, source: np.ndarray, motion: np.ndarray, layer: int = PHOTO) -> np.ndarray:
        n = len(rest)
        self.rest.append(np.asarray(rest, np.float64))
        self.source.append(np.asarray(source, np.float64))
        self.layer.append(np.full(n, layer, np.uint8))
        self.motion.append(np.asarray(motion, np.float64))
        idx = np.arange(self.count, self.count + n)
        self.count += n
        return idx

    def triangles(self, tris: np.ndarray, kind: int) -> None:
        tris = np.asarray(tris, np.int64).reshape(-1, 3)
        self.tris.append(tris)
        self.kinds.append(np.full(len(tris), kind, np.uint8))


def _strip(a: np.ndarray, b: np.ndarray, closed: bool = False) -> np.ndarray:
    """Triangles joining two vertex rows of equal length (quads split in two)."""
    n = len(a)
    k = np.arange(n if closed else n - 1)
    k1 = (k + 1) % n
    return np.concatenate([np.stack([a[k], a[k1], b[k1]], 1), np.stack([a[k], b[k1], b[k]], 1)])


def _outward_normals(loop: np.ndarray) -> np.ndarray:
    """Unit normals [K, 2] of a closed polygon, pointing away from its centroid."""
    tangent = np.roll(loop, -1, axis=0) - np.roll(loop, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    if np.sum(normal * (loop - loop.mean(axis=0))) < 0:
        normal = -normal
    return normal


def _falloff(b: _Builder, points: np.ndarray) -> np.ndarray:
    """Falloff rings; returns the outer ring's positions [36, 2]."""
    oval = np.array(topo.FACE_OVAL)
    loop = points[oval]
    down = face_down(points)
    height = float(np.linalg.norm(points[topo.CHIN] - points[topo.FOREHEAD]))
    centre = loop.mean(axis=0)
    below = (loop - centre) @ down / height          # -0.5 forehead .. +0.5 chin
    t = np.clip((below + 0.05) / 0.25, 0.0, 1.0)
    reach = height * (FALLOFF_UPPER + (FALLOFF_JAW - FALLOFF_UPPER) * t * t * (3 - 2 * t))
    normal = _outward_normals(loop)
    rows = [oval]
    for frac, weight in zip(FALLOFF_RINGS, FALLOFF_WEIGHTS):
        motion = np.zeros((len(oval), LANDMARK_COUNT))
        motion[np.arange(len(oval)), oval] = weight
        pos = loop + normal * (frac * reach)[:, None]
        rows.append(b.add(pos, pos, motion))
    for r0, r1 in zip(rows[:-1], rows[1:]):
        b.triangles(_strip(np.asarray(r0), np.asarray(r1), closed=True), FALLOFF)
    return loop + normal * reach[:, None]


def _eyes(b: _Builder, points: np.ndarray) -> None:
    """Eyeball layers: a band from the lid line out to the ring, and the opening itself
    (Delaunay of the lid points and the iris points inside the opening, clipped to it)."""
    from matplotlib.path import Path as Polygon
    from scipy.spatial import Delaunay

    for upper, lower, iris_centre in topo.EYES.values():
        contour = np.array(topo.ring(upper, lower))
        lid = points[contour]
        c = lid.mean(axis=0)
        inside = Polygon(lid)
        iris = np.array([i for i in range(iris_centre, iris_centre + 5) if inside.contains_point(points[i])])
        still = np.zeros((len(contour), LANDMARK_COUNT))
        gaze = np.zeros((len(iris), LANDMARK_COUNT))
        gaze[np.arange(len(iris)), iris] = 1.0
        v_lid = b.add(lid, lid, still)
        outer = c + EYE_RING * (lid - c)
        b.triangles(_strip(b.add(lid, lid, still, EYEBALL), b.add(outer, outer, still, EYEBALL), closed=True), EYE)
        if len(iris):
            v_iris = b.add(points[iris], points[iris], gaze)
            allv, pos = np.concatenate([v_lid, v_iris]), np.concatenate([lid, points[iris]])
        else:
            allv, pos = v_lid, lid
        tri = Delaunay(pos).simplices
        keep = inside.contains_points(pos[tri].mean(axis=1))
        b.triangles(allv[tri[keep]], EYE)


def _lash_row(points: np.ndarray, lash: np.ndarray, lower: np.ndarray, crease: np.ndarray,
              down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions [9, 2] of the row just above the lashes, lash band thickness [9] in pixels)."""
    opening = float(np.median((points[lower] - points[lash]) @ down))
    room = np.clip((points[lash] - points[crease]) @ down, 0.0, None)  # lash line up to the crease
    thick = np.minimum(LASH_SHARE * opening, LASH_ROOM * room)
    thick[0] = thick[-1] = 0.0
    return points[lash] - thick[:, None] * down, thick


def _face_and_lids(b: _Builder, points: np.ndarray, depth: np.ndarray) -> list[LidSheet]:
    tris = topo.mesh_triangles()
    replaced = np.zeros(len(tris), bool)
    extra: list[np.ndarray] = []
    lids = []
    for (upper, lower, _), crease in ((topo.EYES["right"], topo.RIGHT_EYE_CREASE),
                                      (topo.EYES["left"], topo.LEFT_EYE_CREASE)):
        lash, lower, crease = np.array(upper), np.array(lower), np.array(crease)
        replaced |= np.isin(tris, np.concatenate([lash, crease])).all(axis=1)
        down = eye_down(points, upper)
        row, thick = _lash_row(points, lash, lower, crease, down)
        motion = np.zeros((len(lash), LANDMARK_COUNT))
        motion[np.arange(len(lash)), lash] = 1.0           # the row moves with the lash line
        mid = b.add(row, row, motion)
        mid[0], mid[-1] = lash[0], lash[-1]                # corners: the landmarks themselves
        extra += [_strip(lash, mid), _strip(mid, crease)]
        # the sheet: positions set per frame (WarpMesh.frame); sources of the lash band fixed
        still = np.zeros((len(lash), LANDMARK_COUNT))
        top = b.add(row, row, still, SKIN)
        skin = b.add(row, row, still, SKIN)
        band = b.add(row, row, still)
        margin = b.add(points[lash], points[lash], still)
        lids.append(LidSheet(lash, lower, mid, top, skin, band, margin, thick.astype(np.float32),
                             down.astype(np.float32)))
    face = np.concatenate([tris[~replaced]] + extra)
    face = face[(face[:, 0] != face[:, 1]) & (face[:, 1] != face[:, 2]) & (face[:, 0] != face[:, 2])]
    # far triangles first (mediapipe depth: larger = further from the camera); the lash rows'
    # own vertices count by the landmarks they sit on
    corner_depth = np.where(face < MESH_POINTS, depth[np.minimum(face, MESH_POINTS - 1)], np.nan)
    order = np.argsort(-np.nanmean(corner_depth, axis=1), kind="stable")
    b.triangles(face[order], FACE)
    for lid in lids:
        b.triangles(np.concatenate([_strip(lid.top, lid.skin), _strip(lid.band, lid.margin)]), LID)
    return lids


def _eye_width(mesh: "WarpMesh") -> float:
    return max(float(np.ptp(mesh.rest[lid.lash][:, 0])) for lid in mesh.lids)


def eyeball_image(image: np.ndarray, mesh: "WarpMesh") -> np.ndarray:
    """The :data:`EYEBALL` layer: around each eye, ``image`` replaced by the eye itself
    continued outwards (``cv2.inpaint`` from the opening shrunk to ``EYE_FILL_FROM``)."""
    import cv2

    out = image.copy()
    for lid in mesh.lids:
        opening = np.concatenate([mesh.rest[lid.lash], mesh.rest[lid.lower][-2:0:-1]])
        c = opening.mean(axis=0)
        x0, y0 = np.floor(c + 1.8 * (opening - c).min(axis=0)).astype(int)
        x1, y1 = np.ceil(c + 1.8 * (opening - c).max(axis=0)).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, image.shape[1]), min(y1, image.shape[0])
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        known = np.zeros((y1 - y0, x1 - x0), np.uint8)
        inner = c + EYE_FILL_FROM * (opening - c) - np.array([x0, y0])
        cv2.fillPoly(known, [np.round(inner).astype(np.int32)], 255)
        if not known.any():
            continue
        patch = np.ascontiguousarray(image[y0:y1, x0:x1])
        out[y0:y1, x0:x1] = cv2.inpaint(patch, 255 - known, 3.0, cv2.INPAINT_TELEA)
    return out


def lid_skin_image(image: np.ndarray, mesh: "WarpMesh", seed: int = 1) -> np.ndarray:
    """The :data:`SKIN` layer: ``image`` with each eye opening and lash band filled in from the
    skin around it (``cv2.inpaint``, Telea), what a closed lid shows.

    The filled skin is shaded like a lid over a round eyeball (up to
    ``LID_SHADE`` darker towards its top and bottom edges) and carries the
    photo's grain (:mod:`~visemo.render2d.grain`).
    """
    import cv2

    mask = np.zeros(image.shape[:2], np.uint8)
    outlines = [np.concatenate([mesh.rest[lid.mid], mesh.rest[lid.lower][::-1]]) for lid in mesh.lids]
    for outline in outlines:
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 255)
    if not mask.any():
        return image.copy()
    eye_px = _eye_width(mesh)
    grow = max(1, int(round(0.04 * eye_px)))
    mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    out = cv2.inpaint(image, mask, max(3.0, 0.15 * eye_px), cv2.INPAINT_TELEA).astype(np.float32)
    ys, xs = np.nonzero(mask)
    shade = np.ones(len(ys), np.float32)
    for lid, outline in zip(mesh.lids, outlines):
        centre = outline.mean(axis=0)
        half = max(float(np.ptp(outline @ lid.down)) / 2, 1.0) + grow
        v = ((np.stack([xs, ys], 1) - centre) @ lid.down) / half
        near = np.linalg.norm(np.stack([xs, ys], 1) - centre, axis=1) < eye_px
        shade[near] = 1.0 - LID_SHADE * np.clip(v[near], -1, 1) ** 2
    grain = grain_level(image, mesh.rest[list(topo.FACE_OVAL)]) * grain_noise((len(ys), 1), seed)
    out[ys, xs] = out[ys, xs] * shade[:, None] + grain
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def build_mesh(rig: PortraitRig) -> WarpMesh:
    """The :class:`WarpMesh` of a fitted portrait (see the module doc)."""
    points, depth = rig.points, rig.depth
    b = _Builder()
    b.add(points, points, np.eye(LANDMARK_COUNT))     # vertices 0..477: the landmarks themselves
    outer = _falloff(b, points)
    _eyes(b, points)
    upper, lower = np.array(topo.LIPS_UPPER_INNER), np.array(topo.LIPS_LOWER_INNER)
    hole = _strip(upper, lower)
    b.triangles(hole[(hole[:, 0] != hole[:, 2]) & (hole[:, 1] != hole[:, 2])], HOLE)
    lids = _face_and_lids(b, points, depth)
    rest = np.concatenate(b.rest).astype(np.float32)
    h, w = rig.image.shape[:2]
    lo = np.floor(np.minimum(outer.min(axis=0), rest.min(axis=0))) - 2
    hi = np.ceil(np.maximum(outer.max(axis=0), rest.max(axis=0))) + 3
    roi = (int(max(lo[0], 0)), int(max(lo[1], 0)), int(min(hi[0], w)), int(min(hi[1], h)))
    return WarpMesh(rest=rest, source=np.concatenate(b.source).astype(np.float32),
                    layer=np.concatenate(b.layer), motion=np.concatenate(b.motion).astype(np.float32),
                    triangles=np.concatenate(b.tris).astype(np.int32),
                    kind=np.concatenate(b.kinds), roi=roi, lids=tuple(lids))
