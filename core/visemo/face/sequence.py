"""Mesh sequences: per-frame vertex positions of a face model, written to disk.

* ``.pc2`` — the point cache Blender's *Mesh Cache* modifier reads
  (``cache_format='PC2'``).  Little-endian: ``b'POINTCACHE2\\0'``, int32
  version 1, int32 point count, float32 start frame, float32 sample rate
  (*frames per sample*, as 3ds Max and Blender's own PC2 exporter use it),
  int32 sample count, then float32 xyz per point per sample.  In its default
  "Frame" time mode Blender ignores the header's start frame and sample rate:
  set the modifier's ``frame_start`` to the scene frame of sample 0.
* ``.npz`` — ``vertices`` float32 [T,V,3] (m), ``face_sizes``,
  ``face_indices``, ``fps``, ``start_frame`` and ``format`` ("visemo.mesh_sequence").

Writers are atomic (a failure leaves no file) and stream frames, so a minute
of animation never has to sit in memory at once.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

import numpy as np

from ..animation import Animation
from ..errors import FormatError
from ..export.atomic import atomic_path
from .model import DEFAULT_CHUNK_FRAMES, FaceModel, load_face_model
from .storage import zip_entry

PC2_MAGIC = b"POINTCACHE2\0"
_PC2_HEADER = struct.Struct("<12siiffi")  # 32 bytes
NPZ_FORMAT = "visemo.mesh_sequence"
SUFFIXES = (".pc2", ".npz")


class PC2Cache(NamedTuple):
    """Contents of a PC2 file."""

    vertices: np.ndarray  # float32 [T, V, 3]
    start_frame: float
    sample_rate: float  # frames per sample


# ---------------------------------------------------------------------- PC2
def write_pc2(path: str | Path, vertices: np.ndarray, fps: float, start_frame: float = 0.0,
              *, scene_fps: float | None = None) -> Path:
    """Write vertices [T,V,3] (one sample per frame at ``fps``) as a PC2 cache.

    ``start_frame`` is stored in the header as the frame of the first sample.
    The header's sample rate is ``scene_fps / fps`` scene frames per sample
    (1.0 when the scene runs at ``fps``, the default).
    """
    v = _check_vertices(vertices)
    return _write_pc2_stream(path, iter([v]), len(v), v.shape[1], fps, start_frame, scene_fps)


def read_pc2(path: str | Path) -> PC2Cache:
    """Read a PC2 file written by :func:`write_pc2` (or any PC2 writer)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(f"cannot read PC2 file {path}: {e.strerror}") from None
    if len(data) < _PC2_HEADER.size or data[:12] != PC2_MAGIC:
        raise FormatError(f"{path} is not a PC2 point cache (no POINTCACHE2 header)")
    _, _version, points, start, rate, samples = _PC2_HEADER.unpack_from(data)
    expected = _PC2_HEADER.size + samples * points * 12
    if points < 0 or samples < 0 or len(data) != expected:
        raise FormatError(f"{path}: PC2 header promises {samples} samples of {points} points "
                          f"({expected} bytes) but the file has {len(data)} bytes")
    v = np.frombuffer(data, dtype="<f4", offset=_PC2_HEADER.size).reshape(samples, points, 3)
    return PC2Cache(v.astype(np.float32), float(start), float(rate))


def _write_pc2_stream(path, chunks: Iterable[np.ndarray], frames: int, points: int, fps: float,
                      start_frame: float, scene_fps: float | None) -> Path:
    _check_fps(fps)
    rate = 1.0 if scene_fps is None else _check_fps(scene_fps) / fps
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(_PC2_HEADER.pack(PC2_MAGIC, 1, points, float(start_frame), rate, frames))
            _write_frames(f, chunks, frames, points, path)
    return path


# ---------------------------------------------------------------------- NPZ
def write_mesh_npz(path: str | Path, vertices: np.ndarray, face_sizes: np.ndarray,
                   face_indices: np.ndarray, fps: float, start_frame: float = 0.0) -> Path:
    """Write vertices [T,V,3] (m) and the polygons as an ``.npz`` mesh sequence."""
    v = _check_vertices(vertices)
    return _write_npz_stream(path, iter([v]), len(v), v.shape[1], face_sizes, face_indices,
                             fps, start_frame)


