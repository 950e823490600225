"""Emotion over time from the command line and files: keys files, inline keys, auto, photos."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from visemo import Animation, arkit
from visemo.animation import frame_count
from visemo.emotion import EmotionKey, EmotionTrack
from visemo.emotion.auto import split_sentences
from visemo.emotion.facs import emotion_vector
from visemo.emotion.keys_file import emotion_spec, parse_keys, read_keys, write_keys
from visemo.errors import PromptError

from test_cli import SAMPLE, TRANSCRIPT, _error_lines, visemo

HAVE_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None


def _cos(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------- parsing and files
def test_inline_keys_parse_times_prompts_intensities_and_images(tmp_path):
    t = parse_keys("0=happy; 2.5 = quietly furious @ 0.8 ;", transition=0.2)
    assert [(k.time, k.prompt, k.intensity, k.image) for k in t.keys] == [
        (0.0, "happy", 1.0, None), (2.5, "quietly furious", 0.8, None)]
    assert t.transition == 0.2
    with pytest.raises(PromptError, match="not found: /x/ref.jpg"):  # image keys load their photo
        parse_keys("0=happy; 4=image:/x/ref.jpg@0.5")
    for bad in ("happy", "x=happy", "1=happy@lots", "", ";;"):
        with pytest.raises(PromptError):
            parse_keys(bad)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_keys_file_round_trip(tmp_path, suffix):
    track = EmotionTrack((EmotionKey(0.0, "happy", 0.9), EmotionKey(1.5, "sad", 0.4),
                          EmotionKey(3.0, "not angry", 1.0)), transition=0.25)
    path = write_keys(track, tmp_path / f"keys{suffix}")
    back = read_keys(path, transition=0.25 if suffix == ".csv" else None)
    assert back.keys == track.keys and back.transition == 0.25
    assert back.labels == ("happy", "sad", track.labels[2])
    times = np.linspace(0, 4, 41)
    assert np.allclose(back.curves(times).weights, track.curves(times).weights)


def test_keys_files_resolve_relative_images_and_report_errors(tmp_path):
    (tmp_path / "k.json").write_text(json.dumps({"keys": [{"time": 0, "image": "faces/a.png"}]}))
    with pytest.raises(PromptError, match="not found"):  # the image is looked for beside the file
        read_keys(tmp_path / "k.json")
    bad = {
        "a.json": "{not json",
        "b.json": json.dumps({"keys": [{"time": "soon", "prompt": "happy"}]}),
        "c.json": json.dumps({"keys": [{"time": 0, "prompt": "happy", "image": "a.png"}]}),
        "d.csv": "when,what\n0,happy\n",
        "e.csv": "time,prompt,intensity\n",
        "f.json": json.dumps({"keys": [{"time": 0, "prompt": "qwzx blorp"}]}),
        "g.json": json.dumps({"keys": [{"time": -1, "prompt": "happy"}]}),
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(PromptError):
            read_keys(tmp_path / name)
    with pytest.raises(PromptError, match="not found"):
        read_keys(tmp_path / "missing.json")
    with pytest.raises(PromptError, match=".json or .csv"):
        read_keys(tmp_path / "keys.txt")


def test_emotion_spec_reads_every_spelling(tmp_path):
    write_keys(EmotionTrack.from_keys([(0, "sad", 1.0), (2, "happy", 0.5)]), tmp_path / "k.csv")
    assert emotion_spec(None) is None and emotion_spec("  ") is None
    assert emotion_spec("auto") == "auto"
    assert emotion_spec("quietly furious") == "quietly furious"
    assert [k.prompt for k in emotion_spec("k.csv", base=tmp_path).keys] == ["sad", "happy"]
    assert [k.time for k in emotion_spec("0=sad; 1.5=happy").keys] == [0.0, 1.5]


def test_track_scaling_and_sentence_split():
    t = EmotionTrack.from_keys([(0, "happy", 0.8), (1, "sad", 0.5)]).scaled(0.5)
    assert [k.intensity for k in t.keys] == [0.4, 0.25]
    assert split_sentences("And Mr. John Dashwood had then leisure. What a day! Dr. Who? Yes.") == [
        "And Mr. John Dashwood had then leisure.", "What a day!", "Dr. Who?", "Yes."]


def test_a_bad_key_intensity_names_the_key_by_time_and_photo_or_prompt():
    for key, named in ((EmotionKey(1.5, None, 2.0, image="/x/ref.jpg"), "the key at 1.5 s ('/x/ref.jpg')"),
                       (EmotionKey(0.0, "sad " * 40, -1.0), "the key at 0 s ('sad sad"),
                       (EmotionKey(2.0, None, 1.2), "the key at 2 s ('neutral')")):
        with pytest.raises(PromptError) as e:
            EmotionTrack((key,))
        assert "intensity must be between 0 and 1" in str(e.value) and named in str(e.value)
        assert len(str(e.value)) < 140  # a long prompt is quoted short


def test_the_listed_keys_quote_a_long_prompt_short_and_name_a_neutral_key():
    from visemo.cli import _describe_track

    long_prompt = "sad " * 40
    lines = _describe_track(EmotionTrack((EmotionKey(0.0, long_prompt, 1.0), EmotionKey(2.0, None, 0.5))),
                            np.arange(150) / 30)
    assert lines[0].split()[:3] == ["0.00", "s", "sad"] and "@1.00" in lines[0]
    assert lines[0].endswith("…'") and len(lines[0]) < 100  # the 160-character prompt is cut
    assert lines[1].split()[:3] == ["2.00", "s", "neutral"] and lines[1].endswith("'neutral'")


def test_keys_after_the_last_frame_are_named_because_they_never_show():
    times = np.arange(frame_count(7.1, 24)) / 24  # the last frame is at 7.0833 s, before the speech ends
    track = EmotionTrack.from_keys([(0, "happy", 1), (3, "angry", 1), (times[-1], "fearful", 1), (7.09, "sad", 1),
                                    (1500, "surprised", 1)])
    assert track.unseen(times) == (2, 3, 4)  # at or after the last frame: no frame shows them
    w, without = track.curves(times).weights, parse_keys("0=happy; 3=angry").curves(times).weights
    np.testing.assert_array_equal(w, without)  # indeed
    assert parse_keys("0=happy; 7.07=sad").unseen(times) == ()  # 0.01 s before the last frame: shows a little
    assert EmotionTrack(track.keys, transition=0.0).unseen(times) == (3, 4)  # a key with no transition shows at once
    assert parse_keys("5=angry").unseen(times[:10]) == ()  # a first key holds from the start, wherever it is
    assert track.unseen_note(times) == ("emotion keys at 7.08 s, 7.09 s, 1500.00 s come at or after the last frame "
                                        "(7.08 s) and do not show (key times are in seconds)")
    one = parse_keys("0=happy; 3500=sad")
    assert one.unseen_note(times) == ("emotion key at 3500.00 s comes at or after the last frame (7.08 s) and "
                                      "does not show (key times are in seconds)")
    assert one.unseen_note(times, lambda t: 1 + round(t * 24)) == ("emotion key at frame 84001 comes at or after "
                                                                  "the last frame (frame 171) and does not show")
    assert parse_keys("0=happy; 3=sad").unseen_note(times) == ""


# ---------------------------------------------------------------- the command
def _expression_at(anim: Animation, seconds: float) -> np.ndarray:
    """Mean weights over 0.3 s around ``seconds``, upper face and mouth corners only (speech-free)."""
    i = int(seconds * anim.fps)
    w = anim.weights[i - 4:i + 5].mean(axis=0)
    keep = arkit.indices(arkit.GROUPS["brows"] + ("mouthSmileLeft", "mouthSmileRight",
                                                  "mouthFrownLeft", "mouthFrownRight",
                                                  "cheekSquintLeft", "cheekSquintRight"))
    return w[keep], keep


def test_cli_emotion_keys_change_the_expression_at_the_set_times(tmp_path):
    out = tmp_path / "a.json"
    r = visemo("animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion-keys", "0=happy; 3.5=angry; 3500=sad",
               "--transition", "0.5", "--no-blinks", "--no-eye-motion", "-o", out)
    assert r.returncode == 0, r.stderr
    anim = Animation.load(out)
    happy, keep = _expression_at(anim, 2.0)
    angry, _ = _expression_at(anim, 5.0)
    assert _cos(happy, emotion_vector("happy")[keep]) > 0.9
    assert _cos(angry, emotion_vector("angry")[keep]) > 0.9
    brow = arkit.index("browDownLeft")
    # the change starts at 3.5 s and is complete 0.5 s later
    assert anim.weights[int(3.4 * anim.fps), brow] < 0.05
    assert anim.weights[int(4.05 * anim.fps), brow] > 0.9 * emotion_vector("angry")[brow]
    assert "happy" in r.stderr and "angry" in r.stderr  # the keys are listed
    late = next(line for line in r.stderr.splitlines() if "3500.00 s" in line)  # a key in milliseconds, say
    assert late.endswith("'sad'  (not shown)")
    assert "visemo: emotion key at 3500.00 s comes at or after the last frame (7.07 s) and does not show" in r.stderr


def test_cli_auto_keys_are_saved_editable_and_reproduce(tmp_path):
    keys = tmp_path / "auto.json"
    r = visemo("animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion", "auto", "--seed", "3",
               "-o", tmp_path / "auto.npz", "--save-emotion-keys", keys)
    assert r.returncode == 0, r.stderr
    doc = json.loads(keys.read_text())
    times = [k["time"] for k in doc["keys"]]
    assert times[0] == 0.0 and times == sorted(times)
    assert all(0.0 < k["intensity"] <= 1.0 for k in doc["keys"])
    # the transcript is two sentences ("Mr." does not end one)
    assert len(doc["keys"]) == len(split_sentences(TRANSCRIPT.read_text()))
    r = visemo("animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion-keys", keys, "--seed", "3",
               "-o", tmp_path / "again.npz")
    assert r.returncode == 0, r.stderr
    a, b = Animation.load(tmp_path / "auto.npz"), Animation.load(tmp_path / "again.npz")
    assert np.max(np.abs(a.weights - b.weights)) < 1e-6
    # edit the file: everything sad from 0 s
    doc["keys"] = [{"time": 0.0, "prompt": "sad", "intensity": 1.0}]
    keys.write_text(json.dumps(doc))
    r = visemo("animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion-keys", keys,
               "-o", tmp_path / "sad.npz")
    assert r.returncode == 0, r.stderr
    assert np.all(Animation.load(tmp_path / "sad.npz").channel("browInnerUp") > 0.4)


def test_cli_bad_emotion_keys_exit_2_without_output(tmp_path):
    out = tmp_path / "a.json"
    for args in (["--emotion-keys", "0=happy; 2=qwzx blorp"], ["--emotion-keys", tmp_path / "no.json"],
                 ["--emotion-keys", "0=happy", "--transition", "-1"],
                 ["--emotion", "happy", "--save-emotion-keys", tmp_path / "k.txt"]):
        r = visemo("animate", SAMPLE, *args, "-o", out)
        assert r.returncode == 2, (args, r.stderr)
        assert len(_error_lines(r.stderr)) == 1
        assert not out.exists()
    r = visemo("animate", SAMPLE, "--emotion", "happy", "--emotion-keys", "0=sad", "-o", out)
    assert r.returncode == 2 and not out.exists()  # argparse: not both


@pytest.mark.skipif(not HAVE_MEDIAPIPE, reason="mediapipe is not installed")
def test_cli_emotion_image_takes_the_photos_expression(tmp_path):
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    photo = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    out = tmp_path / "photo.json"
    r = visemo("animate", SAMPLE, "--transcript", TRANSCRIPT, "--emotion-image", photo,
               "--no-blinks", "--no-eye-motion", "-o", out)
    assert r.returncode == 0, r.stderr
    anim = Animation.load(out)
    smile = (anim.channel("mouthSmileLeft") + anim.channel("mouthSmileRight")) / 2
    assert np.median(smile) > 0.2  # she smiles in the photo
    r = visemo("emotion", "--image", photo, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["label"] == "happy"
    # the photo's embedding in the aligned space is the expression encoder's code of its weights
    from visemo.emotion.space import expression_to_style

    weights = np.array([doc["weights"][n] for n in arkit.NAMES], np.float32)
    assert np.allclose(doc["style"], expression_to_style(weights)[0], atol=2e-3)
    # no face: exit 2, one line, nothing written
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((256, 256, 3), 128, np.uint8)).save(blank)
    out2 = tmp_path / "none.json"
    r = visemo("animate", SAMPLE, "--emotion-image", blank, "-o", out2)
    assert r.returncode == 2 and len(_error_lines(r.stderr)) == 1 and "face" in r.stderr
    assert not out2.exists()
