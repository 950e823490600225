"""``FaceModel``: a rest mesh plus one vertex offset field per ARKit channel.

A pose is ``vertices + sum_c weights[c] * deltas[c]`` (linear blendshapes, the
way Blender's relative shape keys combine).  Coordinates are Blender's:
metres, Z up, the face looking down -Y, the character's left on +X.

The bundled default is ``models/arkit_head`` (see its ``build.py``); a model
folder holds ``model.json`` (card with ``file``, ``sha256`` and the channel
``names``) and the ``.npz`` it names.  Channels are mapped by name, never by
position.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from .. import arkit
from ..errors import FormatError, ModelError
from ..paths import model_dir
from .storage import sha256_file

DEFAULT_MODEL = "arkit_head"
DEFAULT_CHUNK_FRAMES = 64

_EMPTY_INDEX = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True, eq=False)
class FaceModel:
    """Rest mesh + 52 ARKit offset fields (float32, metres).

    ``vertices`` [V,3]; polygons as ``face_sizes`` [F] and flat
    ``face_indices`` [sum(face_sizes)]; ``deltas`` [52,V,3] in
    :data:`visemo.arkit.NAMES` order (zero for channels the model lacks, see
    ``channels``); ``parts`` [V] indexes ``part_names``; ``lip_upper`` /
    ``lip_lower`` [K] are paired vertices on the inner lip contour (first pair
    at the midline), from which :meth:`lip_gap` measures the opening;
    ``mouth_corners`` [2] is (left, right); ``lip_contour`` the whole ring.
    Arrays are read-only copies.
    """

    vertices: np.ndarray
    face_sizes: np.ndarray
    face_indices: np.ndarray
    deltas: np.ndarray
    parts: np.ndarray
    part_names: tuple[str, ...]
    lip_upper: np.ndarray
    lip_lower: np.ndarray
    mouth_corners: np.ndarray
    lip_contour: np.ndarray = field(default_factory=lambda: _EMPTY_INDEX)
    channels: tuple[str, ...] = arkit.NAMES
    name: str = "face"
    source: Path | None = None

    def __post_init__(self) -> None:
        verts = _frozen(self.vertices, np.float32)
        n = len(verts)
        if verts.ndim != 2 or verts.shape[1] != 3 or n == 0:
            raise ModelError(f"face model vertices must have shape [V, 3], got {verts.shape}")
        deltas = _frozen(self.deltas, np.float32)
        if deltas.shape != (arkit.COUNT, n, 3):
            raise ModelError(f"face model deltas must have shape [52, {n}, 3], got {deltas.shape}")
        sizes = _frozen(self.face_sizes, np.int32)
        corners = _frozen(self.face_indices, np.int32)
        if sizes.ndim != 1 or (sizes < 3).any() or corners.shape != (int(sizes.sum()),):
            raise ModelError("face model polygons are inconsistent: face_sizes must be >= 3 "
                             "and sum to len(face_indices)")
        if len(corners) and (corners.min() < 0 or corners.max() >= n):
            raise ModelError("face model polygons index vertices that do not exist")
        parts = _frozen(self.parts, np.uint8)
        if parts.shape != (n,) or (len(self.part_names) and parts.max() >= len(self.part_names)):
            raise ModelError("face model parts must give one valid part index per vertex")
        upper, lower = _frozen(self.lip_upper, np.int32), _frozen(self.lip_lower, np.int32)
        mouth = _frozen(self.mouth_corners, np.int32)
        contour = _frozen(self.lip_contour, np.int32)
        if upper.shape != lower.shape or upper.ndim != 1 or len(upper) == 0 or mouth.shape != (2,):
            raise ModelError("face model needs paired lip_upper/lip_lower landmarks "
                             "and 2 mouth corners")
        for idx in (upper, lower, mouth, contour):
            if len(idx) and (idx.min() < 0 or idx.max() >= n):
                raise ModelError("face model landmark indices point past the vertices")
        moved = np.flatnonzero(np.any(deltas != 0, axis=(0, 2))).astype(np.int64)
        # float64 products, rounded once to float32: results do not depend on
        # how frames are chunked (float32 BLAS kernels differ by matrix size).
        basis = deltas.reshape(arkit.COUNT, n * 3).astype(np.float64)  # [52, V*3]
        basis.setflags(write=False)
        base64 = verts.reshape(-1).astype(np.float64)
        base64.setflags(write=False)
        rest_dz = verts[upper, 2].astype(np.float64) - verts[lower, 2]
        rest_dz.setflags(write=False)
        for key, value in (("vertices", verts), ("deltas", deltas), ("face_sizes", sizes),
                           ("face_indices", corners), ("parts", parts), ("lip_upper", upper),
                           ("lip_lower", lower), ("mouth_corners", mouth), ("lip_contour", contour),
                           ("part_names", tuple(self.part_names)),
                           ("channels", tuple(self.channels)),
                           ("_moved", moved), ("_basis", basis), ("_base64", base64),
                           ("_rest_dz", rest_dz)):
            object.__setattr__(self, key, value)

    # ------------------------------------------------------------------ sizes
    @property
    def vertex_count(self) -> int:
        """Number of vertices V."""
        return int(self.vertices.shape[0])

    @property
    def face_count(self) -> int:
        """Number of polygons F."""
        return int(self.face_sizes.shape[0])

    @property
    def names(self) -> tuple[str, ...]:
        """Channel of each row of ``deltas``: always :data:`visemo.arkit.NAMES`."""
        return arkit.NAMES

    @property
    def moved_vertices(self) -> np.ndarray:
        """Indices of the vertices that at least one channel moves (int64, sorted)."""
        return self._moved

    def polygons(self) -> list[tuple[int, ...]]:
        """Polygons as vertex-index tuples (e.g. for ``Mesh.from_pydata``)."""
        ends = np.cumsum(self.face_sizes)
        return [tuple(p) for p in np.split(self.face_indices.tolist(), ends[:-1])]

    def part_mask(self, *names: str) -> np.ndarray:
        """Boolean [V]: vertices in any of the named parts (e.g. ``"skin"``)."""
        unknown = [n for n in names if n not in self.part_names]
        if unknown:
            raise KeyError(f"unknown part(s) {unknown}; this model has {list(self.part_names)}")
        return np.isin(self.parts, [self.part_names.index(n) for n in names])

    # ------------------------------------------------------------------ evaluation
    def weights_for(self, **channels: float) -> np.ndarray:
        """Weight vector float32 [52] from ARKit names, e.g. ``jawOpen=1.0``."""
        w = np.zeros(arkit.COUNT, np.float32)
        for name, value in channels.items():
            w[arkit.index(name)] = value
        return w

    def pose(self, **channels: float) -> np.ndarray:
        """Vertices [V,3] (m) for named weights, e.g. ``pose(jawOpen=0.5)``."""
        return self.evaluate(self.weights_for(**channels))

    def evaluate(self, weights: np.ndarray, chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> np.ndarray:
        """Posed vertices (m): weights [52] -> [V,3], or [T,52] -> [T,V,3] float32.

        Weights are columns in ARKit order and are not clamped.  One
        [t,52] x [52,V*3] product per chunk of ``chunk_frames`` frames (dense
        is faster than gathering the moved vertices: most of the head moves),
        in float64, rounded once, so one-hot weights give exactly base + delta
        and chunking never changes a bit.  The result itself is T*V*12 bytes
        (use :meth:`iter_evaluate` to stream).
        """
        w, single = self._check_weights(weights)
        out = np.empty((len(w), self.vertex_count, 3), np.float32)
        start = 0
        for chunk in self.iter_evaluate(w, chunk_frames):
            out[start:start + len(chunk)] = chunk
            start += len(chunk)
        return out[0] if single else out

    def iter_evaluate(self, weights: np.ndarray,
                      chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> Iterator[np.ndarray]:
        """Yield posed vertices float32 [t,V,3] for consecutive chunks of frames."""
        w, _ = self._check_weights(weights)
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        for start in range(0, len(w), chunk_frames):
            wc = w[start:start + chunk_frames].astype(np.float64)
            flat = wc @ self._basis  # [t, V*3]
            flat += self._base64
            out = flat.astype(np.float32).reshape(len(wc), self.vertex_count, 3)
            del flat  # free the float64 buffer before the consumer runs
            yield out

    def evaluate_subset(self, weights: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Posed positions (m) of only the vertices ``indices``: [K,3] or [T,K,3].

        Bit-identical to the same rows of :meth:`evaluate`, and cheap for long
        animations when only a few points matter (landmarks).
        """
        w, single = self._check_weights(weights)
        idx = np.asarray(indices, dtype=np.int64)
        basis = self.deltas[:, idx].astype(np.float64).reshape(arkit.COUNT, -1)
        flat = w.astype(np.float64) @ basis
        flat += self.vertices[idx].astype(np.float64).reshape(-1)
        out = flat.astype(np.float32).reshape(len(w), len(idx), 3)
        return out[0] if single else out

    def lip_gap_of_weights(self, weights: np.ndarray, *, signed: bool = False,
                           absolute: bool = False) -> float | np.ndarray:
        """:meth:`lip_gap` straight from weights [52] or [T,52], without the full mesh."""
        k = len(self.lip_upper)
        pts = self.evaluate_subset(weights, np.concatenate([self.lip_upper, self.lip_lower]))
        return _vertical_gap(pts[..., :k, 2], pts[..., k:, 2],
                             0.0 if absolute else self._rest_dz, signed)

    def _check_weights(self, weights: np.ndarray) -> tuple[np.ndarray, bool]:
        w = np.asarray(weights, dtype=np.float32)
        single = w.ndim == 1
        if single:
            w = w[None]
        if w.ndim != 2 or w.shape[1] != arkit.COUNT:
            raise FormatError(
                f"weights must have shape [52] or [frames, 52], got {np.shape(weights)}")
        if not np.all(np.isfinite(w)):
            raise FormatError("weights contain NaN or infinite values")
        return w, single

    # ------------------------------------------------------------------ measurements
    def lip_gap(self, vertices: np.ndarray, *, signed: bool = False,
                absolute: bool = False) -> float | np.ndarray:
        """Lip opening (m) for vertices [V,3] (-> float) or [T,V,3] (-> [T]).

        Per landmark pair: the vertical (Z) separation of the upper and lower
        inner lip, minus its value in the rest pose (unless ``absolute``), so
        the neutral closed mouth reads 0; clamped at 0 unless ``signed`` (a
        negative value means the lips are pushed together or past each other:
        pressed, rolled, pursed — closed, not open).  Returns the pair mean.
        The bundled head: 0 at rest (0.91 mm absolute: the mesh's rest slit),
        32.3 mm at jawOpen=1, 0 at jawOpen=1 + mouthClose=1.
        """
        v = _vertices(vertices, self.vertex_count)
        return _vertical_gap(v[..., self.lip_upper, 2], v[..., self.lip_lower, 2],
                             0.0 if absolute else self._rest_dz, signed)

    def lip_distance(self, vertices: np.ndarray) -> float | np.ndarray:
        """Mean 3-D distance (m) between the paired upper and lower lip landmarks."""
        v = _vertices(vertices, self.vertex_count).astype(np.float64)
        d = np.linalg.norm(v[..., self.lip_upper, :] - v[..., self.lip_lower, :], axis=-1)
        return _scalar_or_array(d.mean(axis=-1))

    def mouth_width(self, vertices: np.ndarray) -> float | np.ndarray:
        """Distance (m) between the mouth corners, for [V,3] or [T,V,3]."""
        v = _vertices(vertices, self.vertex_count).astype(np.float64)
        left, right = self.mouth_corners
        return _scalar_or_array(np.linalg.norm(v[..., left, :] - v[..., right, :], axis=-1))

    def __repr__(self) -> str:
        return (f"FaceModel({self.name!r}, vertices={self.vertex_count}, faces={self.face_count}, "
                f"channels={len(self.channels)})")


