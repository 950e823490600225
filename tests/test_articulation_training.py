"""Training the speech → articulation model (torch, build time): a tiny run end to end.

A few espeak-ng utterances, a network a fraction of the shipped size, a few
seconds of training: the export must load in the run time (onnxruntime, no
torch), stream like it runs offline, carry its card, and warm-start a second
run with exactly its own weights.  Skipped where torch, onnx or espeak-ng are
missing (setup installs them for the tests).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from visemo.speech.articulation_classes import CLASSES  # noqa: E402
from visemo.train import articulation as A  # noqa: E402
from visemo.train import tts_corpus as tc  # noqa: E402

TINY = A.NetConfig(channels=16, hidden=16)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    if not tc.have_espeak():
        pytest.skip("needs espeak-ng")
    root = tmp_path_factory.mktemp("corpus")
    tc.build(root, tc.CorpusConfig(hours=0.01, seed=3, splits=("train",), engines=("espeak",),
                                   languages=("en", "it")), workers=1, progress=False)
    return root


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "articulation"
    report = A.train(corpus, out, A.TrainOptions(minutes=0.15, batch=4, frames=120, workers=0, config=TINY),
                     log=lambda *a: None)
    return out, report


def test_export_loads_without_torch_and_streams_like_offline(trained, corpus):
    from visemo.speech.articulation_model import ArticulationModel

    out, report = trained
    assert report["steps"] > 0 and report["training"]["utterances"] >= 5
    card = json.loads((out / "model.json").read_text())
    assert card["files"]["main"]["outputs"]["logits"]["names"] == list(CLASSES)
    assert card["config"]["channels"] == 16 and card["lookahead_frames"] == A.LOOKAHEAD
    assert card["decoding"]["class_bias"]["PBM"] > 1 and "licence" in card and "training_data" in card
    model = ArticulationModel("articulation", root=out.parent)
    utt = A.read_corpus(corpus)[0]
    x = utt.samples.astype(np.float32) / 32768.0
    p = model.posteriors(x)
    assert p.shape == (len(A.log_mel(x)), len(CLASSES))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    s = model.stream()
    parts = [s.push(x[i:i + 999]) for i in range(0, len(x), 999)] + [s.finish()]
    np.testing.assert_allclose(np.concatenate(parts), p, atol=1e-4)


def test_warm_start_reads_back_the_exported_weights_exactly(trained, corpus, tmp_path):
    out, _ = trained
    net = A.build_network(TINY)
    A.load_onnx_weights(net, out)  # raises unless its logits equal onnxruntime's on the exported file
    x = torch.from_numpy(np.random.default_rng(1).normal(-4, 2, (1, 30, TINY.n_mels)).astype(np.float32))
    net.eval()
    with torch.no_grad():
        logits = net(x, *net.zero_states(1))[0][0].numpy()
    from visemo.speech.articulation_model import ArticulationModel

    model = ArticulationModel("articulation", root=out.parent)
    onnx_logits, _ = model.run(x[0].numpy(), model.zero_states())
    np.testing.assert_allclose(logits, onnx_logits, atol=1e-4)
    with pytest.raises(Exception):
        A.load_onnx_weights(A.build_network(A.NetConfig(channels=24, hidden=16)), out)  # another shape
    again = A.train(corpus, tmp_path / "again", A.TrainOptions(minutes=0.03, batch=4, frames=120, workers=0,
                                                               config=TINY, init=out), log=lambda *a: None)
    assert again["training"]["started_from"] == str(out)


def test_corpus_utterances_carry_their_text_whose_g2p_classes_match_their_labels(corpus):
    import difflib

    from visemo.speech.articulation_classes import REPRESENTATIVE
    from visemo.speech.articulation_model import path_segments
    from visemo.speech.class_align import transcript_classes
    from visemo.train.articulation_decoding import objective

    def runs(seq):
        return [c for i, c in enumerate(seq) if i == 0 or c != seq[i - 1]]

    utts = A.read_corpus(corpus)
    assert utts and all(u.text and u.language in ("en", "it") for u in utts)
    ratios = []
    for u in utts:
        of_phone = {v: k for k, v in REPRESENTATIVE.items()}
        said = runs([CLASSES.index(of_phone[s.phone])
                     for s in path_segments(u.labels, len(u.samples) / 16000) if s.phone != "SIL"])
        text = runs([CLASSES.index(c) for w in transcript_classes(u.text, u.language) for c in w])
        ratios.append(difflib.SequenceMatcher(None, said, text).ratio())
    # the same words through the run time's G2P: the same mouth classes but for accents (voice variants
    # such as en-gb-x-gbcwmd against plain "en")
    assert min(ratios) > 0.7 and np.mean(ratios) > 0.85, ratios
    # the decoding tool's objective: in noise the worst of closures and vowels, pauses only in the sum
    row = {"bilabial": 0.96, "open": 0.97, "silence": 0.70}
    assert objective(row) == pytest.approx(0.70 + 0.263) and objective(row, noisy=True) == pytest.approx(0.96 + 0.263)


def test_a_level_step_keeps_the_start_and_scales_the_rest():
    """``--level-step``: the crop's level steps once, within ±20 dB, after a ramp of at most 200 ms."""
    rng = np.random.default_rng(0)
    x = np.full(48000, 0.1, np.float32)
    for _ in range(20):
        y = A._level_step(x, rng, 20.0)
        changed = np.flatnonzero(np.abs(y - x) > 1e-7)
        if not len(changed):
            continue
        cut, g = changed[0], y[-1] / 0.1
        assert 48000 // 6 <= cut + 1 and np.allclose(y[:cut], 0.1) and abs(20 * np.log10(g)) <= 20.0 + 1e-4
        assert np.allclose(y[cut + 3200:], y[-1])                       # the new level after the ramp
    assert A.Augment().p_level_step == 0.0                              # off for the shipped model's recipe
