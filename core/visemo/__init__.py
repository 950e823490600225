"""visemo: emotional, speech-driven ARKit-52 facial animation.

The Blender-free core.  Main entry: :func:`visemo.animate`.
"""

from .animation import Animation
from .errors import (AudioError, DependencyError, FormatError, ModelError,
                     PromptError, RigError, VisemoError)

__version__ = "0.1.0"

__all__ = [
    "Animation", "animate", "render_portrait", "VisemoError", "AudioError", "PromptError", "RigError",
    "FormatError", "ModelError", "DependencyError", "__version__",
]


def animate(*args, **kwargs):
    """Speech (+ emotion) → :class:`Animation`; see :func:`visemo.pipeline.animate`."""
    from .pipeline import animate as _animate

    return _animate(*args, **kwargs)


def render_portrait(*args, **kwargs):
    """A talking-portrait mp4 of an animation on a photo; see :func:`visemo.render2d.render_portrait`."""
    from .render2d import render_portrait as _render

    return _render(*args, **kwargs)
