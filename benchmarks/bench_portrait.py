"""The talking portrait measured in its pixels: lip sync, stillness, emotion, blinks, speed.

Portraits: the two public-domain photos that ship in packages (scikit-image's
astronaut, matplotlib's Grace Hopper).  Every measurement is made on the
video as written (H.264, decoded again with PyAV) by finding the face again
with mediapipe on each frame — except stillness, which compares the
renderer's own frames with the photo bit for bit (H.264 itself is lossy).

- **lipsync**: flite dialogue lines (two sentences with real pauses, voices
  slt, kal16, awb, rms in turn; exact phone times) → ``visemo.animate``
  (audio only by default) → mp4 on each portrait.  The inner-lip gap of each
  frame (middle of the mouth, in the head's millimetres via the fit's
  scale, minus the gap the same video shows for a closed neutral mouth) is
  scored like the 3-D benchmark: P/B/M closed (< 1 mm) within ±1 frame,
  open vowels open (> 4 mm), pauses closed, lag against the same engine
  driven by the true phone times.
- **stillness**: pixels outside the face region identical to the photo
  (max abs difference) over every frame of a clip; SSIM of the face on
  closed-mouth neutral frames (pauses, no blink) against the photo.
- **emotion**: fer's 7-class probabilities, averaged over the frames of a
  clip spoken with each emotion, and its top class.
- **blinks**: eye aspect ratio per frame; a blink in the curves
  (eyeBlink ≥ 0.5) counts as seen when the EAR falls below the open level
  by more than 6 robust standard deviations of the open frames' EAR (and at
  least 15 %) within ±1 frame; frames with the eyes open in the curves
  (eyeBlink < 0.1) that fall as far are false closures.
- **speed**: frames per second of ``render_portrait`` at 512² (warp, mouth,
  encoding, audio) on a 60 s clip, and the process's peak memory.

    .venv/bin/python benchmarks/bench_portrait.py [--n 24] [--sections lipsync,stillness,emotion,blinks,speed]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import tts  # noqa: E402
from dialogue import dialogue  # noqa: E402

from visemo import arkit  # noqa: E402
from visemo.animation import Animation, frame_count  # noqa: E402
from visemo.audio import load_audio, loudness_envelope  # noqa: E402
from visemo.face.model import load_face_model  # noqa: E402
from visemo.lipsync import articulate  # noqa: E402
from visemo.lipsync.metrics import score_lipsync  # noqa: E402
from visemo.pipeline import perform  # noqa: E402
from visemo.render2d import fit_portrait, render_portrait, replacement  # noqa: E402
from visemo.render2d.metrics import track_frames, video_frames  # noqa: E402
from visemo.render2d.portrait import PortraitRenderer  # noqa: E402

FPS = 30.0
OUT = Path(tempfile.gettempdir()) / "visemo-bench-portrait"


def portraits() -> dict[str, Path]:
    """The two public-domain portraits, written as files."""
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    OUT.mkdir(parents=True, exist_ok=True)
    astronaut = OUT / "astronaut.png"
    if not astronaut.exists():
        Image.fromarray(data.astronaut()).save(astronaut)
    hopper = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return {"astronaut": astronaut, "grace_hopper": hopper}


def lines(n: int) -> list:
    """``n`` dialogue lines: sentences i and i+7, voice i mod 4 (as bench_lipsync.py)."""
    k = len(tts.SENTENCES)
    out = OUT / "tts"
    return [dialogue(tts.synthesize(tts.SENTENCES[i % k], tts.VOICES[i % 4], out),
                     tts.synthesize(tts.SENTENCES[(i + 7) % k], tts.VOICES[i % 4], out), out)
            for i in range(n)]


def closed_reference_px(rig) -> float:
    """The lip gap (pixels) mediapipe reads on this portrait's closed neutral mouth."""
    renderer = PortraitRenderer(rig)
    track = track_frames([renderer.frame(np.zeros(arkit.COUNT, np.float32))])
    return float(track.lip_gap_px[0])


