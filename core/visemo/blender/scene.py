"""Scene setup: frame rate, frame range, the speech sound strip, empty scenes."""

from __future__ import annotations

import math
import os
from pathlib import Path

import bpy

from ..errors import AudioError

__all__ = ["prepare_scene", "add_sound_strip", "new_empty_scene", "fps_pair"]


def fps_pair(fps: float) -> tuple[int, float]:
    """``(render.fps, render.fps_base)`` for a frame rate (29.97 → (30, 1.001))."""
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    whole = max(1, round(fps))
    if abs(whole - fps) < 1e-9:
        return int(whole), 1.0
    # NTSC-style rates: 23.976, 29.97, 59.94 → n / 1.001
    ntsc = round(fps * 1.001)
    if abs(ntsc / 1.001 - fps) < 5e-3:
        return int(ntsc), 1.001
    return int(whole), whole / fps


def prepare_scene(scene, fps: float, frame_start: int, frames: int):
    """Set the scene's frame rate and its range to ``frames`` frames from ``frame_start``.

    ``frame_end = frame_start + frames - 1`` (at least ``frame_start``).
    Returns the scene.
    """
    scene.render.fps, scene.render.fps_base = fps_pair(float(fps))
    start = int(frame_start)
    scene.frame_start = start
    scene.frame_end = start + max(1, int(frames)) - 1
    return scene


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def add_sound_strip(scene, path, frame_start: int, name: str | None = None):
    """Put ``path`` in the scene's sequencer as a sound strip starting at ``frame_start``.

    An existing sound strip of the same file is reused (moved to
    ``frame_start``) instead of adding a second one.  The strip goes on the
    lowest channel that has no strip overlapping it.  Returns the strip.
    Raises :class:`~visemo.AudioError` when the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"speech file not found: {path}")
    path_str = str(path.resolve())
    ed = scene.sequence_editor or scene.sequence_editor_create()
    strips = ed.strips_all
    for strip in strips:
        if strip.type == "SOUND" and strip.sound is not None:
            if _same_file(bpy.path.abspath(strip.sound.filepath, library=strip.sound.library), path_str):
                strip.frame_start = int(frame_start)
                if name:
                    strip.name = name
                return strip
    name = name or path.name
    channel = _free_channel(ed, int(frame_start))
    strip = ed.strips.new_sound(name, path_str, channel, int(frame_start))
    return strip


def _free_channel(ed, frame_start: int) -> int:
    """The lowest channel (1..128) whose strips all end before ``frame_start``."""
    busy = {}
    for s in ed.strips:
        busy.setdefault(s.channel, []).append(s)
    for channel in range(1, 129):
        if all(s.frame_final_end <= frame_start for s in busy.get(channel, ())):
            return channel
    return 128


def new_empty_scene():
    """Reset the session to an empty file (factory startup, no objects); return its scene.

    Uses ``wm.read_homefile(use_factory_startup=True, use_empty=True)`` rather
    than ``wm.read_factory_settings``: the data is the same (nothing but an
    empty scene), but the preferences and enabled add-ons/extensions are kept —
    factory settings would reset them, disabling e.g. the visemo extension that
    may be the caller.
    """
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True, load_ui=False)
    return bpy.context.scene
