"""The shipped speech → articulation model on speech it never trained on.

flite (English) and festival's Czech voice (reserved: never in training),
scored on the bundled head's lip gap as the lip-sync benchmarks do; the
model must also run in chunks with the same result, and drive ``visemo
animate`` by default.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from visemo.paths import models_dir

pytestmark = pytest.mark.skipif(not (models_dir() / "articulation" / "model.json").is_file(),
                                reason="the articulation model is not in the models folder")


@pytest.fixture(scope="module")
def model():
    from visemo.speech.articulation_model import load_articulation_model

    return load_articulation_model()


def test_card_names_its_classes_and_lookahead(model):
    from visemo.speech.articulation_classes import CLASSES

    assert set(model.classes) == set(CLASSES) and model.lookahead >= 0
    assert model.model.card["frame_rate"] == 100
    size = (models_dir() / "articulation" / model.model.card["files"]["main"]["file"]).stat().st_size
    assert size < 20 * 2**20  # the bound: at most 20 MB


def test_streaming_chunks_give_the_offline_probabilities(model, synth):
    from visemo.audio import load_audio

    x = load_audio(synth("Bob bought a big map for Pam.", "kal16").path).samples
    offline = model.posteriors(x)
    for chunk in (160, 1600, 7777):
        s = model.stream()
        parts = [s.push(x[i:i + chunk]) for i in range(0, len(x), chunk)] + [s.finish()]
        np.testing.assert_allclose(np.concatenate(parts), offline, atol=1e-4)


def _score(path, truth, recognizer="model", transcript=None, language=None):
    from visemo.face.model import load_face_model
    from visemo.lipsync.metrics import score_lipsync
    from visemo.pipeline import perform

    perf = perform(path, fps=30, recognizer=recognizer, transcript=transcript, language=language,
                   blinks=False, eye_motion=False)
    gaps = 1000.0 * np.asarray(load_face_model().lip_gap_of_weights(perf.animation.weights))
    return score_lipsync(gaps, truth, 30.0), perf


def test_english_lips_close_on_bilabials_and_open_on_vowels_from_audio_alone(flite_utterances):
    bil = opened = nb = no = 0
    for u in flite_utterances:
        s, perf = _score(u.path, u.segments)
        assert perf.segments and {seg.phone for seg in perf.segments} != {"SIL"}
        bil += s.bilabial_recall * s.bilabials
        nb += s.bilabials
        opened += s.open_recall * s.open_vowels
        no += s.open_vowels
    assert nb >= 8 and bil / nb >= 0.85 and opened / max(no, 1) >= 0.85, (bil / nb, opened / max(no, 1))


@pytest.fixture(scope="module")
def czech(tmp_path_factory):
    """festival's Czech voice (reserved for held-out checks) saying a line with bilabials."""
    if not shutil.which("festival") or not Path("/usr/share/festival/voices/czech/czech_dita").exists():
        pytest.skip("festival's Czech voice is not installed (apt-get install festival festvox-czech-dita)")
    from visemo.train.tts_corpus import festival_synth_batch

    d = tmp_path_factory.mktemp("czech")
    text = "Maminka mi dala pomeranč a bábovku."
    syn = festival_synth_batch("czech_dita", [(text, 1.0)], d)[0]
    if isinstance(syn, str):
        pytest.fail(f"festival did not synthesize: {syn}")
    return syn, text


def test_a_language_it_never_heard_closes_the_lips_on_its_bilabials(czech, tmp_path):
    import soundfile as sf

    from visemo.speech.phonemes import PhonemeSegment, tile
    from visemo.speech.articulation_classes import REPRESENTATIVE
    from visemo.train.tts_corpus import festival_phone_class

    syn, text = czech
    path = tmp_path / "cs.wav"
    sf.write(path, syn.audio, 16000, subtype="PCM_16")
    truth = tile([PhonemeSegment(REPRESENTATIVE[festival_phone_class("czech_dita", p) or "C"], a, b)
                  for p, a, b in syn.phones if b > a], len(syn.audio) / 16000)
    s, _ = _score(path, truth)
    assert s.bilabials >= 4 and s.bilabial_recall >= 0.75, s
    # with the Czech transcript, the G2P classes timed on the model's frames find every bilabial
    g2p = pytest.importorskip("visemo.speech.g2p")
    if g2p.available():
        s2, perf = _score(path, truth, transcript=text, language="cs")
        assert perf.segments and s2.bilabial_recall == 1.0, s2


