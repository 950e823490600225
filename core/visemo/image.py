"""The project's one photo loader: any image file or array -> RGB uint8 [H, W, 3].

Everything that reads a user's picture (reference-photo emotion prompts, the
talking-portrait renderer) goes through :func:`load_rgb`, so every input gets
the same checks and the same conversions:

* **Files** are decoded by Pillow (JPEG, PNG, WebP, TIFF, BMP, GIF, ... -- the
  first frame of an animation).  The size is read from the header and a picture
  over :data:`MAX_SIDE_PX` on either side is refused before it is decoded.
  EXIF orientation (phone photos) is applied, so the result is upright.
  A truncated or corrupt file is refused, never half-loaded (as long as no
  other code has set ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES``).
* **Colour modes**: CMYK is converted by Pillow's plain formula (no ICC
  colour management).  Wide greyscale is scaled down to 8 bits, not clipped
  to white as Pillow's ``convert("RGB")`` does: 16-bit ("I;16") and Pillow's
  32-bit "I" (16-bit PGMs, integer TIFFs) from 0..65535 (÷257; wider values
  are refused), float "F" as float arrays are (0..1, or 0..255).  16-bit RGB
  PNGs come from Pillow as 8-bit (the high byte: within 1 level of ÷257).
* **Transparency** (RGBA, LA, PA, palette or RGB/L with a transparent
  colour; not 16-bit grey's transparent colour, which is ignored) is
  composited over plain white: a cut-out portrait then sits on a neutral,
  even background, which face detection handles better than the black that
  dropping the alpha would leave behind the hair.

Anything unusable raises :class:`~visemo.errors.ImageError` with one line
saying what was wrong and what to do.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from .errors import DependencyError, ImageError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

MAX_SIDE_PX = 8000
"""Pictures wider or taller than this (pixels) are refused; resize them first."""

FLOAT_SLACK = 0.01
"""Float images may stray this far outside 0..1 (resampling overshoot); it is clipped."""

ImageSource = Union[str, os.PathLike, np.ndarray]

_SIGNATURES = (  # formats Pillow reads: a file that starts like one but fails is damaged
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                b"mif1", b"msf1"}


# ---------------------------------------------------------------------- public API
def load_rgb(image: ImageSource) -> np.ndarray:
    """RGB uint8 [H, W, 3] (C-contiguous, a new array) from a file path or an array.

    Files: any format Pillow reads, EXIF rotation applied, alpha composited
    over white (see the module notes).  Arrays are taken as RGB (OpenCV's BGR
    needs ``[..., ::-1]`` first), shaped [H, W], [H, W, 1], [H, W, 3] or
    [H, W, 4] (RGBA, composited over white), of type

    * uint8 (0..255, as is); uint16 (0..65535, divided by 257); bool (0/255);
    * other integers holding 0..255;
    * float in 0..1 (or, as a convenience, 0..255 when the maximum is above
      1 + :data:`FLOAT_SLACK`).

    Raises :class:`ImageError` for a missing path, a folder, an empty,
    truncated, damaged or non-image file, a picture over :data:`MAX_SIDE_PX`
    on either side (files: before decoding), a badly shaped array, NaN/inf or
    values out of range; :class:`~visemo.errors.DependencyError` for a file
    without Pillow installed.
    """
    if isinstance(image, np.ndarray):
        return _from_array(image)
    if not isinstance(image, (str, os.PathLike)):
        raise ImageError(f"an image must be a file path or a numpy array, got "
                         f"{type(image).__name__}; for a PIL image pass np.asarray(img.convert('RGB'))")
    return _from_file(Path(image))


# ---------------------------------------------------------------------- arrays
def _from_array(a: np.ndarray) -> np.ndarray:
    """RGB uint8 [H, W, 3] from an image array (see :func:`load_rgb`)."""
    if a.dtype.kind not in "buif":
        raise ImageError(f"the image array has dtype {a.dtype}; give numbers: uint8, uint16 "
                         "or float 0..1")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if (a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4))
            or min(a.shape[:2]) < 1):
        raise ImageError(f"the image array has shape {a.shape}; give one picture as [H, W], "
                         "[H, W, 1], [H, W, 3] (RGB) or [H, W, 4] (RGBA)")
    _check_side(a.shape[1], a.shape[0], "the image array")
    return _to_rgb(_levels8(a, "the image array"))


def _levels8(a: np.ndarray, what: str) -> np.ndarray:
    """uint8 levels (same shape) from bool, integer or float values (see :func:`load_rgb`)."""
    kind = a.dtype.kind
    if a.dtype == np.uint8:
        return a
    if kind == "b":
        return a.astype(np.uint8) * np.uint8(255)
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if kind in "iu":
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise ImageError(f"{what} holds integers {lo}..{hi}; give 8-bit levels 0..255 "
                             "(or a uint16 array for 16-bit levels 0..65535)")
        return a.astype(np.uint8)
    x = np.asarray(a, np.float64)
    if not np.isfinite(x).all():
        raise ImageError(f"{what} holds NaN or infinite values; replace them before using it")
    lo, hi = float(x.min()), float(x.max())
    if lo >= -FLOAT_SLACK and hi <= 1.0 + FLOAT_SLACK:
        x = x * 255.0
    elif not (lo >= -255.0 * FLOAT_SLACK and 1.0 + FLOAT_SLACK < hi <= 255.0 * (1.0 + FLOAT_SLACK)):
        raise ImageError(f"{what} holds floats {lo:g}..{hi:g}; scale them to 0..1 first "
                         "(for -1..1 use (x + 1) / 2)")
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def _to_rgb(a: np.ndarray) -> np.ndarray:
    """New C-contiguous RGB uint8 [H, W, 3] from uint8 [H, W], [H, W, 3] or [H, W, 4]."""
    if a.ndim == 2:
        return np.repeat(a[..., None], 3, axis=2)
    if a.shape[2] == 3:
        return np.array(a, np.uint8, order="C", copy=True)
    # Over white: round(c * α/255 + 255 * (1 - α/255)) in exact integer arithmetic
    # (the sum never exceeds 255² + 127, so uint16 holds it).
    c = a[..., :3].astype(np.uint16)
    alpha = a[..., 3:].astype(np.uint16)
    out = (c * alpha + np.uint16(255) * (np.uint16(255) - alpha) + np.uint16(127)) // np.uint16(255)
    return np.ascontiguousarray(out, np.uint8)


def _check_side(width: int, height: int, what: str) -> None:
    """:class:`ImageError` when either side is over :data:`MAX_SIDE_PX` pixels."""
    if max(width, height) > MAX_SIDE_PX:
        raise ImageError(f"{what} is {width}x{height} px, over the {MAX_SIDE_PX} px limit on a "
                         f"side; resize it to at most {MAX_SIDE_PX} px on its longest side")


# ---------------------------------------------------------------------- files
def _from_file(path: Path) -> np.ndarray:
    """RGB uint8 [H, W, 3] from an image file (see :func:`load_rgb`)."""
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file; give the path of the photo itself")
    if not path.exists():
        raise ImageError(f"photo not found: {path}; check the path and the working folder")
    if not path.is_file():
        raise ImageError(f"{path} is not a regular file; give the path of a JPEG or PNG photo")
    name = path.name
    if path.stat().st_size == 0:
        raise ImageError(f"cannot read {name} as an image: the file is empty (0 bytes); "
                         "copy or download the photo again")
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError:
        raise DependencyError("reading photos needs Pillow; run `pip install pillow`") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                _check_side(im.width, im.height, name)  # from the header, before decoding
                im.load()
                return _from_pil(ImageOps.exif_transpose(im), name)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{name} is too large to open safely ({_one_line(e)}); resize it to "
                         f"at most {MAX_SIDE_PX} px on its longest side") from e
    except UnidentifiedImageError:
        raise ImageError(_unidentified_message(path)) from None
    except PermissionError as e:
        raise ImageError(f"cannot open {name}: permission denied; check the file's "
                         "permissions or copy it somewhere you can read") from e
    except Exception as e:  # Pillow raises many types for damaged files; all become ImageError
        detail = _one_line(e)
        if any(s in detail for s in ("truncated", "broken data stream", "broken PNG file")):
            raise ImageError(f"cannot read {name} as an image: the file is incomplete or damaged "
                             f"({detail}); copy or download it again, or re-save it from an "
                             "image editor") from e
        raise ImageError(f"cannot read {name} as an image ({type(e).__name__}: {detail}); "
                         "use a JPEG or PNG photo") from e


def _from_pil(im: PILImage, name: str) -> np.ndarray:
    """RGB uint8 [H, W, 3] from a decoded, upright PIL image of any mode."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        values = np.asarray(im)
        if im.mode == "F":
            return _to_rgb(_levels8(values, name))
        lo, hi = int(values.min()), int(values.max())
        if lo < 0 or hi > 65535:
            raise ImageError(f"{name} holds grey levels {lo}..{hi}, outside 16 bits; "
                             "save it as an 8-bit or 16-bit PNG")
        return _to_rgb(_levels8(values.astype(np.uint16), name))
    if im.has_transparency_data:
        return _to_rgb(np.asarray(im.convert("RGBA")))
    return _to_rgb(np.asarray(im.convert("RGB")))


