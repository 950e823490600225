"""``visemo batch lines.csv --out-dir takes``: every CSV row a Dask task, resumable, with a progress bar.

The client (this process) reads the rows (:func:`visemo.batch.rows.read_rows`),
names each row's output, opens the output folder's manifest
(:mod:`visemo.batch.manifest`), submits one task per row
(:func:`visemo.batch.work.run_row`) to a LocalCluster or ``--scheduler``,
records each finished row in the manifest as it arrives, runs a row whose
worker died once more, and ends with a summary table, the report file
(:mod:`visemo.batch.report`) and the exit status: 0 every row written (or
unchanged), 2 some row had bad input, 1 some row failed internally.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import manifest as manifest_mod
from .cluster import batch_client, dashboard, require_dask, worker_count
from .report import BAD_INPUT, ERROR, REPORT_SUFFIXES, Result, exit_status, print_summary, write_report
from .rows import BatchInputError, mapping_spec, plan_outputs, portrait_video, read_rows
from .work import SUFFIXES, RowTask, run_row

REPORT_NAME = "visemo-report.csv"
SUMMARY_ROWS = 40
"""The closing table lists every row up to this many; past it only the failed ones."""


@dataclass
class BatchOptions:
    """What ``visemo batch`` was asked to do (see :func:`add_batch_arguments` for each one's meaning)."""

    csv: Path
    out_dir: Path
    format: str = "json"
    fps: float = 30.0
    seed: int = 0
    recognizer: str = "auto"
    max_seconds: float = 1800.0
    character: Path | None = None
    mapping: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    report: Path | None = None
    redo: bool = False
    progress: bool = True
    dashboard_address: str | None = ":8787"


@dataclass
class BatchOutcome:
    """What a batch did: one :class:`Result` per row, timings (s), where the report and manifest are."""

    results: list[Result]
    total: int
    seconds: float
    run_seconds: float
    status: int
    report: Path
    manifest: Path
    dashboard: str | None = None
    models: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per worker (host:pid): the models it had loaded after its last row."""


# ---------------------------------------------------------------------- options
def add_batch_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``visemo batch``'s arguments to ``p`` (a subparser); return it."""
    p.add_argument("csv", metavar="LINES.csv", help="CSV of lines: file, emotion, intensity, object, transcript, output, start_frame, "
                               "portrait, language, format (only 'file' is required)")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="folder for the outputs, the manifest and the report")
    p.add_argument("--format", default="json",
                   help="output suffix for rows that name none: json, csv, npz, pc2, mesh.npz, blend, fbx, glb, "
                        "mp4 (default json)")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed for blinks and eye motion (default 0)")
    p.add_argument("--recognizer", choices=("auto", "model", "whisper", "phones"), default="auto",
                   help="rows without a transcript: how the mouth is timed (as for visemo animate)")
    p.add_argument("--max-seconds", type=float, default=1800.0, help="refuse speech longer than this (default 1800)")
    p.add_argument("--character", default=None, metavar="FILE.blend",
                   help="a .blend whose character .blend/.fbx/.glb/playblast rows key (the 'object' column "
                        "picks the mesh; default: the active mesh or the first with shape keys)")
    p.add_argument("--mapping", default=None, metavar="PRESET|JSON",
                   help="rig mapping for --character: auto, arkit, livelink, cc4, rpm, vroid, or a mapping .json")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: one per CPU)")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786",
                       help="run on an existing Dask cluster instead (the output folder and the inputs must be "
                            "at the same paths on its workers)")
    p.add_argument("--report", default=None, metavar="FILE.csv|FILE.jsonl",
                   help=f"per-row report: status, timings, errors (default OUT_DIR/{REPORT_NAME})")
    p.add_argument("--redo", action="store_true", help="run every row again, even those done before")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def options_from_args(args: argparse.Namespace) -> BatchOptions:
    """:class:`BatchOptions` from parsed :func:`add_batch_arguments` arguments."""
    return BatchOptions(
        csv=Path(args.csv), out_dir=Path(args.out_dir), format=args.format, fps=args.fps, seed=args.seed,
        recognizer=args.recognizer, max_seconds=args.max_seconds,
        character=None if args.character is None else Path(args.character), mapping=args.mapping,
        workers=args.workers, scheduler=args.scheduler,
        report=None if args.report is None else Path(args.report), redo=args.redo, progress=not args.quiet,
    )