def section_lipsync(n: int, recognizer: str) -> list[str]:
    model = load_face_model()
    utterances = lines(n)
    rows = []
    for name, photo in portraits().items():
        rig = fit_portrait(photo, 512)
        zero = closed_reference_px(rig)
        scores, missing = [], 0
        for k, u in enumerate(utterances):
            audio = load_audio(u.path)
            frames = frame_count(audio.duration, FPS)
            ref = articulate(u.segments, audio.duration, FPS,
                             loudness=loudness_envelope(audio, FPS, frames)).animation
            anim = perform(u.path, fps=FPS, recognizer=recognizer, blinks=False, eye_motion=False).animation
            video = OUT / f"lipsync-{name}-{k}.mp4"
            render_portrait(anim, None, video, speech=u.path, rig=rig)
            track = track_frames(video_frames(video))
            missing += int((~track.found).sum())
            gaps_mm = (np.nan_to_num(track.lip_gap_px, nan=0.0) - zero) / rig.px_per_m * 1000.0
            ref_mm = 1000.0 * np.asarray(model.lip_gap_of_weights(ref.weights))
            scores.append(score_lipsync(gaps_mm, u.segments, FPS, reference_gaps_mm=ref_mm))
            video.unlink()
        lags = np.array([s.lag_frames for s in scores])

        def pooled(attr: str, count: str) -> float:
            return np.sum([getattr(s, attr) * getattr(s, count) for s in scores]) / max(
                1, sum(getattr(s, count) for s in scores))

        rows.append(f"{name:14} {pooled('bilabial_recall', 'bilabials'):8.3f} "
                    f"{pooled('open_recall', 'open_vowels'):6.3f} {pooled('silence_closure', 'pause_frames'):8.3f} "
                    f"{np.median(lags):5.1f} {int(np.abs(lags).max()):8d} "
                    f"{sum(s.bilabials for s in scores):>5}/{sum(s.open_vowels for s in scores)}/"
                    f"{sum(s.pause_frames for s in scores):<5} {missing:>8}")
    voices = sorted({tts.VOICES[i % 4] for i in range(n)})
    head = [f"Lip sync in the pixels: {n} flite dialogue lines, voices {', '.join(voices)}, visemo "
            f"recognizer={recognizer}, {FPS:g} fps, 512² mp4, landmarks found again on every decoded frame",
            f"{'portrait':14} {'bilabial':>8} {'open':>6} {'silence':>8} {'lag':>5} {'max|lag|':>8} "
            f"{'events b/o/p':>15} {'no face':>8}"]
    return head + rows + ["targets: bilabial >= 0.95, open >= 0.95, silence >= 0.95, |lag| <= 1 frame"]


def _clip(speech: Path, emotion, seed: int = 0, blinks: bool = True) -> Animation:
    return perform(speech, emotion, fps=FPS, recognizer="phones", seed=seed, blinks=blinks).animation


