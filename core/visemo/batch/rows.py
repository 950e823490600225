"""The one batch row reader: a CSV of dialogue lines → :class:`Row` s, their outputs, their cells parsed.

Used by every batch path — ``visemo batch`` (Dask) and the Blender script's
``--batch`` — so the two cannot read a CSV differently.  Blender-free and
Dask-free.

CSV: a header row, then one row per line of dialogue.  Columns (any order,
case-insensitive, ``_``/``-``/space alike): ``file`` (speech; required),
``emotion`` (default neutral: a prompt, ``auto``, ``image:PHOTO``, a keys file
or inline keys ``0=happy; 2=sad``), ``intensity`` (0..1, default 1),
``object`` (mesh in the character .blend), ``transcript`` (text, or a .txt
file), ``output`` (file name in the output folder; default: the speech file's
stem, ``_row<N>`` added when two rows would collide), ``start_frame``,
``portrait`` (a photo of one face: the row also writes the talking portrait,
``<output>.mp4``), ``language`` (the transcript's language, ISO code; default
English), ``format`` (the output's suffix when ``output`` has none; default:
the batch's ``--format``).  Blank rows and rows whose first cell starts with
``#`` are skipped.  Paths are relative to the CSV's folder.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import AudioError, PromptError, VisemoError

COLUMNS = ("file", "emotion", "intensity", "object", "transcript", "output", "start_frame", "portrait",
           "language", "format")
"""Every column a batch CSV may have (``file`` is required)."""

ALIASES = {"speech": "file", "audio": "file", "output_name": "output", "out": "output",
           "start": "start_frame", "startframe": "start_frame", "prompt": "emotion", "photo": "portrait",
           "lang": "language", "suffix": "format"}
"""Other header names read as a column."""

PORTRAIT_SUFFIX = ".mp4"
"""A row's ``portrait`` video goes beside its output with this suffix."""


class BatchInputError(VisemoError):
    """The batch cannot start: its CSV or options are wrong (exit 2 before any row runs)."""


