"""The multilingual mouth path's run-time parts: log-mel frames, classes, G2P, class alignment, decoding.

The trained model itself is exercised in test_articulation_model.py (it
needs ``models/articulation``); here everything around it is checked with
known inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from visemo.audio.melspec import FRAME_RATE, HOP, N_MELS, MelStream, frame_count, log_mel
from visemo.speech.articulation_classes import CLASSES, REPRESENTATIVE, arpabet_class, ipa_class
from visemo.speech.phonemes import PhonemeSegment


# ---------------------------------------------------------------------- log-mel
def test_log_mel_frames_are_centred_every_10_ms_and_streaming_gives_the_same_frames():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(16037)).astype(np.float32)
    full = log_mel(x)
    assert full.shape == (frame_count(len(x)), N_MELS) == (101, 64)
    for chunk in (1, 160, 1234, 16000):
        s = MelStream()
        parts = [s.push(x[i:i + chunk]) for i in range(0, len(x), chunk)] + [s.finish()]
        np.testing.assert_allclose(np.concatenate(parts), full, atol=1e-5)
    # a click at 0.5 s lands in frame 50 (the frame centred on it), not 49 or 51
    click = np.zeros(16000, np.float32)
    click[8000] = 1.0
    energy = log_mel(click).max(axis=1)
    assert int(np.argmax(energy)) == 50 and FRAME_RATE == 100 and HOP == 160


def test_a_tone_lands_in_the_mel_band_of_its_frequency():
    t = np.arange(16000) / 16000
    low, high = (log_mel(np.sin(2 * np.pi * f * t).astype(np.float32))[50] for f in (300, 4000))
    assert np.argmax(low) < np.argmax(high) and np.argmax(low) < 16 and np.argmax(high) > 40


# ---------------------------------------------------------------------- classes
@pytest.mark.parametrize("phone,cls", [
    ("p", "PBM"), ("bʲ", "PBM"), ("m", "PBM"), ("f", "FV"), ("v", "FV"), ("θ", "TH"), ("l", "L"), ("w", "W"),
    ("s", "S"), ("ts", "S"), ("ʃ", "SH"), ("tʃ", "SH"), ("ɹ", "R"), ("k", "C"), ("r", "C"), ("a", "OPEN"),
    ("ɑː", "OPEN"), ("e", "MID"), ("ə", "SCHWA"), ("i", "SPREAD"), ("ɔ", "AROUND"), ("o", "OROUND"),
    ("u", "UROUND"), ("y", "UROUND"), ("aɪ", "OPEN"), ("ˈa", "OPEN"), ("ẽ", "MID"), ("?", None), ("", None),
])
def test_ipa_phones_map_to_mouth_classes(phone, cls):
    assert ipa_class(phone) == cls


def test_every_class_has_a_pose_and_arpabet_maps_like_the_lip_sync_engine_expects():
    from visemo.lipsync.targets import BILABIALS, DIPHTHONGS, POSES

    assert set(REPRESENTATIVE) == set(CLASSES)
    assert all(p in POSES or p in DIPHTHONGS for p in REPRESENTATIVE.values())
    assert {arpabet_class(p) for p in BILABIALS} == {"PBM"}
    assert arpabet_class("AA1") == "OPEN" and arpabet_class("sil") == "SIL" and arpabet_class("xx") is None
    assert REPRESENTATIVE["PBM"] in BILABIALS and REPRESENTATIVE["OPEN"] in ("AA", "AE")


# ---------------------------------------------------------------------- G2P
def test_g2p_gives_ipa_words_in_several_languages():
    g2p = pytest.importorskip("visemo.speech.g2p")
    if not g2p.available():
        pytest.skip("espeak-ng is not installed (pip install espeakng-loader)")
    assert g2p.phonemize("mamma mia", "it") == [["m", "a", "m", "m", "a"], ["m", "i", "a"]]
    cs = g2p.phonemize("Dobrý den", "cs")
    assert [ipa_class(p) for p in cs[0]][:3] == ["C", "OROUND", "PBM"]
    ru = g2p.phonemize("Привет", "ru")
    assert ipa_class(ru[0][0]) == "PBM" and len(ru) == 1
    assert {"cs", "ru", "ca", "it", "fi"} <= set(g2p.languages())
    from visemo.errors import PromptError

    with pytest.raises(PromptError, match="no voice for language 'xx-nowhere'"):
        g2p.phonemize("hello", "xx-nowhere")


# ---------------------------------------------------------------------- decoding and alignment
def _one_hot(segments: list[tuple[str, int, int]], frames: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    p = np.full((frames, len(CLASSES)), 0.01)
    for name, a, b in segments:
        p[a:b, CLASSES.index(name)] = 1.0
    if noise:
        p += noise * np.random.default_rng(seed).random(p.shape)
    return p / p.sum(axis=1, keepdims=True)


def test_viterbi_decoding_keeps_real_classes_and_drops_one_frame_flickers():
    from visemo.speech.articulation_model import decode_segments

    truth = [("SIL", 0, 20), ("PBM", 20, 27), ("OPEN", 27, 45), ("C", 45, 50), ("SIL", 50, 70)]
    p = _one_hot(truth, 70)
    p[35, CLASSES.index("SPREAD")] = 1.4 * p[35, CLASSES.index("OPEN")]  # a one-frame flicker in the vowel
    p[35] /= p[35].sum()
    segs = decode_segments(p, 0.7)
    assert [s.phone for s in segs] == ["SIL", "B", "AA", "T", "SIL"]
    assert segs[1].start == pytest.approx(0.195) and segs[1].end == pytest.approx(0.265)
    assert segs[-1].end == pytest.approx(0.7)


def test_trim_closures_keeps_a_found_closure_only_where_the_timing_path_closes():
    from visemo.speech.articulation_model import trim_closures

    P, O, C, S = (CLASSES.index(c) for c in ("PBM", "OPEN", "C", "SIL"))
    found = np.array([S, S, P, P, P, P, P, P, P, P, O, O, S, P, P, P, P, P, P, S])
    timed = np.array([S, S, C, P, P, P, O, O, O, O, O, O, S, O, O, O, O, O, O, S])
    got = trim_closures(found, timed, core=3)
    # first closure: the timing path's 3 frames stay, the rest take its classes
    assert got[:12].tolist() == [S, S, C, P, P, P, O, O, O, O, O, O]
    # second: the timing path never closes → the found closure keeps its middle 3 frames
    assert got[12:].tolist() == [S, O, P, P, P, O, O, S]
    assert np.array_equal(trim_closures(timed, found, 3), timed)  # no closure found: nothing changes


def test_closure_rule_stops_a_weighted_closure_swallowing_the_vowel_after_it():
    from visemo.speech.articulation_model import decode_path

    pbm, open_ = CLASSES.index("PBM"), CLASSES.index("OPEN")
    p = _one_hot([("SIL", 0, 10), ("PBM", 10, 16), ("OPEN", 16, 30), ("SIL", 30, 40)], 40)
    p[16:30, pbm] = 0.3 * p[16:30, open_]  # the vowel's closure evidence: less than the vowel's
    w = np.ones(len(CLASSES))
    w[pbm] = 8.0                           # the decoder's weight on closures
    q = p * w / (p * w).sum(axis=1, keepdims=True)
    plain = decode_path(q, 2.0)
    ruled = decode_path(q, 2.0, closure=(3, np.log(8.0)))
    assert np.all(plain[10:30] == pbm)     # weighted on every frame, the lips never open for the vowel
    assert np.all(ruled[10:16] == pbm) and np.all(ruled[16:30] == open_)


def test_class_alignment_puts_the_transcripts_classes_where_the_frames_say():
    from visemo.speech.class_align import align_classes

    truth = [("SIL", 0, 10), ("PBM", 10, 18), ("OPEN", 18, 40), ("SIL", 40, 60), ("FV", 60, 66),
             ("SPREAD", 66, 80), ("SIL", 80, 100)]
    p = _one_hot(truth, 100, noise=0.3)
    segs = align_classes(p, [["PBM", "OPEN"], ["FV", "SPREAD"]], 1.0)
    got = [(s.phone, round(s.start, 3), round(s.end, 3)) for s in segs]
    assert got == [("SIL", 0.0, 0.095), ("B", 0.095, 0.175), ("AA", 0.175, 0.395), ("SIL", 0.395, 0.595),
                   ("F", 0.595, 0.655), ("IY", 0.655, 0.795), ("SIL", 0.795, 1.0)]
    # the transcript's bilabial is placed even where the frames barely believe it
    weak = _one_hot([("SIL", 0, 10), ("C", 10, 18), ("OPEN", 18, 40), ("SIL", 40, 50)], 50)
    weak[10:18, CLASSES.index("PBM")] += 0.05
    segs = align_classes(weak, [["PBM", "OPEN"]], 0.5)
    assert [s.phone for s in segs] == ["SIL", "B", "AA", "SIL"] and segs[1].start == pytest.approx(0.095)
    # no pause between words when the audio has none; no words → silence
    assert [s.phone for s in align_classes(_one_hot([("PBM", 0, 5), ("OPEN", 5, 20)], 20), [["PBM"], ["OPEN"]], 0.2)] \
        == ["B", "AA"]
    assert [s.phone for s in align_classes(_one_hot([("SIL", 0, 20)], 20), [], 0.2)] == ["SIL"]


def test_more_phones_than_frames_spread_evenly():
    from visemo.speech.class_align import align_classes

    segs = align_classes(_one_hot([("SIL", 0, 3)], 3), [["PBM", "OPEN", "C", "MID", "S"]], 0.03)
    assert [s.phone for s in segs] == ["B", "AA", "T", "EH", "S"]
    assert isinstance(segs[0], PhonemeSegment) and segs[-1].end == pytest.approx(0.03)
