"""Emotion keys over time in a file or on the command line: read, parse, write.

Three spellings of an :class:`~visemo.emotion.track.EmotionTrack`, times in seconds:

* **JSON** (``.json``)::

      {"transition": 0.4,
       "keys": [{"time": 0.0, "prompt": "happy", "intensity": 1.0},
                {"time": 2.5, "image": "reference.jpg", "intensity": 0.8}]}

* **CSV** (``.csv``): a header ``time,prompt,intensity`` (optional column
  ``image``), one key a row.
* **inline** (``--emotion-keys "0=happy; 2.5=quietly furious@0.8; 4=image:ref.jpg"``):
  ``TIME=PROMPT[@INTENSITY]`` separated by ``;``.

A relative ``image`` path in a file is relative to the file's folder.  The
track ``visemo animate --emotion auto`` made can be saved with
``--save-emotion-keys`` in the same formats, edited, and passed back.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

from ..errors import PromptError
from .track import EmotionKey, EmotionTrack

SUFFIXES = (".json", ".csv")
DEFAULT_TRANSITION = 0.4
"""Seconds the face takes to move from one key's emotion to the next."""

IMAGE_PREFIX = "image:"


def _number(value, what: str, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise PromptError(f"{where}: {what} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise PromptError(f"{where}: {what} must be a finite number, got {value!r}")
    return x


def _key(time, prompt, intensity, image, where: str, base: Path | None) -> EmotionKey:
    prompt = (prompt or "").strip() or None
    image = (image or "").strip() or None
    if prompt is not None and prompt.lower().startswith(IMAGE_PREFIX) and image is None:
        image, prompt = prompt[len(IMAGE_PREFIX):].strip(), None
    if image is not None and prompt is not None:
        raise PromptError(f"{where}: a key has a prompt or an image, not both")
    if image is not None and base is not None and not Path(image).is_absolute():
        image = str(base / image)
    return EmotionKey(_number(time, "the time", where), prompt,
                      1.0 if intensity in (None, "") else _number(intensity, "the intensity", where), image)


def parse_keys(spec: str, transition: float = DEFAULT_TRANSITION) -> EmotionTrack:
    """An inline spec ``"0=happy; 2.5=angry@0.8"`` → track (PromptError if malformed)."""
    keys = []
    for n, part in enumerate(p.strip() for p in spec.split(";")):
        if not part:
            continue
        where = f"emotion key {n + 1} ({part!r})"
        if "=" not in part:
            raise PromptError(f"{where}: write TIME=PROMPT[@INTENSITY], e.g. '0=happy; 2.5=angry@0.8'")
        time, rest = part.split("=", 1)
        prompt, intensity = (rest.rsplit("@", 1) + [None])[:2] if "@" in rest else (rest, None)
        keys.append(_key(time, prompt, intensity, None, where, None))
    if not keys:
        raise PromptError("no emotion keys given; write TIME=PROMPT[@INTENSITY], e.g. '0=happy; 2.5=angry@0.8'")
    return EmotionTrack(tuple(keys), transition)


def read_keys(path: str | Path, transition: float | None = None) -> EmotionTrack:
    """The track in a ``.json`` or ``.csv`` keys file.

    ``transition`` (s), when given, wins over the file's.  Raises
    :class:`PromptError` for a missing or malformed file or a bad key.
    """
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise PromptError(f"emotion keys file must be .json or .csv, got {path.name!r}")
    if not path.is_file():
        raise PromptError(f"emotion keys file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PromptError(f"emotion keys file {path.name} is not UTF-8 text") from None
    base = path.resolve().parent
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise PromptError(f"{path.name} is not valid JSON ({e.msg}, line {e.lineno})") from None
        rows = doc.get("keys") if isinstance(doc, dict) else doc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise PromptError(f"{path.name}: expected {{\"keys\": [{{\"time\": ..., \"prompt\": ...}}, ...]}}")
        file_transition = doc.get("transition", DEFAULT_TRANSITION) if isinstance(doc, dict) else DEFAULT_TRANSITION
        keys = [_key(r.get("time"), r.get("prompt"), r.get("intensity"), r.get("image"),
                     f"{path.name} key {i + 1}", base) for i, r in enumerate(rows)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if "time" not in fields or not ({"prompt", "image"} & set(fields)):
            raise PromptError(f"{path.name}: the first line must be a header with time,prompt,intensity[,image]")
        keys = []
        for i, row in enumerate(reader):
            row = {(k or "").strip().lower(): v for k, v in row.items()}
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            keys.append(_key(row.get("time"), row.get("prompt"), row.get("intensity"), row.get("image"),
                             f"{path.name} row {i + 2}", base))
        file_transition = DEFAULT_TRANSITION
    if not keys:
        raise PromptError(f"{path.name} holds no emotion keys")
    t = _number(file_transition if transition is None else transition, "the transition", path.name)
    return EmotionTrack(tuple(keys), t)


def keys_document(track: EmotionTrack) -> dict:
    """The JSON-ready form of ``track``, with the basic emotion each key resolved to."""
    rows = []
    for k, e in zip(track.keys, track.expressions):
        row = {"time": round(k.time, 4)}
        row.update({"image": k.image} if k.image else {"prompt": k.prompt or "neutral"})
        row.update({"intensity": round(k.intensity, 4), "label": e.label})
        rows.append(row)
    return {"transition": track.transition, "keys": rows}


def write_keys(track: EmotionTrack, path: str | Path) -> Path:
    """Write ``track`` as ``.json`` or ``.csv`` (atomically); readable by :func:`read_keys`."""
    from ..export.atomic import atomic_path

    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise PromptError(f"emotion keys file must be .json or .csv, got {path.name!r}")
    doc = keys_document(track)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".json":
            tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["time", "prompt", "intensity", "image", "label"])
                for r in doc["keys"]:
                    w.writerow([r["time"], r.get("prompt", ""), r["intensity"], r.get("image", ""), r["label"]])
    return path


_INLINE = re.compile(r"^\s*\d+(\.\d*)?\s*=")


def emotion_spec(value: str | None, base: str | Path | None = None, transition: float | None = None):
    """What :func:`visemo.pipeline.perform` takes as ``emotion``, from one text field.

    The field (a batch CSV cell, the add-on's prompt) may hold: nothing
    (neutral, None), ``auto``, ``image:PHOTO``, a keys file (``.json`` /
    ``.csv``), inline keys (``0=happy; 2.5=angry@0.8``) or an emotion prompt
    (returned as is).  Relative paths are relative to ``base``.
    """
    text = (value or "").strip()
    if not text:
        return None
    root = Path(base) if base is not None else Path.cwd()
    if text.lower().startswith(IMAGE_PREFIX):
        image = Path(text[len(IMAGE_PREFIX):].strip())
        return EmotionTrack.from_image(image if image.is_absolute() else root / image)
    if (Path(text).suffix.lower() in SUFFIXES and "\n" not in text) or _INLINE.match(text):
        return keys_spec(text, transition, root)
    return text


def keys_spec(value: str, transition: float | None = None, base: str | Path | None = None) -> EmotionTrack:
    """A keys file (``.json``/``.csv``, relative to ``base``) or inline keys → track.

    ``transition`` (s) wins over a file's; inline keys default to
    :data:`DEFAULT_TRANSITION`.
    """
    path = Path(value)
    if path.suffix.lower() in SUFFIXES:
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        return read_keys(path, transition)
    return parse_keys(value, DEFAULT_TRANSITION if transition is None else transition)
