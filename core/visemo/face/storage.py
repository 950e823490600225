"""Byte-for-byte reproducible ``.npz`` files, written atomically.

``numpy.savez`` stamps each zip entry with the current time, so two identical
builds give files with different sha256.  :func:`write_npz` fixes the
timestamps (and the entry order), so a model rebuilt from the same inputs has
the same checksum as the committed one.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np

from ..export.atomic import atomic_path

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def zip_entry(name: str, compress: bool) -> zipfile.ZipInfo:
    """A zip entry header with a fixed timestamp and permissions."""
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray], *, compress: bool = True) -> Path:
    """Write ``arrays`` to ``path`` as an ``.npz`` that ``numpy.load`` reads.

    Entries keep the mapping's order; object arrays are refused (the file must
    load with ``allow_pickle=False``).  Atomic: on failure nothing is left.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for key, value in arrays.items():
                arr = np.ascontiguousarray(value)
                if arr.dtype.hasobject:
                    raise TypeError(
                        f"array {key!r} has dtype object; store strings as a '<U' array")
                with zf.open(zip_entry(f"{key}.npy", compress), "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, arr, allow_pickle=False)
    return path


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
