"""visemo.render2d.video.write_video: real H.264/AAC mp4s decoded back with PyAV.

Streams, sizes, frame count, frame rate, sound track (rate, channels, length
against the video's), pixel colours and frame order survive the round trip;
bad input and failures mid-way leave no file (and no temporary file) behind;
memory does not grow with the number of frames.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")
import soundfile as sf  # noqa: E402

from visemo.animation import frame_count  # noqa: E402
from visemo.errors import AudioError  # noqa: E402
from visemo.render2d.video import VideoInfo, video_rate, write_video  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FLAT = (200, 80, 40)          # the frame's background colour
BITS, BLOCK = 8, 16            # frame number as 8 black/white 16x16 blocks along the top


def pattern(index: int, width: int, height: int) -> np.ndarray:
    """A flat-coloured frame with ``index`` written in binary along its top row of blocks."""
    f = np.empty((height, width, 3), np.uint8)
    f[:] = FLAT
    for bit in range(BITS):
        f[:BLOCK, bit * BLOCK:(bit + 1) * BLOCK] = 255 if (index >> bit) & 1 else 0
    return f


def read_index(rgb: np.ndarray) -> int:
    """The frame number written by :func:`pattern` (block centres, thresholded)."""
    c = BLOCK // 2
    bits = [rgb[c - 3:c + 3, b * BLOCK + c - 3:b * BLOCK + c + 3].mean() > 128 for b in range(BITS)]
    return sum(1 << b for b, on in enumerate(bits) if on)


def frames_of(n: int, width: int, height: int):
    for i in range(n):
        yield pattern(i, width, height)


def probe(path: Path) -> dict:
    """Streams, timings and decoded frames of an mp4."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        out = {
            "codec": v.codec_context.name, "pix_fmt": v.codec_context.pix_fmt,
            "width": v.codec_context.width, "height": v.codec_context.height,
            "rate": v.average_rate, "video_duration": float(v.duration * v.time_base),
            "audio": None,
        }
        if c.streams.audio:
            a = c.streams.audio[0]
            out["audio"] = {"codec": a.codec_context.name, "rate": a.codec_context.sample_rate,
                            "channels": a.codec_context.channels,
                            "duration": float(a.duration * a.time_base)}
        out["frames"] = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


def write_wav(path: Path, seconds: float, rate: int, channels: int) -> Path:
    t = np.arange(int(round(seconds * rate))) / rate
    x = np.stack([0.3 * np.sin(2 * np.pi * (220 + 110 * k) * t) for k in range(channels)], axis=1)
    sf.write(str(path), x.astype(np.float32), rate, subtype="PCM_16")
    return path


