"""visemo.audio: the loader (formats, rates, channels, bad input) and per-frame features."""

from __future__ import annotations

import math
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from visemo.animation import frame_count
from visemo.audio import (Audio, load_audio, loudness, loudness_envelope, rms_db,
                          voice_activity)
from visemo.audio.load import SPEECH_FLOOR_DBFS, DCBlocker, speech_level_db
from visemo.errors import AudioError


def tone(freq=440.0, seconds=1.5, rate=44100, amp=0.5):
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_frequency(x, rate):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=8 * len(x)))
    return np.argmax(spec) * rate / (8 * len(x))


# ---------------------------------------------------------------------- good input
def test_44k_stereo_file_becomes_16k_mono_sine(tmp_path):
    left, right = tone(440, 1.5, 44100, 0.6), tone(440, 1.5, 44100, 0.2)
    path = tmp_path / "stereo44k.wav"
    sf.write(path, np.stack([left, right], axis=1), 44100, subtype="PCM_16")

    a = load_audio(path)

    assert a.sample_rate == 16000 and a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert abs(a.duration - 1.5) < 0.001
    assert a.source == str(path)
    assert abs(peak_frequency(a.samples, 16000) - 440.0) < 1.0
    expected = DCBlocker().push(tone(440, 1.5, 16000, 0.4))  # mean of the two channels, offset removed
    inner = slice(800, len(expected) - 800)  # skip the resampling filter's edges
    assert np.max(np.abs(a.samples[inner] - expected[inner])) < 2e-3


@pytest.mark.parametrize("rate", [8000, 22050, 48000, 96000, 16000])
def test_any_rate_preserves_frequency_and_duration(tmp_path, rate):
    path = tmp_path / f"tone{rate}.flac"
    sf.write(path, tone(300, 1.0, rate), rate)
    a = load_audio(path)
    assert a.sample_rate == 16000
    assert abs(a.duration - 1.0) < 0.001
    assert abs(peak_frequency(a.samples, 16000) - 300.0) < 1.0


def test_ogg_and_six_channels(tmp_path):
    x = np.stack([tone(500, 1.0, 32000, 0.3)] * 6, axis=1)
    path = tmp_path / "six.ogg"
    sf.write(path, x, 32000)
    a = load_audio(path)
    assert abs(a.duration - 1.0) < 0.002
    assert abs(peak_frequency(a.samples, 16000) - 500.0) < 2.0


def test_mp3_if_libsndfile_reads_it(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    path = tmp_path / "speech.mp3"
    sf.write(path, tone(440, 1.0, 44100), 44100, format="MP3")
    a = load_audio(path)
    assert abs(a.duration - 1.0) < 0.06  # encoder padding
    assert abs(peak_frequency(a.samples, 16000) - 440.0) < 2.0


def test_m4a_through_ffmpeg(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("no ffmpeg")
    wav, m4a = tmp_path / "a.wav", tmp_path / "a.m4a"
    sf.write(wav, tone(440, 1.0, 44100), 44100)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), str(m4a)], check=True)
    a = load_audio(m4a)
    assert abs(a.duration - 1.0) < 0.05
    assert abs(peak_frequency(a.samples, 16000) - 440.0) < 2.0


def test_arrays_int_float_channels_first():
    x = tone(440, 1.0, 22050, 0.5)
    a = load_audio(x, sample_rate=22050)
    assert a.source is None and abs(a.duration - 1.0) < 0.001
    b = load_audio((x * 32767).astype(np.int16), sample_rate=22050)
    np.testing.assert_allclose(a.samples, b.samples, atol=1e-3)
    c = load_audio(np.stack([x, x]), sample_rate=22050)  # [channels, N]
    np.testing.assert_allclose(a.samples, c.samples, atol=1e-6)
    d = load_audio(a)  # an Audio passes through
    np.testing.assert_array_equal(a.samples, d.samples)
    with pytest.raises(AudioError, match="sample_rate"):
        load_audio(x)


def test_flite_speech_loads(synth):
    u = synth("Bob met me.", "slt")
    a = load_audio(u.path)
    assert abs(a.duration - u.duration) < 1e-3
    assert isinstance(a, Audio) and a.pcm16()[:2] is not None


