"""Emotion from the speech itself: sentences → keys, voice → intensity (real speech)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from visemo.audio import load_audio
from visemo.audio.load import Audio
from visemo.emotion import auto
from visemo.emotion.auto import (AutoEmotion, auto_emotion, auto_emotion_track, pitch_track,
                                 sentence_spans, split_sentences)
from visemo.emotion.prompts import Expression
from visemo.emotion.track import EmotionTrack
from visemo.errors import PromptError
from visemo.speech.timings import phoneme_timings


@pytest.fixture
def no_text_emotion(monkeypatch):
    """A text path that finds no emotion in any sentence (isolates timing and voice)."""
    from visemo.emotion import track as track_module
    from visemo.emotion.facs import emotion_vector

    def resolve(prompt):
        if (prompt or "neutral") == "neutral":
            return Expression("neutral", emotion_vector("neutral"), 1.0)
        raise PromptError(f"no emotion in {prompt!r}")

    monkeypatch.setattr(auto, "resolve_prompt", resolve)
    monkeypatch.setattr(track_module, "resolve_prompt", resolve)


def _concat(parts: list[np.ndarray], gap_s: float = 0.6) -> Audio:
    gap = np.zeros(int(gap_s * 16000), np.float32)
    out = []
    for i, p in enumerate(parts):
        out += ([gap] if i else []) + [np.asarray(p, np.float32)]
    return Audio(np.concatenate(out))


def test_split_sentences_keeps_speakable_sentences():
    text = 'Well. "I can\'t believe it!" she said… Really?  OK;\nfine ... 42.'
    assert split_sentences(text) == ["Well.", "\"I can't believe it!\"", "she said…", "Really?",
                                     "OK;", "fine ...", "42."]
    assert split_sentences("") == [] and split_sentences(" ... !! ") == []



def test_no_and_etc_end_sentences_but_titles_do_not():
    assert split_sentences("No. I won't.") == ["No.", "I won't."]
    assert split_sentences("We packed tents, stoves, etc. Then it rained.") == [
        "We packed tents, stoves, etc.", "Then it rained."]
    assert split_sentences("Ask Mr. Smith. No. Dr. Jones said no, e.g. here.") == [
        "Ask Mr. Smith.", "No.", "Dr. Jones said no, e.g. here."]


def test_no_i_wont_is_two_sentences_timed_by_their_words(synth, no_text_emotion):
    """Real speech (flite): "No." and "I won't." get their own spans and keys, at flite's own phone times."""
    utt = synth("No. I won't.", "slt")
    audio = load_audio(utt.path)
    timings = phoneme_timings(audio, utt.text)
    no, i, wont = timings.words
    assert (no.word, i.word, wont.word) == ("no", "i", "won't")
    spans = sentence_spans(timings, audio.duration)
    assert [text for *_, text in spans] == ["No.", "I won't."]
    assert spans[0][:2] == (no.start, no.end) and spans[1][:2] == (i.start, wont.end)
    # flite's ground truth: SIL N OW SIL AY W OW N T SIL
    truth = [seg for seg in utt.segments if seg.phone != "SIL"]
    assert [seg.phone for seg in truth] == ["N", "OW", "AY", "W", "OW", "N", "T"]
    assert spans[0][0] == pytest.approx(truth[0].start, abs=0.06)   # "no" starts with its N
    assert spans[0][1] == pytest.approx(truth[1].end, abs=0.06)     # ... and ends with its OW
    assert spans[1][0] == pytest.approx(truth[2].start, abs=0.06)   # "I" starts at AY, after the pause
    assert spans[1][1] == pytest.approx(truth[-1].end, abs=0.06)    # "won't" ends with its T
    assert spans[0][1] < spans[1][0]
    result = auto_emotion(audio, timings)
    assert [s.text for s in result.sentences] == ["No.", "I won't."]
    first, second = result.track.keys
    assert first.time == 0.0 and spans[0][1] <= second.time <= spans[1][0]

