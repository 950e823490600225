"""mediapipe face-mesh topology the portrait renderer needs: triangles and named contours.

The 468 mesh points of mediapipe's face mesh (0.10.21) are triangulated by
its ``FACEMESH_TESSELATION`` edge list; :func:`mesh_triangles` recovers the
852 triangles from it (every 3-cycle of edges, less the two 3-cycles that
enclose no face — their three edges each border three cycles).  The mesh has
four boundary loops: the face oval and three holes (the two eye openings and
the mouth opening), which the renderer fills with layers of its own.

Contours are index lists in order along the curve (mediapipe's own
annotation names): lips inner/outer upper/lower, the eye openings' upper
and lower lid lines and the face oval.  "Left"/"right" are the subject's:
the subject's left eye is on the image's right.
"""

from __future__ import annotations

import functools
from collections import defaultdict

import numpy as np

from ..errors import DependencyError

LIPS_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
"""Lip contours from the subject's right mouth corner to the left one."""

INNER_LIP_PAIRS = tuple(zip(LIPS_UPPER_INNER[1:-1], LIPS_LOWER_INNER[1:-1]))
"""(upper, lower) inner-lip points facing each other across the mouth opening."""

RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LEFT_EYE_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
"""Eye openings: lid lines from the outer corner to the inner corner (corners shared)."""

EYES = {"right": (RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, 468),
        "left": (LEFT_EYE_UPPER, LEFT_EYE_LOWER, 473)}
"""Per eye: (upper lid line, lower lid line, iris centre landmark); iris ring = centre + 1..4."""

RIGHT_EYE_CREASE = (130, 247, 30, 29, 27, 28, 56, 190, 243)
LEFT_EYE_CREASE = (359, 467, 260, 259, 257, 258, 286, 414, 463)
"""The ring just outside each eye opening (mediapipe's "eye upper/lower 1")."""

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)
"""The face outline, clockwise in the image from the top of the forehead (10); 152 is the chin."""

CHIN = 152
FOREHEAD = 10
NOSE_TIP = 1


def _tesselation() -> frozenset:
    try:
        from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION
    except ImportError as e:
        raise DependencyError("the portrait renderer needs mediapipe 0.10.21; run "
                              f"`pip install mediapipe==0.10.21` (with numpy<2) ({e})") from None
    return FACEMESH_TESSELATION


@functools.lru_cache(maxsize=1)
def mesh_triangles() -> np.ndarray:
    """The face mesh's triangles, int32 [852, 3] (indices into the 468 mesh points)."""
    edges = {tuple(sorted(e)) for e in _tesselation()}
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    cycles = {tuple(sorted((a, b, c))) for a, b in edges for c in neighbours[a] & neighbours[b]}
    uses: dict[tuple[int, int], int] = defaultdict(int)
    for t in cycles:
        for e in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])):
            uses[e] += 1
    # A 3-cycle that is not a face has every edge shared by three cycles (two faces + itself).
    faces = [t for t in cycles
             if not all(uses[e] == 3 for e in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])))]
    return np.array(sorted(faces), np.int32)


def ring(upper: tuple[int, ...], lower: tuple[int, ...]) -> tuple[int, ...]:
    """A closed loop from two lines that share their end points: upper, then lower reversed."""
    return tuple(upper) + tuple(lower[-2:0:-1])
