"""The speech → articulation-class training corpus (visemo.train.tts_corpus).

Needs the Debian packages espeak-ng (libespeak-ng1), festival (+ voices) and flite for the
synthesis tests; each engine's tests skip when it is absent.  The held-out policy tests need none.
"""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest
import soundfile as sf

import tts
from visemo.speech.articulation_classes import CLASSES, ipa_class
from visemo.train import tts_corpus as tc

needs_espeak = pytest.mark.skipif(not tc.have_espeak(), reason="espeak-ng is not installed (apt-get install espeak-ng)")
needs_festival = pytest.mark.skipif(not tc.have_festival(), reason="festival is not installed (apt-get install festival)")
needs_flite = pytest.mark.skipif(not tc.have_flite(), reason="flite is not installed (apt-get install flite)")

TEXT = "a happy puppy napped by the map, then Pam paid a bill"  # not an evaluation sentence


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2))) if len(x) else 0.0


def _check_tiling(segments, duration: float) -> None:
    assert segments[0][1] == 0.0
    assert segments[-1][2] == pytest.approx(duration, abs=1e-4)
    for a, b in zip(segments, segments[1:]):
        assert a[2] == pytest.approx(b[1], abs=1e-6)
        assert b[2] > b[1]


# ------------------------------------------------------------------------------------------- held-out policy
def test_reserved_festival_voices_never_train():
    for voice in tc.RESERVED_FESTIVAL_VOICES:
        language = tc.FESTIVAL_VOICES[voice].language
        assert tc.split_for("festival", voice, language) == "heldout_reserved"
        with pytest.raises(tc.HeldOutViolation):
            tc.check_split("festival", voice, language, "train")
        with pytest.raises(tc.HeldOutViolation):  # lying about the language does not help
            tc.check_split("festival", voice, "en", "train")
        tc.check_split("festival", voice, language, "heldout_reserved")
    assert {tc.FESTIVAL_VOICES[v].language for v in tc.RESERVED_FESTIVAL_VOICES} == {"cs", "ca", "ru"}


def test_builder_refuses_to_write_reserved_voice_as_train(tmp_path):
    spec = tc.UtteranceSpec("festival-czech_dita-00000", "festival", "czech_dita", "cs", "train", "Pes spí.",
                            {"stretch": 1.0})
    syn = tc.Synthesis(np.zeros(1600, np.int16), [("SIL", 0.0, 0.1)])
    with pytest.raises(tc.HeldOutViolation):
        tc._write(tmp_path, spec, syn)
    assert not list(tmp_path.rglob("*.wav"))


def test_heldout_languages_and_voices_never_train():
    for lang in tc.HELDOUT_LANGUAGES:
        assert lang not in tc.ESPEAK_TRAIN_VOICES
        assert tc.split_for("espeak", f"{lang}+m3", lang) == "heldout_language"
        with pytest.raises(tc.HeldOutViolation):
            tc.check_split("espeak", lang, lang, "train")
    assert tc.RESERVED_LANGUAGES <= set(tc.HELDOUT_LANGUAGES)
    for variant in tc.HELDOUT_ESPEAK_VARIANTS:
        assert variant not in tc.TRAIN_ESPEAK_VARIANTS
        assert tc.split_for("espeak", f"de+{variant}", "de") == "heldout_voice"
        with pytest.raises(tc.HeldOutViolation):
            tc.check_split("espeak", f"de+{variant}", "de", "train")
    for engine, voice in tc.HELDOUT_VOICES:
        assert tc.split_for(engine, voice, "en") == "heldout_voice"
    assert tc.split_for("espeak", "pl+m3", "pl") == "train"
    assert tc.split_for("festival", "lp_diphone", "it") == "train"


def test_plan_keeps_held_out_out_of_train():
    texts = tc.TextSource()
    specs = tc.plan(tc.CorpusConfig(hours=0.01, seed=3, heldout_reserved=12, heldout_language=20,
                                    heldout_voice=20), texts)
    train = [s for s in specs if s.split == "train"]
    assert train
    for s in train:
        assert s.voice.split("+")[0] not in tc.RESERVED_FESTIVAL_VOICES
        assert s.language.split("-")[0] not in tc.HELDOUT_LANGUAGES
        assert tc._variant(s.voice) not in tc.HELDOUT_ESPEAK_VARIANTS
        assert (s.engine, s.voice) not in tc.HELDOUT_VOICES
    for s in specs:
        assert tc.split_for(s.engine, s.voice, s.language) == s.split
    if tc.have_espeak():
        held = {s.language for s in specs if s.split == "heldout_language"}
        assert held <= set(tc.HELDOUT_LANGUAGES) and len(held) >= 6
    if tc.festival_voice_installed("czech_dita"):
        assert any(s.split == "heldout_reserved" and s.voice == "czech_dita" for s in specs)


