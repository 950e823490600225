"""Read the LibreOffice thesauri (MyThes ``.dat`` files, Debian's ``mythes-*`` packages) directly (build time only).

A ``.dat`` file starts with its character set on the first line (``UTF-8``, ``ISO8859-1``); then each entry
is a line ``word|n`` followed by ``n`` meaning lines ``(part of speech)|synonym|synonym|…``.  Synonyms carry
notes in parentheses ("erzürnt (geh.)", "fuchtig (ugs.)"), dropped here.  Nothing downloaded, no library.

:data:`SOURCES` names, per language, the Debian package, the files read and their licence, as Debian's
``copyright`` file of the package states it for those files (each GPL-3.0-compatible).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path("/usr/share/mythes")


@dataclass(frozen=True)
class Source:
    """One language's thesaurus: Debian ``package``, ``files`` in the folder, ``licence`` and ``copyright``."""

    package: str
    files: tuple[str, ...]
    licence: str
    copyright: str


SOURCES: dict[str, Source] = {
    "de": Source("mythes-de", ("th_de_DE_v2.dat",), "LGPL-2.1-or-later",
                 "(C) 2006 Daniel Naber; data from www.openthesaurus.de users (OpenThesaurus)"),
    "es": Source("mythes-es", ("th_es_ES_v2.dat",), "LGPL-2.1", "Marcelo Garrone"),
    "fr": Source("mythes-fr", ("thes_fr.dat",), "LGPL-2.1-or-later",
                 "Kevin Hendricks, Frederic Labbé, Laurent Godard"),
    "it": Source("mythes-it", ("th_it_IT_v2.dat",), "GPL-3.0",
                 "(C) 2020-2022 LibreItalia - Marina Latini; portions (C) 2001-2015 the OpenOffice.org "
                 "Community and PLIO (Italian Writing Aids)"),
    "pt": Source("mythes-pt-pt, mythes-pt-br", ("th_pt_PT_v2.dat", "th_pt_BR.dat"),
                 "GPL-2.0-or-later (pt_PT); LGPL-3.0 or MPL (pt_BR)",
                 "2003-2006 Daniel Naber (pt_PT); 2006-2013 Raimundo Santos Moura (pt_BR)"),
}
_NOTE = re.compile(r"\([^)]*\)")
_CHARSETS = {"ISO8859-1": "latin-1", "ISO8859-15": "iso8859-15", "UTF-8": "utf-8"}


def mythes_dir() -> Path:
    """The thesaurus folder: ``$MYTHES_DIR`` or ``/usr/share/mythes``; a clear error when missing."""
    d = Path(os.environ.get("MYTHES_DIR") or DEFAULT_DIR)
    if not d.is_dir():
        raise SystemExit(f"no thesaurus folder {d}; install the thesauri with: apt-get install "
                         f"{' '.join(p for s in SOURCES.values() for p in s.package.split(', '))} "
                         "(or set MYTHES_DIR to a folder holding their .dat files)")
    return d


def clean(term: str) -> str:
    """A thesaurus term as a prompt would hold it: notes in parentheses dropped, lower case, single spaces."""
    return " ".join(_NOTE.sub(" ", term).lower().split())


def read_dat(path: Path) -> dict[str, list[tuple[str, ...]]]:
    """{headword: [meaning: synonyms (cleaned, without the headword)]} from one MyThes ``.dat`` file.

    Raises ValueError naming the file and line when an entry is malformed.
    """
    raw = Path(path).read_bytes()
    first, _, body = raw.partition(b"\n")
    charset = first.decode("ascii", errors="replace").strip()
    lines = body.decode(_CHARSETS.get(charset.upper(), charset or "utf-8")).splitlines()
    out: dict[str, list[tuple[str, ...]]] = {}
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        head, sep, count = lines[i].rpartition("|")
        if not sep or not count.strip().isdigit():
            raise ValueError(f"{path}: line {i + 2} is not 'word|count': {lines[i][:60]!r}")
        n = int(count)
        word = clean(head)
        meanings = out.setdefault(word, [])
        for line in lines[i + 1:i + 1 + n]:
            syns = dict.fromkeys(t for t in (clean(s) for s in line.split("|")[1:]) if t and t != word)
            meanings.append(tuple(syns))
        i += 1 + n
    return out


def read_language(lang: str, folder: Path | None = None) -> dict[str, list[tuple[str, ...]]]:
    """The merged thesaurus of ``lang`` (:data:`SOURCES`): {headword: meanings}, files in their listed order."""
    folder = folder or mythes_dir()
    source = SOURCES[lang]
    out: dict[str, list[tuple[str, ...]]] = {}
    for name in source.files:
        path = folder / name
        if not path.is_file():
            raise SystemExit(f"thesaurus {path} not found; install it with: apt-get install {source.package}")
        for word, meanings in read_dat(path).items():
            out.setdefault(word, []).extend(meanings)
    return out