# ---------------------------------------------------------------------- round trip
def test_speech_video_round_trip(synth, tmp_path):
    utt = synth("Stop! Big waves broke upon the rocky beach.")
    info_in = sf.info(str(utt.path))
    fps, width, height = 30, 160, 96
    n = frame_count(info_in.duration, fps)
    seen = []
    out = tmp_path / "speech.mp4"
    info = write_video(out, frames_of(n, width, height), fps=fps, width=width, height=height,
                       frame_count=n, audio=utt.path, progress=lambda d, t: seen.append((d, t)))

    assert isinstance(info, VideoInfo)
    assert (info.path, info.frames, info.fps, info.width, info.height) == (out, n, 30.0, width, height)
    assert info.duration == pytest.approx(n / fps)
    assert info.audio_duration == pytest.approx(info_in.duration, abs=1e-6)
    assert seen == [(i, n) for i in range(1, n + 1)]

    got = probe(out)
    assert (got["codec"], got["pix_fmt"]) == ("h264", "yuv420p")
    assert (got["width"], got["height"]) == (width, height)
    assert got["rate"] == 30
    assert len(got["frames"]) == n
    assert got["video_duration"] == pytest.approx(n / fps, abs=1e-6)
    a = got["audio"]
    assert a["codec"] == "aac"
    assert (a["rate"], a["channels"]) == (info_in.samplerate, info_in.channels) == (16000, 1)
    assert a["duration"] == pytest.approx(info_in.duration, abs=1e-3)
    assert abs(got["video_duration"] - a["duration"]) <= 1 / fps
    assert leftovers(tmp_path) == []
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat"), "moov atom should come first (faststart)"

    # colours survive within a small tolerance, and the frames come back in order
    for i, rgb in enumerate(got["frames"]):
        assert read_index(rgb) == i
    mid = got["frames"][n // 2]
    flat = mid[BLOCK + 8:, :].reshape(-1, 3).astype(int)
    assert np.abs(flat - FLAT).max() <= 4, np.abs(flat - FLAT).max()


def test_gradient_round_trip(tmp_path):
    """A smooth gradient (no audio) decodes back within a few levels everywhere.

    Even lossless H.264 would not give it back exactly: 4:2:0 chroma and the
    limited-range YUV<->RGB conversions cost ~1.7 levels on average here.
    """
    h, w = 64, 128
    y, x = np.mgrid[0:h, 0:w]
    grad = np.stack([x * 2, y * 4, 255 - x * 2], axis=-1).astype(np.uint8)
    info = write_video(tmp_path / "g.mp4", iter([grad] * 3), fps=24, width=w, height=h, crf=10)
    assert info.audio_duration is None and info.frames == 3
    got = probe(tmp_path / "g.mp4")
    assert got["audio"] is None
    diff = np.abs(got["frames"][1].astype(int) - grad)
    assert diff.mean() < 2.5 and np.percentile(diff, 99) <= 8, (diff.mean(), diff.max())


@pytest.mark.parametrize("rate, channels, want_rate, want_channels", [
    (44100, 2, 44100, 2),     # CD-rate stereo kept
    (22050, 1, 22050, 1),
    (37800, 1, 48000, 1),     # not an AAC rate: resampled to 48 kHz
    (48000, 6, 48000, 2),     # 5.1 mixed down to stereo
])
def test_audio_rates_and_channels(tmp_path, rate, channels, want_rate, want_channels):
    wav = write_wav(tmp_path / "a.wav", 1.3, rate, channels)
    seconds = sf.info(str(wav)).duration
    n = frame_count(seconds, 25)
    info = write_video(tmp_path / "a.mp4", frames_of(n, 32, 32), fps=25, width=32, height=32,
                       frame_count=n, audio=wav)
    a = probe(tmp_path / "a.mp4")["audio"]
    assert (a["codec"], a["rate"], a["channels"]) == ("aac", want_rate, want_channels)
    assert a["duration"] == pytest.approx(seconds, abs=2e-3)
    assert abs(info.duration - a["duration"]) <= 1 / 25
    with av.open(str(tmp_path / "a.mp4")) as c:  # the sound is really there, not silence
        pcm = np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])
    assert np.sqrt(np.mean(pcm ** 2)) > 0.05


@pytest.mark.parametrize("fps, rate", [(29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)),
                                       (12.5, Fraction(25, 2))])
def test_fractional_fps(tmp_path, fps, rate):
    assert video_rate(fps) == rate
    wav = write_wav(tmp_path / "s.wav", 1.7, 16000, 1)
    n = frame_count(1.7, fps)
    info = write_video(tmp_path / "f.mp4", frames_of(n, 128, 32), fps=fps, width=128, height=32,
                       frame_count=n, audio=wav)
    got = probe(tmp_path / "f.mp4")
    assert got["rate"] == rate and info.fps == pytest.approx(float(rate))
    assert len(got["frames"]) == n == info.frames
    assert [read_index(f) for f in got["frames"]] == list(range(n))
    assert abs(got["video_duration"] - got["audio"]["duration"]) <= 1 / fps
    assert got["video_duration"] == pytest.approx(n / float(rate), abs=1e-4)


# ---------------------------------------------------------------------- bad input writes nothing
def test_odd_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "o.mp4", frames_of(2, 33, 32), fps=30, width=33, height=32)
    assert list(tmp_path.iterdir()) == []


