"""The one mp4 writer: RGB frames (+ the speech) -> H.264/AAC .mp4, streamed, atomic.

Used by the talking-portrait renderer and by the Blender playblast
(:mod:`visemo.blender.playblast`).  Everything goes through PyAV (``av``),
which bundles FFmpeg with libx264 and AAC, so no ``ffmpeg`` program is needed.

- :func:`write_video` takes frames from an iterable (a generator, usually) and
  hands each one to the encoder as it arrives: memory does not grow with the
  length of the clip.  Frames are RGB uint8 ``[height, width, 3]``.
- Video: H.264 (libx264), yuv420p, BT.709 limited range (tagged), constant
  frame rate ``fps`` frames per second (fractional rates such as 29.97 and
  23.976 are written as the usual NTSC rationals 30000/1001, 24000/1001).
- Sound: the speech file itself, AAC at its own sample rate when AAC has it
  (8-96 kHz steps), else resampled to 48 kHz; mono stays mono, stereo stays
  stereo, more channels are mixed down to stereo.
- Duration: the video lasts ``frame_count / fps`` seconds; with ``frame_count
  = visemo.animation.frame_count(audio_seconds, fps)`` that is the audio's
  length rounded up to a whole frame.
- The file appears only when complete (:func:`visemo.export.atomic.atomic_path`):
  an error or Ctrl-C -- also one raised inside the frames generator -- leaves
  no file and no temporary file, and an existing file at the path untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..errors import AudioError, DependencyError
from ..export.atomic import atomic_path

__all__ = ["VideoInfo", "write_video", "video_rate", "AAC_SAMPLE_RATES"]

AAC_SAMPLE_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
                    11025, 8000, 7350)
"""Sample rates (Hz) AAC carries; other rates are resampled to :data:`FALLBACK_SAMPLE_RATE`."""

FALLBACK_SAMPLE_RATE = 48000

AUDIO_BIT_RATE = {1: 128_000, 2: 192_000}
"""AAC bit rate (bits per second) by channel count (capped at 6 bits per sample)."""

DURATION_SLACK = 0.010
"""Seconds the video may differ from the audio beyond one frame (resampling rounding)."""

_AUDIO_BLOCK = 4096  # samples read from the speech file at a time

# FFmpeg layouts in WAV/FLAC channel order, by channel count (downmixed by libswresample).
_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`write_video` wrote.

    ``fps`` is the file's frame rate (frames per second, e.g. 29.97002997 for
    29.97); ``duration`` the video's length in seconds (``frames / fps``);
    ``audio_duration`` the sound track's length in seconds, None without sound.
    """

    path: Path
    frames: int
    fps: float
    width: int
    height: int
    duration: float
    audio_duration: float | None


def video_rate(fps: float) -> Fraction:
    """The exact frame rate written for ``fps`` frames per second.

    NTSC rates (23.976, 29.97, 59.94, within 2 ppm) become n*1000/1001; other
    rates the nearest fraction with a denominator up to 1001.  Raises
    ValueError for a rate that is not a positive number.
    """
    try:
        f = float(fps)
    except (TypeError, ValueError):
        raise ValueError(f"fps must be a number of frames per second, got {fps!r}") from None
    if not (math.isfinite(f) and f > 0):
        raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}")
    ntsc = Fraction(round(f * 1.001) * 1000, 1001)
    if abs(f - round(f)) > 1e-9 and abs(float(ntsc) - f) <= 2e-6 * f:
        return ntsc
    rate = Fraction(f).limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f"fps {fps!r} is too small for a video")
    return rate


def require_av():
    """The ``av`` module (PyAV); :class:`~visemo.DependencyError` saying how to install it."""
    try:
        import av
    except ImportError as e:
        raise DependencyError(f"reading and writing mp4 needs PyAV; run `pip install av` ({e})") from None
    return av