def test_quiet_speech_is_raised_to_the_floor_and_speech_at_it_is_left_alone(flite_utterances):
    u = flite_utterances[0]
    x = DCBlocker().push(sf.read(u.path, dtype="float32")[0])
    loud = load_audio(u.path)
    assert speech_level_db(loud.samples) > SPEECH_FLOOR_DBFS      # flite speaks at about -15 dBFS
    np.testing.assert_array_equal(loud.samples, x)                # only the offset filter, no gain
    for db in (-20, -35):                                         # about -35 and -50 dBFS
        quiet = x * np.float32(10 ** (db / 20))
        a = load_audio(quiet, sample_rate=16000)
        want = DCBlocker().push(quiet)
        gain = a.samples[np.argmax(np.abs(want))] / want[np.argmax(np.abs(want))]
        np.testing.assert_allclose(a.samples, want * gain, atol=1e-6)    # one gain, the waveform kept
        assert abs(speech_level_db(want) + 20 * np.log10(gain) - SPEECH_FLOOR_DBFS) < 0.01  # to the floor
        assert load_audio(a) is a                                 # a loaded Audio is not raised again
    clicked = x * np.float32(10 ** (-35 / 20))
    clicked[100] = 0.5                                            # a click: the lift stops at peak 1
    a = load_audio(clicked, sample_rate=16000)
    assert abs(np.max(np.abs(a.samples)) - 1.0) < 1e-6 and speech_level_db(a.samples) < SPEECH_FLOOR_DBFS
    full = load_audio(np.concatenate([x / np.max(np.abs(x)), x]), sample_rate=16000)    # normalised to 1
    assert np.max(np.abs(full.samples)) <= 1.0                    # the filter's overshoot is clipped


def test_room_tone_without_speech_is_not_raised():
    """Steady noise at -45 dBFS (audible, so it loads) lacks the rise and fall of speech: it is left at its
    level (raised to -24 dBFS, the model read it as speech and moved the jaw up to 0.32)."""
    noise = np.random.default_rng(3).normal(0, 10 ** (-45 / 20), 2 * 16000).astype(np.float32)
    a = load_audio(noise, sample_rate=16000)
    np.testing.assert_array_equal(a.samples, DCBlocker().push(noise))
    assert abs(speech_level_db(a.samples) + 45) < 2


def test_an_offset_is_removed_alike_whole_and_in_chunks(flite_utterances):
    """A recording 0.05 off zero (a cheap interface): the offset is gone within 100 ms, and the filter gives
    the same samples whole (load_audio) as in chunks (visemo stream)."""
    x = sf.read(flite_utterances[1].path, dtype="float32")[0]
    a = load_audio(x + np.float32(0.05), sample_rate=16000)
    b = load_audio(x, sample_rate=16000)
    np.testing.assert_allclose(a.samples[1600:], b.samples[1600:], atol=1e-5)   # from 100 ms on
    assert abs(float(np.mean(a.samples[1600:]))) < 1e-4
    f = DCBlocker()
    chunks = np.concatenate([f.push(x[k:k + 7]) for k in range(0, len(x), 7)])
    np.testing.assert_array_equal(chunks, DCBlocker().push(x))


# ---------------------------------------------------------------------- bad input
def _wav(path, x, rate=16000, subtype="PCM_16"):
    sf.write(path, x, rate, subtype=subtype)
    return path


def _bad_inputs(tmp_path):
    rng = np.random.default_rng(0)
    good = _wav(tmp_path / "good.wav", tone(440, 1.0, 16000))
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "zero_bytes.wav").write_bytes(b"")
    (tmp_path / "random_bytes.wav").write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (tmp_path / "truncated_header.wav").write_bytes(good.read_bytes()[:20])
    nan = tone(440, 1.0, 16000)
    nan[100] = np.nan
    quiet = (rng.standard_normal(16000) * 10 ** (-75 / 20)).astype(np.float32)
    hum = (rng.standard_normal(32000) * 10 ** (-58 / 20)).astype(np.float32)
    hum[0] = 0.01  # a click: peak -40 dBFS, but nothing audible
    return {
        "missing.wav": ("not found", tmp_path / "missing.wav", {}),
        "folder.wav": ("folder", tmp_path / "folder.wav", {}),
        "zero_bytes.wav": ("empty", tmp_path / "zero_bytes.wav", {}),
        "no_samples.wav": ("no audio samples", _wav(tmp_path / "no_samples.wav", np.zeros(0, np.float32)), {}),
        "random_bytes.wav": ("cannot decode", tmp_path / "random_bytes.wav", {}),
        "truncated_header.wav": ("cannot decode", tmp_path / "truncated_header.wav", {}),
        "silent.wav": ("silent", _wav(tmp_path / "silent.wav", np.zeros(16000, np.float32)), {}),
        "very_quiet.wav": ("silent", _wav(tmp_path / "very_quiet.wav", quiet, subtype="FLOAT"), {}),
        "hum.wav": ("no audible speech", _wav(tmp_path / "hum.wav", hum, subtype="FLOAT"), {}),
        "too_long.wav": ("limit", _wav(tmp_path / "too_long.wav", tone(440, 3.0, 16000)),
                         {"max_seconds": 2.0}),
        "too_short.wav": ("ms long", _wav(tmp_path / "too_short.wav", tone(440, 0.05, 16000)), {}),
        "nan.wav": ("NaN", _wav(tmp_path / "nan.wav", nan, subtype="FLOAT"), {}),
    }