def test_bad_frame_names_its_index(tmp_path):
    def frames():
        yield from frames_of(3, 32, 32)
        yield np.zeros((32, 32, 3), np.float32)

    with pytest.raises(ValueError, match="frame 3"):
        write_video(tmp_path / "b.mp4", frames(), fps=30, width=32, height=32)
    with pytest.raises(ValueError, match="frame 0"):
        write_video(tmp_path / "b.mp4", iter([np.zeros((32, 30, 3), np.uint8)]), fps=30,
                    width=32, height=32)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_in_generator_leaves_previous_file(tmp_path, error):
    wav = write_wav(tmp_path / "s.wav", 1.0, 16000, 1)
    out = tmp_path / "take.mp4"
    out.write_bytes(b"the previous take")

    def frames():
        for i in range(10):
            if i == 7:
                raise error("renderer failed")
            yield pattern(i, 32, 32)

    with pytest.raises(error):
        write_video(out, frames(), fps=30, width=32, height=32, frame_count=30, audio=wav)
    assert out.read_bytes() == b"the previous take"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("yielded", [20, 31])
def test_wrong_number_of_frames(tmp_path, yielded):
    wav = write_wav(tmp_path / "s.wav", 1.0, 16000, 1)
    with pytest.raises(ValueError, match="frame_count=30"):
        write_video(tmp_path / "n.mp4", frames_of(yielded, 32, 32), fps=30, width=32, height=32,
                    frame_count=30, audio=wav)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.wav"]


def test_frame_count_must_cover_the_audio(tmp_path):
    wav = write_wav(tmp_path / "s.wav", 2.0, 16000, 1)
    with pytest.raises(ValueError, match="lasts 2.000 s"):
        write_video(tmp_path / "c.mp4", frames_of(30, 32, 32), fps=30, width=32, height=32,
                    frame_count=30, audio=wav)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.wav"]


def test_unreadable_audio(tmp_path):
    bad = tmp_path / "speech.wav"
    bad.write_bytes(b"RIFF this is not a wave file at all" * 10)
    for audio in (bad, tmp_path / "missing.wav"):
        with pytest.raises(AudioError):
            write_video(tmp_path / "u.mp4", frames_of(3, 32, 32), fps=30, width=32, height=32,
                        audio=audio)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speech.wav"]


def test_audio_that_soundfile_cannot_read(tmp_path):
    """An m4a/mp4 sound track is decoded by PyAV and written again at its length."""
    wav = write_wav(tmp_path / "s.wav", 1.2, 44100, 2)
    n = frame_count(1.2, 30)
    write_video(tmp_path / "first.mp4", frames_of(n, 32, 32), fps=30, width=32, height=32,
                frame_count=n, audio=wav)
    info = write_video(tmp_path / "second.mp4", frames_of(n, 32, 32), fps=30, width=32, height=32,
                       frame_count=n, audio=tmp_path / "first.mp4")
    assert info.audio_duration == pytest.approx(1.2, abs=2e-3)
    a = probe(tmp_path / "second.mp4")["audio"]
    assert (a["rate"], a["channels"]) == (44100, 2)


# ---------------------------------------------------------------------- memory
_MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from visemo.render2d.video import write_video

    def frames(n, size=512):
        for i in range(n):
            f = np.empty((size, size, 3), np.uint8)
            f[:] = (i * 7) % 256
            f[:, : (i % size)] = 255 - (i * 7) % 256
            yield f

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux

    write_video(sys.argv[2], frames(60), fps=30, width=512, height=512, frame_count=60)
    before = peak_mb()
    write_video(sys.argv[2], frames(1200), fps=30, width=512, height=512, frame_count=1200)
    print(before, peak_mb())
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss units are Linux's")
def test_memory_does_not_grow_with_frames(tmp_path):
    """1200 frames of 512x512 (900 MB if kept) raise the peak RSS by far less than that."""
    res = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(ROOT / "core"), str(tmp_path / "m.mp4")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    before, after = map(float, res.stdout.split()[-2:])
    assert after - before < 100, f"peak RSS grew from {before:.0f} MB to {after:.0f} MB"
    with av.open(str(tmp_path / "m.mp4")) as c:
        assert c.streams.video[0].frames == 1200