@dataclass
class Row:
    """One CSV data row (cells stripped; empty cells are None); ``number`` is its position after the header (from 1)."""

    number: int
    file: str | None
    emotion: str | None = None
    intensity: str | None = None
    object: str | None = None
    transcript: str | None = None
    output: str | None = None
    start_frame: str | None = None
    portrait: str | None = None
    language: str | None = None
    format: str | None = None

    def cells(self) -> dict[str, str | None]:
        """The row's cells by column name (no ``number``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "number"}


def read_rows(csv_path: Path) -> list[Row]:
    """The data rows of a batch CSV (header required; blank and ``#`` rows skipped).

    ``Row.number`` is the record's position after the header (1 = first row),
    counting skipped rows too, so it points at the same record in the file.
    Raises :class:`BatchInputError` for a missing/unreadable file, an unknown
    or repeated column, no ``file`` column, or no rows.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise BatchInputError(f"batch CSV not found: {csv_path}")
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            body = list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise BatchInputError(f"cannot read {csv_path.name} as CSV ({e})") from None
    if not header:
        raise BatchInputError(f"{csv_path.name} is empty; it needs a header row: {','.join(COLUMNS[:4])}")
    columns = []
    for name in header:
        key = name.strip().lower().replace(" ", "_").replace("-", "_")
        key = ALIASES.get(key, key)
        if key not in COLUMNS:
            raise BatchInputError(f"{csv_path.name}: unknown column {name!r}; columns are {', '.join(COLUMNS)}")
        if key in columns:
            raise BatchInputError(f"{csv_path.name}: column {key!r} appears twice")
        columns.append(key)
    if "file" not in columns:
        raise BatchInputError(f"{csv_path.name} has no 'file' column; columns are {', '.join(COLUMNS)}")
    rows = []
    for number, cells in enumerate(body, 1):
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        values = {k: (cells[i].strip() if i < len(cells) else "") for i, k in enumerate(columns)}
        rows.append(Row(number, **{k: (v or None) for k, v in values.items()}))
    if not rows:
        raise BatchInputError(f"{csv_path.name} has a header but no rows")
    return rows


def _has_suffix(name: str, suffixes: tuple[str, ...]) -> bool:
    return any(name.lower().endswith(s) for s in suffixes)


def plan_outputs(rows: list[Row], out_dir: Path, fmt: str, suffixes: tuple[str, ...],
                 portrait_beside: bool = True) -> dict[int, Path | str]:
    """Row number → its output path in ``out_dir``, or the one-line reason the row cannot be written.

    ``fmt``: the default suffix without the dot (a row's ``format`` cell wins);
    ``suffixes``: the suffixes this batch path can write (".json", ".mesh.npz",
    ...).  An ``output`` cell without one of them gets the format's suffix; an
    empty cell the speech file's stem (``_row<N>`` added when that collides).
    Two rows naming the same file: the second is refused.  With
    ``portrait_beside``, a portrait row's video (:func:`portrait_video`)
    takes its name too.
    """
    out: dict[int, Path | str] = {}
    taken: dict[str, int] = {}

    def key(p: Path) -> str:
        return os.path.normcase(str(p))

    for row in rows:
        row_fmt = (row.format or fmt).lower().lstrip(".")
        if not _has_suffix(f".{row_fmt}", suffixes):
            out[row.number] = (f"format {row_fmt!r} cannot be written here; use one of "
                               f"{', '.join(s.lstrip('.') for s in suffixes)}")
            continue
        if row.output:
            name = row.output
            path = out_dir / (name if _has_suffix(name, suffixes) else f"{name}.{row_fmt}")
            if Path(name).is_absolute() or ".." in Path(name).parts:
                out[row.number] = f"output {name!r} must be a file name inside the output folder"
                continue
        else:
            stem = Path(row.file or f"row{row.number}").stem
            path = out_dir / f"{stem}.{row_fmt}"
            if key(path) in taken:
                path = out_dir / f"{stem}_row{row.number}.{row_fmt}"
        names = [path]
        if portrait_beside and row.portrait and not path.name.lower().endswith(PORTRAIT_SUFFIX):
            names.append(portrait_video(path))
        clash = next((p for p in names if key(p) in taken), None)
        if clash is not None:
            out[row.number] = f"output {clash.name!r} is also row {taken[key(clash)]}'s output"
            continue
        for p in names:
            taken[key(p)] = row.number
        out[row.number] = path
    return out


def portrait_video(out: Path) -> Path:
    """Where a row's talking-portrait video goes: beside ``out``, suffix .mp4 (``a.mesh.npz`` → ``a.mp4``)."""
    name = out.name
    for double in (".mesh.npz",):
        if name.lower().endswith(double):
            return out.with_name(name[: -len(double)] + PORTRAIT_SUFFIX)
    return out.with_suffix(PORTRAIT_SUFFIX)


@dataclass
class RowJob:
    """A row's cells checked and parsed (paths absolute; no model work beyond the emotion prompt)."""

    speech: Path
    emotion: object
    intensity: float
    transcript: str | None
    start_frame: int | None
    portrait: Path | None
    language: str | None
    object: str | None


def speech_path(row: Row, base: Path) -> Path:
    """The row's speech file, relative to ``base`` (AudioError if the cell is empty)."""
    if not row.file:
        raise AudioError("the row has no speech file (the 'file' cell is empty)")
    return Path(base) / row.file


def transcript_value(row: Row, base: Path) -> str | None:
    """The transcript cell: text, or the path of a .txt file relative to ``base``."""
    transcript = row.transcript or None
    if transcript and transcript.lower().endswith(".txt"):
        transcript = str(Path(base) / transcript)  # a file named in the CSV: relative to the CSV
    return transcript


def input_files(row: Row, base: Path) -> list[Path]:
    """The files a row reads (speech, transcript file, portrait, emotion photo or keys file), that exist.

    For the batch manifest's hashes; a photo named inside a keys file is not
    listed (edit the keys file to make the row run again).
    """
    from ..emotion.keys_file import IMAGE_PREFIX, SUFFIXES

    base = Path(base)
    found = []
    if row.file:
        found.append(base / row.file)
    t = transcript_value(row, base)
    if t and len(t) < 1024 and Path(t).is_file():
        found.append(Path(t))
    if row.portrait:
        found.append(base / row.portrait)
    e = (row.emotion or "").strip()
    if e.lower().startswith(IMAGE_PREFIX):
        found.append(base / e[len(IMAGE_PREFIX):].strip())
    elif Path(e).suffix.lower() in SUFFIXES:
        found.append(base / e)
    else:  # inline keys may name photos: "0=happy; 2=image:ref.jpg"
        for part in e.split(";"):
            rest = part.split("=", 1)[-1].strip()
            if rest.lower().startswith(IMAGE_PREFIX):
                found.append(base / rest[len(IMAGE_PREFIX):].split("@")[0].strip())
    return [p for p in found if p.is_file()]


def parse_row(row: Row, base: Path) -> RowJob:
    """Check and parse a row's cells (no Blender, no photo fitting): a :class:`RowJob`.

    Raises AudioError (no or missing speech file), PromptError (unknown
    emotion, bad intensity or start frame), VisemoError (unreadable transcript
    file).  ``base``: the folder relative paths start from (the CSV's).
    """
    from ..cli import read_transcript
    from ..emotion.keys_file import emotion_spec
    from ..pipeline import emotion_track

    speech = speech_path(row, base)
    try:
        intensity = 1.0 if row.intensity is None else float(row.intensity)
    except ValueError:
        raise PromptError(f"intensity must be a number between 0 and 1, got {row.intensity!r}") from None
    emotion = emotion_spec(row.emotion, base)
    emotion_track(emotion, intensity)  # unknown emotion / bad intensity or photo: PromptError now
    try:
        start = None if row.start_frame is None else int(row.start_frame)
    except ValueError:
        raise PromptError(f"start_frame must be a whole number, got {row.start_frame!r}") from None
    if not speech.is_file():
        raise AudioError(f"speech file not found: {speech}")
    transcript = read_transcript(transcript_value(row, base))
    portrait = None if not row.portrait else Path(base) / row.portrait
    return RowJob(speech, emotion, intensity, transcript, start, portrait, row.language, row.object)


def mapping_spec(value: str | None):
    """A ``--mapping`` option: None, a preset name, or the text of a mapping .json file (checked now).

    Raises :class:`BatchInputError` for a missing file, RigError for an
    unknown preset or a malformed mapping.
    """
    from .. import rigmap

    if value is None:
        return None
    path = Path(value)
    if path.suffix.lower() == ".json" or path.is_file():
        if not path.is_file():
            raise BatchInputError(f"mapping file not found: {path}")
        text = path.read_text(encoding="utf-8")
        rigmap.resolve([], text)  # validate the file now, not on every row
        return text
    rigmap.resolve([], value)  # unknown preset -> RigError now
    return value
