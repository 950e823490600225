"""The project's one audio loader: any file or array -> 16 kHz mono float32.

Everything downstream (phoneme alignment, features, neural models, Blender sound
strips) works on :class:`Audio` as returned by :func:`load_audio`.

Readable files: whatever the installed libsndfile reads (WAV, FLAC, OGG/Vorbis,
OGG/Opus, AIFF, CAF, W64 and -- libsndfile >= 1.1 -- MP3).  Other containers
(m4a, aac, mp4, mov, webm, wma, ...) are decoded through ``ffmpeg`` when it is
on ``PATH``; without it they raise :class:`AudioError` saying how to convert.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import AudioError

SAMPLE_RATE = 16000
"""Rate of every :class:`Audio` (samples per second)."""

MIN_SECONDS = 0.1
"""Shorter inputs are rejected: there is nothing to animate."""

SILENCE_PEAK_DBFS = -60.0
"""A file whose peak is below this (dB relative to full scale) counts as silent."""

SPEECH_LEVEL_DBFS = -50.0
"""At least one 20 ms window must be louder than this (RMS, dBFS) to count as voiced."""

SPEECH_FLOOR_DBFS = -24.0
"""Speech whose level (:func:`speech_level_db`) is below this (dBFS) is raised to it.  The articulation
model learnt speech at about -14 dBFS ± 15 dB (its training gain augmentation); clips 30 dB quieter than
recorded (about -48 dBFS) kept the mouth nearly shut: jawOpen correlation with the clip at its own level
0.59 unraised, 0.996 raised (benchmarks/bench_levels.py).  Speech at -24 dBFS or louder is left as it is."""

LEVEL_SPAN_DB = 40.0
"""Blocks more than this below the loudest 20 ms are pauses and noise, not part of the speech level."""

# Suffixes libsndfile never reads; we hand them to ffmpeg when it exists.
_FFMPEG_SUFFIXES = {
    ".m4a", ".aac", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".wma", ".amr", ".3gp",
    ".ac3", ".ape", ".wv", ".mka", ".avi",
}

AudioSource = Union[str, os.PathLike, np.ndarray, "Audio"]


@dataclass(frozen=True, eq=False)
class Audio:
    """Mono speech: ``samples`` float32 [N] in [-1, 1] at ``sample_rate`` Hz.

    ``source`` is the file it came from (``None`` for arrays).  Build one with
    :func:`load_audio`; the constructor only checks shapes.  ``loaded``: made by
    :func:`load_audio` (checked, offset removed, quiet speech raised), which
    then returns it as it is.
    """

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE
    source: str | None = None
    loaded: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        x = np.ascontiguousarray(self.samples, dtype=np.float32)
        if x.ndim != 1:
            raise AudioError(f"Audio samples must be 1-D (mono), got shape {x.shape}")
        x.setflags(write=False)
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    @property
    def name(self) -> str:
        """File name for messages ('<array>' for arrays)."""
        return os.path.basename(self.source) if self.source else "<array>"

    def pcm16(self) -> bytes:
        """Samples as little-endian signed 16-bit PCM bytes (for pocketsphinx)."""
        x = np.clip(np.round(self.samples * 32767.0), -32768, 32767).astype("<i2")
        return x.tobytes()

    def slice(self, start: float, end: float) -> "Audio":
        """The part between ``start`` and ``end`` seconds (clipped to the audio)."""
        a = max(0, int(round(start * self.sample_rate)))
        b = min(len(self.samples), int(round(end * self.sample_rate)))
        return Audio(self.samples[a:max(a, b)], self.sample_rate, self.source)

    def __repr__(self) -> str:
        return (f"Audio({self.duration:.3f} s, {self.sample_rate} Hz, "
                f"source={self.source!r})")


# ---------------------------------------------------------------------- public API
def load_audio(
    source: AudioSource,
    sample_rate: int | None = None,
    max_seconds: float = 1800.0,
) -> Audio:
    """Load speech as 16 kHz mono float32 :class:`Audio`.

    ``source`` is a file path, an :class:`Audio` (returned checked and
    resampled if needed) or a numpy array shaped [N] or [N, channels] (also
    [channels, N] when channels <= 8) -- arrays need ``sample_rate`` (Hz), the
    rate of the array; it is ignored for files.  Integer arrays are scaled from
    their type's full range; float arrays are taken as [-1, 1] (a float array
    peaking above 1 is scaled down to peak 1).  Channels are averaged to mono;
    any rate is resampled to 16 kHz; an offset and rumble below 20 Hz are
    removed (:class:`DCBlocker`).  Quiet speech is raised to
    :data:`SPEECH_FLOOR_DBFS` (-24 dBFS): the mouth then moves as it does for
    the same words recorded louder.

    Raises :class:`AudioError` (one line, naming the file) when the file is
    missing, a directory, empty, unreadable/corrupt, shorter than 0.1 s, longer
    than ``max_seconds``, contains NaN/inf, or is silent.
    """
    if isinstance(source, Audio):
        if source.loaded and source.duration <= max_seconds:
            return source
        return _finish(source.samples[:, None], source.sample_rate, source.source,
                       max_seconds)
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise AudioError("an audio array needs its sample_rate (e.g. "
                             "load_audio(samples, sample_rate=44100))")
        data = _array_to_2d(source)
        return _finish(data, _check_rate(sample_rate, "<array>"), None, max_seconds)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        data, rate = _read_file(path, max_seconds)
        return _finish(data, rate, str(path), max_seconds)
    raise AudioError(f"cannot load audio from a {type(source).__name__}; "
                     "give a file path or a numpy array with its sample_rate")


# ---------------------------------------------------------------------- file reading
def _read_file(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 [N, C] and its rate; AudioError on any problem."""
    name = str(path)
    if not path.exists():
        raise AudioError(f"audio file not found: '{name}' -- check the path")
    if path.is_dir():
        raise AudioError(f"'{name}' is a folder, not an audio file -- give a .wav/.flac/.ogg/.mp3 file")
    try:
        size = path.stat().st_size
    except OSError as e:
        raise AudioError(f"cannot read '{name}': {e.strerror} -- check its permissions") from None
    if size == 0:
        raise AudioError(f"audio file '{name}' is empty (0 bytes) -- re-export the speech")
    if not os.access(path, os.R_OK):
        raise AudioError(f"cannot read '{name}': permission denied -- check its permissions")
    if path.suffix.lower() in _FFMPEG_SUFFIXES:
        return _read_ffmpeg(path, max_seconds)

    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            rate, frames = _check_rate(f.samplerate, f"'{name}'"), int(f.frames)
            if frames > 0 and frames / rate > max_seconds:
                raise AudioError(_too_long(name, frames / rate, max_seconds))
            data = f.read(dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception as e:  # LibsndfileError, RuntimeError, ValueError, MemoryError ...
        if shutil.which("ffmpeg") and path.suffix.lower() not in {".wav", ".flac", ".ogg", ".aiff", ".aif"}:
            return _read_ffmpeg(path, max_seconds)
        reason = " ".join(str(e).split()) or type(e).__name__
        reason = reason.replace(f"Error opening {str(path)!r}: ", "").rstrip(".")
        raise AudioError(
            f"cannot decode '{name}' as audio ({reason}) -- the file is corrupt or "
            "not a supported format; convert it to 16-bit WAV (e.g. ffmpeg -i IN out.wav)"
        ) from None
    return data, rate


def _read_ffmpeg(path: Path, max_seconds: float) -> tuple[np.ndarray, int]:
    """Decode a container libsndfile cannot read through the ffmpeg command."""
    name = str(path)
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise AudioError(f"cannot read '{name}': {path.suffix} needs ffmpeg, which is not "
                         "installed -- convert it to WAV or FLAC first")
    cmd = [exe, "-nostdin", "-v", "error", "-i", str(path), "-t", str(max_seconds + 1),
           "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AudioError(f"cannot decode '{name}' with ffmpeg ({e}) -- convert it to WAV") from None
    if res.returncode != 0 or not res.stdout:
        msg = res.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = msg[-1] if msg else "no audio stream"
        raise AudioError(f"cannot decode '{name}' ({reason}) -- the file is corrupt or has no "
                         "audio track; convert it to 16-bit WAV")
    data = np.frombuffer(res.stdout[: len(res.stdout) // 4 * 4], dtype="<f4")
    return data[:, None].astype(np.float32), SAMPLE_RATE


# ---------------------------------------------------------------------- arrays
def _array_to_2d(a: np.ndarray) -> np.ndarray:
    """Any numeric array -> float32 [N, C] in [-1, 1]."""
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim == 2:
        if a.shape[0] <= 8 and a.shape[1] > a.shape[0]:
            a = a.T  # [channels, N]
    else:
        raise AudioError(f"an audio array must be [samples] or [samples, channels], got shape {a.shape}")
    if a.dtype.kind == "b" or a.dtype.kind not in "iuf":
        raise AudioError(f"an audio array must hold numbers, got dtype {a.dtype}")
    if a.dtype.kind == "i":
        return (a.astype(np.float64) / float(2 ** (8 * a.dtype.itemsize - 1))).astype(np.float32)
    if a.dtype.kind == "u":
        half = float(2 ** (8 * a.dtype.itemsize - 1))
        return ((a.astype(np.float64) - half) / half).astype(np.float32)
    return a.astype(np.float32, copy=False)


def _check_rate(rate, name: str) -> int:
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise AudioError(f"sample rate of {name} must be a number in Hz, got {rate!r}") from None
    if not np.isfinite(r) or r < 1000 or r > 768000:
        raise AudioError(f"sample rate of {name} must be between 1000 and 768000 Hz, got {rate!r}")
    return int(round(r))


# ---------------------------------------------------------------------- common tail
def _finish(data: np.ndarray, rate: int, source: str | None, max_seconds: float) -> Audio:
    """Validate, mix down, resample; ``data`` is float [N, C] at ``rate`` Hz."""
    name = f"'{source}'" if source else "the audio array"
    n = data.shape[0]
    if n == 0 or data.shape[1] == 0:
        raise AudioError(f"{name} contains no audio samples -- re-export the speech")
    seconds = n / rate
    if seconds > max_seconds:
        raise AudioError(_too_long(name, seconds, max_seconds))
    if seconds < MIN_SECONDS:
        raise AudioError(f"{name} is only {seconds * 1000:.0f} ms long -- speech needs at "
                         f"least {MIN_SECONDS * 1000:.0f} ms")
    if not np.all(np.isfinite(data)):
        raise AudioError(f"{name} contains NaN or infinite samples -- the file is damaged; "
                         "re-export it")
    x = _mixdown(data)
    peak = float(np.max(np.abs(x)))
    if peak > 1.0:
        x = x / peak
        peak = 1.0
    peak_db = 20 * np.log10(max(peak, 1e-10))
    if peak_db < SILENCE_PEAK_DBFS:
        level = "all samples are zero" if peak == 0 else f"peak {peak_db:.0f} dBFS"
        raise AudioError(f"{name} is silent ({level}) -- check that it holds the speech "
                         "and is not muted")
    x = DCBlocker().push(resample(x, rate, SAMPLE_RATE))
    np.clip(x, -1.0, 1.0, out=x)    # the filter overshoots a file normalised to full scale by a few %
    peak = float(np.max(np.abs(x)))
    levels = block_levels_db(x)
    loudest = float(levels.max())
    if loudest < SPEECH_LEVEL_DBFS:
        raise AudioError(f"{name} has no audible speech (loudest 20 ms is {loudest:.0f} dBFS "
                         "RMS) -- check the file, or raise its volume")
    gain = speech_gain(levels, peak)
    audio = Audio(x * np.float32(gain) if gain != 1.0 else x, SAMPLE_RATE, source)
    object.__setattr__(audio, "loaded", True)
    return audio


DC_CUTOFF_HZ = 20.0
"""Below this a recording's offset and rumble are removed (:class:`DCBlocker`): the mel bands start at 60 Hz,
but an offset fills the pauses' level, so the jaw opened 7 % less with an offset of 0.01 and 25 % less with
0.05 (benchmarks/bench_levels.py)."""


class DCBlocker:
    """A first-order high-pass at :data:`DC_CUTOFF_HZ` on 16 kHz samples, y[n] = x[n] - x[n-1] + R·y[n-1]: an
    offset a cheap interface adds decays with a time constant of 8 ms (1 % of it is left after 37 ms).  It
    keeps its state between :meth:`push` calls, so audio filtered in chunks (``visemo stream``) equals the
    same audio filtered whole (:func:`load_audio`)."""

    CHUNK = 1 << 20
    """Samples filtered at a time (bounds the float64 working copy of a long file)."""

    def __init__(self) -> None:
        self.r = 1.0 - 2.0 * math.pi * DC_CUTOFF_HZ / SAMPLE_RATE
        self.state = np.zeros(1, np.float64)

    def push(self, x: np.ndarray) -> np.ndarray:
        """float32 samples in → the same, high-passed (float32)."""
        from scipy.signal import lfilter

        out = np.empty(len(x), np.float32)
        for k in range(0, len(x), self.CHUNK):
            y, self.state = lfilter([1.0, -1.0], [1.0, -self.r], np.asarray(x[k:k + self.CHUNK], np.float64),
                                    zi=self.state)
            out[k:k + self.CHUNK] = y
        return out


def speech_level_db(x: np.ndarray) -> float:
    """The level of the speech in 16 kHz samples ``x`` (dBFS): :func:`level_of_blocks` of its 20 ms blocks.
    About -14 dBFS for espeak-ng and flite speech, -20 for the bundled LibriVox clip."""
    return level_of_blocks(block_levels_db(x))


SPEECH_OVER_NOISE_DB = 10.0
"""A 20 ms block is speech where it stands this far above the noise floor (the 10th percentile of the
blocks).  Steady room tone or hum has no such blocks (its levels stay within ~2 dB), and is not raised:
-45 dBFS white noise raised to the floor moved the jaw up to 0.32; left alone, it keeps the mouth shut."""


def speech_blocks(levels_db: np.ndarray) -> np.ndarray:
    """The levels (dBFS) of the 20 ms blocks that are speech: :data:`SPEECH_OVER_NOISE_DB` over the noise
    floor, within :data:`LEVEL_SPAN_DB` of the loudest block, and above :data:`SILENCE_PEAK_DBFS`: pauses and
    noise are left out, however long (a TTS line's -66 dBFS lead-in over its own digital silence is)."""
    db = np.asarray(levels_db, np.float64)
    if not len(db):
        return db
    floor = max(float(np.percentile(db, 10)) + SPEECH_OVER_NOISE_DB, float(db.max()) - LEVEL_SPAN_DB,
                SILENCE_PEAK_DBFS)
    return db[db >= floor]


def has_speech_dynamics(levels_db: np.ndarray) -> bool:
    """Whether 20 ms block levels (dBFS) hold speech to raise: the loudest block audible
    (:data:`SPEECH_LEVEL_DBFS`), and some that rise over the noise floor (:func:`speech_blocks`)."""
    return len(levels_db) > 0 and float(np.max(levels_db)) >= SPEECH_LEVEL_DBFS and len(speech_blocks(levels_db)) > 0


def level_of_blocks(levels_db: np.ndarray) -> float:
    """Speech level (dBFS) from the RMS levels (dBFS) of 20 ms blocks: the 90th percentile of its
    :func:`speech_blocks` (of all blocks where none rises over the noise floor; -200 for none)."""
    db = np.asarray(levels_db, np.float64)
    speech = speech_blocks(db)
    return float(np.percentile(speech if len(speech) else db, 90)) if len(db) else -200.0


def speech_gain(levels_db: np.ndarray, peak: float | None = None) -> float:
    """The factor that raises speech with these 20 ms block levels (dBFS) to :data:`SPEECH_FLOOR_DBFS`, at
    most 1 / ``peak`` where ``peak`` (the largest |sample|) is given: a click keeps the lift smaller.  1.0 for
    speech at the floor or louder, for sound with no audible speech (loudest block below
    :data:`SPEECH_LEVEL_DBFS`), and for sound without the rise and fall of speech (:func:`has_speech_dynamics`:
    room tone, hum)."""
    if not has_speech_dynamics(levels_db):
        return 1.0
    lift = SPEECH_FLOOR_DBFS - level_of_blocks(levels_db)
    gain = 10 ** (lift / 20) if peak is None or peak <= 0 else min(10 ** (lift / 20), 1.0 / peak)
    return gain if lift > 0.01 and gain > 1.0 else 1.0


def _mixdown(data: np.ndarray) -> np.ndarray:
    """[N, C] -> [N] float32: channel mean, or the loudest channel if the mean cancels."""
    if data.shape[1] == 1:
        return np.ascontiguousarray(data[:, 0], dtype=np.float32)
    mono = data.mean(axis=1, dtype=np.float64)
    ch_rms = np.sqrt(np.mean(np.square(data, dtype=np.float64), axis=0))
    if np.sqrt(np.mean(mono ** 2)) < 0.25 * ch_rms.max():  # out-of-phase channels
        mono = data[:, int(np.argmax(ch_rms))]
    return np.asarray(mono, dtype=np.float32)


def resample(x: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample float32 [N] from ``rate_in`` to ``rate_out`` Hz (polyphase, anti-aliased).

    The ratio is used exactly when it reduces to small integers (44100 -> 16000
    is 160/441), otherwise a rational approximation within 1e-6.
    """
    if rate_in == rate_out:
        return np.asarray(x, dtype=np.float32)
    from scipy.signal import resample_poly

    ratio = Fraction(int(rate_out), int(rate_in))
    if max(ratio.numerator, ratio.denominator) > 2000:
        ratio = ratio.limit_denominator(2000)
    y = resample_poly(np.asarray(x, dtype=np.float32), ratio.numerator, ratio.denominator)
    return np.asarray(y, dtype=np.float32)


LEVEL_BLOCK = 320
"""Samples in a 20 ms level block at 16 kHz (:func:`speech_level_db`)."""


def block_level_db(block: np.ndarray) -> float:
    """RMS level (dBFS) of one block of samples (:func:`block_levels_db` of it whole)."""
    return float(block_levels_db(block, max(len(block), 1))[0])


def block_levels_db(x: np.ndarray, w: int = LEVEL_BLOCK) -> np.ndarray:
    """RMS level (dBFS, float64) of each non-overlapping ``w``-sample block of ``x`` (the whole of ``x`` when
    it is shorter than one block; -200 dB for digital silence and for no samples)."""
    n = len(x) // w
    blocks = np.asarray(x, np.float32)[None, :] if n == 0 else np.asarray(x, np.float32)[: n * w].reshape(n, w)
    energy = np.einsum("ij,ij->i", blocks, blocks, dtype=np.float64) / max(blocks.shape[1], 1)
    return 10 * np.log10(np.maximum(energy, 1e-20))


def _too_long(name: str, seconds: float, max_seconds: float) -> str:
    if not name.startswith("'") and not name.startswith("the"):
        name = f"'{name}'"
    if max_seconds >= 120:
        length = f"{seconds / 60:.1f} minutes long, over the {max_seconds / 60:g}-minute limit"
    else:
        length = f"{seconds:.1f} s long, over the {max_seconds:g} s limit"
    return f"{name} is {length} -- split it into shorter clips (or raise max_seconds)"
