"""Where visemo finds its shipped model folders and the sample speech.

The models folder (one ``<name>/model.json`` folder per model), first found of:

1. the folder set with :func:`set_models_dir` (the Blender add-on's preference);
2. ``VISEMO_MODELS_DIR`` in the environment;
3. ``visemo/_data/models`` inside an installed wheel (``setup.py`` copies the
   checkout's ``models/`` there when the wheel is built);
4. the checkout's ``models/`` beside ``core/`` (``core/visemo/../../models``:
   a source checkout or an editable install).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import AudioError, ModelError

ENV_MODELS_DIR = "VISEMO_MODELS_DIR"
SAMPLE_SPEECH = "sense_and_sensibility_0870.wav"

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_data"
_CHECKOUT = _PACKAGE.parent.parent

_override: Path | None = None


def set_models_dir(path: str | os.PathLike | None) -> None:
    """Use ``path`` as the models folder from now on (None or "": back to the default).

    Raises :class:`ModelError` if ``path`` is not a folder.
    """
    global _override
    if path is None or str(path) == "":
        _override = None
        return
    p = Path(path).expanduser()
    if not p.is_dir():
        raise ModelError(
            f"models folder {str(path)!r} does not exist; point it at the folder that holds "
            "the model folders (e.g. <visemo checkout>/models) or clear it to use the bundled models"
        )
    _override = p


def bundled_models_dir() -> Path | None:
    """The models folder that ships with this installation (wheel or checkout), or None."""
    for path in (_BUNDLED / "models", _CHECKOUT / "models"):
        if path.is_dir():
            return path
    return None


def models_dir() -> Path:
    """The folder that holds one sub-folder per shipped model.

    Raises :class:`ModelError` if it does not exist.
    """
    if _override is not None:
        if not _override.is_dir():
            raise ModelError(f"the models folder {str(_override)!r} no longer exists; choose another")
        return _override
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise ModelError(
                f"{ENV_MODELS_DIR}={env!r} is not a folder; point it at the folder that "
                "holds the model folders (e.g. <visemo checkout>/models) or unset it"
            )
        return path
    path = bundled_models_dir()
    if path is None:
        raise ModelError(
            f"visemo's models folder was not found (looked in {_BUNDLED / 'models'} and "
            f"{_CHECKOUT / 'models'}); set {ENV_MODELS_DIR} to the folder that holds the "
            "model folders (e.g. <visemo checkout>/models)"
        )
    return path


def model_dir(name: str) -> Path:
    """The folder of the shipped model ``name`` (it may not exist yet)."""
    return models_dir() / name


def sample_speech() -> Path:
    """The bundled sample speech (7.1 s of read English, 16 kHz mono wav).

    Its transcript is the ``.txt`` file beside it.  Raises :class:`AudioError`
    when this installation has none.
    """
    for folder in (_BUNDLED / "speech", _CHECKOUT / "assets" / "speech"):
        path = folder / SAMPLE_SPEECH
        if path.is_file():
            return path
    raise AudioError(f"the sample speech {SAMPLE_SPEECH} is not part of this installation")
