"""What *Generate* does on Blender's main thread: plan the run, then apply its result.

:func:`plan` reads the panel (and any operator overrides) into a
:class:`Plan` — target, speech file, start frame, fps, the emotion timeline as
an :class:`~visemo.emotion.EmotionTrack` — and fails with a
:class:`~visemo.VisemoError` before any work if something is wrong.  The
inference itself (:mod:`.job`) touches nothing in Blender.  :func:`apply`
then keys the result in one go: the sound strip is added (or reused), the
shape keys get a new action named after the speech, the scene range grows to
hold it.  If that fails, what it added is removed again, so a failed or
cancelled run leaves the scene as it was.

visemo's actions carry the custom property ``visemo`` (a JSON summary of the
run); re-generating replaces the target's visemo action only.  A user's own
action that was bound to the shape keys is kept (given a fake user so it is
saved) and listed in the report.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import bpy

from .job import JobRequest

ACTION_TAG = "visemo"          # custom property on visemo's actions
STRIP_TAG = "visemo_added"     # custom property on sound strips visemo added


@dataclass
class Plan:
    target: str                # object name
    speech: str                # absolute path of the speech file
    start_frame: int
    strip: str | None          # the chosen existing sound strip, if any
    action_name: str
    request: JobRequest


def is_visemo_action(action) -> bool:
    return action is not None and ACTION_TAG in action.keys()


def target_object(context, settings, name: str = ""):
    """The object to key: ``name``, else the panel's target, else the active object."""
    if name:
        return bpy.data.objects.get(name)
    return settings.target or context.active_object


def _scene_fps(scene) -> float:
    return scene.render.fps / scene.render.fps_base


def _sound_strip(scene, name: str):
    from visemo.errors import AudioError

    ed = scene.sequence_editor
    strip = ed.strips_all.get(name) if (ed is not None and name) else None
    if strip is None:
        raise AudioError(f"choose a sound strip from the sequencer (no strip named '{name}')"
                         if name else "choose a sound strip from the sequencer first")
    if strip.type != "SOUND" or strip.sound is None:
        raise AudioError(f"strip '{name}' is not a sound strip")
    if strip.sound.packed_file is not None:
        raise AudioError(f"the sound of strip '{name}' is packed into the .blend; unpack it "
                         "(File > External Data > Unpack Resources) so visemo can read it")
    return strip


def emotion_track(settings, start_frame: int, scene_fps: float, emotion: str, intensity: float,
                  image: str | None = None):
    """The emotion over time: ``emotion`` (or the photo ``image``) from the start, then each timeline key."""
    from visemo.emotion import EmotionKey, EmotionTrack

    keys = [EmotionKey(0.0, None if image else (emotion or None), float(intensity), image)]
    if settings.use_timeline:
        for k in sorted(settings.emotion_keys, key=lambda k: k.frame):
            t = max(0.0, (k.frame - start_frame) / scene_fps)
            keys.append(EmotionKey(t, k.prompt.strip() or None, float(k.intensity)))
    return EmotionTrack(tuple(keys), transition=settings.transition / scene_fps)


def _emotion(settings, overrides: dict, start: int, scene_fps: float):
    """What the job gets as ``emotion``: "auto", or a track (PromptError / ImageError now)."""
    from visemo.errors import PromptError
    from visemo.pipeline import AUTO, is_auto

    emotion = overrides.get("emotion", settings.emotion).strip()
    intensity = float(overrides.get("intensity", settings.intensity))
    source = "TEXT" if "emotion" in overrides else settings.emotion_source
    if source == "AUTO" or is_auto(emotion):
        return AUTO, intensity
    image = None
    if source == "PHOTO":
        image = bpy.path.abspath(settings.emotion_image) if settings.emotion_image else ""
        if not image:
            raise PromptError("choose a reference photo first (or set Emotion From to Words)")
        image = os.path.abspath(image)
    return emotion_track(settings, start, scene_fps, emotion, intensity, image), 1.0


