"""Settings shown in the visemo panel.

- ``Scene.visemo`` (:class:`VISEMO_PG_settings`): target, speech, emotion,
  emotion timeline, idle life, seed — saved with the .blend.
- ``Object.visemo_rig`` (:class:`VISEMO_PG_rig`): the editable channel table
  of that object's mapping; every edit is written to the object's
  ``visemo_mapping`` custom property (JSON), which is what visemo's keying,
  the batch scripts and other tools read.
- ``WindowManager.visemo_job`` (:class:`VISEMO_PG_job`): progress of a
  running *Generate*, *Export Talking Portrait* or *Playblast* (not saved,
  not part of undo).
"""

import bpy

from . import mapping


# Blender 4.5 warns about "//" paths in properties that do not declare they take them
_RELATIVE = {"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set()


def _is_mesh(self, obj):
    return obj.type == "MESH"


class VISEMO_PG_emotion_key(bpy.types.PropertyGroup):
    """From ``frame`` on, the face moves to ``prompt`` at ``intensity``."""

    frame: bpy.props.IntProperty(name="Frame", default=1, description="Scene frame where this emotion starts")
    prompt: bpy.props.StringProperty(name="Emotion", default="happy",
                                     description="Emotion from this frame on (e.g. happy, angry, sad)")
    intensity: bpy.props.FloatProperty(name="Intensity", default=1.0, min=0.0, max=1.0, subtype="FACTOR")


class VISEMO_PG_settings(bpy.types.PropertyGroup):
    target: bpy.props.PointerProperty(
        name="Target", type=bpy.types.Object, poll=_is_mesh,
        description="Mesh whose shape keys are keyed (empty: the active object)",
    )
    speech_source: bpy.props.EnumProperty(
        name="Speech From",
        items=(("FILE", "File", "A speech file; it is added to the sequencer at the current frame"),
               ("STRIP", "Sound Strip", "A sound strip already in the sequencer; keys start where it starts")),
        default="FILE",
    )
    speech_path: bpy.props.StringProperty(
        name="Speech", description="Speech audio file (wav, flac, ogg, mp3)", subtype="FILE_PATH",
        options=_RELATIVE,
    )
    sound_strip: bpy.props.StringProperty(name="Strip", description="Sound strip in the sequencer")
    transcript: bpy.props.StringProperty(
        name="Transcript", description="What is said (optional; improves the timing)"
    )
    transcript_language: bpy.props.StringProperty(
        name="Language", default="en", maxlen=16,
        description="The transcript's language, an ISO code: en, fr, de, cs, ru, pt-br, ... "
                    "(without a transcript the mouth is timed from the sound in any language)",
    )
    emotion_source: bpy.props.EnumProperty(
        name="Emotion From",
        items=(("TEXT", "Words", "An emotion in words (any language): happy, 'quietly furious', 'un peu triste'"),
               ("PHOTO", "Photo", "The expression of the face in a reference photo"),
               ("AUTO", "Auto", "From what is said and how loudly; the keys it makes are written to the "
                                "timeline, to edit and generate again")),
        default="TEXT",
    )
    emotion: bpy.props.StringProperty(
        name="Emotion", default="neutral",
        description="Emotion in words, e.g. happy, 'sadly surprised', 'on the verge of tears', 'not angry' "
                    "(empty: neutral)",
    )
    emotion_image: bpy.props.StringProperty(
        name="Photo", subtype="FILE_PATH", options=_RELATIVE,
        description="A photo of one face (jpg, png) whose expression the character takes",
    )
    intensity: bpy.props.FloatProperty(
        name="Intensity", description="Strength of the emotion", default=1.0, min=0.0, max=1.0,
        subtype="FACTOR",
    )
    emotion_keys: bpy.props.CollectionProperty(type=VISEMO_PG_emotion_key)
    emotion_key_index: bpy.props.IntProperty(name="Active Emotion Key", default=0)
    use_timeline: bpy.props.BoolProperty(
        name="Emotion Timeline", default=True,
        description="Change the emotion at the listed frames (the emotion above holds until the first key)",
    )
    transition: bpy.props.IntProperty(
        name="Transition", default=12, min=0, max=1000, subtype="TIME",
        description="Frames the face takes to move from one emotion to the next",
    )
    blinks: bpy.props.BoolProperty(name="Blinks", default=True, description="Add spontaneous blinks")
    eye_motion: bpy.props.BoolProperty(name="Eye Motion", default=True, description="Add small gaze shifts")
    seed: bpy.props.IntProperty(name="Seed", default=0, min=0,
                                description="Same seed, same blinks and eye motion")
    # -- Video sub-panel
    portrait_photo: bpy.props.StringProperty(
        name="Portrait Photo", subtype="FILE_PATH", options=_RELATIVE,
        description="A photo of one face looking roughly at the camera (jpg, png): it says the speech",
    )
    portrait_whole: bpy.props.BoolProperty(
        name="Whole Photo", default=False,
        description="Animate the whole photo instead of a square crop around the face",
    )
    portrait_size: bpy.props.IntProperty(
        name="Size", default=512, min=64, max=4096, subtype="PIXEL",
        description="Side of the square crop around the face, in pixels (rounded down to even)",
    )
    portrait_path: bpy.props.StringProperty(
        name="Portrait Output", subtype="FILE_PATH", options=_RELATIVE,
        description="mp4 to write (empty: //<speech>_portrait.mp4, next to the .blend)",
    )
    portrait_add_strip: bpy.props.BoolProperty(
        name="Add to Sequencer", default=False,
        description="Add the video as a movie strip (picture only) where the speech starts. Note: a "
                    "scene whose sequencer holds a movie strip renders the sequencer",
    )
    playblast_path: bpy.props.StringProperty(
        name="Playblast Output", subtype="FILE_PATH", options=_RELATIVE,
        description="mp4 to write (empty: //<speech>_playblast.mp4, next to the .blend)",
    )


class VISEMO_PG_job(bpy.types.PropertyGroup):
    running: bpy.props.BoolProperty(default=False)
    progress: bpy.props.FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    stage: bpy.props.StringProperty(default="")


class VISEMO_PG_channel(bpy.types.PropertyGroup):
    """One row of the mapping table: an ARKit channel, the shape key(s) it drives, a gain."""

    arkit: bpy.props.StringProperty(name="Channel")
    keys: bpy.props.StringProperty(
        name="Shape Keys", update=mapping.row_changed,
        description="Shape key(s) this channel drives; several separated by commas; empty = unmapped",
    )
    gain: bpy.props.FloatProperty(
        name="Gain", default=1.0, min=0.0, max=10.0, soft_max=2.0, update=mapping.row_changed,
        description="Keyed value = channel value x gain (tone down a rig with strong shapes)",
    )


class VISEMO_PG_rig(bpy.types.PropertyGroup):
    preset: bpy.props.EnumProperty(
        name="Preset", items=mapping.PRESET_ITEMS, default=0,
        description="Shape-key naming of the rig; Auto picks the preset that maps the most channels",
    )
    channels: bpy.props.CollectionProperty(type=VISEMO_PG_channel)
    channel_index: bpy.props.IntProperty(default=0)
    search: bpy.props.StringProperty(
        name="Search", options={"TEXTEDIT_UPDATE"},
        description="Show only channels or shape keys containing this text",
    )
    only_unmapped: bpy.props.BoolProperty(name="Unmapped Only", default=False,
                                          description="Show only channels without a shape key")


CLASSES = (
    VISEMO_PG_emotion_key,
    VISEMO_PG_settings,
    VISEMO_PG_job,
    VISEMO_PG_channel,
    VISEMO_PG_rig,
)


def register_properties():
    bpy.types.Scene.visemo = bpy.props.PointerProperty(type=VISEMO_PG_settings)
    bpy.types.Object.visemo_rig = bpy.props.PointerProperty(type=VISEMO_PG_rig)
    bpy.types.WindowManager.visemo_job = bpy.props.PointerProperty(type=VISEMO_PG_job)


def unregister_properties():
    for owner, name in ((bpy.types.WindowManager, "visemo_job"), (bpy.types.Object, "visemo_rig"),
                        (bpy.types.Scene, "visemo")):
        if hasattr(owner, name):
            delattr(owner, name)
