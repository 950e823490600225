"""Build ``models/word_filter``: every word of WordNet 3.0 and of the LibreOffice thesauri, as a Bloom filter.

    python -m visemo.train.word_filter [--wordnet DIR] [--mythes DIR] [--dict DIR] [--out models/word_filter]

The words: every single-word lemma of WordNet's index files and every form
of its exception lists (English), every single-word headword and synonym of
the German, Spanish, French, Italian and Portuguese thesauri
(:data:`visemo.train.mythes_db.SOURCES`), and every word of Debian's word
lists for English, Spanish, French, Italian and Portuguese
(:data:`WORD_LISTS`: inflected forms and the closed classes — "with",
"your", "unamused" — that WordNet and the thesauri leave out), lower case.  Read at run time by
:mod:`visemo.emotion.word_filter` so that spelling correction
(:mod:`visemo.emotion.spelling`) leaves real words alone.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .. import models
from ..emotion.word_filter import FALSE_POSITIVE_RATE, MODEL_NAME, WordFilter
from . import mythes_db as M
from . import wordnet_db as W

OUT = Path(__file__).resolve().parents[3] / "models" / MODEL_NAME


def _single(words) -> set[str]:
    return {w for w in words if w and " " not in w}


def english_words(folder: Path) -> set[str]:
    """WordNet's single-word lemmas and the inflected forms of its exception lists."""
    exceptions = W.read_exceptions(folder)
    forms = {f for table in exceptions.values() for f in table}
    return _single(set(W.read_index(folder)) | forms)


def thesaurus_words(lang: str, folder: Path) -> set[str]:
    """The single-word headwords and synonyms of one language's thesaurus."""
    entries = M.read_language(lang, folder)
    return _single(set(entries) | {s for meanings in entries.values() for line in meanings for s in line})


WORD_LISTS: dict[str, tuple[str, str, str]] = {
    # language: (Debian package, file in /usr/share/dict, licence); German's list (wngerman) is left out
    # because part of it is BSD-4-clause, Brazilian Portuguese's (wbrazilian) because it is GPL-2-only
    "en": ("wamerican", "american-english", "SCOWL word lists: permissive, copyright notices kept; "
                                             "MWords part public domain"),
    "es": ("wspanish", "spanish", "public domain"),
    "fr": ("wfrench", "french", "GPL-2.0-or-later"),
    "it": ("witalian", "italian", "GPL-3.0-or-later"),
    "pt": ("wportuguese", "portuguese", "GPL-2.0-or-later or LGPL-2.1-or-later or MPL-1.1"),
}
DICT_DIR = Path("/usr/share/dict")


def word_list(lang: str, folder: Path = DICT_DIR) -> set[str]:
    """The lower-case single words of one language's Debian word list (:data:`WORD_LISTS`)."""
    package, name, _ = WORD_LISTS[lang]
    path = folder / name
    if not path.is_file():
        raise SystemExit(f"word list {path} not found; install it with: apt-get install {package}")
    return _single(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wordnet", type=Path, default=None, help="WordNet 3.0 database folder")
    ap.add_argument("--mythes", type=Path, default=None, help="folder of the MyThes .dat files")
    ap.add_argument("--dict", type=Path, default=DICT_DIR, help="folder of the Debian word lists")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    started = time.perf_counter()
    wordnet_folder = args.wordnet or W.wordnet_dir()
    mythes_folder = args.mythes or M.mythes_dir()
    by_language = {"en": english_words(wordnet_folder)}
    for lang in M.SOURCES:
        by_language[lang] = thesaurus_words(lang, mythes_folder)
    for lang in WORD_LISTS:
        by_language[lang] |= word_list(lang, args.dict)
    words = set().union(*by_language.values())
    filt = WordFilter.build(words, FALSE_POSITIVE_RATE)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "words.npz"
    filt.save(path)
    card = {
        "name": MODEL_NAME,
        "kind": "word_filter",
        "format_version": 1,
        "description": ("Which lower-case strings are words of English, German, Spanish, French, Italian or "
                        "Portuguese: a Bloom filter (BLAKE2b double hashing) read by visemo.emotion.word_filter, "
                        "so that spelling correction of emotion prompts leaves real words alone."),
        "files": {"words": {"file": path.name, "sha256": models.sha256_file(path)}},
        "entries": {"words": len(words), "by_language": {k: len(v) for k, v in by_language.items()},
                    "bits": filt.size, "hashes": filt.hashes, "false_positive_rate": FALSE_POSITIVE_RATE},
        "origin": {
            "en": {"resource": "Princeton WordNet 3.0 (Debian package wordnet-base)",
                   "files_read": ["index.*", "*.exc"],
                   "licence": "WordNet 3.0 licence (permissive, GPL-compatible); notice below",
                   "notice": W.licence_notice(wordnet_folder)},
            **{lang: {"resource": f"LibreOffice thesaurus ({s.package}, Debian)", "files_read": list(s.files),
                      "licence": s.licence, "copyright": s.copyright} for lang, s in M.SOURCES.items()},
            "word_lists": {lang: {"resource": f"Debian word list ({package})", "file": f"/usr/share/dict/{name}",
                                  "licence": licence}
                           for lang, (package, name, licence) in WORD_LISTS.items()}},
        "build": {"script": "core/visemo/train/word_filter.py", "command": "python -m visemo.train.word_filter",
                  "seconds": round(time.perf_counter() - started, 1)},
        "licence": ("derived data, GPL-3.0 as a whole (the Italian thesaurus and word list are GPL-3.0; the "
                    "other sources' licences are GPL-3.0-compatible: see origin)"),
    }
    (args.out / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words ({path.stat().st_size / 1e3:.0f} kB, {filt.hashes} hashes) to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
