"""File formats: animations (JSON, Live Link Face CSV, NPZ) and mesh sequences.

:func:`write_animation` and :func:`read_animation` pick the format from the
path's suffix.  Mesh sequences (``.pc2``, mesh ``.npz``) need a face model and
live in :mod:`visemo.face.sequence`; Blender files in :mod:`visemo.blender`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import FormatError

ANIMATION_SUFFIXES = (".json", ".csv", ".npz")


def _module(path: Path):
    from . import animation_json, animation_npz, livelink_csv

    table = {".json": animation_json, ".csv": livelink_csv, ".npz": animation_npz}
    try:
        return table[path.suffix.lower()]
    except KeyError:
        raise FormatError(
            f"cannot tell the animation format of {path.name!r}; use one of {', '.join(ANIMATION_SUFFIXES)}"
        ) from None


def write_animation(anim, path: str | Path) -> Path:
    """Write ``anim`` to ``path`` atomically in the format of its suffix."""
    path = Path(path)
    _module(path).write(anim, path)
    return path


def read_animation(path: str | Path, fps: float | None = None):
    """Read an :class:`~visemo.Animation` from a .json, .csv or .npz file."""
    path = Path(path)
    mod = _module(path)
    if not path.is_file():
        raise FormatError(f"animation file not found: {path}")
    if mod.__name__.endswith("livelink_csv"):
        return mod.read(path, fps=fps)
    return mod.read(path)
