"""Small synthetic inputs for Blender tests: a grid "head", smooth curves, a tone."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

from visemo import Animation, arkit


def grid_head(n: int = 6, names=arkit.NAMES, seed: int = 0):
    """A flat n×n quad grid with one random shape key per name.

    Returns ``(vertices, face_sizes, face_indices, deltas, names)`` as
    :func:`visemo.blender.head.build_head_object` takes them.
    """
    xs = np.linspace(-0.1, 0.1, n)
    verts = np.array([(x, 0.0, z) for z in xs for x in xs], np.float32)
    faces = [(j * n + i, j * n + i + 1, (j + 1) * n + i + 1, (j + 1) * n + i)
             for j in range(n - 1) for i in range(n - 1)]
    deltas = np.random.default_rng(seed).normal(0, 0.01, (len(names), len(verts), 3)).astype(np.float32)
    return verts, np.full(len(faces), 4), np.array(faces).ravel(), deltas, tuple(names)


def smooth_animation(frames: int = 90, fps: float = 30.0, seed: int = 1) -> Animation:
    """Random smooth curves on all 52 channels, spanning most of 0..1."""
    from scipy.ndimage import gaussian_filter1d

    w = gaussian_filter1d(np.random.default_rng(seed).random((frames, 52)), 3.0, axis=0)
    return Animation(np.clip((w - 0.5) * 4 + 0.5, 0, 1), fps)


def write_wav(path, seconds: float = 2.0, rate: int = 16000, freq: float = 220.0) -> Path:
    """A 16-bit mono sine tone of ``seconds`` at ``rate`` Hz."""
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes((0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16).tobytes())
    return Path(path)


_CHARACTER_SCRIPT = """
import sys; sys.path.insert(0, {tests!r})
import bpy, os
from visemo.blender import build_head_object, new_empty_scene, write_blend
from synthetic import grid_head
scene = new_empty_scene()
face = build_head_object(*grid_head(n=4), name="face")
me = bpy.data.meshes.new("plain")
me.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
scene.collection.objects.link(bpy.data.objects.new("plain", me))
bpy.context.view_layer.objects.active = face
write_blend({path!r})
os._exit(0)
"""


def write_character_blend(path) -> subprocess.CompletedProcess:
    """A .blend at ``path``, built in a child process (bpy keeps one scene per process): 'face' (a grid
    head with ARKit shape keys, active) and 'plain' (a triangle with none).  Returns the child's result."""
    code = _CHARACTER_SCRIPT.format(tests=str(Path(__file__).resolve().parent), path=str(path))
    env = dict(os.environ, BLENDER_USER_RESOURCES=tempfile.mkdtemp(prefix="visemo-bur-"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env)

