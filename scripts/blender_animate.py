"""Key visemo animation onto a character in a .blend, headless.

    blender -b scene.blend -P scripts/blender_animate.py -- SPEECH \
        [--transcript TEXT] [--emotion WORD] [--intensity X] [--fps N] \
        [--seed N] [--start-frame F] [--object NAME] -o OUT.{fbx,glb,blend}

Keys the ARKit-named shape keys of ``--object`` (default: the active mesh, or
the first mesh with shape keys) from ``visemo.animate``, puts the speech in
the sequencer at the start frame (default: the scene's), and writes OUT: a
.blend copy of the scene, or the object's hierarchy as FBX/GLB.  ``--fps``
defaults to the scene's frame rate (and, if given, sets it).

Exit status: 0 done; 2 bad input (one line "visemo: error: ..." on stderr);
1 internal failure (traceback on stderr).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

SUFFIXES = (".fbx", ".glb", ".blend")


class _BadInput(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (not argparse's usage dump)
        raise _BadInput(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="blender -b FILE.blend -P blender_animate.py --",
                description="Key visemo animation onto a character and write it out.")
    p.add_argument("speech", help="speech audio file")
    p.add_argument("-o", "--output", required=True, help="output file: .fbx, .glb or .blend")
    p.add_argument("--transcript", default=None, help="what is said (text)")
    p.add_argument("--emotion", default=None, help="emotion prompt, e.g. 'happy'")
    p.add_argument("--intensity", type=float, default=1.0, help="emotion intensity 0..1")
    p.add_argument("--fps", type=float, default=None, help="frame rate (default: the scene's)")
    p.add_argument("--seed", type=int, default=None, help="seed for blinks and eye motion")
    p.add_argument("--start-frame", type=int, default=None, help="first frame (default: scene start)")
    p.add_argument("--object", default=None, help="object to key (default: active mesh)")
    return p


def _script_args(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1:] if "--" in argv else []


def _import_visemo():
    try:
        import visemo  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
        import visemo  # noqa: F401


def run(argv: list[str]) -> int:
    _import_visemo()
    import bpy

    import visemo
    from visemo.blender import files
    from visemo.blender.keyframes import key_animation, scene_fps
    from visemo.blender.rig import export_objects, find_target_object, shape_key_map
    from visemo.blender.scene import add_sound_strip, fps_pair
    from visemo.errors import AudioError, FormatError, PromptError

    args = _parser().parse_args(argv)
    out = Path(args.output)
    if out.suffix.lower() not in SUFFIXES:
        raise FormatError(f"cannot write {out.name!r} from Blender; use one of {', '.join(SUFFIXES)}")
    speech = Path(args.speech)
    if not speech.is_file():
        raise AudioError(f"speech file not found: {speech}")
    if args.fps is not None and not (args.fps > 0):
        raise PromptError(f"--fps must be positive, got {args.fps}")

    scene = bpy.context.scene
    obj = find_target_object(args.object)
    shape_key_map(obj)  # RigError before the generation and before any write
    if args.fps is not None:
        scene.render.fps, scene.render.fps_base = fps_pair(args.fps)
    fps = scene_fps(scene)
    start = scene.frame_start if args.start_frame is None else args.start_frame

    anim = visemo.animate(str(speech), args.emotion, transcript=args.transcript,
                          intensity=args.intensity, fps=fps, seed=args.seed)
    key_animation(obj, anim, start_frame=start, scene=scene)
    add_sound_strip(scene, speech, start)
    last = start + anim.frames - 1
    if args.start_frame is not None or scene.frame_start > start:
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
    print(f"visemo: keyed '{obj.name}' ({anim.frames} frames at {fps:g} fps) -> {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = _script_args(sys.argv if argv is None else argv)
    try:
        return run(argv)
    except _BadInput as e:
        print(f"visemo: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        visemo_error = sys.modules.get("visemo.errors")
        if visemo_error is not None and isinstance(e, visemo_error.VisemoError):
            print(f"visemo: error: {e}", file=sys.stderr)
            return 2
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if code:
        sys.exit(code)
