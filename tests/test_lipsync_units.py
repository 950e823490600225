"""Lip-sync engine, emotion layer and idle life on hand-made phoneme timings."""

from dataclasses import dataclass

import numpy as np
import pytest

from visemo import arkit
from visemo.emotion import BASIC_EMOTIONS, EmotionTrack, emotion_vector, resolve_prompt
from visemo.errors import PromptError
from visemo.idle import blink_curves, compose_blinks, gaze_curves
from visemo.lipsync import articulate
from visemo.lipsync.closure import bilabial_closure
from visemo.pipeline import compose

FPS = 30.0


@dataclass(frozen=True)
class Seg:
    phone: str
    start: float
    end: float


def _segments(spec):
    """[(phone, duration_s), ...] → contiguous segments from t=0."""
    t, out = 0.0, []
    for phone, d in spec:
        out.append(Seg(phone, t, t + d))
        t += d
    return out, t


# "pause - ham bomb - pause - father - pause"
SPEC = [("SIL", 0.4), ("HH", 0.06), ("AE", 0.12), ("M", 0.08), ("B", 0.07), ("AA", 0.14),
        ("M", 0.09), ("SIL", 0.5), ("F", 0.09), ("AA", 0.16), ("DH", 0.05), ("ER", 0.12),
        ("SIL", 0.5)]


def _col(w, name):
    return w[:, arkit.index(name)]


def _frames_of(seg, fps=FPS):
    a = int(np.ceil(seg.start * fps))
    b = int(np.floor(seg.end * fps))
    return list(range(a, b + 1))


@pytest.fixture(scope="module")
def speech():
    segs, dur = _segments(SPEC)
    return segs, dur, articulate(segs, dur, FPS)


def test_bilabials_seal_lips(speech):
    segs, _, art = speech
    w = art.animation.weights
    for s in segs:
        if s.phone in ("M", "B", "P"):
            mid = int(round(0.5 * (s.start + s.end) * FPS))
            assert art.closure[mid] == 1.0
            assert _col(w, "mouthClose")[mid] == pytest.approx(_col(w, "jawOpen")[mid], abs=1e-6)
            assert _col(w, "mouthLowerDownLeft")[mid] == 0.0
            assert _col(w, "mouthPressLeft")[mid] >= 0.2


def test_no_opening_between_adjacent_bilabials(speech):
    segs, _, art = speech
    m, b = segs[3], segs[4]
    frames = range(int(np.ceil(m.start * FPS)), int(np.floor(b.end * FPS)) + 1)
    assert all(art.closure[f] == 1.0 for f in frames)


def test_short_closures_are_joined_and_never_missed():
    segs = [Seg("P", 0.100, 0.115), Seg("AH", 0.115, 0.13), Seg("M", 0.13, 0.15)]
    c = bilabial_closure(segs, 10, FPS)
    assert c[3] == 1.0 and c[4] == 1.0  # both short closures land on frames
    assert c[2] == 0.5 and c[6] == 0.5 and c[0] == 0.0 and c[7] == 0.0


def test_closures_one_frame_apart_stay_apart_so_the_vowel_between_shows():
    # "P AA P" with a 60 ms vowel at 30 fps: frames 3 and 5-6 closed, frame 4 between them opens half-way
    segs = [Seg("P", 0.095, 0.115), Seg("AA", 0.115, 0.175), Seg("P", 0.175, 0.19)]
    c = bilabial_closure(segs, 10, FPS)
    assert c[3] == c[5] == c[6] == 1.0 and c[4] == 0.5 and c[2] == 0.5 and c[7] == 0.5


def test_open_vowels_open_the_jaw_and_silence_rests(speech):
    segs, _, art = speech
    w = art.animation.weights
    for s in segs:
        if s.phone == "AA":
            assert max(_col(w, "jawOpen")[f] for f in _frames_of(s)) > 0.4
    # middle of each pause: every speech channel at rest
    for s in segs:
        if s.phone == "SIL" and s.end - s.start >= 0.4:
            mid = int(round(0.5 * (s.start + s.end) * FPS))
            assert np.all(w[mid] < 0.02)


def test_curves_are_continuous(speech):
    _, _, art = speech
    w = art.animation.weights
    jumps = np.abs(np.diff(w, axis=0))
    # a 30 fps curve never jumps by more than the largest pose value in one frame
    assert jumps.max() < 0.45
    # the jaw moves smoothly: no frame-to-frame step above 0.3
    assert np.abs(np.diff(_col(w, "jawOpen"))).max() < 0.3


def test_labiodental_tucks_lower_lip(speech):
    segs, _, art = speech
    f = next(s for s in segs if s.phone == "F")
    assert max(_col(art.animation.weights, "mouthRollLower")[x] for x in _frames_of(f)) > 0.3


def test_loudness_scales_jaw():
    segs, dur = _segments([("SIL", 0.2), ("AA", 0.3), ("SIL", 0.2)])
    quiet = articulate(segs, dur, FPS, loudness=np.zeros(30)).animation
    loud = articulate(segs, dur, FPS, loudness=np.ones(30)).animation
    assert _col(loud.weights, "jawOpen").max() > 1.8 * _col(quiet.weights, "jawOpen").max()


