"""Work off Blender's main thread (no bpy in here).

:class:`InferenceJob` runs :func:`visemo.pipeline.perform` in a
``threading.Thread`` and exposes what the UI polls: ``stage`` and
``fraction`` (from perform's progress callback), ``done``, ``result`` or
``error``.  :meth:`cancel` makes the next progress call raise
:class:`Cancelled`, so the worker stops at the next stage boundary; the
caller never waits for it.  :meth:`run_here` runs the same work on the
calling thread (Blender in background mode, where there is no event loop to
poll from).

:class:`PortraitJob` does the same for *Export Talking Portrait*: fit the
photo, perform, render the mp4 (a cancel stops it after the current frame
and leaves no file).  :class:`VideoWriter` runs
:func:`visemo.render2d.video.write_video` in a thread fed frame by frame from
the main thread, where the *Playblast* renders.
"""

from __future__ import annotations

import queue
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
    language: str | None = None       # the transcript's ISO code (None: English)
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

    def _perform(self, progress):
        """``perform`` with the request's settings, reporting to ``progress(stage, fraction)``."""
        from visemo.pipeline import perform

        r = self.request
        return perform(
            r.speech, r.emotion, transcript=r.transcript, language=r.language, intensity=r.intensity, fps=r.fps,
            seed=r.seed, blinks=r.blinks, eye_motion=r.eye_motion, progress=progress, **r.options,
        )

    def _run(self):
        """The work; returns the result (a Performance)."""
        self._progress("starting", 0.0)
        return self._perform(self._progress)

    def _work(self) -> None:
        try:
            result = self._run()
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


@dataclass
class PortraitRequest:
    """The talking portrait to write.

    ``photo``: the photo's path; ``size``: the square crop's side in pixels
    (even), None for the whole photo; ``output``: the mp4's path.
    """

    photo: str
    size: int | None
    output: str


class PortraitJob(InferenceJob):
    """Fit the photo, perform, render the mp4; ``result`` is the VideoInfo, ``performance`` the Performance.

    The photo is fitted first, so an unusable one (no face, unreadable,
    mediapipe missing) fails in about a second, before the slow part.
    Progress: photo 0-10 %, perform 10-40 %, frames 40-100 %.
    """

    PHOTO, PERFORM = 0.1, 0.4  # where each part ends on the progress bar

    def __init__(self, request: JobRequest, portrait: PortraitRequest):
        super().__init__(request)
        self.portrait = portrait
        self.performance = None

    def _run(self):
        from visemo.render2d import fit_portrait, render_portrait

        p = self.portrait
        self._progress("photo", 0.0)
        rig = fit_portrait(p.photo, p.size)
        self._progress("starting", self.PHOTO)
        span = self.PERFORM - self.PHOTO
        self.performance = self._perform(lambda stage, f: self._progress(stage, self.PHOTO + span * f))
        self._progress("rendering", self.PERFORM)
        rest = 1.0 - self.PERFORM

        def frame_done(done: int, total: int | None) -> None:  # raises Cancelled: no file is left
            self._progress("rendering", self.PERFORM + rest * done / max(total or done, 1))

        info = render_portrait(self.performance, None, p.output, speech=self.request.speech, rig=rig,
                               progress=frame_done)
        if self._cancel.is_set():  # cancelled as the last frame went out: take the file back
            info.path.unlink(missing_ok=True)
        return info


class VideoWriter:
    """:func:`~visemo.render2d.video.write_video` in a thread, fed frames with :meth:`put`.

    ``put(frame)`` each RGB uint8 frame, then :meth:`close`; ``done`` turns
    true when the file is written (``result``: its VideoInfo) or failed
    (``error``).  :meth:`cancel` stops the writer: write_video's atomic write
    leaves no file.  ``put`` never blocks for long: the queue holds a few
    frames, and a writer that has stopped takes no more.
    """

    _END = object()

    def __init__(self, path: str, *, fps: float, width: int, height: int, frame_count: int,
                 audio: str | None, buffered: int = 4):
        self.args = dict(fps=fps, width=width, height=height, frame_count=frame_count, audio=audio)
        self.path = path
        self.result = None            # visemo.render2d.video.VideoInfo
        self.error: BaseException | None = None
        self.trace = ""
        self._queue: queue.Queue = queue.Queue(maxsize=buffered)
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def start(self) -> "VideoWriter":
        self._thread = threading.Thread(target=self._work, name="visemo-video", daemon=True)
        self._thread.start()
        return self

    def put(self, frame) -> None:
        """Hand the next frame to the writer (dropped once it has stopped)."""
        while not self.done and not self._cancel.is_set():
            try:
                self._queue.put(frame, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """No more frames: the writer finishes the file."""
        self.put(self._END)

    def cancel(self) -> None:
        """Stop writing; no file is left (the worker ends within a moment)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _frames(self):
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                item = None
            if self._cancel.is_set():
                raise Cancelled()
            if item is self._END:
                return
            if item is not None:
                yield item

    def _work(self) -> None:
        try:
            from visemo.render2d.video import write_video

            self.result = write_video(self.path, self._frames(), **self.args)
        except Cancelled as e:
            self.error = e
        except BaseException as e:  # handed to the main thread, which reports it
            self.error = e
            self.trace = traceback.format_exc()
        finally:
            self._done.set()
