"""Keyframe an :class:`~visemo.Animation` onto a mesh's shape keys.

Blender 4.4+ actions are *slotted* (layered): the F-curves live in a
channelbag that belongs to one slot of one keyframe strip, and the animated
datablock (here the mesh's ``Key``) must be bound to that slot.
:func:`key_animation` builds that structure directly and fills every F-curve
in bulk (``keyframe_points.add`` + ``foreach_set``), ~600x faster than
``keyframe_insert``.

Timing: animation frame ``i`` (time ``i / anim.fps`` s) is keyed at scene
frame ``start_frame + i * scene_fps / anim.fps``.  When the rates differ the
keys land on *fractional* frames (no resampling): every key holds the exact
animation value at its own instant, and Blender's LINEAR interpolation gives
the values in between (FBX/glTF export then samples those at whole frames).

Mapping and gain: each ARKit channel goes to the shape key(s) that
:func:`~visemo.blender.rig.shape_key_map` gives it (the object's stored
mapping, a preset, fuzzy names), keyed as ``value × gain`` clamped to the
key's slider range.  The slider range is first widened (never narrowed) to
hold the animation's own values, so values above 1 still show; a gain can
only push a key up to its slider limit.
"""

from __future__ import annotations

import bpy
import numpy as np

from .. import arkit
from ..errors import FormatError
from .rig import shape_key_map

__all__ = [
    "key_animation", "key_animation_keyframe_insert", "frame_numbers", "scene_fps",
    "data_path", "channel_fcurves",
]

_LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value


def scene_fps(scene) -> float:
    """The scene's frame rate as a float (``render.fps / render.fps_base``)."""
    return scene.render.fps / scene.render.fps_base


def frame_numbers(anim, start_frame: float, fps: float) -> np.ndarray:
    """Scene frame of each animation frame, float64 [T] (fractional if the rates differ)."""
    ratio = fps / anim.fps
    if abs(ratio - 1.0) < 1e-9:
        ratio = 1.0
    return start_frame + np.arange(anim.frames, dtype=np.float64) * ratio


def data_path(key_block_name: str) -> str:
    """The F-curve data path of a shape key's value on its ``Key`` datablock."""
    return f'key_blocks["{bpy.utils.escape_identifier(key_block_name)}"].value'


def _group_of(name: str) -> str:
    for group, names in arkit.GROUPS.items():
        if name in names:
            return group
    return "other"


def _plan(obj, anim, mapping=None):
    """Check ``obj`` and ``anim``; return the Mapping and one curve per shape key.

    Curves: ``(arkit_name, key_block_name, values float32 [T], slider_min, slider_max)``
    with the (widened) slider range the values were clamped to.  Nothing in
    Blender is changed here; RigError/FormatError come before any change.
    """
    result = shape_key_map(obj, mapping)  # RigError before anything is touched
    if anim.frames == 0:
        raise FormatError("the animation has no frames; nothing to key")
    blocks = obj.data.shape_keys.key_blocks
    curves = []
    for arkit_name, block_names in result.channels.items():
        raw = anim.channel(arkit_name)
        gain = result.gain_for(arkit_name)
        for block_name in block_names:
            kb = blocks[block_name]
            lo = min(kb.slider_min, max(-10.0, float(raw.min())))
            hi = max(kb.slider_max, min(10.0, float(raw.max())))
            values = np.clip(raw * np.float32(gain), lo, hi).astype(np.float32)
            curves.append((arkit_name, block_name, values, lo, hi))
    return result, curves


def _widen_sliders(key, curves) -> None:
    """Set each keyed shape key's slider range to the planned one (never narrows)."""
    for _, block_name, _, lo, hi in curves:
        kb = key.key_blocks[block_name]
        if hi > kb.slider_max:
            kb.slider_max = hi
        if lo < kb.slider_min:
            kb.slider_min = lo


def _fill_new(fc, frames: np.ndarray, values: np.ndarray) -> None:
    n = frames.size
    co = np.empty(2 * n, dtype=np.float32)
    co[0::2] = frames
    co[1::2] = values
    pts = fc.keyframe_points
    pts.add(n)
    pts.foreach_set("co", co)
    pts.foreach_set("interpolation", np.full(n, _LINEAR, dtype=np.int32))
    fc.update()


def _merge(fc, frames: np.ndarray, values: np.ndarray) -> None:
    """Replace the keys of ``fc`` inside [frames[0], frames[-1]] by the new ones."""
    pts = fc.keyframe_points
    old = len(pts)
    if old:
        co = np.empty(2 * old, dtype=np.float32)
        pts.foreach_get("co", co)
        x = co[0::2]
        inside = np.nonzero((x >= frames[0] - 1e-4) & (x <= frames[-1] + 1e-4))[0]
        for i in inside[::-1]:
            pts.remove(pts[int(i)], fast=True)
    kept = len(pts)
    n = frames.size
    pts.add(n)
    co = np.empty(2 * (kept + n), dtype=np.float32)
    pts.foreach_get("co", co)
    co[2 * kept::2] = frames
    co[2 * kept + 1::2] = values
    pts.foreach_set("co", co)
    interp = np.empty(kept + n, dtype=np.int32)
    pts.foreach_get("interpolation", interp)
    interp[kept:] = _LINEAR
    pts.foreach_set("interpolation", interp)
    fc.update()