def _unidentified_message(path: Path) -> str:
    """One line for a file Pillow does not recognise: what it seems to be, what to do."""
    with open(path, "rb") as f:
        head = f.read(64)
    name = path.name
    for sig, fmt in _SIGNATURES:
        if head.startswith(sig):
            return (f"cannot read {name} as an image: it starts like a {fmt} file but is "
                    "incomplete or damaged; copy or download it again")
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return (f"cannot read {name} as an image: it is a HEIC/HEIF photo (the iPhone default), "
                "which Pillow cannot decode; convert it to JPEG or PNG first")
    kind = _non_image_kind(head)
    if kind:
        return f"cannot read {name} as an image: it is {kind}, not a picture; use a JPEG or PNG photo"
    return (f"cannot read {name} as an image (not a format Pillow recognises); "
            "use a JPEG or PNG photo")


def _non_image_kind(head: bytes) -> str | None:
    """'a WAV audio file', 'a text file', ... from a file's first bytes; None if unknown."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "a WAV audio file"
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "an MP3 audio file"
    if head[:4] in (b"fLaC", b"OggS"):
        return "an audio file (FLAC/Ogg)"
    if head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3":
        return "a video or audio file (MP4/MOV/M4A/WebM)"
    if head[:4] == b"%PDF":
        return "a PDF document"
    if head[:4] == b"PK\x03\x04":
        return "a ZIP archive (or an Office document)"
    if head.lstrip().startswith((b"<svg", b"<?xml")):
        return "an SVG/XML drawing (export it as PNG)"
    if b"\x00" not in head and all(b >= 32 or b in b"\t\n\r" for b in head):
        return "a text file"
    return None


def _one_line(e: BaseException) -> str:
    """The exception's message on one line, without a closing full stop."""
    return " ".join(str(e).split()).rstrip(".") or type(e).__name__
