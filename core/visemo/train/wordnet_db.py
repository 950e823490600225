"""Read the Princeton WordNet 3.0 database files (Debian's ``wordnet-base``) directly (build time only).

Files read from ``/usr/share/wordnet`` (or ``$WNSEARCHDIR``): ``data.{adj,adv,noun,verb}`` (synsets: their
lemmas and pointers), ``index.*`` (lemma → synsets in sense order, most frequent first) and ``*.exc``
(irregular inflections → lemma).  Formats: WordNet's ``wndb(5WN)`` manual page.  No nltk, nothing downloaded.

Synset ids here are ``"<pos><offset>"`` with pos ``n v a r`` (satellite adjectives ``s`` are folded into ``a``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path("/usr/share/wordnet")
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}


def wordnet_dir() -> Path:
    """The WordNet database folder: ``$WNSEARCHDIR`` or ``/usr/share/wordnet``; a clear error when missing."""
    d = Path(os.environ.get("WNSEARCHDIR") or DEFAULT_DIR)
    if not (d / "data.adj").is_file():
        raise SystemExit(f"WordNet 3.0 database not found in {d}; install it with: apt-get install wordnet-base "
                         "(or set WNSEARCHDIR to a folder holding data.adj, index.adj, adj.exc, …)")
    return d


@dataclass(frozen=True)
class Synset:
    """One synset: ``id``, ``lexfile`` number (e.g. 12 = noun.feeling), ``lemmas`` (lower case, spaces for
    underscores, adjective markers like ``(p)`` removed) and ``pointers`` [(symbol, target id)]."""

    id: str
    lexfile: int
    lemmas: tuple[str, ...]
    pointers: tuple[tuple[str, str], ...]


def _lemma(word: str) -> str:
    if word.endswith(")") and "(" in word:
        word = word[:word.index("(")]
    return word.replace("_", " ").lower()


def _fold(pos: str) -> str:
    return "a" if pos == "s" else pos


def read_synsets(folder: Path) -> dict[str, Synset]:
    """Every synset of the four data files, by id."""
    out: dict[str, Synset] = {}
    for pos, name in POS_FILES.items():
        with open(folder / f"data.{name}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                fields = line.split(" | ")[0].split()
                offset, lexfile, ss_type, n = fields[0], int(fields[1]), fields[2], int(fields[3], 16)
                lemmas = tuple(_lemma(fields[4 + 2 * i]) for i in range(n))
                k = 4 + 2 * n
                p_cnt = int(fields[k])
                ptrs = []
                for j in range(p_cnt):
                    sym, target, tpos = fields[k + 1 + 4 * j: k + 4 + 4 * j]
                    ptrs.append((sym, _fold(tpos) + target))
                sid = _fold(ss_type) + offset
                out[sid] = Synset(sid, lexfile, lemmas, tuple(ptrs))
    return out


def read_index(folder: Path) -> dict[str, list[str]]:
    """{lemma: synset ids} over all parts of speech, each part's senses in WordNet's order (most frequent
    first); parts of speech in the order adjective, noun, verb, adverb."""
    out: dict[str, list[str]] = {}
    for pos in ("a", "n", "v", "r"):
        with open(folder / f"index.{POS_FILES[pos]}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split()
                lemma, synset_cnt, p_cnt = _lemma(fields[0]), int(fields[2]), int(fields[3])
                offsets = fields[4 + p_cnt + 2:]
                out.setdefault(lemma, []).extend(pos + o for o in offsets[:synset_cnt])
    return out


def names(folder: Path) -> set[str]:
    """The noun lemmas (lower case) that ``data.noun`` writes capitalised wherever they occur: names of
    people, places, months and taxa ("Tokyo", "June", "Notonectidae"), which take no plural."""
    upper, lower = set(), set()
    with open(folder / "data.noun", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  "):
                continue
            fields = line.split(" | ")[0].split()
            for i in range(int(fields[3], 16)):
                word = fields[4 + 2 * i]
                (lower if word == word.lower() else upper).add(_lemma(word))
    return upper - lower


def read_exceptions(folder: Path) -> dict[str, dict[str, list[str]]]:
    """{pos: {inflected form: lemmas}} from ``adj.exc``, ``adv.exc``, ``noun.exc``, ``verb.exc``."""
    out: dict[str, dict[str, list[str]]] = {}
    for pos, name in POS_FILES.items():
        table: dict[str, list[str]] = {}
        path = folder / f"{name}.exc"
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    table[_lemma(parts[0])] = [_lemma(p) for p in parts[1:]]
        out[pos] = table
    return out


def licence_notice(folder: Path) -> str:
    """Princeton's licence notice as printed at the head of ``data.adj`` (line numbers removed)."""
    lines = []
    with open(folder / "data.adj", encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("  "):
                break
            lines.append(line.strip().split(" ", 1)[1].rstrip() if " " in line.strip() else "")
    return "\n".join(lines).strip() + "\n"