def section_stillness() -> list[str]:
    from skimage.metrics import structural_similarity

    speech = lines(2)[1]
    rows = []
    for name, photo in portraits().items():
        rig = fit_portrait(photo, 512)
        renderer = PortraitRenderer(rig)
        anim = _clip(speech.path, None)
        x0, y0, x1, y1 = renderer.mesh.roi
        region = np.zeros(rig.image.shape[:2], bool)
        worst_out, closed_ssim, rest_ssim = 0, [], []
        mouth = [i for i, n in enumerate(arkit.NAMES) if n.startswith(("jaw", "mouth", "cheek", "tongue"))]
        # face box for SSIM: the landmarks' box
        fx0, fy0 = np.floor(rig.points[:468].min(axis=0)).astype(int)
        fx1, fy1 = np.ceil(rig.points[:468].max(axis=0)).astype(int)
        pauses = [s for s in speech.segments if s.phone == "SIL" and s.end - s.start >= 0.25]
        blink = anim.channel("eyeBlinkLeft")
        not_mouth = ~_mouth_region(rig)[fy0:fy1, fx0:fx1]
        rest_outside = []
        for i, w in enumerate(anim.weights):
            frame = renderer.frame(w)
            roi = renderer.frame_roi(w)
            touched = np.zeros(rig.image.shape[:2], bool)
            touched[y0:y1, x0:x1] = np.any(roi != rig.image[y0:y1, x0:x1], axis=2)
            region |= touched
            diff = np.abs(frame.astype(int) - rig.image)
            mask = np.ones(rig.image.shape[:2], bool)
            mask[y0:y1, x0:x1] = False
            worst_out = max(worst_out, int(diff[mask].max(initial=0)))
            t = i / FPS
            if blink[i] < 0.05 and (w[mouth].max() < 0.05 or any(p.start + 0.1 <= t <= p.end - 0.1 for p in pauses)):
                ssim, ssim_map = structural_similarity(frame[fy0:fy1, fx0:fx1], rig.image[fy0:fy1, fx0:fx1],
                                                       channel_axis=2, data_range=255, full=True)
                (rest_ssim if w[mouth].max() < 0.05 else closed_ssim).append(ssim)
                if w[mouth].max() < 0.05:
                    rest_outside.append(float(ssim_map.mean(axis=2)[not_mouth].mean()))
        share = region.sum() / region.size
        def stats(v: list) -> str:
            return f"{len(v):>6} {np.min(v) if v else np.nan:6.3f} {np.mean(v) if v else np.nan:6.3f}"

        rows.append(f"{name:14} {worst_out:>13d} {100 * share:10.1f} %  {stats(rest_ssim)}   {stats(closed_ssim)}   "
                    f"{np.min(rest_outside) if rest_outside else np.nan:13.3f}   {rig.photo_label}{' (lips closed at rest)' if np.abs(rig.rest_offset).max() else ''}")
    return ["Identity and stillness (renderer frames, a neutral line with blinks and eye motion, 512² crop)",
            "SSIM of the face box against the photo: at rest (no mouth channel above 0.05, no blink: gaze may move)",
            "and in pauses with the mouth closed (the curves may press or roll the lips there)",
            f"{'portrait':14} {'max|diff| out':>13} {'face area':>12}  {'rest n':>6} {'min':>6} {'mean':>6}   "
            f"{'pause n':>6} {'min':>6} {'mean':>6}   {'rest, no mouth':>13}   photo's own expression"] + rows + [
        "rest, no mouth: the lowest SSIM at rest over the face box without the mouth region (lips and a margin: "
        "a photo with parted lips is closed there by design)",
        "targets: outside the face region max |diff| = 0; closed-mouth neutral frames SSIM >= 0.97"]


def _mouth_region(rig) -> np.ndarray:
    """bool [H, W]: the lips as photographed and as closed at rest, widened by a fifth of the mouth width
    (the SSIM window and the skin the lips pull with them)."""
    import cv2

    from visemo.render2d import topology as topo

    outer = list(topo.LIPS_UPPER_OUTER) + list(topo.LIPS_LOWER_OUTER)
    pts = np.concatenate([rig.points[outer], (rig.points + rig.rest_offset)[outer]])
    mask = np.zeros(rig.image.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    width = float(np.linalg.norm(rig.points[291] - rig.points[61]))
    k = 2 * int(round(0.2 * width)) + 1
    return cv2.dilate(mask, np.ones((k, k), np.uint8)).astype(bool)


FER_NAME = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry", "surprised": "surprise",
            "fearful": "fear", "disgusted": "disgust"}


