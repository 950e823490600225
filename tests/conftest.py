"""Shared pytest fixtures: real speech with ground-truth phoneme timings.

- ``synth(text, voice="slt")`` -> :class:`tts.Utterance` (flite; cached per session)
- ``flite_utterances``: 8 sentences over the 4 flite voices
- ``librivox``: the 5 LibriVox clips of Debian pocketsphinx-testdata as
  (path, transcript) pairs (skips when the package is absent)
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tts  # noqa: E402

LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")


@pytest.fixture(scope="session")
def tts_dir(tmp_path_factory) -> Path:
    """Session folder caching synthesized waves."""
    return tmp_path_factory.mktemp("tts")


@pytest.fixture(scope="session")
def synth(tts_dir):
    """``synth(text, voice="slt") -> tts.Utterance``; skips the test without flite."""
    if not tts.have_flite():
        pytest.skip("flite is not installed (apt-get install flite)")

    def make(text: str, voice: str = "slt") -> tts.Utterance:
        return tts.synthesize(text, voice, tts_dir)

    return make


@pytest.fixture(scope="session")
def flite_utterances(synth) -> list:
    """8 utterances: SENTENCES[0:8], voices slt, kal16, awb, rms in turn."""
    return [synth(tts.SENTENCES[i], tts.VOICES[i % len(tts.VOICES)]) for i in range(8)]


@pytest.fixture(scope="session")
def librivox() -> list[tuple[Path, str]]:
    """[(wav path, transcript)] for the LibriVox test clips (16 kHz mono, 3-7 s)."""
    trans = LIBRIVOX_DIR / "transcription"
    if not trans.exists():
        pytest.skip("pocketsphinx-testdata is not installed")
    out = []
    for line in trans.read_text().splitlines():
        m = re.match(r"<s> (.*) </s> \((.*)\)", line.strip())
        if m and (LIBRIVOX_DIR / f"{m.group(2)}.wav").exists():
            out.append((LIBRIVOX_DIR / f"{m.group(2)}.wav", m.group(1)))
    return out


# ---------------------------------------------------------------- process exit
# Blender's module can keep worker threads (GPU, sound) that make a normal
# interpreter exit wait forever after some operations.  The suite's own result
# must not depend on that, so the pytest process leaves with os._exit once the
# summary is written.  Tests that check for the exit hang on purpose run pytest
# in a subprocess with VISEMO_ADDON_SUBPROCESS=1, which keeps the normal exit.
_EXIT_STATUS = {"code": 0}


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if "bpy" in sys.modules and os.environ.get("VISEMO_ADDON_SUBPROCESS") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["code"])