def _with_emotion(art, dur, prompt, intensity=1.0):
    times = np.arange(art.animation.frames) / FPS
    track = EmotionTrack.constant(prompt, intensity)
    curves = track.curves(times)
    return compose(art.animation, art.closure, curves.weights, seed=0, blinks=False, eye_motion=False)


def test_happy_smiles_in_pauses_and_while_talking(speech):
    segs, dur, art = speech
    happy = _with_emotion(art, dur, "happy").weights
    neutral = _with_emotion(art, dur, "neutral").weights
    pause = int(0.2 * FPS)
    talking = int(round(0.5 * (segs[5].start + segs[5].end) * FPS))  # the AA of "bomb"
    for f in (pause, talking):
        assert _col(happy, "mouthSmileLeft")[f] > 0.6 and _col(happy, "mouthSmileRight")[f] > 0.6
        assert _col(happy, "cheekSquintLeft")[f] > 0.4
        assert _col(neutral, "mouthSmileLeft")[f] < 0.15
    # talking still opens the jaw under a smile
    assert _col(happy, "jawOpen")[talking] > 0.35


def test_sad_raises_inner_brows_through_the_sentence(speech):
    segs, dur, art = speech
    sad = _with_emotion(art, dur, "sad").weights
    assert np.all(_col(sad, "browInnerUp") > 0.6)
    assert np.all(_col(sad, "mouthFrownLeft") > 0.5)


def test_intensity_zero_is_neutral(speech):
    segs, dur, art = speech
    neutral = _with_emotion(art, dur, None).weights
    for e in BASIC_EMOTIONS:
        assert np.array_equal(_with_emotion(art, dur, e, 0.0).weights, neutral)


@pytest.mark.parametrize("emotion", BASIC_EMOTIONS)
def test_bilabials_close_under_every_emotion(speech, emotion):
    segs, dur, art = speech
    w = _with_emotion(art, dur, emotion).weights
    for s in segs:
        if s.phone in ("M", "B"):
            mid = int(round(0.5 * (s.start + s.end) * FPS))
            assert _col(w, "mouthClose")[mid] == pytest.approx(_col(w, "jawOpen")[mid], abs=1e-6)
            for ch in ("mouthLowerDownLeft", "mouthUpperUpRight", "mouthFunnel"):
                assert _col(w, ch)[mid] == 0.0


def test_intensity_scales_linearly():
    full = emotion_vector("angry", 1.0)
    half = emotion_vector("angry", 0.5)
    assert np.allclose(half, 0.5 * full)
    assert full[arkit.index("browDownLeft")] > 0.5


def test_unknown_emotion_word():
    with pytest.raises(PromptError, match="unknown emotion 'zqxjvw'.*happy"):
        resolve_prompt("zqxjvw")  # free text is understood ("grumpyish" reads as grumpy); gibberish is not
    with pytest.raises(PromptError, match="intensity"):
        EmotionTrack.constant("happy", 1.5)


def test_emotion_track_transition():
    track = EmotionTrack.from_keys([(0.0, "happy", 1.0), (2.0, "angry", 1.0)], transition=0.5)
    times = np.arange(90) / FPS
    w = track.curves(times).weights
    smile, brow = _col(w, "mouthSmileLeft"), _col(w, "browDownLeft")
    happy, angry = emotion_vector("happy"), emotion_vector("angry")
    assert np.allclose(w[:61], happy)             # happy up to and at 2.0 s
    assert np.allclose(w[75:], angry)             # angry from 2.5 s on
    assert 0 < smile[68] < happy[arkit.index("mouthSmileLeft")]
    assert np.all(np.diff(brow[60:76]) >= 0)      # monotonic blend


def test_blinks_are_seeded_natural_and_binocular():
    a = blink_curves(1800, FPS, seed=3)
    b = blink_curves(1800, FPS, seed=3)
    c = blink_curves(1800, FPS, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    closed = a[:, 0] > 0.7
    onsets = np.flatnonzero(closed[1:] & ~closed[:-1])
    assert 8 <= len(onsets) <= 30  # 60 s at ~17/min with variance
    gaps = np.diff(onsets) / FPS
    assert gaps.min() >= 0.7 and gaps.std() > 0.3
    assert np.all(a[onsets + 1, 1] > 0.5)  # the other eye blinks too
    # each blink is short: fewer than 10 % of frames closed
    assert closed.mean() < 0.1


def test_blink_on_top_of_expression():
    w = np.zeros((3, 52), np.float32)
    w[:, arkit.index("eyeBlinkLeft")] = 0.2
    w[:, arkit.index("eyeWideLeft")] = 0.6
    out = compose_blinks(w, np.array([[0, 0], [0.5, 0.5], [1, 1]], np.float32))
    assert np.allclose(_col(out, "eyeBlinkLeft"), [0.2, 0.6, 1.0])
    assert np.allclose(_col(out, "eyeWideLeft"), [0.6, 0.3, 0.0])


def test_gaze_moves_and_is_seeded():
    g = gaze_curves(900, FPS, seed=1)
    assert np.array_equal(g, gaze_curves(900, FPS, seed=1))
    moves = np.flatnonzero(np.abs(np.diff(g[:, 0])) > 1e-4)
    assert len(moves) > 5 and np.abs(g).max() <= 0.5
