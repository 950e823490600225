"""Speed per stage: seconds of speech processed per wall-clock second.

Inputs are real read speech (the LibriVox clips of Debian's pocketsphinx-testdata,
or the bundled sample when those are absent) concatenated to 10 s and 60 s.

    .venv/bin/python benchmarks/bench_speed.py [--lengths 10,60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


def speech_clip(seconds: float, out: Path) -> tuple[Path, str]:
    """A wav of at least ``seconds`` of real speech (whole clips) and its transcript."""
    clips: list[tuple[Path, str]] = []
    if (LIBRIVOX / "transcription").is_file():
        for line in (LIBRIVOX / "transcription").read_text().splitlines():
            text, fid = line.rsplit("(", 1)
            text = text.replace("<s>", "").replace("</s>", "").strip()
            clips.append((LIBRIVOX / f"{fid.strip(' )')}.wav", text))
    else:
        sample = ROOT / "assets/speech/sense_and_sensibility_0870.wav"
        clips.append((sample, sample.with_suffix(".txt").read_text().strip()))
    pieces, words, total = [], [], 0.0
    gap = np.zeros(int(0.3 * 16000), np.float32)
    while total < seconds:
        for path, text in clips:
            x, sr = sf.read(path, dtype="float32")
            assert sr == 16000
            pieces += [x, gap]
            words.append(text)
            total += len(x) / sr + 0.3
            if total >= seconds:
                break
    audio = np.concatenate(pieces)
    sf.write(out, audio, 16000)
    return out, " ".join(words)


def stage_times(path: Path, transcript: str | None, recognizer: str, tmp: Path) -> dict[str, float]:
    from visemo.audio import load_audio, loudness_envelope
    from visemo.emotion import EmotionTrack
    from visemo.animation import frame_count
    from visemo.lipsync import articulate
    from visemo.pipeline import compose
    from visemo.speech import phoneme_timings
    from visemo.speech.align import align
    from visemo.speech.transcribe import transcribe

    fps = 30.0
    t: dict[str, float] = {}
    c = time.perf_counter()
    audio = load_audio(path)
    t["load audio"] = time.perf_counter() - c
    if transcript is None and recognizer == "whisper":
        c = time.perf_counter()
        text = transcribe(audio).text
        t["whisper transcript"] = time.perf_counter() - c
        c = time.perf_counter()
        segs = align(audio, text).phones
        t["forced alignment"] = time.perf_counter() - c
    elif transcript is not None:
        c = time.perf_counter()
        segs = align(audio, transcript).phones
        t["forced alignment"] = time.perf_counter() - c
    elif recognizer == "model":
        c = time.perf_counter()
        segs = phoneme_timings(audio, recognizer="model").segments
        t["articulation model"] = time.perf_counter() - c
    else:
        c = time.perf_counter()
        segs = phoneme_timings(audio, recognizer="phones").segments
        t["phone recognition"] = time.perf_counter() - c
    c = time.perf_counter()
    frames = frame_count(audio.duration, fps)
    curves = EmotionTrack.constant("happy").curves(np.arange(frames) / fps)
    art = articulate(segs, audio.duration, fps, loudness=loudness_envelope(audio, fps, frames),
                     gain=curves.speech_gain)
    anim = compose(art.animation, art.closure, curves.weights, seed=0)
    t["articulation+emotion+idle"] = time.perf_counter() - c
    c = time.perf_counter()
    anim.save(tmp / "a.json")
    t["write json"] = time.perf_counter() - c
    from visemo.face.sequence import write_animation_mesh

    c = time.perf_counter()
    write_animation_mesh(anim, tmp / "a.pc2")
    t["write pc2 (head mesh)"] = time.perf_counter() - c
    from visemo.blender.writer import write_animation_file

    for suffix in (".blend", ".fbx"):
        c = time.perf_counter()
        write_animation_file(anim, tmp / f"a{suffix}", speech_path=path)
        t[f"write {suffix} (bpy)"] = time.perf_counter() - c
    t["_duration"] = audio.duration
    return t


_CHILD = ("import atexit, sys\n"
          "def hwm():\n"
          "    for line in open('/proc/self/status'):\n"
          "        if line.startswith('VmHWM:'):\n"
          "            sys.stderr.write('VMHWM ' + line.split()[1] + '\\n')\n"
          "atexit.register(hwm)\n"
          "from visemo.cli import main\n"
          "sys.exit(main(sys.argv[1:]))\n")
"""``visemo animate`` in a new Python process that reports its own peak RSS (VmHWM, KiB) on exit:
the rusage of a child counts the parent's pages it was forked with."""


def command_time(path: Path, tmp: Path) -> tuple[float, float, float]:
    """(speech seconds, wall seconds, peak RSS in MB) of one ``visemo animate PATH -o take.json`` process."""
    out = tmp / "take.json"
    c = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _CHILD, "animate", str(path), "-o", str(out), "-q"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - c
    if r.returncode != 0:
        raise SystemExit(f"visemo animate failed ({r.returncode}): {r.stderr.strip()}")
    peak_kib = next(int(line.split()[1]) for line in r.stderr.splitlines() if line.startswith("VMHWM "))
    return sf.info(str(path)).duration, wall, peak_kib / 1024


def in_process_time(path: Path, tmp: Path) -> float:
    """Wall seconds of ``visemo.animate(path)`` + writing JSON in a warm process (models loaded)."""
    import visemo

    visemo.animate(path).save(tmp / "warm.json")  # warm-up: imports and model sessions
    c = time.perf_counter()
    visemo.animate(path).save(tmp / "warm.json")
    return time.perf_counter() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="10,60")
    args = ap.parse_args()
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp())
    rows, commands = [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for seconds in [float(s) for s in args.lengths.split(",")]:
            path, text = speech_clip(seconds, tmp / f"speech{seconds:g}.wav")
            for label, transcript, rec in (("model", None, "model"), ("transcript", text, "auto"),
                                           ("whisper", None, "whisper"), ("phones", None, "phones")):
                rows.append((seconds, label, stage_times(path, transcript, rec, tmp)))
            commands.append((seconds, command_time(path, tmp), in_process_time(path, tmp)))
    print(f"Seconds of speech per wall second (higher is faster), {os.cpu_count()} cores")
    print(f"{'input':>7} {'timing from':12} {'stage':28} {'seconds':>8} {'x realtime':>11}")
    for seconds, label, t in rows:
        dur = t.pop("_duration")
        total = sum(t.values())
        for stage, s in t.items():
            print(f"{dur:6.1f}s {label:12} {stage:28} {s:8.3f} {dur / s:11.1f}")
        print(f"{dur:6.1f}s {label:12} {'TOTAL':28} {total:8.3f} {dur / total:11.1f}")
    print()
    print("SPEECH -> take.json with the default engine: `visemo animate SPEECH -o take.json` as a new process")
    print("(start-up, imports and model loading included), and visemo.animate(SPEECH).save() in a warm process")
    print(f"{'input':>7} {'process s':>10} {'x realtime':>11} {'peak MB':>8} {'warm s':>7} {'x realtime':>11}")
    for seconds, (dur, wall, peak), warm in commands:
        print(f"{dur:6.1f}s {wall:10.3f} {dur / wall:11.1f} {peak:8.0f} {warm:7.3f} {dur / warm:11.1f}")


if __name__ == "__main__":
    main()
