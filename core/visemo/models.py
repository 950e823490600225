"""The one registry of shipped models: ``visemo.models.load(name)``.

A model is a folder ``<models_dir>/<name>/`` holding ``model.json`` (its card:
inputs, outputs, channel names, training data, licence, sha256) and its
weights.  The card names its files either as one ``"file"`` + ``"sha256"``
or as ``"files": {key: {"file": ..., "sha256": ...}}``.  Every file is
checked against its sha256 before first use (once per process per file
version); ONNX sessions are created once and cached.

Output columns are mapped by name, never by position: :meth:`Model.session`
returns a :class:`Session` whose :meth:`Session.run` gives a dict keyed by the
ONNX output names, and :meth:`Model.channels` reads the channel order of an
output from the card.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DependencyError, ModelError
from .face.storage import sha256_file  # noqa: F401 - the one file hasher, also used as models.sha256_file
from .paths import models_dir

_LOCK = threading.RLock()
_MODELS: dict[tuple[str, str], "Model"] = {}
_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) → sha256


def verify_file(path: Path, expected: str, what: str) -> None:
    """Raise :class:`ModelError` unless ``path`` exists and its sha256 is ``expected``."""
    if not path.is_file():
        raise ModelError(f"{what}: file {path} is missing; reinstall visemo or restore the model folder")
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    got = _VERIFIED.get(key)
    if got is None:
        got = sha256_file(path)
        _VERIFIED[key] = got
    if got != expected.lower():
        raise ModelError(
            f"{what}: {path.name} is damaged or was replaced (sha256 {got[:12]}…, model.json expects "
            f"{expected[:12]}…); reinstall visemo or restore the model folder"
        )


@dataclass
class Session:
    """A cached onnxruntime session; :meth:`run` returns outputs by name."""

    inner: Any
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]

    def run(self, feeds: dict[str, np.ndarray], outputs: list[str] | None = None) -> dict[str, np.ndarray]:
        """Run with ``feeds`` (input name → array); returns {output name: array}."""
        missing = set(self.input_names) - set(feeds)
        if missing:
            raise ModelError(f"ONNX model input(s) not given: {', '.join(sorted(missing))}")
        names = list(outputs or self.output_names)
        with _LOCK:  # onnxruntime sessions are thread-safe, but keep the add-on's worker simple
            values = self.inner.run(names, feeds)
        return dict(zip(names, values))


@dataclass
class Model:
    """A loaded model folder: its ``card`` (model.json) and cached sessions."""

    name: str
    path: Path
    card: dict
    _sessions: dict[str, Session] = field(default_factory=dict, repr=False)

    def files(self) -> dict[str, dict]:
        """{key: {"file": name, "sha256": hex, ...}} from the card (a lone "file" has key "main")."""
        if "files" in self.card:
            return dict(self.card["files"])
        if "file" in self.card:
            return {"main": {"file": self.card["file"], "sha256": self.card.get("sha256", "")}}
        return {}

    def file(self, key: str = "main") -> Path:
        """Path of the card's file ``key``, after checking its sha256."""
        entries = self.files()
        if key not in entries:
            raise ModelError(f"model {self.name!r} has no file {key!r}; its model.json lists: "
                             f"{', '.join(entries) or 'none'}")
        entry = entries[key]
        if not entry.get("sha256"):
            raise ModelError(f"model {self.name!r}: model.json gives no sha256 for {entry.get('file')!r}")
        path = self.path / entry["file"]
        verify_file(path, entry["sha256"], f"model {self.name!r}")
        return path

    def channels(self, key: str, output: str) -> tuple[str, ...]:
        """The channel names of ``output`` of file ``key``, in the model's column order (from the card)."""
        try:
            return tuple(self.files()[key]["outputs"][output]["names"])
        except KeyError:
            raise ModelError(f"model {self.name!r}: model.json does not name the channels of "
                             f"{key}:{output}") from None

    def session(self, key: str = "main", threads: int = 1) -> Session:
        """The (cached) onnxruntime session of ONNX file ``key``."""
        with _LOCK:
            s = self._sessions.get(key)
            if s is None:
                path = self.file(key)
                try:
                    import onnxruntime as ort
                except ImportError:
                    raise DependencyError("onnxruntime is needed to run visemo's models; "
                                          "install it with: pip install onnxruntime") from None
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                try:
                    inner = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
                    raise ModelError(f"model {self.name!r}: {path.name} cannot be loaded by onnxruntime: {e}") from e
                s = Session(inner, tuple(i.name for i in inner.get_inputs()),
                            tuple(o.name for o in inner.get_outputs()))
                self._sessions[key] = s
            return s


def load(name: str, root: Path | None = None) -> Model:
    """The model folder ``name`` (cached per process): card read, files checked lazily.

    Raises :class:`ModelError` if the folder or its model.json is missing or unreadable.
    """
    base = Path(root) if root is not None else models_dir()
    key = (str(base), name)
    with _LOCK:
        m = _MODELS.get(key)
        if m is not None:
            return m
        folder = base / name
        card_path = folder / "model.json"
        if not card_path.is_file():
            known = sorted(p.name for p in base.iterdir() if (p / "model.json").is_file()) if base.is_dir() else []
            raise ModelError(f"no model {name!r} in {base} (no {name}/model.json); available: "
                             f"{', '.join(known) or 'none'}")
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ModelError(f"model {name!r}: model.json cannot be read: {e}") from e
        m = Model(name, folder, card)
        _MODELS[key] = m
        return m


def clear_cache() -> None:
    """Forget loaded models, sessions and verified hashes (tests; after replacing files)."""
    with _LOCK:
        _MODELS.clear()
        _VERIFIED.clear()
