"""Where visemo finds its shipped model folders.

``VISEMO_MODELS_DIR`` (a folder holding ``<name>/model.json``) wins; otherwise
the checkout's ``models/`` beside ``core/`` (``core/visemo/../../models``).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ModelError

ENV_MODELS_DIR = "VISEMO_MODELS_DIR"


def models_dir() -> Path:
    """The folder that holds one sub-folder per shipped model.

    Raises :class:`ModelError` if it does not exist.
    """
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise ModelError(
                f"{ENV_MODELS_DIR}={env!r} is not a folder; point it at the folder that "
                "holds the model folders (e.g. <visemo checkout>/models) or unset it"
            )
        return path
    path = Path(__file__).resolve().parent.parent.parent / "models"
    if not path.is_dir():
        raise ModelError(
            f"visemo's models folder was not found at {path}; set {ENV_MODELS_DIR} to the "
            "folder that holds the model folders (e.g. <visemo checkout>/models)"
        )
    return path


def model_dir(name: str) -> Path:
    """The folder of the shipped model ``name`` (it may not exist yet)."""
    return models_dir() / name