def write_video(
    path,
    frames: Iterable[np.ndarray],
    *,
    fps: float,
    width: int,
    height: int,
    frame_count: int | None = None,
    audio=None,
    progress: Callable[[int, int | None], None] | None = None,
    crf: int = 18,
    preset: str = "veryfast",
) -> VideoInfo:
    """Encode ``frames`` (and the speech ``audio``) to the mp4 ``path``; return its :class:`VideoInfo`.

    ``frames``: RGB uint8 arrays ``[height, width, 3]``, consumed one at a
    time (never collected).  ``fps``: frames per second.  ``width`` and
    ``height`` in pixels, both even (yuv420p; pad the frames first).
    ``frame_count``: how many frames the iterable yields -- a different
    number raises ValueError and writes nothing; with ``audio`` it must cover
    the audio's length (``visemo.animation.frame_count(seconds, fps)``).
    ``audio``: None or the path of the speech file, which becomes the sound
    track.  ``progress(done, total)`` is called after each frame (``total``
    is ``frame_count``, possibly None).  ``crf`` (0-51, lower is better) and
    ``preset`` (libx264 speed preset) set the picture quality.

    Raises ValueError (odd size, bad frame shape/dtype naming its index,
    wrong number of frames, frame_count not matching the audio's length) and
    :class:`~visemo.AudioError` (unreadable speech file); nothing is written
    then, and :class:`~visemo.DependencyError` without PyAV.  The file is
    written atomically (see the module docstring).
    """
    av = require_av()
    path = Path(path)
    width, height = _check_size(width, height)
    rate = video_rate(fps)
    if frame_count is not None:
        frame_count = int(frame_count)
        if frame_count < 1:
            raise ValueError(f"frame_count must be at least 1, got {frame_count}")
    if not (0 <= int(crf) <= 51):
        raise ValueError(f"crf must lie in 0..51 (lower is better quality), got {crf}")

    sound = _open_audio(audio) if audio is not None else None
    try:
        if sound is not None and frame_count is not None:
            video_seconds = frame_count / float(rate)
            if abs(video_seconds - sound.duration) > 1.0 / float(rate) + DURATION_SLACK:
                raise ValueError(
                    f"{frame_count} frames at {float(rate):g} fps last {video_seconds:.3f} s but the "
                    f"audio '{sound.name}' lasts {sound.duration:.3f} s; pass "
                    f"frame_count=visemo.animation.frame_count({sound.duration:.3f}, {float(fps):g})")
        with atomic_path(path) as tmp:
            container = av.open(str(tmp), mode="w", format="mp4",
                                options={"movflags": "+faststart"})
            try:
                done, audio_seconds = _encode(container, frames, rate, width, height, frame_count,
                                              sound, progress, int(crf), str(preset))
            except BaseException:
                _close_quietly(container)
                raise
            container.close()
    finally:
        if sound is not None:
            sound.close()
    return VideoInfo(path=path, frames=done, fps=float(rate), width=width, height=height,
                     duration=done / float(rate), audio_duration=audio_seconds)


# ---------------------------------------------------------------------- encoding
def _encode(container, frames, rate: Fraction, width: int, height: int, frame_count,
            sound, progress, crf: int, preset: str) -> tuple[int, float | None]:
    """Mux the video frames and (interleaved) the sound; return (frames, audio seconds)."""
    import av
    from av.video.reformatter import ColorRange, Colorspace

    vs = container.add_stream("libx264", rate=rate)
    vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
    vs.options = {"crf": str(crf), "preset": preset}
    cc = vs.codec_context
    cc.time_base = 1 / rate
    cc.colorspace = Colorspace.ITU709
    cc.color_primaries = 1  # BT.709
    cc.color_trc = 1        # BT.709
    cc.color_range = ColorRange.MPEG

    audio_out = _AudioEncoder(container, sound) if sound is not None else None

    done = 0
    for index, rgb in enumerate(frames):
        if frame_count is not None and index >= frame_count:
            raise ValueError(f"the frames iterable yielded more than frame_count={frame_count} frames")
        arr = _check_frame(rgb, index, width, height)
        frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
        frame = frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709,
                               dst_color_range=ColorRange.MPEG)
        frame.pts = index
        container.mux(vs.encode(frame))
        done = index + 1
        if audio_out is not None:
            audio_out.feed_until(done / rate)
        if progress is not None:
            progress(done, frame_count)
    if frame_count is not None and done != frame_count:
        raise ValueError(f"the frames iterable yielded {done} frames, expected frame_count={frame_count}")
    if done == 0:
        raise ValueError("the frames iterable yielded no frames; nothing to write")
    container.mux(vs.encode(None))
    audio_seconds = None
    if audio_out is not None:
        audio_seconds = audio_out.finish()
    return done, audio_seconds


