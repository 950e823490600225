"""Audio: the one loader (any file/array -> 16 kHz mono float32) and per-frame features."""

from .features import loudness, loudness_envelope, rms_db, voice_activity
from .load import SAMPLE_RATE, Audio, load_audio, resample

__all__ = ["Audio", "load_audio", "resample", "SAMPLE_RATE", "rms_db",
           "loudness", "loudness_envelope", "voice_activity"]