def test_evaluation_sentences_are_excluded():
    excluded = tc.evaluation_texts()
    norm = {tc._normalize_text(t) for t in tts.SENTENCES}
    assert norm <= excluded                                     # tests/tts.py sentences are known
    texts = tc.TextSource()
    pool = {tc._normalize_text(t) for ts in texts.native.values() for t in ts}
    pool |= {tc._normalize_text(t) for ts in texts.written.values() for t in ts}
    assert len(pool) > 1500
    assert not pool & excluded
    # a TextSource told to exclude a sentence never returns it
    victim = texts.native["it"][0]
    strict = tc.TextSource(excluded=excluded | {tc._normalize_text(victim)})
    rng = random.Random(0)
    assert all(strict.sentence(rng, "it") != victim for _ in range(300))


def test_pseudo_text_is_deterministic_and_in_script():
    a = [tc.pseudo_sentence(random.Random(5), lang) for lang in ("pl", "hi", "ka", "ja", "cmn", "am", "bg")]
    b = [tc.pseudo_sentence(random.Random(5), lang) for lang in ("pl", "hi", "ka", "ja", "cmn", "am", "bg")]
    assert a == b
    assert any("\u0900" <= ch <= "\u097f" for ch in a[1])      # Devanagari
    assert any("\u10a0" <= ch <= "\u10ff" for ch in a[2])      # Georgian
    assert any("\u0400" <= ch <= "\u04ff" for ch in a[6])      # Cyrillic


# ------------------------------------------------------------------------------------------- phone tables
def test_festival_tables_map_every_phone():
    for voice in tc.FESTIVAL_VOICES.values():
        if voice.phones is None:
            for p in ("aa", "ax", "axr", "dx", "hh", "pau", "ch", "jh", "el", "en"):
                assert tc.festival_phone_class(voice.name, p) in CLASSES, (voice.name, p)
            continue
        for phone, ipa in voice.phones.items():
            assert ipa_class(ipa) in CLASSES, (voice.name, phone, ipa)
    assert tc.festival_phone_class("lp_diphone", "a1") == "OPEN"
    assert tc.festival_phone_class("lp_diphone", "tS") == "SH"
    assert tc.festival_phone_class("suo_fi_lj_diphone", "7:") == "OROUND"   # ö
    assert tc.festival_phone_class("czech_dita", "s~") == "SH"
    assert tc.festival_phone_class("msu_ru_nsh_clunits", "pp") == "PBM"
    assert tc.festival_phone_class("kal_diphone", "pau") == "SIL"


def test_espeak_names_map():
    assert tc.espeak_ipa_class("") == "SIL"
    assert tc.espeak_ipa_class("tS") == "SH"        # ASCII in some 1.51 tables
    assert tc.espeak_ipa_class("tsh") == "S"
    assert tc.espeak_ipa_class("ɚ") == "R"          # as ARPAbet ER, so espeak and flite agree
    assert tc.espeak_ipa_class("ᵻ") == "SPREAD"
    assert tc.espeak_ipa_class("pʰ") == "PBM"
    assert tc.espeak_ipa_class("aɪ") == "OPEN"


def test_classes_are_contiguous_and_merge():
    phones = [("SIL", 0.0, 0.1), ("p", 0.1, 0.2), ("b", 0.2, 0.25), ("a", 0.25, 0.5), ("SIL", 0.5, 0.7)]
    classes, unknown = tc.classes_of(phones, tc.espeak_ipa_class, 0.8)
    assert unknown == []
    assert [c[0] for c in classes] == ["SIL", "PBM", "OPEN", "SIL"]
    _check_tiling(classes, 0.8)
    _classes, unknown = tc.classes_of([("☃", 0.0, 0.1)], tc.espeak_ipa_class, 0.1)
    assert unknown == ["☃"]


def test_parse_psdur():
    phones = tc.parse_psdur("pau:0.184 dh:0.228 ax:0.258 k:0.30 pau:0.5")
    assert phones[0] == ("SIL", 0.0, 0.184)
    assert [p[0] for p in phones] == ["SIL", "dh", "ax", "k", "SIL"]
    assert phones[2][1] == pytest.approx(0.228)