def speech_input(context, settings, overrides: dict) -> tuple[str, int, str | None]:
    """The speech the panel names: (absolute file path, start frame, sound strip name or None).

    A file starts at the current frame, a sound strip where it starts.
    Raises AudioError (no file or strip chosen, file missing, packed sound).
    """
    from visemo.errors import AudioError

    scene = context.scene
    strip_name = None
    if "speech_path" in overrides or settings.speech_source == "FILE":
        raw = overrides.get("speech_path", settings.speech_path)
        path = bpy.path.abspath(raw) if raw else ""
        if not path:
            raise AudioError("choose a speech file first")
        start = scene.frame_current
    else:
        strip = _sound_strip(scene, settings.sound_strip)
        path = bpy.path.abspath(strip.sound.filepath, library=strip.sound.library)
        start = int(strip.frame_start)
        strip_name = strip.name
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise AudioError(f"speech file not found: {path}")
    return path, int(start), strip_name


def job_request(context, settings, prefs, overrides: dict, speech: str, start: int) -> JobRequest:
    """The pipeline call the panel asks for on ``speech`` starting at scene frame ``start``.

    Emotion (Words / Photo / Auto / the timeline), intensity, transcript,
    frame rate (preferences), seed, blinks, eye motion; ``overrides`` win as
    in :func:`plan`.  Raises PromptError / ImageError before any work.
    """
    from .preferences import generation_fps

    emotion, intensity = _emotion(settings, overrides, start, _scene_fps(context.scene))
    transcript = overrides.get("transcript", settings.transcript).strip() or None
    language = settings.transcript_language.strip() or None if transcript else None
    return JobRequest(
        speech=speech, emotion=emotion, intensity=intensity, transcript=transcript, language=language,
        fps=generation_fps(context.scene, prefs), seed=int(settings.seed),
        blinks=bool(settings.blinks), eye_motion=bool(settings.eye_motion),
    )


def plan(context, settings, prefs, overrides: dict) -> Plan:
    """Read the inputs; raise VisemoError (nothing started, nothing changed) if unusable.

    ``overrides``: operator properties the caller set (speech_path, emotion,
    intensity, transcript, object_name) win over the panel's.
    """
    from visemo.blender.rig import shape_key_map
    from visemo.errors import RigError

    from .preferences import apply_preferences

    apply_preferences(prefs)
    obj = target_object(context, settings, overrides.get("object_name", ""))
    if obj is None and overrides.get("object_name"):
        raise RigError(f"no object named '{overrides['object_name']}'")
    shape_key_map(obj)  # RigError now, before the slow part

    path, start, strip_name = speech_input(context, settings, overrides)
    request = job_request(context, settings, prefs, overrides, path, start)
    return Plan(obj.name, path, start, strip_name, Path(path).stem or "visemo", request)


def _summary(p: Plan, track) -> str:
    r = p.request
    return json.dumps({
        "speech": p.speech, "start_frame": p.start_frame, "fps": r.fps, "seed": r.seed,
        "emotion": [[k.time, k.image and f"image:{k.image}" or k.prompt, k.intensity] for k in track.keys],
        "auto": isinstance(r.emotion, str), "transition": track.transition, "transcript": r.transcript,
    })


def frame_at(start_frame: int, seconds: float, scene_fps: float) -> int:
    """The scene frame ``seconds`` into a take that starts at ``start_frame`` (the nearest one)."""
    return start_frame + int(round(seconds * scene_fps))


def write_timeline(settings, track, start_frame: int, scene_fps: float) -> None:
    """Put ``track``'s keys in the panel (first key → Emotion/Intensity, the rest → the timeline).

    Used after an *Auto* run so the user can edit what auto chose; the source
    switches to Words, so generating again uses the edited keys.
    """
    first, rest = track.keys[0], track.keys[1:]
    settings.emotion = first.prompt or "neutral"
    settings.intensity = first.intensity
    settings.emotion_keys.clear()
    for k in rest:
        row = settings.emotion_keys.add()
        row.frame = frame_at(start_frame, k.time, scene_fps)
        row.prompt = k.prompt or "neutral"
        row.intensity = k.intensity
    settings.emotion_key_index = 0
    settings.transition = int(round(track.transition * scene_fps))
    settings.use_timeline = True
    settings.emotion_source = "TEXT"