class _AudioEncoder:
    """Feeds the speech to an AAC stream of ``container`` a block at a time."""

    def __init__(self, container, sound: "_AudioSource") -> None:
        import av

        self.sound = sound
        self.out_rate = sound.rate if sound.rate in AAC_SAMPLE_RATES else FALLBACK_SAMPLE_RATE
        out_channels = 1 if sound.channels == 1 else 2
        self.out_layout = "mono" if out_channels == 1 else "stereo"
        self.premix = sound.channels > max(_LAYOUTS)
        self.in_layout = "stereo" if self.premix else _LAYOUTS[sound.channels]
        self.stream = container.add_stream("aac", rate=self.out_rate)
        self.stream.layout = self.out_layout
        self.stream.bit_rate = min(AUDIO_BIT_RATE[out_channels], 6 * self.out_rate * out_channels)
        self.stream.codec_context.time_base = Fraction(1, self.out_rate)
        self.resampler = av.AudioResampler(format="fltp", layout=self.out_layout, rate=self.out_rate)
        self.container = container
        self.read = 0  # input samples (per channel) consumed

    def feed_until(self, seconds) -> None:
        """Encode the speech up to ``seconds`` (a Fraction or float) of the video."""
        target = int(math.ceil(float(seconds) * self.sound.rate))
        while self.read < target:
            block = self.sound.read(min(_AUDIO_BLOCK, target - self.read))
            if block.shape[0] == 0:
                return
            self._encode_block(block)

    def finish(self) -> float:
        """Encode the rest of the speech, flush; return the audio's length in seconds."""
        while True:
            block = self.sound.read(_AUDIO_BLOCK)
            if block.shape[0] == 0:
                break
            self._encode_block(block)
        if self.read == 0:
            raise AudioError(f"audio file '{self.sound.name}' holds no samples -- re-export the speech")
        for frame in self.resampler.resample(None):
            self.container.mux(self.stream.encode(frame))
        self.container.mux(self.stream.encode(None))
        return self.read / self.sound.rate

    def _encode_block(self, block: np.ndarray) -> None:
        import av

        if self.premix:  # no standard layout: odd channels to the left, even to the right
            block = np.stack([block[:, 0::2].mean(axis=1), block[:, 1::2].mean(axis=1)], axis=1)
        planar = np.ascontiguousarray(block.T, dtype=np.float32)  # [channels, samples]
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=self.in_layout)
        frame.sample_rate = self.sound.rate
        frame.pts = self.read
        frame.time_base = Fraction(1, self.sound.rate)
        self.read += block.shape[0]
        for out in self.resampler.resample(frame):
            self.container.mux(self.stream.encode(out))


def _close_quietly(container) -> None:
    """Close a container after an error; an error while closing must not hide the first one."""
    try:
        container.close()
    except Exception:  # noqa: BLE001 -- the original exception is re-raised by the caller
        pass


# ---------------------------------------------------------------------- checks
def _check_size(width, height) -> tuple[int, int]:
    w, h = int(width), int(height)
    if w != width or h != height or w < 2 or h < 2:
        raise ValueError(f"width and height must be whole numbers of pixels >= 2, got {width}x{height}")
    if w % 2 or h % 2:
        raise ValueError(
            f"width and height must be even for H.264 yuv420p video, got {w}x{h}; "
            "pad the frames by one pixel (e.g. np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), 'edge'))")
    return w, h