def test_pitch_track_finds_a_known_tone_and_ignores_silence():
    sr = 16000
    t = np.arange(sr) / sr
    tone = 0.3 * np.sin(2 * np.pi * 150 * t) + 0.15 * np.sin(2 * np.pi * 300 * t + 1)
    audio = Audio(np.concatenate([np.zeros(sr // 2), tone, np.zeros(sr // 2)]).astype(np.float32))
    f0 = pitch_track(audio)
    assert len(f0) == 200
    assert np.all(f0[:45] == 0) and np.all(f0[-45:] == 0)
    mid = f0[60:140]
    assert np.all(np.abs(mid - 150) < 1.5)


def test_pitch_track_on_real_voices_orders_female_above_male(synth):
    text = "Please pass the bread, the butter, and the jam."
    medians = {}
    for voice in ("slt", "rms"):
        f0 = pitch_track(load_audio(synth(text, voice).path))
        voiced = f0[f0 > 0]
        assert len(voiced) > 50
        medians[voice] = float(np.median(voiced))
    assert 140 < medians["slt"] < 260       # US female
    assert 70 < medians["rms"] < 150        # US male
    assert medians["slt"] > medians["rms"] * 1.3


@pytest.fixture(scope="module")
def librivox_pair(librivox):
    """'He was not an ill disposed young man.' + 'Unless to be … ill disposed.', 0.6 s apart."""
    clips = {p.stem[-4:]: p for p, _ in librivox}
    if "0880" not in clips or "0890" not in clips:
        pytest.skip("LibriVox clips 0880/0890 missing")
    first, second = load_audio(clips["0880"]), load_audio(clips["0890"])
    audio = _concat([first.samples, second.samples])
    text = ("He was not an ill disposed young man. "
            "Unless to be rather cold hearted and rather selfish is to be ill disposed.")
    return audio, phoneme_timings(audio, text), first.duration + 0.6


def test_keys_start_at_the_sentences_of_real_speech(librivox_pair, no_text_emotion):
    audio, timings, boundary = librivox_pair
    result = auto_emotion(audio, timings)
    assert isinstance(result, AutoEmotion) and isinstance(result.track, EmotionTrack)
    one, two = result.sentences
    assert one.text.startswith("He was") and two.text.startswith("Unless")
    words = timings.words
    assert one.start == pytest.approx(words[0].start) and one.end == pytest.approx(words[7].end)
    assert two.start == pytest.approx(words[8].start)       # "unless"
    assert boundary - 0.05 <= two.start <= boundary + 0.6    # the speech of clip 2
    keys = result.track.keys
    assert [k.time for k in keys][0] == 0.0
    assert one.end <= keys[1].time <= two.start             # before sentence 2, after sentence 1
    assert two.start - keys[1].time <= auto.LEAD + 1e-6
    # A sentence the text path refuses is neutral, nothing invented.
    assert all(s.prompt == "neutral" and s.label == "neutral" for s in result.sentences)
    assert auto_emotion_track(audio, timings).keys == keys


def test_intensity_rises_with_loudness_for_the_same_sentence(synth, no_text_emotion):
    utt = synth("The map by the pub was barely visible.", "slt")
    x = load_audio(utt.path).samples
    peak = np.abs(x).max()
    quiet, loud = x * (0.2 / peak), x * (0.2 / peak) * 10 ** (12 / 20)  # loud: +12 dB
    audio = _concat([quiet, loud])
    text = "The map by the pub was barely visible. The map by the pub was barely visible."
    result = auto_emotion(audio, phoneme_timings(audio, text))
    a, b = result.sentences
    assert b.level_db - a.level_db == pytest.approx(12.0, abs=1.0)
    assert abs(b.pitch_st - a.pitch_st) < 0.3           # same voice, same pitch
    assert b.intensity - a.intensity == pytest.approx(12.0 * auto.DB_GAIN, abs=0.04)
    assert b.intensity > a.intensity + 0.25
    assert result.track.keys[1].intensity == b.intensity


def test_sentences_go_through_the_text_path(synth, monkeypatch, tmp_path):
    """Whatever the text path makes of a sentence becomes its key; refusals are neutral."""
    from visemo.emotion import track as track_module
    from visemo.emotion.facs import emotion_vector

    def fake_resolve(prompt):
        p = (prompt or "neutral").lower()
        for word, label in (("wonderful", "happy"), ("terrible", "sad"), ("neutral", "neutral")):
            if word in p:
                return Expression(label, emotion_vector(label), 1.0)
        raise PromptError(f"no emotion in {prompt!r}")

    monkeypatch.setattr(auto, "resolve_prompt", fake_resolve)
    monkeypatch.setattr(track_module, "resolve_prompt", fake_resolve)
    text = "What a wonderful morning. The bus leaves at nine. This is terrible news."
    utt = synth(text, "awb")
    audio = load_audio(utt.path)
    result = auto_emotion(audio, phoneme_timings(audio, text))
    assert [s.label for s in result.sentences] == ["happy", "neutral", "sad"]
    assert [k.prompt for k in result.track.keys] == ["What a wonderful morning.", "neutral",
                                                     "This is terrible news."]
    assert result.track.labels == ("happy", "neutral", "sad")
    # The track animates: happy at the start, sad at the end.
    curves = result.track.curves(np.array([0.2, audio.duration - 0.05]))
    happy, sad = emotion_vector("happy"), emotion_vector("sad")
    assert curves.weights[0] @ happy > curves.weights[0] @ sad
    assert curves.weights[1] @ sad > curves.weights[1] @ happy
    # Editable: change a key, rebuild.
    keys = list(result.track.keys)
    keys[2] = type(keys[2])(keys[2].time, "neutral", 1.0)
    edited = EmotionTrack(tuple(keys), result.track.transition)
    assert edited.labels == ("happy", "neutral", "neutral")


def test_without_words_sentences_share_the_voiced_audio(librivox_pair):
    audio, timings, _ = librivox_pair

    class NoWords:
        transcript = timings.transcript
        words = []

    spans = sentence_spans(NoWords(), audio.duration, (0.3, 8.3))
    assert [s[0] for s in spans] == pytest.approx([0.3, 0.3 + 8.0 * 8 / 22])
    assert spans[-1][1] == pytest.approx(8.3)


def test_real_text_path_and_track_agree(librivox_pair):
    """With the shipped text path: each key's prompt resolves to its sentence's label."""
    audio, timings, _ = librivox_pair
    result = auto_emotion(audio, timings)
    assert result.track.labels == tuple(s.label for s in result.sentences)
    for s, key in zip(result.sentences, result.track.keys):
        assert key.prompt in (s.text, "neutral")


def test_without_a_transcript_phrases_are_cut_at_pauses(synth, tmp_path):
    x = load_audio(synth("Bubbles popped above the warm bath water.", "kal16").path).samples
    audio = _concat([x, x], gap_s=1.0)
    path = tmp_path / "two.wav"
    sf.write(path, audio.samples, 16000)
    result = auto_emotion(load_audio(path), None)
    assert len(result.sentences) == 2
    first, second = result.sentences
    assert second.start - first.end >= 0.9
    assert all(s.prompt == "neutral" and s.text == "" for s in result.sentences)
    assert abs(second.intensity - first.intensity) < 0.05