# ------------------------------------------------------------------------------------------- espeak
@needs_espeak
def test_espeak_events_line_up_with_closures():
    eng = tc.espeak()
    audio, events = eng.synth(TEXT, "en-us")
    rate = eng.rate
    raw = tc.espeak_phones(audio, events, rate, correct_closures=False)
    phones = tc.espeak_phones(audio, events, rate)
    _check_tiling([list(p) for p in phones], len(audio) / rate)
    assert [p[0] for p in phones] == [p[0] for p in raw]
    x = audio.astype(np.float64)
    n_checked = 0
    for i, (name, start, end) in enumerate(phones):
        if name != "p" or phones[i - 1][0] == "SIL":
            continue
        prev = phones[i - 1]
        closure = x[int(start * rate):int((start + 0.03) * rate)]
        vowel = x[int(prev[1] * rate):int(prev[2] * rate)]
        assert _rms(closure) < 0.05 * _rms(vowel), (name, start)   # the PBM segment starts in the closure
        assert raw[i][1] - start > 0.02                              # espeak's event was at the burst
        assert np.count_nonzero(audio[int(start * rate):int(raw[i][1] * rate)]) == 0
        n_checked += 1
    assert n_checked >= 4
    report = tc.measure_espeak_timing([("en-us", TEXT), ("de", "die Suppe kocht, der Topf ist heiß"),
                                       ("it", "il papa apre la porta")], eng)
    assert report.burst_exact_fraction > 0.95        # a voiceless stop's event is exactly at its burst
    assert 20 < report.closure_ms_median < 90        # after a closure of tens of ms counted in the vowel
    assert report.onset_offset_ms_median < 5.0       # after a pause, events sit on the sound's onset
    assert report.pbm_closed_fraction > 0.7


@needs_espeak
def test_espeak_pause_events_inside_speech_go_to_the_neighbours():
    eng = tc.espeak()
    audio, events = eng.synth("the idea is to see Anna eat an apple", "en-us")
    rate = eng.rate
    voiced_pauses = [k for k, (s, n) in enumerate(events[:-2]) if n == "" and k > 0
                     and np.mean(audio[s:events[k + 1][0]] != 0) > 0.5]
    assert voiced_pauses                         # espeak puts pause events between vowels of two words
    phones = tc.espeak_phones(audio, events, rate)
    _check_tiling([list(p) for p in phones], len(audio) / rate)
    ref = np.median([_rms(audio[int(s * rate):int(e * rate)]) for p, s, e in phones if p != "SIL"])
    for name, s, e in phones[1:-1]:
        if name == "SIL":
            assert _rms(audio[int(s * rate):int(e * rate)]) < 0.3 * ref, (s, e)


@needs_espeak
def test_espeak_is_deterministic_whatever_came_before():
    eng = tc.espeak()
    a1, e1 = eng.synth(TEXT, "en-us+m3", 190, 40, 60, 1)
    eng.synth("something else entirely, in German", "de+f2")
    a2, e2 = eng.synth(TEXT, "en-us+m3", 190, 40, 60, 1)
    assert e1 == e2
    assert np.array_equal(a1, a2)


@needs_espeak
def test_espeak_noisy_variant_gets_closures_from_twin():
    syn = tc.espeak_utterance(TEXT, "en-us+f2")            # echo fills the closures: no digital silence
    plain = tc.espeak_utterance(TEXT, "en-us")
    names = [p[0] for p in syn.phones]
    assert names == [p[0] for p in plain.phones]
    i = names.index("p", 2)
    assert syn.phones[i][1] == pytest.approx(plain.phones[i][1], abs=0.03)


@needs_espeak
@pytest.mark.parametrize("lang", ["en", "de", "pl", "hi", "ja", "cmn", "ar", "ka", "fi", "sw", "ko", "ru"])
def test_espeak_languages_have_no_unknown_phones(lang):
    texts = tc.TextSource()
    voices = {**tc.ESPEAK_TRAIN_VOICES, **tc.ESPEAK_HELDOUT_VOICES}[lang]
    rng = random.Random(11)
    for k in range(3):
        syn = tc.espeak_utterance(texts.sample(rng, lang), voices[k % len(voices)])
        duration = len(syn.audio) / tc.SAMPLE_RATE
        classes, unknown = tc.classes_of(syn.phones, tc.espeak_ipa_class, duration)
        assert unknown == []
        assert {c[0] for c in classes} <= set(CLASSES)
        assert len({c[0] for c in classes}) >= 5


# ------------------------------------------------------------------------------------------- festival, flite
@needs_festival
def test_festival_voices_synthesize_with_mapped_phones(tmp_path):
    texts = tc.TextSource()
    voices = [v for v in ("lp_diphone", "suo_fi_lj_diphone", "kal_diphone", "czech_dita", "msu_ru_nsh_clunits",
                          "upc_ca_ona_hts") if tc.festival_voice_installed(v)]
    if not voices:
        pytest.skip("no festival voice installed (apt-get install festvox-italp16k ...)")
    for voice in voices:
        lang = tc.FESTIVAL_VOICES[voice].language
        text = texts.sentence(random.Random(1), lang, engine="festival")
        (syn,) = tc.festival_synth_batch(voice, [(text, 1.0)], tmp_path)
        assert isinstance(syn, tc.Synthesis), syn
        duration = len(syn.audio) / tc.SAMPLE_RATE
        assert abs(syn.phones[-1][2] - duration) < 0.15
        classes, unknown = tc.classes_of(syn.phones, lambda p, v=voice: tc.festival_phone_class(v, p), duration)
        assert unknown == [], (voice, unknown)
        assert len({c[0] for c in classes}) >= 5