def channel_fcurves(key) -> dict[str, object]:
    """``{data_path: FCurve}`` of the action slot bound to ``key`` (a ``Key`` datablock)."""
    ad = key.animation_data
    if ad is None or ad.action is None or ad.action_slot is None:
        return {}
    out = {}
    for layer in ad.action.layers:
        for strip in layer.strips:
            cb = strip.channelbag(ad.action_slot)
            if cb is not None:
                for fc in cb.fcurves:
                    out[fc.data_path] = fc
    return out


def key_animation(obj, anim, start_frame: float = 1, action_name: str = "visemo",
                  replace: bool = True, scene=None, mapping=None):
    """Key every ARKit channel ``obj`` has (see :func:`shape_key_map`) from ``anim``.

    ``mapping``: which key takes which channel, and the gains — None for the
    object's stored mapping or auto-detection, or a preset name / Mapping /
    dict / JSON (see :func:`visemo.rigmap.resolve`).  Each key gets
    ``value × gain`` clamped to its slider range (see the module doc).

    The keys go on ``obj.data.shape_keys`` (the ``Key`` datablock) in a slotted
    action: slot (id_type ``KEY``) → layer → keyframe strip → channelbag →
    one LINEAR F-curve per keyed shape key, so the F-curve sampled at a keyed frame
    gives the animation value exactly.  ``scene`` (default: the context scene)
    gives the frame rate; see the module doc for fractional frames.

    ``replace=True`` keys into a new action named ``action_name`` and binds it,
    dropping the previous action (it is deleted if nothing else uses it).
    ``replace=False`` keeps the existing action and replaces only the keys of
    the mapped channels inside the animation's frame span.

    Raises :class:`~visemo.RigError` (nothing changed) when ``obj`` cannot take
    the animation.  Returns the ``bpy.types.Action``.
    """
    _, curves = _plan(obj, anim, mapping)
    scene = scene or bpy.context.scene
    key = obj.data.shape_keys
    frames = frame_numbers(anim, start_frame, scene_fps(scene))

    ad = key.animation_data
    old = ad.action if ad is not None else None
    if not replace and old is not None and old.is_action_legacy:
        # A pre-4.4 (legacy, slot-less) action cannot be merged into: key afresh.
        replace = True

    if replace or old is None:
        act = bpy.data.actions.new(action_name)
        try:
            slot = act.slots.new(id_type="KEY", name=key.name)
            strip = act.layers.new("visemo").strips.new(type="KEYFRAME")
            cb = strip.channelbag(slot, ensure=True)
            groups = {}
            for arkit_name, block_name, values, _, _ in curves:
                fc = cb.fcurves.new(data_path(block_name))
                g = _group_of(arkit_name)
                if g not in groups:
                    groups[g] = cb.groups.new(g)
                fc.group = groups[g]
                _fill_new(fc, frames, values)
            _widen_sliders(key, curves)
            ad = key.animation_data or key.animation_data_create()
            ad.action = act
            ad.action_slot = slot
        except BaseException:
            if ad is not None and ad.action == act:
                ad.action = old
            bpy.data.actions.remove(act)
            raise
        if old is not None and old != act and old.users == 0 and not old.use_fake_user:
            bpy.data.actions.remove(old)
        return act

    # merge into the bound action
    act = old
    slot = ad.action_slot
    if slot is None:
        slot = act.slots.new(id_type="KEY", name=key.name)
        ad.action_slot = slot
    if len(act.layers) == 0:
        act.layers.new("visemo")
    layer = act.layers[0]
    strip = layer.strips[0] if len(layer.strips) else layer.strips.new(type="KEYFRAME")
    cb = strip.channelbag(slot, ensure=True)
    for _, block_name, values, _, _ in curves:
        path = data_path(block_name)
        fc = cb.fcurves.find(path)
        if fc is None:
            fc = cb.fcurves.new(path)
        _merge(fc, frames, values)
    _widen_sliders(key, curves)
    return act


def key_animation_keyframe_insert(obj, anim, start_frame: float = 1, scene=None, mapping=None):
    """The slow reference path: one ``keyframe_insert`` per key (benchmark only)."""
    _, curves = _plan(obj, anim, mapping)
    scene = scene or bpy.context.scene
    key = obj.data.shape_keys
    frames = frame_numbers(anim, start_frame, scene_fps(scene))
    _widen_sliders(key, curves)
    cols = [(key.key_blocks[block_name], values) for _, block_name, values, _, _ in curves]
    for i, f in enumerate(frames.tolist()):
        for kb, values in cols:
            kb.value = float(values[i])
            kb.keyframe_insert("value", frame=f)
    ad = key.animation_data
    for fc in channel_fcurves(key).values():
        pts = fc.keyframe_points
        pts.foreach_set("interpolation", np.full(len(pts), _LINEAR, dtype=np.int32))
        fc.update()
    return ad.action
