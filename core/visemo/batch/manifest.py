"""The batch manifest: what each row read, what it wrote, whether it is done — so a batch can resume.

``<out-dir>/visemo-manifest.jsonl`` holds one JSON object per finished row
attempt (the latest line for an output wins)::

    {"key": "a.json", "row": 3, "file": "audio/a.wav", "status": "ok", "error": "", "note": "",
     "fingerprint": "<sha256>", "inputs": {"/abs/audio/a.wav": "<sha256>", ...},
     "cells": {"file": "audio/a.wav", "emotion": "happy", ...}, "options": {"fps": 30.0, ...},
     "outputs": {"a.json": {"bytes": 81234, "sha256": "..."}}, "seconds": 0.21, ...}

``key`` is the row's output path relative to the output folder: a row is
"the same" across runs when it writes the same file.  A row is skipped when
its latest line says ``ok``, its ``fingerprint`` (a hash of its cells, the
batch options and the sha256 of every file it reads) is unchanged, and its
outputs are still there with the recorded sizes.

Only the client appends to the manifest.  Workers also drop each finished
row's line into ``<out-dir>/.visemo-pending/`` (atomically) before they
return it, so rows finished after the client died are not run again: the
next run folds those files into the manifest first.  A lock file keeps two
batches from writing into one folder at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from ..export.atomic import atomic_path
from ..face.storage import sha256_file
from .rows import BatchInputError

MANIFEST_NAME = "visemo-manifest.jsonl"
PENDING_DIR = ".visemo-pending"
LOCK_NAME = ".visemo-batch.lock"

_HASHES: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256, per process
_HASH_LOCK = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered per process while its size and mtime stay the same."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    with _HASH_LOCK:
        got = _HASHES.get(key)
    if got is None:
        got = sha256_file(path)
        with _HASH_LOCK:
            _HASHES[key] = got
    return got


def fingerprint(cells: dict, options: dict, inputs: dict[str, str]) -> str:
    """sha256 of a row's cells, the batch options and its input files' hashes (order-independent)."""
    blob = json.dumps({"cells": cells, "options": options, "inputs": inputs}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def output_key(out_dir: Path, path: Path) -> str:
    """A row's manifest key: its output's path relative to ``out_dir`` (forward slashes)."""
    return Path(os.path.relpath(path, out_dir)).as_posix()


def pending_path(out_dir: Path, key: str) -> Path:
    """Where a worker drops the manifest line of the row writing ``key``."""
    return Path(out_dir) / PENDING_DIR / (hashlib.sha1(key.encode("utf-8")).hexdigest()[:20] + ".json")


def write_pending(out_dir: Path, record: dict) -> None:
    """Drop ``record`` (a manifest line) for the client to fold in; atomic."""
    with atomic_path(pending_path(out_dir, record["key"])) as tmp:
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def outputs_intact(out_dir: Path, record: dict) -> bool:
    """Whether every output a manifest line lists exists with the size it had when written."""
    outputs = record.get("outputs") or {}
    if not outputs:
        return False
    for name, info in outputs.items():
        p = Path(out_dir) / name
        try:
            if p.stat().st_size != info.get("bytes"):
                return False
        except OSError:
            return False
    return True


def describe_outputs(out_dir: Path, paths: list[Path]) -> dict[str, dict]:
    """{key: {"bytes", "sha256"}} of written outputs, for a manifest line."""
    return {output_key(out_dir, p): {"bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in paths}


def remove_partials(out_dir: Path, outputs: list[Path]) -> list[Path]:
    """Delete temporary files a killed writer left for ``outputs`` (``.<stem>.*.part<suffix>``); return them.

    (:func:`visemo.export.atomic.atomic_path` names its temporary files so; a
    process killed mid-write cannot remove its own.)
    """
    wanted: dict[str, list[tuple[str, str]]] = {}
    for p in outputs:
        wanted.setdefault(str(p.parent), []).append((f".{p.stem}.", f".part{p.suffix}"))
    removed = []
    for folder, patterns in wanted.items():
        try:
            names = [n for n in os.listdir(folder) if n.startswith(".") and ".part" in n]
        except FileNotFoundError:
            continue
        for name in names:
            if any(name.startswith(a) and name.endswith(b) for a, b in patterns):
                path = Path(folder) / name
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:
                    pass
    return removed


class Manifest:
    """The manifest of one output folder, opened for one batch run (holds the folder's lock)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / MANIFEST_NAME
        self.latest: dict[str, dict] = {}
        self._lock_file = None
        self._file = None

    # ---------------------------------------------------------------- open / close
    def open(self) -> "Manifest":
        """Lock the folder, read the manifest, fold in lines workers left behind; return self.

        Raises :class:`BatchInputError` when another batch holds the folder.
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        if self.path.is_file():
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    self._remember(line)
        self._file = open(self.path, "a", encoding="utf-8")
        pending = self.out_dir / PENDING_DIR
        if pending.is_dir():
            for p in sorted(pending.glob("*.json")):
                try:
                    record = json.loads(p.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    record = None  # an unreadable leftover: the row simply runs again
                if record and self.latest.get(record.get("key"), {}).get("id") != record.get("id"):
                    self.append(record)
                p.unlink(missing_ok=True)
        return self

    def close(self) -> None:
        """Close the manifest, drop the empty pending folder, release the folder's lock."""
        if self._file is not None:
            self._file.close()
            self._file = None
            try:
                (self.out_dir / PENDING_DIR).rmdir()
            except OSError:
                pass  # not there, or rows still pending (folded in by the next run)
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None

    def __enter__(self) -> "Manifest":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def _lock(self) -> None:
        f = open(self.out_dir / LOCK_NAME, "a+", encoding="utf-8")
        try:
            import fcntl
        except ImportError:  # Windows: no lock (one batch per folder is then up to the user)
            self._lock_file = f
            return
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            who = f.read().strip()
            f.close()
            raise BatchInputError(f"another visemo batch{f' ({who})' if who else ''} is writing to "
                                  f"{self.out_dir}; wait for it to finish or use another --out-dir") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}\n")
        f.flush()
        self._lock_file = f

    def _remember(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        try:
            record = json.loads(line)
        except ValueError:
            return  # a line cut short by a crash: ignored (that row runs again)
        if isinstance(record, dict) and "key" in record:
            self.latest[record["key"]] = record

    # ---------------------------------------------------------------- use
    def append(self, record: dict) -> None:
        """Add a row's line (flushed and synced to disk) and forget its pending drop file."""
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.latest[record["key"]] = record
        pending_path(self.out_dir, record["key"]).unlink(missing_ok=True)

    def done(self, key: str) -> dict | None:
        """The latest line of ``key`` if it says ``ok`` (the row may then be skipped), else None."""
        record = self.latest.get(key)
        return record if record and record.get("status") == "ok" else None