def section_emotion(emotions: list[str]) -> list[str]:
    from visemo.emotion.photo import fit_expression, nearest_basic_emotion
    from visemo.emotion.photo_fer import fer_probabilities
    from visemo.face.landmarks import detect_faces

    speech = lines(3)[2]
    rows = []
    for name, photo in portraits().items():
        rig = fit_portrait(photo, 512)
        renderer = PortraitRenderer(rig)
        photo_probs = fer_probabilities(rig.image, track_frames([rig.image]).boxes[0])
        photo_top = max(photo_probs, key=photo_probs.get)
        neutral_fit = None
        for emotion in emotions:
            perf = perform(speech.path, None if emotion == "neutral" else emotion, fps=FPS, recognizer="phones")
            # as `visemo animate --portrait` renders it: the asked emotion replaces the photo's own
            replace = replacement(perf.animation, perf.emotion)
            frames = [renderer.frame(w, 0.0 if replace is None else float(replace[i]))
                      for i, w in enumerate(perf.animation.weights) if i % 3 == 0]
            faces = [detect_faces(f, max_faces=1) for f in frames]
            probs = [fer_probabilities(f, d[0].box) for f, d in zip(frames, faces) if d]
            mean = {k: float(np.mean([p[k] for p in probs])) for k in probs[0]}
            top = max(mean, key=mean.get)
            want = FER_NAME[emotion]
            ok = top == want or (emotion == "neutral" and top == photo_top)
            fitted = np.mean([fit_expression(d[0])[0] for d in faces if d], axis=0)
            if emotion == "neutral":
                neutral_fit = fitted
            # what the frames add to the same person speaking neutrally (the fit reads her own face too)
            shape = "-" if neutral_fit is None else nearest_basic_emotion(np.clip(fitted - neutral_fit, 0.0, None))
            rows.append(f"{name:14} {emotion:10} {top:9} {mean[want]:7.2f}  {'yes' if ok else 'NO':>4}  "
                        f"{shape:12} " + " ".join(f"{k[:3]} {v:.2f}" for k, v in mean.items())
                        + f"   (photo: {photo_top})")
    return ["Emotion reads: fer's probabilities averaged over every 3rd frame of a spoken line; 'shape': the "
            "basic emotion of what the landmark fit (visemo.emotion.photo) on the same frames adds to the neutral clip's",
            f"{'portrait':14} {'emotion':10} {'fer top':9} {'p(want)':>7}  {'ok':>4}  {'shape':12} all classes"] + rows + [
        "target: fer names the intended emotion (happy, sad, angry, surprised); neutral speech stays at the "
        "photo's own reading"]


def section_blinks() -> list[str]:
    utter = lines(4)[3]
    rows = []
    for name, photo in portraits().items():
        rig = fit_portrait(photo, 512)
        anim = _clip(utter.path, None, seed=3)
        video = OUT / f"blinks-{name}.mp4"
        render_portrait(anim, None, video, speech=utter.path, rig=rig)
        track = track_frames(video_frames(video))
        video.unlink()
        ear = np.nanmean(track.ear, axis=1)
        blink = 0.5 * (anim.channel("eyeBlinkLeft") + anim.channel("eyeBlinkRight"))
        open_ear = ear[blink < 0.1]
        open_level = np.nanmedian(open_ear)
        spread = 1.4826 * np.nanmedian(np.abs(open_ear - open_level))  # robust sd of open frames
        threshold = open_level - max(6.0 * spread, 0.15 * open_level)
        shut = ear < threshold
        peaks = [i for i in range(1, len(blink) - 1)
                 if blink[i] >= 0.5 and blink[i] >= blink[i - 1] and blink[i] > blink[i + 1]]
        seen = [bool(shut[max(i - 1, 0):i + 2].any()) for i in peaks]
        false = int((shut & (blink < 0.1)).sum())
        dips = [float(np.nanmin(ear[max(i - 1, 0):i + 2])) for i in peaks]
        rows.append(f"{name:14} {len(peaks):6d} {sum(seen):6d} {false:>14d} {int((blink < 0.1).sum()):>12d} "
                    f"{open_level:8.3f} {spread:7.3f} {threshold:9.3f} {np.mean(dips) if dips else np.nan:9.3f}")
    return ["Blinks: eye aspect ratio (EAR) found again on every decoded frame",
            f"{'portrait':14} {'blinks':>6} {'seen':>6} {'false closures':>14} {'open frames':>12} "
            f"{'EAR open':>8} {'sd':>7} {'threshold':>9} {'at blinks':>9}"] + rows + [
        "target: every blink seen (EAR falls within ±1 frame of each blink in the curves), no fall elsewhere"]


