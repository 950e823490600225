"""One batch row, run where a Dask worker runs it: check, skip if done, animate, write, record.

:func:`run_row` never raises for a row's own failure: bad input (a
:class:`~visemo.errors.VisemoError`) and internal errors come back in the
result, so one bad row never stops the batch.  Models load once per worker
process: the pipeline caches them per process (:func:`loaded_models` counts
them).  Outputs that need Blender (.blend/.fbx/.glb, and a playblast .mp4)
are written by a child process per row (:mod:`visemo.batch.blender_child`)
that leaves with ``os._exit``: ``bpy`` is never imported in the worker.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import ImageError, VisemoError
from . import manifest
from .report import BAD_INPUT, ERROR, OK, UNCHANGED, Result
from .rows import Row, input_files, parse_row, portrait_video

SUFFIXES = (".json", ".csv", ".npz", ".pc2", ".mesh.npz", ".blend", ".fbx", ".glb", ".mp4")
"""What ``visemo batch`` writes, as ``visemo animate`` does (the writer follows the suffix)."""

CONTENT_OPTIONS = ("fps", "seed", "recognizer", "character", "mapping")
"""The batch options that change what a row makes: part of its fingerprint (``max_seconds`` is not)."""


@dataclass
class RowTask:
    """Everything a worker needs for one row (picklable; paths absolute).

    ``options``: the batch options that change what a row makes (fps, seed,
    recognizer, max_seconds, character, mapping).  ``previous``: the row's
    last ``ok`` manifest line, if any.  ``hook(row, attempt)``: called first
    (tests use it to make a worker die).
    """

    row: Row
    base: str
    out_dir: str
    output: str
    options: dict
    previous: dict | None = None
    attempt: int = 1
    hook: Callable | None = field(default=None, repr=False)


class BlenderChildError(RuntimeError):
    """The Blender child process failed internally or died."""


# ---------------------------------------------------------------------- model loads
def loaded_models() -> dict[str, int]:
    """How many models this process has loaded (they stay cached): a count per kind.

    Read from the pipeline's per-process caches, so a count that stays the
    same from row to row means no row loaded a model again.
    """
    counts: dict[str, int] = {}
    import importlib

    try:  # (the package visemo.speech exports functions named like these modules)
        align = importlib.import_module("visemo.speech.align")
        recognize = importlib.import_module("visemo.speech.recognize")
        counts["pocketsphinx decoders"] = len(getattr(align, "_decoders", {})) + \
            len(getattr(recognize, "_decoders", {}))
    except ImportError:  # pragma: no cover
        pass
    try:
        from ..emotion import encoders

        counts["text encoders"] = len(getattr(encoders, "_CACHE", {}))
    except ImportError:  # pragma: no cover
        pass
    from .. import models

    counts["model folders"] = len(getattr(models, "_MODELS", {}))
    counts["onnx sessions"] = sum(len(getattr(m, "_sessions", {})) for m in getattr(models, "_MODELS", {}).values())
    try:
        from ..speech.articulation_model import load_articulation_model

        counts["articulation models"] = load_articulation_model.cache_info().currsize
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return counts


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------- the row
def run_row(task: RowTask) -> dict:
    """Run one row; return ``{"result": Result, "record": manifest line or None, "traceback": str, "models": {...}}``.

    Skips the row (status ``unchanged``) when ``task.previous`` has the same
    fingerprint and its outputs are intact.  A failed row leaves no file
    behind (:func:`_animate_row` removes what it wrote).
    """
    started = time.time()
    t0 = time.perf_counter()
    row, base, out_dir = task.row, Path(task.base), Path(task.out_dir)
    out = Path(task.output)
    key = manifest.output_key(out_dir, out)
    if task.hook is not None:
        task.hook(row, task.attempt)
    if task.attempt > 1:  # the worker of the first attempt died, perhaps mid-write
        manifest.remove_partials(out_dir, [out, portrait_video(out)])
    result = Result(row.number, row.file, OK, 0.0, attempts=task.attempt, worker=worker_name(), started=started)
    written: list[Path] = []
    tb = ""
    record = None
    fp, inputs = "", {}
    try:
        inputs = {str(p): manifest.file_sha256(p) for p in _input_files(row, base, task.options)}
        fp = manifest.fingerprint(row.cells(), {k: v for k, v in task.options.items() if k in CONTENT_OPTIONS},
                                  inputs)
        prev = task.previous
        if prev is not None and prev.get("fingerprint") == fp and manifest.outputs_intact(out_dir, prev):
            result.status = UNCHANGED
            result.output = ", ".join(str(out_dir / k) for k in prev["outputs"])
            result.speech_seconds, result.note = prev.get("speech_seconds"), prev.get("note", "")
            result.attempts = 0
        else:
            written = _animate_row(task, out, result)
            result.output = str(out) + "".join(f" + {p.name}" for p in written[1:])
    except VisemoError as e:
        result.status, result.error = BAD_INPUT, str(e)
    except Exception as e:  # noqa: BLE001 - an internal failure of this row: report it, keep the batch going
        result.status, result.error = ERROR, f"{type(e).__name__}: {e}"
        tb = traceback.format_exc()
    result.seconds = time.perf_counter() - t0
    result.finished = time.time()
    if result.status != UNCHANGED:
        record = _record(task, key, result, fp, inputs, written)
        try:
            manifest.write_pending(out_dir, record)
        except OSError:
            pass  # the client still records it when the result arrives
    return {"result": result, "record": record, "traceback": tb, "models": loaded_models()}


def _input_files(row: Row, base: Path, options: dict) -> list[Path]:
    files = input_files(row, base)
    if options.get("character"):
        files.append(Path(options["character"]))
    return files


def _record(task: RowTask, key: str, result: Result, fp: str, inputs: dict, written: list[Path]) -> dict:
    out_dir = Path(task.out_dir)
    return {
        "id": os.urandom(8).hex(), "key": key, "row": task.row.number, "file": task.row.file,
        "status": result.status, "error": result.error, "note": result.note, "fingerprint": fp, "inputs": inputs,
        "cells": task.row.cells(), "options": task.options,
        "outputs": manifest.describe_outputs(out_dir, written) if result.status == OK else {},
        "seconds": round(result.seconds, 4), "speech_seconds": result.speech_seconds,
        "perform_seconds": result.perform_seconds, "write_seconds": result.write_seconds,
        "attempts": task.attempt, "worker": result.worker, "started": result.started,
        "finished": result.finished, "visemo": __version__,
    }


def _animate_row(task: RowTask, out: Path, result: Result) -> list[Path]:
    """Parse, animate and write one row; return the files written (the output first)."""
    from ..cli import output_kind
    from ..pipeline import perform

    opts = task.options
    job = parse_row(task.row, Path(task.base))
    kind = output_kind(out)
    rig = None
    if job.portrait is not None:  # a bad photo fails before the slow work
        if not job.portrait.is_file():
            raise ImageError(f"portrait photo not found: {job.portrait}")
        from ..render2d import fit_portrait

        rig = fit_portrait(job.portrait)
    t = time.perf_counter()
    perf = perform(str(job.speech), job.emotion, transcript=job.transcript, intensity=job.intensity,
                   fps=opts["fps"], seed=opts["seed"], recognizer=opts["recognizer"], language=job.language,
                   max_seconds=opts["max_seconds"])
    result.perform_seconds = time.perf_counter() - t
    result.speech_seconds = perf.duration
    anim = perf.animation
    t = time.perf_counter()
    written: list[Path] = []
    try:
        if kind == "animation":
            anim.save(out)
        elif kind == "mesh":
            from ..face.sequence import write_animation_mesh

            write_animation_mesh(anim, out)
        elif kind == "video" and rig is not None:
            from ..render2d import render_portrait

            render_portrait(perf, None, out, speech=job.speech, rig=rig)
        else:  # .blend/.fbx/.glb, or a playblast .mp4: bpy, in a process of its own
            write_in_blender(anim, out, playblast=(kind == "video"), speech=job.speech,
                             character=opts.get("character"), object_name=job.object,
                             start_frame=1 if job.start_frame is None else job.start_frame,
                             mapping=opts.get("mapping"))
        written.append(out)
        if rig is not None and kind != "video":
            from ..render2d import render_portrait

            video = portrait_video(out)
            render_portrait(perf, None, video, speech=job.speech, rig=rig)
            written.append(video)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    result.write_seconds = time.perf_counter() - t
    result.note = perf.emotion.unseen_note(anim.times)  # an ok row's only: set once all is written
    return written


# ---------------------------------------------------------------------- Blender, out of process
def write_in_blender(anim, out: Path, *, playblast: bool, speech: Path | None, character=None,
                     object_name: str | None = None, start_frame: int = 1, mapping=None,
                     retry_killed: bool = True) -> None:
    """Write ``anim`` to ``out`` (.blend/.fbx/.glb, or a playblast .mp4) in a child Python process.

    The child imports bpy, writes atomically and leaves with ``os._exit``.
    Raises the child's VisemoError as one (bad rig, missing object...),
    :class:`BlenderChildError` when it failed internally or died twice (a
    child killed by a signal is started once more).
    """
    import visemo

    with tempfile.TemporaryDirectory(prefix="visemo-row-") as tmp:
        weights = Path(tmp) / "animation.npz"
        anim.save(weights)
        spec = {"animation": str(weights), "output": str(out), "playblast": playblast,
                "speech": None if speech is None else str(speech), "character": character,
                "object": object_name, "start_frame": int(start_frame), "mapping": mapping,
                "result": str(Path(tmp) / "result.json")}
        (Path(tmp) / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        env = dict(os.environ)
        core = str(Path(visemo.__file__).resolve().parents[1])
        env["PYTHONPATH"] = core + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("BLENDER_USER_RESOURCES", str(Path(tmp) / "blender"))
        for attempt in (1, 2):
            proc = subprocess.run([sys.executable, "-m", "visemo.batch.blender_child", str(Path(tmp) / "spec.json")],
                                  capture_output=True, text=True, env=env)
            result_path = Path(spec["result"])
            if result_path.is_file():
                got = json.loads(result_path.read_text(encoding="utf-8"))
                if got["status"] == OK:
                    return
                if got["status"] == BAD_INPUT:
                    raise VisemoError(got["error"])
                raise BlenderChildError(f"{got['error']}\n{got.get('traceback', '')}".rstrip())
            killed = proc.returncode < 0
            if not (killed and retry_killed and attempt == 1):
                how = (f"was killed by {signal.Signals(-proc.returncode).name}" if killed
                       else f"exited with status {proc.returncode}")
                tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
                raise BlenderChildError(f"the Blender process writing {out.name} {how}"
                                        + (f": {tail}" if tail else ""))