def apply(context, p: Plan, performance) -> str:
    """Key ``performance.animation`` as planned; returns the report line.

    All or nothing: on an error everything this call added is removed again
    and the error is raised.
    """
    from visemo.blender.keyframes import key_animation
    from visemo.blender.scene import add_sound_strip
    from visemo.errors import RigError

    scene = context.scene
    anim = performance.animation
    obj = bpy.data.objects.get(p.target)
    if obj is None:
        raise RigError(f"object '{p.target}' was removed while visemo was working")

    key = obj.data.shape_keys
    old = key.animation_data.action if (key is not None and key.animation_data) else None
    kept = None
    ed = scene.sequence_editor
    before = {s.name: s.frame_start for s in ed.strips_all} if ed is not None else {}
    had_editor = ed is not None
    frame_end = scene.frame_end

    strip = None
    try:
        if p.strip is None:
            strip = add_sound_strip(scene, p.speech, p.start_frame)
            if strip.name not in before:
                strip[STRIP_TAG] = True
        if old is not None and not is_visemo_action(old) and not old.use_fake_user:
            old.use_fake_user = True  # the user's own action stays in the file
            kept = old.name
        act = key_animation(obj, anim, start_frame=p.start_frame, action_name=p.action_name,
                            replace=True, scene=scene)
    except BaseException:
        if kept is not None:
            old.use_fake_user = False
        _remove_new_strips(scene, before, had_editor)
        raise
    act[ACTION_TAG] = _summary(p, performance.emotion)
    if act.name != p.action_name and p.action_name not in bpy.data.actions:
        act.name = p.action_name  # the replaced visemo action had the name
    fps = _scene_fps(scene)
    last = frame_at(p.start_frame, anim.times[-1], fps)
    if frame_end < last:
        scene.frame_end = last
    msg = (f"visemo: keyed '{obj.name}' from frame {p.start_frame} to {last} "
           f"({anim.frames} frames) in action '{act.name}'")
    if kept:
        msg += f"; your action '{kept}' is kept (fake user)"
    if performance.emotion is not None and (note := performance.emotion.unseen_note(
            anim.times, lambda t: frame_at(p.start_frame, t, fps))):
        msg += f"; {note}"
    if isinstance(p.request.emotion, str) and performance.emotion is not None:
        write_timeline(scene.visemo, performance.emotion, p.start_frame, fps)
        labels = ", ".join(performance.emotion.labels)
        msg += f"; auto emotion ({labels}) written to the emotion timeline to edit"
    return msg


def _remove_new_strips(scene, before: dict, had_editor: bool) -> None:
    """Undo add_sound_strip: remove strips not in ``before`` ({name: frame_start}), move the rest back."""
    ed = scene.sequence_editor
    if ed is None:
        return
    for s in ed.strips_all:
        if s.name in before and s.frame_start != before[s.name]:
            s.frame_start = before[s.name]
    for s in [s for s in ed.strips_all if s.name not in before]:
        sound = s.sound if s.type == "SOUND" else None
        ed.strips.remove(s)
        if sound is not None and sound.users == 0:
            bpy.data.sounds.remove(sound)
    if not had_editor and len(ed.strips_all) == 0:
        scene.sequence_editor_clear()


def clear(context, obj) -> str:
    """Remove visemo's action from ``obj`` (and the sound strips visemo added); reset its keys to 0."""
    key = obj.data.shape_keys if obj is not None and obj.type == "MESH" else None
    act = key.animation_data.action if (key is not None and key.animation_data) else None
    if not is_visemo_action(act):
        return f"'{obj.name if obj else '-'}' has no visemo animation"
    try:
        speech = json.loads(act[ACTION_TAG]).get("speech")
    except (TypeError, ValueError):
        speech = None
    name = act.name
    key.animation_data.action = None
    if act.users == 0:
        bpy.data.actions.remove(act)
    ref = key.reference_key
    for kb in key.key_blocks:
        if kb != ref:
            kb.value = 0.0
    ed = context.scene.sequence_editor
    if ed is not None and speech:
        for s in list(ed.strips_all):
            if s.type == "SOUND" and s.get(STRIP_TAG) and s.sound is not None and \
                    os.path.abspath(bpy.path.abspath(s.sound.filepath)) == speech:
                sound = s.sound
                ed.strips.remove(s)
                if sound.users == 0:
                    bpy.data.sounds.remove(sound)
    return f"visemo: removed action '{name}' from '{obj.name}'"
