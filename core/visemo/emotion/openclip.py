"""Optional: an open_clip checkpoint the user already has, as the prompt encoder.

No CLIP weights ship with visemo.  When a user points visemo at an open_clip
model (config name + checkpoint file), its text tower encodes text prompts and
its image tower reference photos — both land in CLIP's shared space.  A linear
projector from that space to visemo's style space is fitted once per
checkpoint (ridge regression on the prompts in
``models/emotion_space/projector_fit.jsonl``, whose style targets come from the
shipped expression encoder) and cached; expressions come from the shipped
style decoder.  Needs ``open_clip_torch`` (and torch) installed by the user.

    from visemo.emotion.openclip import use_open_clip
    use_open_clip("ViT-B-32", "/path/to/open_clip_pytorch_model.bin")
    resolve_prompt("quietly furious", encoder="open_clip")
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

from .. import arkit, models
from ..errors import DependencyError, ModelError, PromptError
from .encoders import _CACHE, _LOCK, cache_dir

NAME = "open_clip"
FIT_KEY = "projector_fit"
RIDGE = 1e-2


def import_open_clip():
    """``open_clip`` (DependencyError when it or torch is missing).

    PyPI's torchvision is built for CUDA torch: with the CPU torch its ops
    library does not load, and importing it fails registering fake kernels
    for ``torchvision::nms``.  Declaring those two operators first lets the
    pure-Python parts open_clip needs import (visemo uses no torchvision op).
    """
    import sys

    try:
        import torch
        import open_clip  # noqa: F401 - optional, heavy
    except ImportError as e:
        raise DependencyError(
            f"using an open_clip checkpoint needs open_clip_torch and torch ({e.name} is missing); "
            "install them with: pip install open_clip_torch torch"
        ) from None
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise
        for op in ("nms", "qnms"):
            try:
                torch.library.define(f"torchvision::{op}",
                                     "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            except RuntimeError:
                pass  # already defined
        for name in [m for m in sys.modules if m.startswith(("torchvision", "open_clip"))]:
            del sys.modules[name]
        import open_clip  # noqa: F401
    return sys.modules["open_clip"]


def _sha(path: Path) -> str:
    return models.sha256_file(path)


class OpenClipEncoder:
    """Text and image towers of an open_clip model, with a projector into visemo's style space."""

    name = NAME

    def __init__(self, model_name: str, checkpoint: str | Path, config: str | Path | None = None,
                 fit_limit: int = 4000) -> None:
        open_clip = import_open_clip()
        import torch

        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise PromptError(f"open_clip checkpoint not found: {checkpoint}")
        if config is not None:
            open_clip.add_model_config(str(config))
        if model_name not in open_clip.list_models():
            raise PromptError(f"unknown open_clip model {model_name!r}; pass its config file, or one of: "
                              f"{', '.join(open_clip.list_models()[:12])}, …")
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=str(checkpoint))
        except (RuntimeError, KeyError, ValueError) as e:
            raise ModelError(f"open_clip could not load {checkpoint.name} as {model_name!r}: {e}") from e
        self._torch = torch
        self._model = model.eval()
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(model_name)
        self.model_name = model_name
        self.checkpoint_sha256 = _sha(checkpoint)
        with torch.no_grad():
            self.dim = int(self._model.encode_text(self._tokenizer(["x"])).shape[-1])
        self._fit_limit = fit_limit
        self._lock = threading.Lock()
        self._proj: dict[str, np.ndarray] | None = None

    # -- towers -----------------------------------------------------------
    def _unit(self, x) -> np.ndarray:
        x = x.float().numpy()
        return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised text embeddings [N, dim]."""
        with self._torch.no_grad():
            return self._unit(self._model.encode_text(self._tokenizer(list(texts))))

    def encode_images(self, images) -> np.ndarray:
        """L2-normalised image embeddings [N, dim] of PIL images or image file paths."""
        from PIL import Image

        batch = []
        for im in images:
            if not hasattr(im, "convert"):
                im = Image.open(im)
            batch.append(self._preprocess(im.convert("RGB")))
        with self._torch.no_grad():
            return self._unit(self._model.encode_image(self._torch.stack(batch)))

    # -- projector into the style space ------------------------------------
    def _fit(self) -> dict[str, np.ndarray]:
        from .space import expression_to_style

        m = models.load("emotion_space")
        fit_path = m.file(FIT_KEY)
        digest = hashlib.sha256((self.checkpoint_sha256 + m.files()[FIT_KEY]["sha256"]
                                 + m.files()["expression_encoder"]["sha256"]).encode()).hexdigest()[:16]
        cached = cache_dir() / f"open_clip-{digest}.npz"
        if cached.is_file():
            with np.load(cached) as f:
                return {k: f[k] for k in f.files}
        rows = [json.loads(line) for line in fit_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = rows[: self._fit_limit]
        X = np.concatenate([self.encode([r["text"] for r in rows[i:i + 256]]) for i in range(0, len(rows), 256)])
        W = np.zeros((len(rows), arkit.COUNT), np.float32)
        for i, r in enumerate(rows):
            for name, v in r["weights"].items():
                W[i, arkit.index(name)] = v
        is_emo = np.array([r["is_emotion"] for r in rows], np.float32)
        Z = expression_to_style(W)
        X1 = np.hstack([X, np.ones((len(X), 1), np.float32)]).astype(np.float64)
        emo = is_emo > 0.5

        def ridge(x, y):
            return np.linalg.solve(x.T @ x + RIDGE * len(x) * np.eye(x.shape[1]), x.T @ y).astype(np.float32)

        proj = {"style": ridge(X1[emo], Z[emo]), "emotion": ridge(X1, is_emo)}
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, **proj)
        return proj

    def project(self, embeddings: np.ndarray):
        """CLIP embeddings [N, dim] → :class:`visemo.emotion.space.TextResult`."""
        from .space import TextResult, style_to_expression

        with self._lock:
            if self._proj is None:
                self._proj = self._fit()
        X1 = np.hstack([embeddings, np.ones((len(embeddings), 1), np.float32)])
        z = X1 @ self._proj["style"]
        prob = np.clip(X1 @ self._proj["emotion"], 0.0, 1.0)
        return TextResult(style_to_expression(z), z.astype(np.float32), prob.astype(np.float32))

    def image_to_expression(self, images):
        """Reference photos → :class:`TextResult` through the image tower (CLIP's shared space)."""
        return self.project(self.encode_images(images))


def use_open_clip(model_name: str, checkpoint: str | Path, config: str | Path | None = None) -> OpenClipEncoder:
    """Load an open_clip model and make it the ``"open_clip"`` encoder for :func:`resolve_prompt`."""
    enc = OpenClipEncoder(model_name, checkpoint, config)
    with _LOCK:
        _CACHE[NAME] = enc
    from .prompts import _resolve

    _resolve.cache_clear()
    return enc