@pytest.mark.parametrize("name", [
    "missing.wav", "folder.wav", "zero_bytes.wav", "no_samples.wav", "random_bytes.wav",
    "truncated_header.wav", "silent.wav", "very_quiet.wav", "hum.wav", "too_long.wav",
    "too_short.wav", "nan.wav",
])
def test_bad_input_raises_one_clear_line(tmp_path, name):
    words, path, kw = _bad_inputs(tmp_path)[name]
    with pytest.raises(AudioError) as e:
        load_audio(path, **kw)
    msg = str(e.value)
    assert name in msg and words in msg and "\n" not in msg
    assert " -- " in msg  # says what to do


def test_bad_arrays():
    with pytest.raises(AudioError, match="NaN"):
        load_audio(np.full(16000, np.nan, np.float32), sample_rate=16000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(np.zeros(0, np.float32), sample_rate=16000)
    with pytest.raises(AudioError, match="silent"):
        load_audio(np.zeros(16000, np.float32), sample_rate=16000)
    with pytest.raises(AudioError, match="sample rate"):
        load_audio(tone(), sample_rate=-5)
    with pytest.raises(AudioError, match="file path or a numpy array"):
        load_audio(12345)


def test_long_file_is_rejected_before_decoding(tmp_path):
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", 8000, 1, "PCM_16") as f:
        f.write(np.zeros(8000 * 61, np.int16))
    with pytest.raises(AudioError, match="61.0 s long, over the 60 s limit"):
        load_audio(path, max_seconds=60)


# ---------------------------------------------------------------------- features
def test_frame_count_and_levels():
    a = load_audio(tone(440, 1.0, 16000, 1.0), sample_rate=16000)
    assert frame_count(1.0, 30) == 30 and frame_count(1.01, 30) == 31
    db = rms_db(a, 30)
    assert db.shape == (30,) and db.dtype == np.float32
    assert np.all(np.abs(db[1:-1] - 20 * math.log10(math.sqrt(0.5))) < 0.2)  # -3 dBFS
    assert loudness_envelope(a, 30, 40).shape == (40,)


def test_voice_activity_on_tone_with_noise_floor():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(48000) * 10 ** (-65 / 20)).astype(np.float32)  # 3 s noise floor
    x[16000:32000] += tone(200, 1.0, 16000, 0.3)
    a = load_audio(x, sample_rate=16000)
    va = voice_activity(a, 100)
    assert va.shape == (300,)
    assert va[105:195].all() and not va[:95].any() and not va[205:].any()
    env = loudness(a, 100)
    assert env.min() >= 0 and env.max() <= 1
    assert env[110:190].mean() > 0.9 and env[:90].max() < 0.05


def test_voice_activity_matches_flite_pauses(flite_utterances):
    agree, total = 0, 0
    for u in flite_utterances:
        a = load_audio(u.path)
        va = voice_activity(a, 30)
        t = np.arange(len(va)) / 30
        truth = np.array([next(s.phone != "SIL" for s in u.segments if s.start <= ti < s.end or
                               s is u.segments[-1]) for ti in t])
        agree += int((va == truth).sum())
        total += len(va)
    assert agree / total > 0.9


def test_loudness_follows_gain_independent(flite_utterances):
    u = flite_utterances[0]
    a = load_audio(u.path)
    b = load_audio(a.samples * 0.1, sample_rate=16000)
    np.testing.assert_allclose(loudness(a, 30), loudness(b, 30), atol=0.02)
