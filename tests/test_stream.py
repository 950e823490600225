"""Streaming (visemo.stream): audio in chunks → the offline curves, a fixed latency later.

The class probabilities come from stand-ins timed like the articulation
model's stream (``OracleSource``: given in advance; ``PatternSource``: a
fixed schedule for the CLI), so these tests need no trained model; one test
runs the shipped model when the models folder has it.
"""

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from visemo import arkit
from visemo.animation import frame_count
from visemo.audio import loudness_envelope
from visemo.audio.load import Audio
from visemo.audio.melspec import frame_count as rows_for
from visemo.errors import AudioError, PromptError, VisemoError
from visemo.lipsync import articulate
from visemo.pipeline import compose, emotion_track
from visemo.speech.articulation_classes import CLASSES, arpabet_class
from visemo.speech.articulation_model import decode_segments, path_segments
from visemo.speech.phonemes import PhonemeSegment, phones_at, tile
from visemo.stream import LiveAnimator, StreamInputError

TESTS = Path(__file__).resolve().parent
SR = 16000
MOUTH = arkit.indices(arkit.SPEECH_CHANNELS)
JAW = arkit.index("jawOpen")
BLINK = arkit.index("eyeBlinkLeft")


# ---------------------------------------------------------------------- stand-in models
class OracleSource:
    """Given class probabilities [T, C], returned as an ArticulationStream would: row t once the
    audio reaches (t + lookahead) * 160 + 200 samples, the rest at finish (rows past T: silence)."""

    def __init__(self, probabilities: np.ndarray, lookahead: int = 4) -> None:
        self.probabilities = probabilities
        self.model = SimpleNamespace(lookahead=lookahead)
        self.samples = 0
        self.rows = 0

    def _rows(self, count: int) -> np.ndarray:
        count = max(count, self.rows)
        out = np.full((count - self.rows, len(CLASSES)), 1e-4, np.float32)
        out[:, 0] = 1.0
        have = self.probabilities[self.rows:count]
        out[:len(have)] = have
        self.rows = count
        return out

    def push(self, samples: np.ndarray) -> np.ndarray:
        self.samples += len(samples)
        mel = max(0, min((self.samples - 200) // 160 + 1, self.samples // 160 + 1))
        return self._rows(mel - self.model.lookahead)

    def finish(self) -> np.ndarray:
        return self._rows(rows_for(self.samples))


class PatternSource(OracleSource):
    """A fixed schedule whatever the audio: 0.3 s silence, then B, AA, M, IY, F, OW, 0.1 s each, again."""

    def __init__(self) -> None:
        super().__init__(np.zeros((0, len(CLASSES)), np.float32))

    def _rows(self, count: int) -> np.ndarray:
        t = np.arange(self.rows, max(count, self.rows))
        self.rows = max(count, self.rows)
        cycle = ["SIL"] * 30 + [c for c in ("PBM", "OPEN", "PBM", "SPREAD", "FV", "OROUND") for _ in range(10)]
        idx = [CLASSES.index(cycle[k % len(cycle)]) for k in t]
        out = np.full((len(t), len(CLASSES)), 0.01, np.float32)
        out[np.arange(len(t)), idx] = 0.9
        return out


def utterance(seed: int = 0, seconds: float = 4.0, noise: float = 1.0):
    """Synthetic speech: random phones (pauses included), noise shaped by them, and class
    probabilities a decent model would give (true class + noise).  → (samples, segments, probs)."""
    rng = np.random.default_rng(seed)
    phones = ["B", "AA", "M", "IY", "P", "OW", "F", "S", "L", "UW", "EH", "T", "SH", "W", "AE", "R", "TH"]
    segs, t = [PhonemeSegment("SIL", 0.0, 0.3)], 0.3
    while t < seconds - 0.4:
        phone = "SIL" if rng.random() < 0.08 else phones[rng.integers(len(phones))]
        d = rng.uniform(0.25, 0.4) if phone == "SIL" else rng.uniform(0.04, 0.2)
        segs.append(PhonemeSegment(phone, t, t + d))
        t += d
    segs = tile(segs, seconds)
    x = np.zeros(int(seconds * SR), np.float32)
    for s in segs:
        a, b = int(s.start * SR), int(s.end * SR)
        level = 0.0005 if s.phone == "SIL" else 0.2 if s.phone in ("AA", "IY", "OW", "UW", "EH", "AE") else 0.04
        x[a:b] = rng.normal(0, level * rng.uniform(0.5, 1.5), b - a)
    rows = rows_for(len(x))
    classes = [CLASSES.index("SIL" if p == "SIL" else arpabet_class(p)) for p in phones_at(segs, np.arange(rows) / 100)]
    z = rng.normal(0, noise, (rows, len(CLASSES)))
    z[np.arange(rows), classes] += 3.0
    p = np.exp(z)
    return x, segs, (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def offline(x, probs, fps=30.0, seed=0, blinks=False, eye_motion=True, emotion=None, loudness=True):
    """What visemo.pipeline.perform makes of these samples when the model gives ``probs``."""
    audio = Audio(x)
    segments = decode_segments(probs, audio.duration)
    frames = frame_count(audio.duration, fps)
    curves = emotion_track(emotion).curves(np.arange(frames) / fps)
    loud = loudness_envelope(audio, fps, frames) if loudness else None
    art = articulate(segments, audio.duration, fps, loudness=loud, gain=curves.speech_gain)
    return compose(art.animation, art.closure, curves.weights, seed=seed, blinks=blinks, eye_motion=eye_motion).weights


def stream(x, probs, chunk=320, **options):
    """All frames of ``x`` pushed in chunks of ``chunk`` samples, and the animator."""
    a = LiveAnimator(source=OracleSource(probs), **{"blinks": False, "seed": 0, **options})
    out = [a.push(x[k:k + chunk]) for k in range(0, len(x), chunk)] + [a.finish()]
    return np.concatenate(out), a


# ---------------------------------------------------------------------- matching offline
def test_matches_offline_but_for_the_anticipation_the_latency_cuts():
    x, _, probs = utterance(1, 20.0)  # long enough for the bounded Viterbi window to wrap many times
    ref = offline(x, probs, loudness=False)
    near, a = stream(x, probs, loudness=False)
    assert near.shape == ref.shape == (600, 52) and a.frames == 600
    d = np.abs(near - ref)
    # a sound starting within ~0.1 s of a frame is not (or not yet surely) heard when it is made
    assert d.max() < 0.25 and d.mean() < 0.001
    assert np.mean(d.max(axis=1) < 0.01) > 0.8
    # with context to spare (no latency bound) the stream is the offline result
    far, a = stream(x, probs, loudness=False, max_latency=0.7)
    assert a.latency > 0.6 and np.abs(far - ref).max() < 1e-6


def test_the_closure_rule_decodes_alike_offline_and_streaming():
    from visemo.speech.articulation_model import decode_path

    x, _, probs = utterance(5, 8.0)
    w = np.ones(len(CLASSES), np.float32)
    w[CLASSES.index("PBM")] = 24.0
    probs = (probs * w / (probs * w).sum(axis=1, keepdims=True)).astype(np.float32)
    settings = (2.0, (3, float(np.log(8.0))))
    source = OracleSource(probs)
    source.model.decoder = lambda: settings
    a = LiveAnimator(source=source, blinks=False, seed=0, loudness=False, max_latency=0.7)
    got = np.concatenate([a.push(x[k:k + 320]) for k in range(0, len(x), 320)] + [a.finish()])
    audio = Audio(x)
    path = decode_path(probs, *settings)
    assert not np.array_equal(path, decode_path(probs, 2.0))  # the rule changes this utterance's decoding
    art = articulate(path_segments(path, audio.duration), audio.duration, 30.0)
    frames = frame_count(audio.duration, 30.0)
    curves = emotion_track(None).curves(np.arange(frames) / 30.0)
    ref = compose(art.animation, art.closure, curves.weights, seed=0, blinks=False, eye_motion=True).weights
    assert got.shape == ref.shape and np.abs(got - ref).max() < 1e-6


def test_matches_offline_with_running_loudness_and_emotion():
    for seed in (2, 3):
        x, segs, probs = utterance(seed, 5.0)
        for emotion in (None, "sad"):
            ref = offline(x, probs, emotion=emotion, eye_motion=True)
            got, _ = stream(x, probs, emotion=emotion, eye_motion=True)
            d = np.abs(got - ref)
            assert d.max() < 0.3 and d.mean() < 0.003, (seed, emotion, d.max(), d.mean())
            # the mouth seals on every bilabial in both
            for s in segs:
                if s.phone in ("B", "M", "P"):
                    mid = int(round(0.5 * (s.start + s.end) * 30))
                    close = arkit.index("mouthClose")
                    assert got[mid, close] == pytest.approx(got[mid, JAW], abs=1e-6)


def test_gaze_equals_offline_and_blinks_keep_their_times():
    x = np.zeros(20 * SR, np.float32)
    probs = np.zeros((0, len(CLASSES)), np.float32)
    got, _ = stream(x, probs, blinks=True, seed=7)
    ref = offline(x, probs, seed=7, blinks=True)
    eyes = [i for i, n in enumerate(arkit.NAMES) if n.startswith("eyeLook")]
    assert np.array_equal(got[:, eyes], ref[:, eyes])
    shut = got[:, BLINK] > 0.5
    assert 3 <= np.sum(shut[1:] & ~shut[:-1]) <= 12  # ~17 a minute
    assert np.array_equal(shut, ref[:, BLINK] > 0.5)
    assert np.abs(got - ref).max() <= 0.06  # depth and lag drawn apart (see visemo.stream)


# ---------------------------------------------------------------------- chunks and latency
def test_any_chunking_gives_the_same_frames():
    x, _, probs = utterance(4, 3.0)
    base, _ = stream(x, probs, chunk=16, blinks=True, emotion="happy")          # 1 ms
    for chunk in (320, 1600, 4801):                                              # 20 ms, 100 ms, odd
        assert np.array_equal(stream(x, probs, chunk=chunk, blinks=True, emotion="happy")[0], base)
    a = LiveAnimator(source=OracleSource(probs), seed=0, emotion="happy")
    rng = np.random.default_rng(0)
    out, k = [], 0
    while k < len(x):
        n = int(rng.integers(0, 2000))
        out.append(a.push(x[k:k + n]))
        k += n
    assert np.array_equal(np.concatenate(out + [a.finish()]), base)
    pcm = np.round(x * 32767).astype(np.int16)                                   # int16 in = float / 32768
    assert np.array_equal(stream(pcm, probs, chunk=320, blinks=True, emotion="happy")[0],
                          stream(pcm.astype(np.float32) / 32768, probs, chunk=320, blinks=True, emotion="happy")[0])


def test_each_frame_is_out_within_the_latency():
    x, _, probs = utterance(5, 2.0)
    a = LiveAnimator(source=OracleSource(probs), seed=0)
    assert 0.13 <= a.latency <= 0.14
    out_at = []  # samples received when each frame came out
    for k in range(0, len(x), 16):
        out_at += [min(k + 16, len(x))] * len(a.push(x[k:k + 16]))
    lag = np.array(out_at) / SR - np.arange(len(out_at)) / 30
    assert len(out_at) >= 60 - 5                            # all but the last ~latency are out before the end
    assert lag.max() <= a.latency + 16 / SR and lag.max() <= 0.15
    assert lag.max() > a.latency - 0.01                     # and not much earlier: no frame is made on a guess
    assert len(a.finish()) == 60 - len(out_at)
    assert LiveAnimator(source=OracleSource(probs), max_latency=0.1).latency <= 0.1
    with pytest.raises(VisemoError, match="no context"):
        LiveAnimator(source=OracleSource(probs), max_latency=0.05)


# ---------------------------------------------------------------------- long streams, bad input
def test_minutes_of_silence_keep_the_mouth_shut_and_memory_flat():
    x, _, probs = utterance(6, 2.0)
    a = LiveAnimator(source=OracleSource(probs), seed=0, blinks=False, eye_motion=False)
    a.push(x)
    zeros = np.zeros(1600, np.int16)  # 100 ms chunks
    count, peak = 0, 0.0
    for k in range(10 * 600):  # 10 minutes
        if k == 600:
            sizes = a.buffers()
        if k == 9 * 600:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
        frames = a.push(zeros)
        if k >= 10:  # a second after the speech
            count, peak = count + len(frames), max(peak, float(np.abs(frames).max()))
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert a.buffers() == sizes and sum(sizes.values()) < 5000 and grown < 50_000
    assert count == 17970 and peak == 0.0       # neutral, mouth closed, steady
    assert a.frames + len(a.finish()) == frame_count(2.0 + 600, 30)
    # speech after the silence still moves the mouth
    b = LiveAnimator(source=OracleSource(np.concatenate([np.tile(probs[-1:], (rows_for(60 * SR), 1)), probs])),
                     seed=0, blinks=False, eye_motion=False)
    b.push(np.zeros(60 * SR, np.float32))
    late = np.concatenate([b.push(x[k:k + 320]) for k in range(0, len(x), 320)] + [b.finish()])
    assert late[:, JAW].max() > 0.2


def test_bad_input_is_refused_clearly():
    a = LiveAnimator(source=OracleSource(np.zeros((0, len(CLASSES)), np.float32)))
    bad = [
        (np.array([0.0, np.nan], np.float32), "NaN"),
        (np.zeros(10, np.int32), "dtype int32"),
        (np.zeros((10, 2), np.float32), "mono"),
        (np.full(10, 300.0, np.float32), "16-bit"),
        (np.array(["a"]), "dtype"),
    ]
    for samples, message in bad:
        with pytest.raises(StreamInputError, match=message) as e:
            a.push(samples)
        assert isinstance(e.value, ValueError) and isinstance(e.value, AudioError)
    assert a.samples == 0
    assert a.push(np.full(320, 1.5, np.float32)).shape == (0, 52)  # a little over full scale: clipped
    assert len(a.push(np.zeros((3200, 1), np.float32))) > 0 and a.push([]).shape == (0, 52)
    a.finish()
    with pytest.raises(VisemoError, match="finished"):
        a.push(np.zeros(10, np.float32))
    empty = OracleSource(np.zeros((0, len(CLASSES)), np.float32))
    with pytest.raises(PromptError, match="auto"):
        LiveAnimator("auto", source=empty)
    with pytest.raises(VisemoError, match="fps"):
        LiveAnimator(fps=0, source=empty)
    with pytest.raises(VisemoError, match="seed"):
        LiveAnimator(seed=-1, source=empty)


def test_short_and_empty_streams():
    empty = np.zeros((0, len(CLASSES)), np.float32)
    assert LiveAnimator(source=OracleSource(empty)).finish().shape == (0, 52)
    a = LiveAnimator(source=OracleSource(empty))
    assert len(a.push(np.zeros(160, np.float32))) == 0 and len(a.finish()) == 1  # 10 ms: one frame
    assert len(a.finish()) == 0


# ---------------------------------------------------------------------- visemo stream
STREAM = [sys.executable, "-c",
          f"import sys; sys.path.insert(0, {str(TESTS)!r}); import test_stream; from visemo.stream import main; "
          "sys.exit(main(sys.argv[1:], source=test_stream.PatternSource()))"]


def _pcm(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.normal(0, 0.1, int(seconds * SR)) * 32767).astype(np.int16)


def test_cli_writes_one_json_line_per_frame():
    pcm = _pcm(2.0)
    r = subprocess.run(STREAM + ["--fps", "30", "--seed", "3", "-q"], input=pcm.astype("<i2").tobytes(),
                       capture_output=True, timeout=120)
    assert r.returncode == 0 and r.stderr == b""
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 60
    frames = [json.loads(line) for line in lines]
    assert [f["frame"] for f in frames] == list(range(60)) and frames[30]["t"] == 1.0
    assert all(list(f["weights"]) == list(arkit.NAMES) for f in frames)
    got = np.array([list(f["weights"].values()) for f in frames])
    a = LiveAnimator(source=PatternSource(), seed=3)
    want = np.concatenate([a.push(pcm[k:k + 320]) for k in range(0, len(pcm), 320)] + [a.finish()])
    assert np.abs(got - want).max() <= 6e-5 and got[:, JAW].max() > 0.1
    f32 = subprocess.run(STREAM + ["--fps", "30", "--seed", "3", "-q", "--format", "f32le", "--chunk-ms", "100"],
                         input=(pcm.astype(np.float32) / 32768).astype("<f4").tobytes(), capture_output=True,
                         timeout=120)
    assert f32.returncode == 0 and f32.stdout == r.stdout


def test_run_stream_in_process_with_emotion_keys():
    import argparse
    import io

    from visemo.stream import add_arguments, run_stream

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--emotion-keys", "0=neutral; 1=happy", "-q", "--chunk-ms", "7"])
    out = io.StringIO()
    assert run_stream(args, io.BytesIO(_pcm(2.5).tobytes()), out, source=PatternSource()) == 0
    frames = [json.loads(line) for line in out.getvalue().splitlines()]
    cheek = np.array([f["weights"]["cheekSquintLeft"] for f in frames])  # not a speech channel
    assert len(frames) == 75 and cheek[:30].max() == 0.0 and cheek[-20:].min() > 0.5
    with pytest.raises(SystemExit):
        parser.parse_args(["--emotion", "sad", "--emotion-keys", "0=happy"])


def test_cli_stops_quietly_when_the_reader_goes_away():
    p = subprocess.Popen(STREAM + ["-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(_pcm(1.0).tobytes())
        p.stdin.flush()
        assert json.loads(p.stdout.readline())["frame"] == 0
        p.stdout.close()  # like `| head -1`
        try:
            for _ in range(20):
                p.stdin.write(_pcm(0.5).tobytes())
                p.stdin.flush()
            p.stdin.close()
        except BrokenPipeError:
            pass  # it has already left
        assert p.wait(timeout=60) == 0
        assert p.stderr.read() == b""
    finally:
        p.kill()


def test_cli_bad_input_exits_2_with_one_line():
    r = subprocess.run(STREAM + ["-q"], input=_pcm(0.5).tobytes() + b"\x01", capture_output=True, timeout=60)
    err = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(err) == 1 and "ended inside a sample" in err[0]
    r = subprocess.run(STREAM + ["-q", "--format", "f32le"], input=_pcm(0.5).tobytes(), capture_output=True,
                       timeout=60)
    assert r.returncode == 2 and "s16le" in r.stderr.decode() and b"Traceback" not in r.stderr
    r = subprocess.run(STREAM + ["--format", "mp3"], input=b"", capture_output=True, timeout=60)
    assert r.returncode == 2 and b"invalid choice" in r.stderr
    r = subprocess.run(STREAM + ["--chunk-ms", "0"], input=b"", capture_output=True, timeout=60)
    assert r.returncode == 2 and b"--chunk-ms" in r.stderr


# ---------------------------------------------------------------------- the shipped model
def test_shipped_model_streams_like_offline():
    from visemo.paths import sample_speech
    from visemo.pipeline import perform
    from visemo.speech.timings import articulation_model_available

    if not articulation_model_available():
        pytest.skip("no articulation model in the models folder")
    import soundfile as sf

    x, rate = sf.read(str(sample_speech()), dtype="float32")
    assert rate == SR
    ref = perform(x, sample_rate=SR, recognizer="model", seed=0, blinks=False).animation.weights
    runs = []
    for chunk in (320, 1600):
        a = LiveAnimator(seed=0, blinks=False)
        runs.append(np.concatenate([a.push(x[k:k + chunk]) for k in range(0, len(x), chunk)] + [a.finish()]))
    assert runs[0].shape == ref.shape
    assert np.abs(runs[0] - runs[1]).max() < 1e-5
    assert np.abs(runs[0] - ref).mean() < 0.02


def _sample_and_run():
    from visemo.paths import sample_speech
    from visemo.speech.timings import articulation_model_available

    if not articulation_model_available():
        pytest.skip("no articulation model in the models folder")
    import soundfile as sf

    def run(samples, chunk=320):
        a = LiveAnimator(seed=0, blinks=False)
        return np.concatenate([a.push(samples[k:k + chunk]) for k in range(0, len(samples), chunk)] + [a.finish()])

    return sf.read(str(sample_speech()), dtype="float32")[0], run


def test_quiet_speech_is_raised_live_after_half_a_second():
    """The sample 30 dB quieter (about -50 dBFS): once half a second of speech is heard the running lift
    raises it as offline raises a file, so the mouth moves as it does for the loud stream; the frames do not
    depend on the chunking."""
    x, run = _sample_and_run()
    loud = run(x)
    q = x * np.float32(10 ** (-30 / 20))
    quiet = run(q)
    assert np.array_equal(run(q, 7), quiet)
    after = slice(45, None)                   # from 1.5 s on: speech starts at 0.6 s, the lift at 1.14 s
    assert np.abs(quiet[after] - loud[after]).mean() < 0.006
    assert np.corrcoef(quiet[after, JAW], loud[after, JAW])[0, 1] > 0.95
    assert 0.9 < quiet[after, JAW].mean() / loud[after, JAW].mean() < 1.15      # the jaw opens as wide


def test_a_click_or_room_tone_does_not_upset_the_live_lift():
    """A click 20 dB above quiet speech is clipped, and the lift goes on (cut down to what the click left,
    the mouth stayed shut for the rest of the clip); 3 s of -45 dBFS room tone before the first word is not
    raised (the mouth stays shut in it, as offline)."""
    x, run = _sample_and_run()
    loud = run(x)
    q = x * np.float32(10 ** (-30 / 20))
    loudest = max(float(np.sqrt(np.mean(q[k:k + 320] ** 2))) for k in range(0, len(q) - 320, 320))
    clicked = q.copy()
    clicked[48000:48320] = np.random.default_rng(1).normal(0, 10 * loudest, 320)     # at 3 s
    got = run(clicked)
    after = slice(105, None)                  # from 3.5 s on
    assert np.corrcoef(got[after, JAW], loud[after, JAW])[0, 1] > 0.95
    assert 0.9 < got[after, JAW].mean() / loud[after, JAW].mean() < 1.15
    rng = np.random.default_rng(2)
    tone = rng.normal(0, 10 ** (-45 / 20), 3 * SR).astype(np.float32)
    speech = x * np.float32(10 ** (-10 / 20)) + rng.normal(0, 10 ** (-45 / 20), len(x)).astype(np.float32)
    got = run(np.concatenate([tone, speech]))
    assert got[:88, JAW].max() < 0.01 and got[:88][:, MOUTH].max() < 0.05
    assert got[90 + 45:, JAW].mean() > 0.8 * loud[45:, JAW][:len(got) - 135].mean()
