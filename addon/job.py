"""One inference run off Blender's main thread (no bpy in here).

:class:`InferenceJob` runs :func:`visemo.pipeline.perform` in a
``threading.Thread`` and exposes what the UI polls: ``stage`` and
``fraction`` (from perform's progress callback), ``done``, ``result`` or
``error``.  :meth:`cancel` makes the next progress call raise
:class:`Cancelled`, so the worker stops at the next stage boundary; the
caller never waits for it.  :meth:`run_here` runs the same work on the
calling thread (Blender in background mode, where there is no event loop to
poll from).
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field


class Cancelled(Exception):
    """The user cancelled the run (raised inside the worker, never shown)."""


@dataclass
class JobRequest:
    """Everything perform needs; plain values only (read on the main thread)."""

    speech: str
    emotion: object = None            # a prompt string, "auto", an EmotionTrack or None
    intensity: float = 1.0
    transcript: str | None = None
    fps: float = 30.0
    seed: int | None = None
    blinks: bool = True
    eye_motion: bool = True
    options: dict = field(default_factory=dict)


class InferenceJob:
    """A single call of ``visemo.pipeline.perform`` with progress and cancel."""

    def __init__(self, request: JobRequest):
        self.request = request
        self.stage = "waiting"
        self.fraction = 0.0
        self.result = None            # visemo.pipeline.Performance
        self.error: BaseException | None = None
        self.trace = ""
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the UI reads
    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- control
    def start(self) -> "InferenceJob":
        """Run in a daemon thread; returns at once."""
        self._thread = threading.Thread(target=self._work, name="visemo-inference", daemon=True)
        self._thread.start()
        return self

    def run_here(self) -> "InferenceJob":
        """Run on the calling thread; returns when finished."""
        self._work()
        return self

    def cancel(self) -> None:
        """Ask the worker to stop; it does at its next progress report."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker ended (tests; the add-on never waits)."""
        return self._done.wait(timeout)

    # -- the worker
    def _progress(self, stage: str, fraction: float) -> None:
        if self._cancel.is_set():
            raise Cancelled()
        self.stage, self.fraction = stage, float(fraction)

    def _work(self) -> None:
        try:
            from visemo.pipeline import perform

            r = self.request
            self._progress("starting", 0.0)
            result = perform(
                r.speech, r.emotion, transcript=r.transcript, intensity=r.intensity, fps=r.fps,
                seed=r.seed, blinks=r.blinks, eye_motion=r.eye_motion, progress=self._progress,
                **r.options,
            )
            if self._cancel.is_set():
                raise Cancelled()
            self.result = result
        except Cancelled as e:
            self.error = e
        except BaseException as e:  # handed to the main thread, which reports it
            self.error = e
            self.trace = traceback.format_exc()
        finally:
            self._done.set()