def _check_frame(rgb, index: int, width: int, height: int) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.shape != (height, width, 3) or arr.dtype != np.uint8:
        raise ValueError(
            f"frame {index} must be RGB uint8 of shape ({height}, {width}, 3), "
            f"got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


# ---------------------------------------------------------------------- reading the speech
class _AudioSource:
    """The speech file, read a block at a time: float32 [n, channels] at ``rate`` Hz.

    Through soundfile (the project's reader); files libsndfile cannot open
    (m4a, mp4, aac, ...) are decoded by PyAV.  ``duration`` is known up front
    (for PyAV files: the container's estimate).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self._sf = None
        self._av = None
        self._buffer = np.zeros((0, 1), np.float32)
        try:
            import soundfile as sf

            self._sf = sf.SoundFile(str(path))
            self.rate, self.channels = int(self._sf.samplerate), int(self._sf.channels)
            self.duration = self._sf.frames / self.rate
        except Exception as sf_error:  # noqa: BLE001 -- any libsndfile failure: try PyAV
            self._sf = None
            self._open_av(sf_error)
        if self.rate < 1000 or self.channels < 1:
            self.close()
            raise AudioError(f"audio file '{self.name}' has {self.channels} channels at {self.rate} Hz "
                             "-- re-export the speech as WAV")

    def _open_av(self, sf_error: Exception) -> None:
        import av

        try:
            container = av.open(str(self.path))
            stream = container.streams.audio[0]
        except Exception as e:  # noqa: BLE001 -- unreadable in every way: one AudioError
            reason = " ".join(str(sf_error).split()) or type(e).__name__
            raise AudioError(
                f"cannot decode '{self.name}' as audio ({reason}) -- the file is corrupt or not "
                "a supported format; convert it to 16-bit WAV") from None
        self._av = container
        ctx = stream.codec_context
        self.rate, self.channels = int(ctx.sample_rate), int(ctx.channels)
        self._left = None  # samples still to deliver, when the container says how many
        if stream.duration is not None and stream.time_base is not None:
            self.duration = float(stream.duration * stream.time_base)
            self._left = int(round(self.duration * self.rate))  # drops the codec's end padding
        elif container.duration is not None:
            self.duration = container.duration / 1_000_000
        else:
            self.duration = 0.0
        self._buffer = np.zeros((0, self.channels), np.float32)
        self._frames = self._decode(container, stream)

    def _decode(self, container, stream):
        import av

        resampler = av.AudioResampler(format="fltp", layout=stream.codec_context.layout,
                                      rate=self.rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().T
            for out in resampler.resample(None):
                yield out.to_ndarray().T
        except av.FFmpegError as e:
            raise AudioError(f"cannot decode '{self.name}' ({e}) -- the file is corrupt; "
                             "convert it to 16-bit WAV") from None

    def read(self, n: int) -> np.ndarray:
        """Up to ``n`` samples float32 [m, channels]; m == 0 at the end."""
        if self._sf is not None:
            try:
                return self._sf.read(n, dtype="float32", always_2d=True)
            except Exception as e:  # noqa: BLE001 -- a corrupt block mid-file
                raise AudioError(f"cannot decode '{self.name}' ({e}) -- the file is corrupt; "
                                 "re-export the speech") from None
        while self._buffer.shape[0] < n:
            chunk = next(self._frames, None)
            if chunk is None:
                break
            self._buffer = np.concatenate([self._buffer, chunk.astype(np.float32, copy=False)])
        if self._left is not None:
            n = min(n, self._left)
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        if self._left is not None:
            self._left -= out.shape[0]
        return out

    def close(self) -> None:
        if self._sf is not None:
            self._sf.close()
            self._sf = None
        if self._av is not None:
            self._av.close()
            self._av = None


def _open_audio(audio) -> _AudioSource:
    path = Path(audio).expanduser()
    if not path.is_file():
        raise AudioError(f"audio file not found: '{path}' -- check the path")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file '{path}' is empty (0 bytes) -- re-export the speech")
    return _AudioSource(path)
