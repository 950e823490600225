"""visemo's one exception family.

Every message says what was wrong and what to do about it; the CLI prints it as
one line and exits 2, the Blender add-on reports it as one error line.
"""


QUOTE_CHARS = 60
"""The most characters of the user's own text (a prompt, a transcript) that a message quotes."""


def quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` as a message quotes it: its repr, cut to ``limit`` characters with "…" so that a
    long prompt or transcript does not bury what the message says."""
    return repr(text if len(text) <= limit else text[:limit - 1] + "…")


class VisemoError(Exception):
    """Bad input or an unusable setup that the user can fix."""


class AudioError(VisemoError):
    """The speech audio is missing, empty, corrupt, silent or too long."""


class PromptError(VisemoError):
    """The emotion prompt (word, intensity, timeline) is not understood."""


class RigError(VisemoError):
    """The target mesh or character cannot take the animation (e.g. no shape keys)."""


class FormatError(VisemoError):
    """A file is not in the format its suffix promises, or the suffix is unknown."""


class ModelError(VisemoError):
    """A shipped model folder is missing or damaged (model.json, weights, sha256)."""


class DependencyError(VisemoError):
    """An optional dependency is needed for this feature and is not installed."""


class ImageError(PromptError):
    """A reference photo cannot be used: unreadable, no face, several faces, too small."""
