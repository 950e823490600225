"""Per-scene settings shown in the visemo panel."""

import bpy


class VISEMO_PG_settings(bpy.types.PropertyGroup):
    speech_path: bpy.props.StringProperty(
        name="Speech", description="Speech audio file (wav, flac, ogg, mp3)", subtype="FILE_PATH"
    )
    emotion: bpy.props.StringProperty(
        name="Emotion", description="Emotion prompt, e.g. 'happy', 'quietly furious' (empty: neutral)"
    )
    intensity: bpy.props.FloatProperty(
        name="Intensity", description="Strength of the emotion", default=1.0, min=0.0, max=1.0,
        subtype="FACTOR",
    )
    transcript: bpy.props.StringProperty(
        name="Transcript", description="What is said (optional; improves lip sync)"
    )