# ---------------------------------------------------------------------- loading
_CACHE: dict[Path, FaceModel] = {}


def load_face_model(path: str | Path | None = None) -> FaceModel:
    """Load a face model folder (or its ``model.json``); default: the bundled head.

    The ``.npz``'s sha256 must match ``model.json``; a missing or damaged
    model raises :class:`ModelError`.  The default model is cached per
    models folder (see :func:`visemo.paths.models_dir`).
    """
    if path is not None:
        return _load(Path(path))
    folder = model_dir(DEFAULT_MODEL).resolve()
    if folder not in _CACHE:
        _CACHE[folder] = _load(folder)
    return _CACHE[folder]


def _load(path: Path) -> FaceModel:
    card_path = path / "model.json" if path.is_dir() or path.suffix != ".json" else path
    if not card_path.is_file():
        raise ModelError(f"face model card {card_path} not found; pass a model folder holding "
                         "model.json (the bundled one is models/arkit_head)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        file_name, expected_sha, card_names = card["file"], card["sha256"], list(card["names"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{card_path} is not a valid model card ({e}); restore it from git "
                         "or rebuild the model") from None
    if card.get("kind", "face_model") != "face_model":
        raise ModelError(f"{card_path} describes a {card.get('kind')!r}, not a face_model")
    data_path = card_path.parent / file_name
    rebuild = _rebuild_hint(card)
    if not data_path.is_file():
        raise ModelError(f"face model data {data_path} is missing; {rebuild}")
    with open(data_path, "rb") as f:
        if f.read(64).startswith(b"version https://git-lfs"):
            raise ModelError(f"{data_path} is a Git LFS pointer, not the data; run `git lfs pull`")
    actual_sha = sha256_file(data_path)
    if actual_sha != expected_sha:
        raise ModelError(f"face model data {data_path} is damaged: its sha256 {actual_sha[:12]}… "
                         f"does not match {expected_sha[:12]}… in {card_path.name}; {rebuild}")
    try:
        with np.load(data_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # zip/npy errors come in many types
        raise ModelError(f"cannot read {data_path} ({e}); {rebuild}") from None
    try:
        return _from_arrays(arrays, card, card_names, data_path)
    except KeyError as e:
        raise ModelError(f"{data_path} lacks the array {e.args[0]!r}; {rebuild}") from None


def _from_arrays(a: dict, card: dict, card_names: list[str], source: Path) -> FaceModel:
    names = [str(n) for n in a["names"]]
    if names != card_names:
        raise ModelError(f"{source.name} and model.json list different channel names/orders; "
                         "rebuild the model so they agree")
    unknown = [n for n in names if n not in arkit.NAMES]
    if unknown or len(set(names)) != len(names):
        raise ModelError(f"{source.name}: channel names must be distinct ARKit names; "
                         f"bad: {unknown or 'duplicates'}")
    verts = np.asarray(a["vertices"], np.float32)
    ptr, rows, values = a["delta_ptr"], a["delta_index"], np.asarray(a["delta_values"], np.float32)
    if len(ptr) != len(names) + 1 or ptr[-1] != len(rows) or values.shape != (len(rows), 3):
        raise ModelError(f"{source.name}: delta arrays are inconsistent; rebuild the model")
    if len(rows) and (rows.min() < 0 or rows.max() >= len(verts)):
        raise ModelError(f"{source.name}: deltas point past the vertices; rebuild the model")
    deltas = np.zeros((arkit.COUNT, len(verts), 3), np.float32)
    for c, name in enumerate(names):  # by name, never by position
        block = slice(int(ptr[c]), int(ptr[c + 1]))
        deltas[arkit.index(name), rows[block]] = values[block]
    return FaceModel(
        vertices=verts,
        face_sizes=a["face_sizes"],
        face_indices=a["face_indices"],
        deltas=deltas,
        parts=a["parts"],
        part_names=tuple(str(p) for p in a["part_names"]),
        lip_upper=a["lip_upper"],
        lip_lower=a["lip_lower"],
        mouth_corners=a["mouth_corners"],
        lip_contour=a.get("lip_contour", _EMPTY_INDEX),
        channels=tuple(n for n in arkit.NAMES if n in names),
        name=str(card.get("name", source.parent.name)),
        source=source,
    )


def _rebuild_hint(card: dict) -> str:
    build = card.get("build")
    if build:
        return f"restore it from git or rebuild it with `python {build}`"
    return "restore the model folder from its source"


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    arr = np.array(a, dtype=dtype)  # a private copy, so freezing it is safe
    arr.setflags(write=False)
    return arr


def _vertices(vertices: np.ndarray, count: int) -> np.ndarray:
    v = np.asarray(vertices)
    if v.ndim not in (2, 3) or v.shape[-2:] != (count, 3):
        raise FormatError(f"expected vertices [{count}, 3] or [frames, {count}, 3], got {v.shape}")
    return v


def _vertical_gap(upper_z: np.ndarray, lower_z: np.ndarray, rest: np.ndarray | float,
                  signed: bool) -> float | np.ndarray:
    dz = upper_z.astype(np.float64) - lower_z - rest
    if not signed:
        dz = np.maximum(dz, 0.0)
    return _scalar_or_array(dz.mean(axis=-1))


def _scalar_or_array(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x
