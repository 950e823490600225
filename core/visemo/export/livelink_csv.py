"""Live Link Face CSV, the layout of Epic's iPhone app recordings.

Columns: ``Timecode, BlendShapeCount, EyeBlinkLeft … TongueOut`` (ARKit names
with a capital first letter), then the nine head/eye rotations ``HeadYaw …
RightEyeRoll`` (radians; written as 0).  ``Timecode`` is ``HH:MM:SS:FF.sss``:
whole seconds plus frame number ``FF`` and its fraction at the recording's fps.
Columns are matched by name when reading, so captures from the app load too.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .. import arkit
from ..animation import Animation
from ..errors import FormatError
from .atomic import atomic_path

ROTATIONS = (
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)
HEADER = ("Timecode", "BlendShapeCount") + tuple(n[0].upper() + n[1:] for n in arkit.NAMES) + ROTATIONS


def timecode(frame: int, fps: float) -> str:
    """``HH:MM:SS:FF.sss`` for frame ``frame`` at ``fps``."""
    t = frame / fps
    secs = int(np.floor(t + 1e-9))
    ff = round((t - secs) * fps, 3)
    if ff >= fps:  # rounding carried into the next second
        secs, ff = secs + 1, 0.0
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    whole = int(ff)
    return f"{h:02d}:{m:02d}:{s:02d}:{whole:02d}.{int(round((ff - whole) * 1000)):03d}"


def parse_timecode(text: str) -> tuple[int, float]:
    """Whole seconds and (fractional) frame number of a ``HH:MM:SS:FF.sss`` timecode."""
    try:
        h, m, s, ff = text.strip().split(":")
        return int(h) * 3600 + int(m) * 60 + int(s), float(ff)
    except ValueError:
        raise FormatError(f"bad Live Link Face timecode {text!r}; expected HH:MM:SS:FF.sss") from None


def write(anim: Animation, path: Path) -> None:
    """Write ``anim`` as a Live Link Face CSV (values with 9 significant digits)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(HEADER)
    zeros = ["0"] * len(ROTATIONS)
    for i, row in enumerate(anim.weights):
        out.writerow([timecode(i, anim.fps), len(arkit.NAMES) + len(ROTATIONS)]
                     + [f"{v:.9g}" for v in row] + zeros)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())


def _infer_fps(codes: list[tuple[int, float]]) -> float | None:
    """Frames per second from the timecodes: the frame count within full seconds."""
    frames_per_second: dict[int, float] = {}
    for s, ff in codes:
        frames_per_second[s] = max(frames_per_second.get(s, 0.0), ff)
    secs = sorted(frames_per_second)
    if len(secs) < 3:
        return None
    # Inner seconds are complete: the highest frame number + 1 is the rate.
    inner = [frames_per_second[s] for s in secs[1:-1]]
    return float(round(max(inner)) + 1)


def read(path: Path, fps: float | None = None) -> Animation:
    """Read a Live Link Face CSV; time starts at the first row.

    ``fps`` is inferred from the timecodes when the file spans 3+ seconds;
    otherwise it must be given.  Rows are resampled onto a regular grid if
    their timecodes are uneven (the app drops frames now and then).
    """
    try:
        rows = list(csv.reader(Path(path).read_text().splitlines()))
    except UnicodeDecodeError:
        raise FormatError(f"{path} is not a text CSV file") from None
    if not rows or not rows[0] or rows[0][0].strip() != "Timecode":
        raise FormatError(f"{path} is not a Live Link Face CSV (first column must be 'Timecode')")
    header = [h.strip() for h in rows[0]]
    lookup = {n.lower(): n for n in arkit.NAMES}
    cols = [(j, lookup[h.lower()]) for j, h in enumerate(header) if h.lower() in lookup]
    if not cols:
        raise FormatError(f"{path} has no ARKit blendshape columns")
    body = [r for r in rows[1:] if r]
    codes = [parse_timecode(r[0]) for r in body]
    rate = fps or _infer_fps(codes)
    if rate is None:
        raise FormatError(f"{path} is too short to infer its frame rate; pass fps explicitly")
    try:
        values = np.array([[float(r[j]) for j, _ in cols] for r in body], dtype=np.float32)
    except (ValueError, IndexError) as e:
        raise FormatError(f"{path} has a malformed row: {e}") from None
    values = values.reshape(len(body), len(cols))
    anim = Animation.from_channels([n for _, n in cols], values, rate)
    if len(body) < 2:
        return anim
    t = np.array([s + ff / rate for s, ff in codes]) - (codes[0][0] + codes[0][1] / rate)
    grid = np.arange(len(body)) / rate
    if np.allclose(t, grid, atol=0.25 / rate):
        return anim
    n = int(round(t[-1] * rate)) + 1
    grid = np.arange(n) / rate
    w = np.stack([np.interp(grid, t, anim.weights[:, j]) for j in range(arkit.COUNT)], axis=1)
    return Animation(w, rate)
