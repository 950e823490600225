"""The visemo JSON animation format (see DESIGN.md).

``{"format": "visemo.animation", "version": 1, "fps": 30, "names": [52 names],
"weights": [[52 floats], ...]}``.  Columns are matched by name when read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import arkit
from ..animation import Animation
from ..errors import FormatError
from .atomic import atomic_path

FORMAT = "visemo.animation"
VERSION = 1


def write(anim: Animation, path: Path) -> None:
    """Write ``anim`` as JSON; floats keep float32 precision exactly."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "fps": anim.fps,
        "names": list(arkit.NAMES),
        "weights": [[float(v) for v in row] for row in anim.weights],
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, separators=(",", ":")))


def read(path: Path) -> Animation:
    """Read a visemo JSON animation (any column order, matched by name)."""
    try:
        doc = json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path} is not valid JSON ({e}); expected a visemo.animation file") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise FormatError(f"{path} is not a visemo.animation JSON file (missing \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise FormatError(f"{path} has version {doc.get('version')!r}; this visemo reads version {VERSION}")
    names = doc.get("names")
    weights = np.asarray(doc.get("weights", []), dtype=np.float32)
    if weights.size == 0:
        weights = weights.reshape(0, len(names or ()))
    return Animation.from_channels(names, weights, float(doc["fps"]))