def _check(opts: BatchOptions) -> tuple[str, str | None]:
    """Validate the options; return (format without dot, mapping spec)."""
    fmt = opts.format.lower().lstrip(".")
    if f".{fmt}" not in SUFFIXES:
        raise BatchInputError(f"--format must be one of {', '.join(s.lstrip('.') for s in SUFFIXES)}; "
                              f"got {opts.format!r}")
    if not (opts.fps > 0):
        raise BatchInputError(f"--fps must be positive, got {opts.fps}")
    if opts.workers is not None and opts.workers < 1:
        raise BatchInputError(f"--workers must be at least 1, got {opts.workers}")
    if opts.report is not None and opts.report.suffix.lower() not in REPORT_SUFFIXES:
        raise BatchInputError(f"--report must end in .csv or .jsonl, got {opts.report.name}")
    if opts.character is not None and (opts.character.suffix.lower() != ".blend" or not opts.character.is_file()):
        raise BatchInputError(f"--character must be an existing .blend file, got {opts.character}")
    mapping = mapping_spec(opts.mapping)
    if mapping is not None and opts.character is None:
        raise BatchInputError("--mapping applies to a --character's shape keys; add --character FILE.blend")
    return fmt, mapping


# ---------------------------------------------------------------------- run
def run_batch(opts: BatchOptions, *, client=None, hook: Callable | None = None, stream=None) -> BatchOutcome:
    """Run a batch; return its :class:`BatchOutcome` (never raises for a row's failure).

    ``client``: a ``distributed.Client`` to use (default: one made from
    ``opts.workers`` / ``opts.scheduler``, closed at the end).  ``hook(row,
    attempt)`` runs on the worker before each row (tests).  ``stream``: where
    the summary goes (default stdout); progress and per-row errors go to
    stderr.  Raises :class:`BatchInputError` (bad CSV or options, folder in
    use) before any row runs.
    """
    started = time.perf_counter()
    fmt, mapping = _check(opts)
    rows = read_rows(opts.csv)
    require_dask()
    base = opts.csv.resolve().parent
    out_dir = opts.out_dir.resolve()
    plan = plan_outputs(rows, out_dir, fmt, SUFFIXES)
    report_path = opts.report or out_dir / REPORT_NAME
    reserved = {report_path.resolve(): "report", out_dir / manifest_mod.MANIFEST_NAME: "manifest"}
    for number, path in plan.items():
        if isinstance(path, Path) and path in reserved:
            plan[number] = f"output {path.name!r} is the batch's own {reserved[path]}; give the row another output"
    options = {"fps": float(opts.fps), "seed": int(opts.seed), "recognizer": opts.recognizer,
               "max_seconds": float(opts.max_seconds),
               "character": None if opts.character is None else str(opts.character.resolve()),
               "mapping": mapping}
    results: dict[int, Result] = {}
    models: dict[str, dict[str, int]] = {}
    interrupted = False
    link = None
    run_started = time.perf_counter()
    with manifest_mod.Manifest(out_dir) as man:
        planned = [p for p in plan.values() if isinstance(p, Path)]
        manifest_mod.remove_partials(out_dir, planned + [portrait_video(p) for p in planned])
        tasks = []
        for row in rows:
            out = plan[row.number]
            if isinstance(out, str):
                results[row.number] = Result(row.number, row.file, BAD_INPUT, 0.0, error=out, attempts=0)
                continue
            key = manifest_mod.output_key(out_dir, out)
            tasks.append(RowTask(row, str(base), str(out_dir), str(out), options,
                                 previous=None if opts.redo else man.done(key), hook=hook))
        progress = _Progress(len(rows), opts.progress)
        for r in results.values():
            progress.row_done(r, "")
        try:
            with _client(opts, client) as c:
                link = dashboard(c)
                n = worker_count(c)
                progress.say(f"visemo: batch of {len(rows)} row{'s' * (len(rows) != 1)} on "
                             f"{n or 'no'} worker{'s' * (n != 1)}{'' if n else ' yet'}"
                             + (f"; Dask dashboard: {link}" if link else ""))
                run_started = time.perf_counter()
                _run_tasks(c, tasks, man, results, models, progress)
        except KeyboardInterrupt:
            interrupted = True
            progress.say("visemo: interrupted; the rows done so far are kept (run again to resume)")
        finally:
            progress.close()
        # a worker killed mid-write leaves its temporary file: none may outlive the batch
        manifest_mod.remove_partials(out_dir, planned + [portrait_video(p) for p in planned])
    run_seconds = time.perf_counter() - run_started
    ordered = [results[r.number] for r in rows if r.number in results]
    write_report(report_path, ordered)
    seconds = time.perf_counter() - started
    print_summary(ordered, len(rows), seconds, stream=stream, max_rows=SUMMARY_ROWS, report=report_path)
    print(f"visemo: report: {report_path}", file=stream or sys.stdout, flush=True)
    return BatchOutcome(ordered, len(rows), seconds, run_seconds, exit_status(ordered, interrupted), report_path,
                        out_dir / manifest_mod.MANIFEST_NAME, link, models)