SPEED_CHILD = r"""
import json, sys, time
import numpy as np
from visemo.animation import Animation
from visemo.render2d import fit_portrait, render_portrait
photo, speech, anim_path, out = sys.argv[1:5]
rig = fit_portrait(photo, 512)
anim = Animation.load(anim_path)
t = time.perf_counter()
info = render_portrait(anim, None, out, speech=speech, rig=rig)
took = time.perf_counter() - t
# VmHWM: this process's own peak (ru_maxrss would carry the forking parent's peak across exec)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"frames": info.frames, "seconds": took, "duration": info.duration, "peak_mb": hwm / 1024}))
"""


def section_speed(seconds: float) -> list[str]:
    import soundfile as sf

    speech = lines(6)
    parts = [sf.read(u.path, dtype="float32")[0] for u in speech]
    rate = speech[0].sample_rate
    audio = np.concatenate(parts)
    rows = []
    for length in (10.0, seconds):
        clip = np.tile(audio, int(np.ceil(length * rate / len(audio))))[: int(length * rate)]
        wav = OUT / f"speed-{length:g}.wav"
        sf.write(wav, clip, rate, subtype="PCM_16")
        anim = perform(wav, "happy", fps=FPS, recognizer="phones").animation
        anim_path = OUT / f"speed-{length:g}.json"
        anim.save(anim_path)
        for name, photo in portraits().items():
            out = OUT / f"speed-{name}.mp4"
            res = subprocess.run([sys.executable, "-c", SPEED_CHILD, str(photo), str(wav), str(anim_path), str(out)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            out.unlink()
            rows.append(f"{name:14} {r['duration']:8.1f} {r['frames']:7d} {r['seconds']:9.1f} "
                        f"{r['frames'] / r['seconds']:8.1f} {r['duration'] / r['seconds']:10.2f} {r['peak_mb']:9.0f}")
    return [f"Speed: render_portrait at 512² (warp, mouth, H.264 + AAC encoding), {os.cpu_count()} CPU cores, no GPU",
            f"{'portrait':14} {'video s':>8} {'frames':>7} {'wall s':>9} {'fps':>8} {'x realtime':>10} {'peak MB':>9}"
            ] + rows + ["target: >= 25 fps (real time at 25 fps); peak memory flat in the clip's length"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24, help="dialogue lines for the lip-sync section")
    ap.add_argument("--recognizer", default="auto", choices=("auto", "whisper", "phones"))
    ap.add_argument("--sections", default="lipsync,stillness,emotion,blinks,speed")
    ap.add_argument("--emotions", default="neutral,happy,sad,angry,surprised")
    ap.add_argument("--seconds", type=float, default=60.0, help="clip length for the speed section")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for section in args.sections.split(","):
        t = time.perf_counter()
        if section == "lipsync":
            table = section_lipsync(args.n, args.recognizer)
        elif section == "stillness":
            table = section_stillness()
        elif section == "emotion":
            table = section_emotion(args.emotions.split(","))
        elif section == "blinks":
            table = section_blinks()
        elif section == "speed":
            table = section_speed(args.seconds)
        else:
            raise SystemExit(f"unknown section {section!r}")
        print("\n".join(table), flush=True)
        print(f"({section}: {time.perf_counter() - t:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