@needs_flite
def test_flite_synthesis(tmp_path):
    syn = tc.flite_synth(TEXT, "slt", 1.0, 170.0, tmp_path)
    duration = len(syn.audio) / tc.SAMPLE_RATE
    assert syn.phones[0][0] == "SIL"
    assert abs(syn.phones[-1][2] - duration) < 0.05
    classes, unknown = tc.classes_of(syn.phones, tc.flite_phone_class, duration)
    assert unknown == []
    assert "PBM" in {c[0] for c in classes}


# ------------------------------------------------------------------------------------------- build
def _tiny(engines=("espeak", "flite")) -> tc.CorpusConfig:
    return tc.CorpusConfig(hours=0.004, seed=7, splits=("train", "heldout_language"), heldout_language=3,
                           engines=engines, languages=("en", "pl", "hi"))


@pytest.mark.skipif(not (tc.have_espeak() and tc.have_flite()), reason="needs espeak-ng and flite")
def test_build_is_deterministic_and_resumable(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    recs_a = tc.build(a, _tiny(), workers=2, progress=False)
    recs_b = tc.build(b, _tiny(), workers=1, progress=False)
    assert len(recs_a) >= 6
    assert {r["engine"] for r in recs_a} == {"espeak", "flite"}
    assert {r["split"] for r in recs_a} == {"train", "heldout_language"}
    assert recs_a == recs_b
    assert (a / "manifest.jsonl").read_text() == (b / "manifest.jsonl").read_text()
    for rec in recs_a:
        wav = f"{rec['split']}/{rec['id']}.wav"
        assert (a / wav).read_bytes() == (b / wav).read_bytes()
        x, sr = sf.read(a / wav, dtype="int16")
        assert sr == 16000 and x.ndim == 1
        assert rec["duration"] == pytest.approx(len(x) / sr, abs=1e-4)
        _check_tiling(rec["classes"], rec["duration"])
        _check_tiling(rec["phones"], rec["duration"])
        assert rec["classes"][0][0] == "SIL" and rec["classes"][-1][0] == "SIL"
        assert {c[0] for c in rec["classes"]} <= set(CLASSES)
        assert tc.split_for(rec["engine"], rec["voice"], rec["language"]) == rec["split"]
    manifest = [json.loads(line) for line in (a / "manifest.jsonl").read_text().splitlines()]
    assert [m["id"] for m in manifest] == [r["id"] for r in recs_a]

    # resume: remove two utterances, build again: only those are made, identical to before
    victims = recs_a[:2]
    kept = a / f"{recs_a[3]['split']}/{recs_a[3]['id']}.wav"
    mtime = kept.stat().st_mtime_ns
    for rec in victims:
        (a / f"{rec['split']}/{rec['id']}.wav").unlink()
        (a / f"{rec['split']}/{rec['id']}.json").unlink()
    capsys.readouterr()
    recs_c = tc.build(a, _tiny(), workers=1, progress=True)
    out = capsys.readouterr().out
    assert f"{len(recs_a) - 2} already there, 2 to synthesize" in out
    assert recs_c == recs_a
    assert kept.stat().st_mtime_ns == mtime
    for rec in victims:
        wav = f"{rec['split']}/{rec['id']}.wav"
        assert (a / wav).read_bytes() == (b / wav).read_bytes()
    table = tc.summary_table(recs_c)
    assert "heldout_language" in table and "espeak" in table

    # made a split at a time: building only one split again keeps the other's manifest rows
    before = (a / "manifest.jsonl").read_text()
    import dataclasses

    tc.build(a, dataclasses.replace(_tiny(), splits=("heldout_language",)), workers=1, progress=False)
    assert sorted((a / "manifest.jsonl").read_text().splitlines()) == sorted(before.splitlines())
    assert (a / "manifest_train.jsonl").exists() and (a / "manifest_heldout_language.jsonl").exists()


@needs_espeak
def test_cli_runs(tmp_path, capsys):
    code = tc.main([str(tmp_path / "c"), "--hours", "0.002", "--engines", "espeak", "--languages", "it",
                    "--splits", "train", "--workers", "1"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Per engine / language / split" in out
    assert (tmp_path / "c" / "manifest_train.jsonl").exists()
    assert "Per split" in (tmp_path / "c" / "summary.txt").read_text()
    with pytest.raises(SystemExit):
        tc.main([str(tmp_path / "d"), "--splits", "training"])
    shutil.rmtree(tmp_path / "c")
