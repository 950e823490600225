"""Key visemo animation onto a character in a .blend, headless: one line, or a CSV batch.

Run through the script the extension ships (``blender_animate.py`` in the
installed extension's folder, ``addon/blender_animate.py`` in a checkout)::

    blender -b scene.blend -P .../visemo/blender_animate.py -- ARGS

One line::

    ARGS = [SPEECH | --speech SPEECH] [--transcript TEXT] \\
        [--emotion TEXT|auto | --emotion-image PHOTO | --emotion-keys FILE|KEYS] [--intensity X] \\
        [--transition S] [--fps N] [--seed N] [--start-frame F] [--object NAME] \\
        [--mapping PRESET|MAP.json] [--portrait PHOTO] -o OUT.{fbx,glb,blend}

A batch (one output per CSV row)::

    ARGS = --batch rows.csv --out-dir DIR [--format fbx|glb|blend] [--fps N] [--seed N] \\
        [--mapping PRESET|MAP.json] [--summary RESULTS.csv]

Keys the shape keys of ``--object`` (default: the active mesh, or the first
mesh with shape keys) from ``visemo.animate``, puts the speech in the
sequencer at the start frame (default: the scene's), and writes OUT: a .blend
copy of the scene, or the object's hierarchy as FBX/GLB.  ``--fps`` defaults
to the scene's frame rate (and, if given, sets it).  ``--mapping`` picks the
shape key of each ARKit channel: a preset (auto, arkit, livelink, cc4, rpm,
vroid) or a mapping JSON file; by default the object's stored mapping
(``obj["visemo_mapping"]``) or auto-detection.

Batch CSV: read by the one batch row reader, :func:`visemo.batch.rows.read_rows`
(``visemo batch`` reads the same CSV).  A header row, then one row per line
of dialogue.  Columns (any order, case-insensitive): ``file`` (speech;
required), ``emotion`` (default neutral; a prompt, ``auto``,
``image:PHOTO``, a keys file or inline keys ``0=happy; 2=sad``, see
:func:`visemo.emotion.keys_file.emotion_spec`), ``intensity`` (0..1,
default 1), ``object`` (default as above), optional ``transcript`` (text, or
a .txt file), ``output`` (file name in ``--out-dir``; default: the speech
file's stem, ``_row<N>`` added when two rows would collide; the suffix
defaults to the row's ``format``, else ``--format``), ``start_frame``,
``portrait`` (a photo of one face: the row also writes ``<output>.mp4``,
that person speaking the line; ``--portrait`` does the same for one line),
``language`` (the transcript's language, ISO code; default English),
``format`` (fbx, glb or blend for this row).
Paths are relative to the CSV's folder.  Every row starts from the .blend as
it was opened (rows do not see each other's keys); models load once for the
whole batch.  A row that fails writes nothing; the others are still written.
A progress line per row on stdout, then a summary table; ``--summary`` writes
the shared batch report (:func:`visemo.batch.report.write_report`: .csv or .jsonl).

Exit status: 0 done (every row ok); 2 bad input (one line "visemo: error:
..." on stderr per problem); 1 internal failure (traceback on stderr) — in a
batch, 1 if any row failed internally, else 2 if any row had bad input.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path

from ..batch.report import BAD_INPUT, ERROR, OK, Result, exit_status, print_summary, write_report
from ..batch.rows import BatchInputError, Row, mapping_spec, parse_row, plan_outputs, portrait_video, read_rows
from ..errors import VisemoError

SUFFIXES = (".fbx", ".glb", ".blend")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (not argparse's usage dump)
        raise BatchInputError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="blender -b FILE.blend -P blender_animate.py --",
                description="Key visemo animation onto a character and write it out.")
    p.add_argument("speech_pos", nargs="?", metavar="SPEECH", help="speech audio file")
    p.add_argument("--speech", default=None, help="speech audio file (same as SPEECH)")
    p.add_argument("-o", "--output", default=None, help="output file: .fbx, .glb or .blend")
    p.add_argument("--batch", default=None, metavar="CSV", help="CSV of rows to animate (batch mode)")
    p.add_argument("--out-dir", default=None, help="batch: folder for the outputs")
    p.add_argument("--format", default="fbx", help="batch: output format fbx, glb or blend (default fbx)")
    p.add_argument("--summary", default=None, metavar="CSV|JSONL",
                   help="batch: also write the per-row report here (.csv, or .jsonl for JSON lines)")
    p.add_argument("--transcript", default=None, help="what is said (text)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--emotion", default=None, help="emotion prompt, e.g. 'quietly furious', or 'auto'")
    how.add_argument("--emotion-image", default=None, metavar="PHOTO", help="a reference photo's expression")
    how.add_argument("--emotion-keys", default=None, metavar="FILE|KEYS",
                     help="emotion over time: .json/.csv keys or 'TIME=PROMPT[@INTENSITY]; ...' (seconds)")
    p.add_argument("--intensity", type=float, default=1.0, help="emotion intensity 0..1")
    p.add_argument("--transition", type=float, default=None, metavar="SECONDS",
                   help="time from one emotion key to the next (default 0.4)")
    p.add_argument("--fps", type=float, default=None, help="frame rate (default: the scene's)")
    p.add_argument("--seed", type=int, default=None, help="seed for blinks and eye motion")
    p.add_argument("--start-frame", type=int, default=None, help="first frame (default: scene start)")
    p.add_argument("--object", default=None, help="object to key (default: active mesh)")
    p.add_argument("--mapping", default=None, metavar="PRESET|JSON",
                   help="rig mapping: auto, arkit, livelink, cc4, rpm, vroid, or a mapping .json file")
    p.add_argument("--portrait", default=None, metavar="PHOTO",
                   help="also write OUT's name with .mp4: the person in PHOTO speaking the line")
    return p


def _script_args(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1:] if "--" in argv else []


# ---------------------------------------------------------------------------------- one line
def _key_and_write(obj, scene, speech: Path, out: Path, *, emotion, intensity, transcript, seed,
                   start_frame, mapping, emotion_image=None, portrait=None, language=None):
    """Generate, key ``obj``, add the sound strip, extend the range, write ``out``; return the performance.

    ``portrait``: a fitted :class:`~visemo.render2d.rig.PortraitRig`; then
    ``out`` with the suffix .mp4 is written too (:func:`portrait_video`).
    """
    from visemo.blender import files
    from visemo.blender.keyframes import key_animation, scene_fps
    from visemo.blender.rig import export_objects
    from visemo.blender.scene import add_sound_strip
    from visemo.pipeline import perform

    fps = scene_fps(scene)
    start = scene.frame_start if start_frame is None else int(start_frame)
    perf = perform(str(speech), emotion, emotion_image=emotion_image, transcript=transcript,
                   intensity=intensity, fps=fps, seed=seed, language=language)
    anim = perf.animation
    key_animation(obj, anim, start_frame=start, scene=scene, mapping=mapping)
    add_sound_strip(scene, speech, start)
    last = start + anim.frames - 1
    if start_frame is not None or scene.frame_start > start:
        scene.frame_start = start
    if scene.frame_end < last:
        scene.frame_end = last
    suffix = out.suffix.lower()
    if suffix == ".blend":
        files.write_blend(out)
    elif suffix == ".fbx":
        files.write_fbx(out, export_objects(obj))
    else:
        files.write_glb(out, export_objects(obj))
    if portrait is not None:
        from visemo.render2d import render_portrait

        render_portrait(perf, None, portrait_video(out), speech=speech, rig=portrait)
    return perf


def _fit_portrait(photo: Path):
    """The portrait rig of ``photo`` (ImageError for a missing or unusable photo)."""
    from visemo.errors import ImageError
    from visemo.render2d import fit_portrait

    if not photo.is_file():
        raise ImageError(f"portrait photo not found: {photo}")
    return fit_portrait(photo)


def _check_fps(fps):
    from visemo.errors import PromptError

    if fps is not None and not (fps > 0):
        raise PromptError(f"--fps must be positive, got {fps}")


def run_single(args) -> int:
    import bpy

    from visemo.blender.keyframes import scene_fps
    from visemo.blender.rig import find_target_object, shape_key_map
    from visemo.blender.scene import fps_pair
    from visemo.cli import emotion_argument
    from visemo.errors import AudioError, FormatError
    from visemo.pipeline import emotion_track

    if args.speech_pos and args.speech:
        raise BatchInputError("give the speech file once: SPEECH or --speech")
    speech = args.speech or args.speech_pos
    if not speech:
        raise BatchInputError("the following arguments are required: SPEECH (or --speech, or --batch CSV)")
    if not args.output:
        raise BatchInputError("the following arguments are required: -o/--output")
    out = Path(args.output)
    if out.suffix.lower() not in SUFFIXES:
        raise FormatError(f"cannot write {out.name!r} from Blender; use one of {', '.join(SUFFIXES)}")
    speech = Path(speech)
    if not speech.is_file():
        raise AudioError(f"speech file not found: {speech}")
    _check_fps(args.fps)
    mapping = mapping_spec(args.mapping)
    emotion, emotion_image = emotion_argument(args)
    emotion_track(emotion, args.intensity, emotion_image)  # bad prompt or photo: before any work

    scene = bpy.context.scene
    obj = find_target_object(args.object)
    rig = shape_key_map(obj, mapping)  # RigError before the generation and before any write
    portrait = None if args.portrait is None else _fit_portrait(Path(args.portrait))
    if args.fps is not None:
        scene.render.fps, scene.render.fps_base = fps_pair(args.fps)
    perf = _key_and_write(obj, scene, speech, out, emotion=emotion, emotion_image=emotion_image,
                          intensity=args.intensity, transcript=args.transcript, seed=args.seed,
                          start_frame=args.start_frame, mapping=mapping, portrait=portrait)
    print(f"visemo: keyed '{obj.name}' ({rig.summary()}; {perf.animation.frames} frames at "
          f"{scene_fps(scene):g} fps) -> {out}" + (f" and {portrait_video(out)}" if portrait else ""))
    if note := perf.emotion.unseen_note(perf.animation.times):
        print(f"visemo: {note}")
    return 0


# ---------------------------------------------------------------------------------- batch
class _Session:
    """Puts the open .blend back as it was before each row after the first."""

    def __init__(self):
        import bpy

        self.bpy = bpy
        self.tmp = None
        path = bpy.data.filepath
        if path and not bpy.data.is_dirty:
            self.path = path
        else:  # unsaved or changed since opened: keep a snapshot of how it is now
            self.tmp = tempfile.mkdtemp(prefix="visemo-batch-")
            self.path = os.path.join(self.tmp, "start.blend")
            bpy.ops.wm.save_as_mainfile(filepath=self.path, copy=True, check_existing=False)
        self.touched = False

    def fresh(self):
        if self.touched:
            self.bpy.ops.wm.open_mainfile(filepath=self.path, load_ui=False)
        self.touched = True
        return self.bpy.context.scene

    def close(self):
        if self.tmp:
            for name in os.listdir(self.tmp):
                os.remove(os.path.join(self.tmp, name))
            os.rmdir(self.tmp)


def _row_job(row: Row, base: Path):
    """Parse and check a row's cells (no Blender; :func:`visemo.batch.rows.parse_row`): (speech, emotion,
    intensity, transcript, start, portrait rig or None, language)."""
    job = parse_row(row, base)
    portrait = None if job.portrait is None else _fit_portrait(job.portrait)
    return job.speech, job.emotion, job.intensity, job.transcript, job.start_frame, portrait, job.language


def run_batch(args) -> int:
    from visemo.blender.rig import find_target_object, shape_key_map
    from visemo.blender.scene import fps_pair

    if args.speech or args.speech_pos or args.output:
        raise BatchInputError("--batch takes no SPEECH, --speech or -o; outputs go to --out-dir")
    if args.emotion or args.emotion_image or args.emotion_keys or args.transition is not None:
        raise BatchInputError("--batch reads each row's emotion from the CSV's 'emotion' column")
    if not args.out_dir:
        raise BatchInputError("the following arguments are required with --batch: --out-dir")
    fmt = args.format.lower().lstrip(".")
    if f".{fmt}" not in SUFFIXES:
        raise BatchInputError(f"--format must be one of fbx, glb, blend; got {args.format!r}")
    _check_fps(args.fps)
    csv_path = Path(args.batch)
    rows = read_rows(csv_path)
    mapping = mapping_spec(args.mapping)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = plan_outputs(rows, out_dir, fmt, SUFFIXES)
    base = csv_path.resolve().parent

    session = _Session()
    results: list[Result] = []
    started = time.perf_counter()
    width = len(str(len(rows)))
    worker = f"{socket.gethostname()}:{os.getpid()}"
    interrupted = False
    try:
        for i, row in enumerate(rows, 1):
            t0 = time.perf_counter()
            started_at = time.time()
            try:
                out = outputs[row.number]
                if isinstance(out, str):
                    raise VisemoError(out)
                speech, emotion, intensity, transcript, start, portrait, language = _row_job(row, base)
                scene = session.fresh()
                obj = find_target_object(row.object)
                shape_key_map(obj, mapping)  # RigError before the generation
                if args.fps is not None:
                    scene.render.fps, scene.render.fps_base = fps_pair(args.fps)
                perf = _key_and_write(obj, scene, speech, out, emotion=emotion, intensity=intensity,
                                      transcript=transcript, seed=args.seed, start_frame=start, mapping=mapping,
                                      portrait=portrait, language=language)
                written = str(out) + (f" + {portrait_video(out).name}" if portrait is not None else "")
                result = Result(row.number, row.file, OK, time.perf_counter() - t0, output=written,
                                note=perf.emotion.unseen_note(perf.animation.times))
            except VisemoError as e:
                result = Result(row.number, row.file, BAD_INPUT, time.perf_counter() - t0, error=str(e))
                print(f"visemo: error: row {row.number} ({row.file}): {e}", file=sys.stderr, flush=True)
            except Exception as e:  # internal failure: keep going, keep the traceback
                traceback.print_exc()
                result = Result(row.number, row.file, ERROR, time.perf_counter() - t0,
                                error=f"{type(e).__name__}: {e}")
            result.started, result.finished = started_at, time.time()
            result.worker = worker
            results.append(result)
            detail = ("-> " if result.status == OK else "") + result.detail()
            print(f"visemo: [{i:>{width}}/{len(rows)}] row {row.number} {row.file}: {result.status} "
                  f"({result.seconds:.2f} s) {detail}", flush=True)
    except KeyboardInterrupt:
        interrupted = True
        print("visemo: interrupted; the rows done so far are kept", file=sys.stderr, flush=True)
    finally:
        session.close()

    print_summary(results, len(rows), time.perf_counter() - started)
    if args.summary:
        write_report(Path(args.summary), results)
    return exit_status(results, interrupted)


# ---------------------------------------------------------------------------------- entry
def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.batch:
        return run_batch(args)
    return run_single(args)


def main(argv: list[str] | None = None) -> int:
    argv = _script_args(sys.argv if argv is None else argv)
    try:
        return run(argv)
    except BatchInputError as e:
        print(f"visemo: error: {e}", file=sys.stderr)
        return 2
    except VisemoError as e:
        print(f"visemo: error: {e}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 1


def run_script(argv: list[str] | None = None) -> None:
    """Entry for ``blender -P``: run :func:`main`, exit with its status when it is not 0.

    (Blender keeps running after a ``-P`` script that returns; ``-b`` then
    quits with status 0, so failures must leave through ``sys.exit``.)
    """
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    if code:
        sys.exit(code)


if __name__ == "__main__":
    run_script()