def read_mesh_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read an ``.npz`` mesh sequence into a dict of arrays."""
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise FormatError(f"cannot read mesh sequence {path}: {e}") from None
    if str(out.get("format", "")) != NPZ_FORMAT:
        raise FormatError(f"{path} is not a visemo mesh sequence (format != {NPZ_FORMAT!r})")
    return out


def _write_npz_stream(path, chunks: Iterable[np.ndarray], frames: int, points: int,
                      face_sizes: np.ndarray, face_indices: np.ndarray, fps: float,
                      start_frame: float) -> Path:
    _check_fps(fps)
    sizes = np.asarray(face_sizes, dtype=np.int32)
    corners = np.asarray(face_indices, dtype=np.int32)
    if sizes.ndim != 1 or corners.shape != (int(sizes.sum()),):
        raise FormatError("face_sizes must be 1-D and sum to len(face_indices)")
    if len(corners) and (corners.min() < 0 or corners.max() >= points):
        raise FormatError(f"face_indices must lie in 0..{points - 1}")
    small = {
        "format": np.array(NPZ_FORMAT),
        "fps": np.array(fps, dtype=np.float64),
        "start_frame": np.array(start_frame, dtype=np.float64),
        "face_sizes": sizes,
        "face_indices": corners,
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            with zf.open(zip_entry("vertices.npy", compress=False), "w", force_zip64=True) as f:
                header = {"descr": "<f4", "fortran_order": False, "shape": (frames, points, 3)}
                np.lib.format.write_array_header_1_0(f, header)
                _write_frames(f, chunks, frames, points, path)
            for key, arr in small.items():
                with zf.open(zip_entry(f"{key}.npy", compress=True), "w") as f:
                    np.lib.format.write_array(f, arr, allow_pickle=False)
    return path


# ---------------------------------------------------------------------- animation
def write_animation_mesh(anim: Animation, path: str | Path, model: FaceModel | None = None,
                         *, start_frame: float = 0.0,
                         chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> Path:
    """Evaluate ``model`` (default: the bundled head) for ``anim`` and write it.

    The format follows the suffix: ``.pc2`` or ``.npz``.  Frames are evaluated
    and written ``chunk_frames`` at a time (~V*12 bytes each).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FormatError(f"cannot write a mesh sequence to {path.name!r}: use a .pc2 or .npz file")
    if anim.frames == 0:
        raise FormatError("the animation has no frames; nothing to write")
    model = model or load_face_model()
    chunks: Iterator[np.ndarray] = model.iter_evaluate(anim.weights, chunk_frames)
    if suffix == ".pc2":
        return _write_pc2_stream(path, chunks, anim.frames, model.vertex_count, anim.fps,
                                 start_frame, None)
    return _write_npz_stream(path, chunks, anim.frames, model.vertex_count, model.face_sizes,
                             model.face_indices, anim.fps, start_frame)


# ---------------------------------------------------------------------- checks
def _check_vertices(vertices: np.ndarray, points: int | None = None) -> np.ndarray:
    v = np.asarray(vertices, dtype=np.float32)
    if v.ndim != 3 or v.shape[2] != 3 or (points is not None and v.shape[1] != points):
        want = f"[frames, {points if points is not None else 'V'}, 3]"
        raise FormatError(f"mesh sequence vertices must have shape {want}, got {v.shape}")
    if len(v) == 0 and points is None:
        raise FormatError("the mesh sequence has no frames; nothing to write")
    if not np.all(np.isfinite(v)):
        raise FormatError("mesh sequence vertices contain NaN or infinite values")
    return v


def _write_frames(f, chunks: Iterable[np.ndarray], frames: int, points: int, path) -> None:
    """Write vertex chunks [n, points, 3] as raw float32; FormatError unless exactly ``frames`` came."""
    written = 0
    for chunk in chunks:
        chunk = _check_vertices(chunk, points)
        f.write(_raw_bytes(chunk))
        written += len(chunk)
    if written != frames:
        raise FormatError(f"internal error: wrote {written} of {frames} frames to {path}")


def _raw_bytes(chunk: np.ndarray) -> memoryview:
    """Little-endian float32 bytes of ``chunk`` without a copy when possible."""
    return memoryview(np.ascontiguousarray(chunk, dtype="<f4")).cast("B")


def _check_fps(fps: float) -> float:
    numeric = isinstance(fps, (int, float, np.floating, np.integer))
    if not (numeric and np.isfinite(fps) and fps > 0):
        raise FormatError(f"fps must be a positive number, got {fps!r}")
    return float(fps)
