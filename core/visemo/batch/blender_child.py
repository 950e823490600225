"""The Blender side of one batch row, in a process of its own: ``python -m visemo.batch.blender_child SPEC.json``.

SPEC (written by :func:`visemo.batch.work.write_in_blender`): the animation
(.npz), the output (.blend/.fbx/.glb, or .mp4 with ``"playblast": true``),
the speech, an optional character .blend, object, start frame and rig
mapping, and where to put the result: ``{"status": "ok" | "bad input" |
"error", "error": ..., "traceback": ...}``.

Importing bpy (and rendering with it) can leave threads that hang the
interpreter's exit (FIELD_NOTES), so this process always leaves through
``os._exit`` once the result file is written.
"""

from __future__ import annotations

import json
import os
import sys
import traceback


def _write(spec: dict) -> None:
    from visemo import Animation

    anim = Animation.load(spec["animation"])
    if spec.get("playblast"):
        from visemo.blender.playblast import write_playblast

        write_playblast(anim, spec["output"], speech_path=spec.get("speech"), character=spec.get("character"),
                        object_name=spec.get("object"), mapping=spec.get("mapping"), in_process=True)
    else:
        from visemo.blender.writer import write_animation_file

        write_animation_file(anim, spec["output"], speech_path=spec.get("speech"),
                             character=spec.get("character"), object_name=spec.get("object"),
                             start_frame=spec.get("start_frame", 1), mapping=spec.get("mapping"))


def main(spec_path: str) -> int:
    """Write the spec's output; put the outcome in its result file; return 0 (written), 2 or 1."""
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    from visemo.errors import VisemoError

    try:
        _write(spec)
        outcome, code = {"status": "ok"}, 0
    except VisemoError as e:
        outcome, code = {"status": "bad input", "error": str(e)}, 2
    except Exception as e:  # noqa: BLE001 - reported to the worker, which reports the row
        outcome = {"status": "error", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        code = 1
    tmp = spec["result"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(outcome, f)
    os.replace(tmp, spec["result"])
    return code


if __name__ == "__main__":
    status = 1
    try:
        status = main(sys.argv[1])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