def test_animate_uses_the_model_by_default_and_needs_no_whisper(synth, tmp_path):
    from visemo.pipeline import perform

    u = synth("Mom made me a map.", "slt")
    perf = perform(u.path, fps=30)
    from visemo.speech import phoneme_timings
    from visemo.audio import load_audio

    assert phoneme_timings(load_audio(u.path)).method == "articulation"
    assert perf.transcript is None and perf.animation.frames == int(np.ceil(u.duration * 30 - 1e-9))
    r = subprocess.run([sys.executable, "-m", "visemo.cli", "animate", str(u.path), "-q", "-o", str(tmp_path / "x.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------- noise-dependent closure weight
def test_noise_gauge_is_causal_chunk_free_and_tells_noise_from_clean(synth):
    from visemo.audio import load_audio
    from visemo.audio.melspec import log_mel
    from visemo.speech.noise_gauge import CLEAN_DB, MIN_ROWS, NoiseGauge, closure_weight

    x = load_audio(synth("Bob bought a big map for Pam, then he sat down.", "kal16").path).samples
    x = np.concatenate([x, np.zeros(8000, np.float32), x])
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(len(x)).astype(np.float32)
    noisy = x + noise * np.sqrt(np.mean(x ** 2) / np.mean(noise ** 2) / 10)  # 10 dB SNR
    clean_est, noisy_est = NoiseGauge().push(log_mel(x)), NoiseGauge().push(log_mel(noisy))
    assert (clean_est[:MIN_ROWS] == CLEAN_DB).all()             # too little history: clean
    assert np.median(clean_est[MIN_ROWS:]) > 40 and np.median(noisy_est[MIN_ROWS:]) < 25
    mel = log_mel(noisy)
    g = NoiseGauge()
    parts = np.concatenate([g.push(mel[i:i + 37]) for i in range(0, len(mel), 37)])
    np.testing.assert_array_equal(parts, noisy_est)
    g2 = NoiseGauge()  # causal: the estimate for frame t does not change with what follows t
    np.testing.assert_array_equal(g2.push(mel[:250]), noisy_est[:250])
    from visemo.speech.noise_gauge import _percentiles

    for n in (1, 2, 7, 1000):  # the partial-sort percentiles are numpy's
        v = rng.normal(size=n)
        np.testing.assert_allclose(_percentiles(v, (10.0, 90.0)), np.percentile(v, (10.0, 90.0)), atol=1e-12)
    w = closure_weight(np.array([5.0, 15.0, 20.0, 25.0, 60.0]), clean=4.0, noisy=16.0, band=(10.0, 30.0))
    np.testing.assert_allclose(w, [16.0, 16.0 / np.sqrt(2), 8.0, 4.0 * np.sqrt(2), 4.0])


def test_card_noise_rule_weights_closures_in_noise_alike_offline_and_streaming(tmp_path, synth):
    import json

    from visemo.audio import load_audio
    from visemo.speech.articulation_classes import CLASSES
    from visemo.speech.articulation_model import ArticulationModel

    folder = tmp_path / "articulation"
    shutil.copytree(models_dir() / "articulation", folder)
    card = json.loads((folder / "model.json").read_text())
    card["decoding"] = {"class_bias": {"PBM": 4.0}, "switch_cost_nats": 1.0,
                        "noise": {"PBM": 16.0, "snr_db": [10.0, 30.0]}}
    (folder / "model.json").write_text(json.dumps(card))
    ruled = ArticulationModel("articulation", root=tmp_path)
    assert ruled.noise == (16.0, (10.0, 30.0))
    card["decoding"].pop("noise")
    (tmp_path / "plain").mkdir()
    shutil.copy(folder / "articulation.onnx", tmp_path / "plain")
    card["name"] = "plain"
    (tmp_path / "plain" / "model.json").write_text(json.dumps(card))
    plain = ArticulationModel("plain", root=tmp_path)
    assert plain.noise is None and plain.switch_cost == 1.0

    x = load_audio(synth("Bob bought a big map for Pam, then he sat down.", "kal16").path).samples
    x = np.concatenate([x, x])
    noise = np.random.default_rng(1).standard_normal(len(x)).astype(np.float32)
    noisy = x + noise * np.sqrt(np.mean(x ** 2) / np.mean(noise ** 2) / 10)
    k = CLASSES.index("PBM")
    # clean speech: the rule changes nothing; 10 dB of noise: closures weigh (up to 4x) more
    np.testing.assert_allclose(ruled.posteriors(x), plain.posteriors(x), atol=1e-6)
    p_ruled, p_plain = ruled.posteriors(noisy), plain.posteriors(noisy)
    late = slice(150, None)  # after the gauge has a second of history
    assert p_ruled[late, k].sum() > 1.5 * p_plain[late, k].sum()
    s = ruled.stream()
    chunks = [s.push(noisy[i:i + 1234]) for i in range(0, len(noisy), 1234)] + [s.finish()]
    np.testing.assert_allclose(np.concatenate(chunks), p_ruled, atol=1e-4)


def test_card_closure_rule_and_alignment_weights_are_read_and_used(tmp_path, synth):
    import json

    from visemo.audio import load_audio
    from visemo.speech.articulation_classes import CLASSES
    from visemo.speech.articulation_model import ArticulationModel, decode_path, viterbi, weigh_classes

    folder = tmp_path / "articulation"
    shutil.copytree(models_dir() / "articulation", folder)
    card = json.loads((folder / "model.json").read_text())
    card["decoding"] = {"class_bias": {"PBM": 24.0}, "switch_cost_nats": 2.0,
                        "closure": {"core_frames": 3, "timing_cost_nats": 2.0}, "alignment_class_bias": {"PBM": 2.0}}
    (folder / "model.json").write_text(json.dumps(card))
    model = ArticulationModel("articulation", root=tmp_path)
    assert model.decoder() == (2.0, (3, 2.0))
    x = load_audio(synth("Bob bought a big map for Pam.", "kal16").path).samples
    own, _ = model.unweighted_posteriors(x)
    k = CLASSES.index("PBM")
    two, twenty_four = np.ones(len(CLASSES), np.float32), np.ones(len(CLASSES), np.float32)
    two[k], twenty_four[k] = 2.0, 24.0
    # transcript alignment reads the model's probabilities with its own (milder) closure weight
    np.testing.assert_allclose(model.alignment_posteriors(x), weigh_classes(own, two), atol=1e-6)
    np.testing.assert_allclose(model.posteriors(x), weigh_classes(own, twenty_four), atol=1e-6)
    # the closure rule leaves fewer closure frames than the weight alone makes
    q = model.posteriors(x)
    ruled, plain = decode_path(q, *model.decoder()), viterbi(q, 2.0)
    assert (ruled == k).sum() < (plain == k).sum()