class _client:
    """The given client (left open), or one from the options (closed on exit)."""

    def __init__(self, opts: BatchOptions, client) -> None:
        self.opts, self.client, self.cm = opts, client, None

    def __enter__(self):
        if self.client is not None:
            return self.client
        self.cm = batch_client(self.opts.workers, self.opts.scheduler, self.opts.dashboard_address)
        return self.cm.__enter__()

    def __exit__(self, *exc):
        if self.cm is not None:
            return self.cm.__exit__(*exc)
        return False


def _submit(client, task: RowTask):
    key = f"visemo-row-{task.row.number}-try{task.attempt}-{uuid.uuid4().hex[:8]}"
    return client.submit(run_row, task, key=key, pure=False)


def _run_tasks(client, tasks: list[RowTask], man, results: dict[int, Result], models: dict,
               progress: "_Progress") -> None:
    """Submit every task, collect results as they finish, rerun a row once when its worker dies."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    by_key = {}
    futures = []
    for task in tasks:
        f = _submit(client, task)
        by_key[f.key] = task
        futures.append(f)
    pending = as_completed(futures)
    del futures
    for future in pending:
        task = by_key.pop(future.key)
        tb = ""
        try:
            out = future.result()
        except KilledWorker:
            if task.attempt == 1:
                task.attempt = 2
                again = _submit(client, task)
                by_key[again.key] = task
                pending.add(again)
                continue
            out = _client_failure(task, "the worker running this row died twice (killed, out of memory or "
                                        "crashed); it was tried 2 times")
        except Exception as e:  # noqa: BLE001 - the task itself failed to run: report the row
            out = _client_failure(task, f"{type(e).__name__}: {e}")
            tb = "".join(traceback.format_exception(e))
        finally:
            future.release()
        result, record = out["result"], out["record"]
        if record is not None:
            man.append(record)
        if out.get("models") is not None and result.worker:
            models[result.worker] = out["models"]
        results[task.row.number] = result
        progress.row_done(result, tb or out.get("traceback", ""))


def _client_failure(task: RowTask, error: str) -> dict:
    result = Result(task.row.number, task.row.file, ERROR, 0.0, error=error, attempts=task.attempt,
                    finished=time.time())
    out_dir = Path(task.out_dir)
    key = manifest_mod.output_key(out_dir, Path(task.output))
    record = {"id": uuid.uuid4().hex[:16], "key": key, "row": task.row.number, "file": task.row.file,
              "status": ERROR, "error": error, "fingerprint": "", "inputs": {}, "cells": task.row.cells(),
              "options": task.options, "outputs": {}, "attempts": task.attempt, "finished": result.finished}
    return {"result": result, "record": record, "traceback": "", "models": None}


class _Progress:
    """tqdm bar on stderr: rows done of total, failures, rate and ETA; failure lines above it."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.failed = 0
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                tty = sys.stderr.isatty()
                self.bar = tqdm(total=total, unit="row", desc="visemo batch", file=sys.stderr, dynamic_ncols=True,
                                mininterval=0.2 if tty else 10.0, smoothing=0.1)
                self.bar.set_postfix_str("0 failed", refresh=False)

    def say(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def row_done(self, result: Result, tb: str) -> None:
        if result.status == BAD_INPUT:
            self.failed += 1
            self.say(f"visemo: error: row {result.row} ({result.file}): {result.error}")
        elif result.status == ERROR:
            self.failed += 1
            self.say((tb.rstrip() + "\n" if tb else "") +
                     f"visemo: internal error: row {result.row} ({result.file}): {result.error.splitlines()[0]}")
        elif result.note:
            self.say(f"visemo: note: row {result.row} ({result.file}): {result.note}")
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------- entry
def main_batch(args: argparse.Namespace) -> int:
    """Run ``visemo batch`` from parsed arguments; the exit status (0, 2 a row had bad input, 1 internal).

    Errors that stop the whole batch (bad options, a locked folder) are raised for the caller,
    :func:`visemo.cli.main`, to report like every other command.
    """
    return run_batch(options_from_args(args)).status
