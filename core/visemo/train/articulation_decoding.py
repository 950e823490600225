"""Choose the articulation model's decoding (class weights, switch cost) on development utterances.

The model gives class probabilities per 10 ms frame; the decoder
(:func:`visemo.speech.articulation_model.decode_segments`) weights some
classes (``class_bias`` in the model card's ``decoding``: a short closure
is worth more than its share of frames) and pays ``switch_cost`` nats per
change of class.  This step scores a grid of those settings the way the
benchmarks do — mouth curves from the decoded classes, the bundled head's
lip gap, P/B/M closed within ±1 frame, open vowels open, pauses closed
(:func:`visemo.lipsync.metrics.score_lipsync`) — on the corpus's
*development* utterances only (the training split's held-back 3 %,
:func:`visemo.train.articulation.is_dev`: seen languages and voices,
utterances never trained on), clean and with 10 dB of white or babble
noise.  Held-out languages and voices are never read.

    python -m visemo.train.articulation_decoding CORPUS [--write]

``--write`` stores the best setting in ``models/articulation/model.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..animation import frame_count
from ..audio import Audio, loudness_envelope
from ..lipsync import articulate
from ..lipsync.metrics import pool_scores, score_lipsync
from ..speech.articulation_classes import CLASSES
from ..speech.articulation_model import path_segments
from ..speech.phonemes import PhonemeSegment

FPS = 30.0
PBM_BIASES = (1.0, 2.0, 4.0, 8.0)
OPEN_BIASES = (1.0, 1.5, 2.0, 3.0)
SWITCH_COSTS = (0.5, 1.0, 2.0)


@dataclass
class DevItem:
    """A development utterance: 16 kHz samples, its true class segments (as representative phones)."""

    name: str
    samples: np.ndarray
    truth: list[PhonemeSegment]


def dev_items(corpus: Path, noise: str | None = None, snr_db: float = 10.0, seed: int = 0) -> list[DevItem]:
    """The development utterances of ``corpus`` (optionally with white or babble noise at ``snr_db``)."""
    from .articulation import is_dev, read_corpus

    utts = [u for u in read_corpus(corpus, ("train",)) if is_dev(u.id)]
    rng = np.random.default_rng(seed)
    out = []
    for k, u in enumerate(utts):
        x = u.samples.astype(np.float32) / 32768.0
        if noise:
            if noise == "white":
                n = rng.standard_normal(len(x)).astype(np.float32)
            else:
                n = np.zeros_like(x)
                for j in rng.choice([j for j in range(len(utts)) if j != k], size=4, replace=False):
                    n += np.resize(utts[j].samples.astype(np.float32) / 32768.0, len(x))
            x = x + n * np.sqrt((np.mean(x ** 2) + 1e-12) / (np.mean(n ** 2) + 1e-12) / 10 ** (snr_db / 10))
            x = (x / max(1.0, float(np.abs(x).max()))).astype(np.float32)
        out.append(DevItem(u.id, x, path_segments(u.labels, len(x) / 16000)))
    return out


class Prepared:
    """What every setting reuses for a set of items: unweighted class probabilities, per-row noise
    estimates (as the run time makes them), loudness and the true-timing lip gaps."""

    def __init__(self, items: list[DevItem], model=None) -> None:
        from ..face.model import load_face_model
        from ..speech.articulation_model import load_articulation_model

        model = model or load_articulation_model()
        self.items, self.face = items, load_face_model()
        self.probs, self.snr = zip(*(model.unweighted_posteriors(it.samples) for it in items))
        self.rest = []
        for it in items:
            audio = Audio(it.samples)
            frames = frame_count(audio.duration, FPS)
            loud = loudness_envelope(audio, FPS, frames)
            ref = articulate(it.truth, audio.duration, FPS, loudness=loud).animation
            self.rest.append((audio.duration, loud, 1000.0 * np.asarray(self.face.lip_gap_of_weights(ref.weights))))

    def score(self, b_pbm: float, b_open: float, cost: float, noise: tuple | None = None) -> dict:
        """Pooled scores of one setting (``noise``: (P/B/M weight in noise, (low, high) dB) or None)."""
        from ..speech.articulation_model import decode_segments, weigh_classes

        bias = np.ones(len(CLASSES), np.float32)
        bias[CLASSES.index("PBM")], bias[CLASSES.index("OPEN")] = b_pbm, b_open
        scores = []
        for it, p, snr, (duration, loud, ref_gaps) in zip(self.items, self.probs, self.snr, self.rest):
            q = weigh_classes(p, bias, snr, noise)
            anim = articulate(decode_segments(q, duration, cost), duration, FPS, loudness=loud).animation
            gaps = 1000.0 * np.asarray(self.face.lip_gap_of_weights(anim.weights))
            scores.append(score_lipsync(gaps, it.truth, FPS, reference_gaps_mm=ref_gaps))
        return pool_scores(scores)


def sweep(prepared: Prepared, pbm=PBM_BIASES, open_=OPEN_BIASES, switch=SWITCH_COSTS) -> list[dict]:
    """Pooled lip-sync scores of every (PBM bias, OPEN bias, switch cost), no noise rule."""
    return [{"PBM": b_pbm, "OPEN": b_open, "switch_cost": cost, **prepared.score(b_pbm, b_open, cost)}
            for b_pbm, b_open, cost in itertools.product(pbm, open_, switch)]


NOISY_PBM = (6.0, 8.0, 12.0)
SNR_BANDS = ((12.0, 25.0), (15.0, 30.0), (20.0, 40.0), (25.0, 50.0))


def sweep_noise(prepared: Prepared, b_pbm: float, b_open: float, cost: float) -> list[dict]:
    """Scores of the noise rule's settings (and of none) with the rest of the decoding fixed."""
    rows = [{"noise": None, **prepared.score(b_pbm, b_open, cost)}]
    for noisy, band in itertools.product(NOISY_PBM, SNR_BANDS):
        rows.append({"noise": (noisy, band), **prepared.score(b_pbm, b_open, cost, (noisy, band))})
    return rows


def objective(row: dict) -> float:
    """What the choice maximises: the worst of the three rates (each must hold), then their sum."""
    rates = (row["bilabial"], row["open"], row["silence"])
    return min(rates) + 0.1 * sum(rates)


def _line(label: str, cells: list[dict], score: float) -> str:
    return label + "  " + "  ".join(f"{x['bilabial']:.3f} {x['open']:.3f} {x['silence']:.3f}    " for x in cells) \
        + f"  {score:.4f}"


def combined(cells: list[dict]) -> float:
    """Clean counts fully, each noisy condition half."""
    return objective(cells[0]) + 0.5 * sum(objective(x) for x in cells[1:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--model", type=Path, help="a model folder (default: the shipped models/articulation)")
    ap.add_argument("--write", action="store_true", help="store the best setting in the model's card")
    args = ap.parse_args(argv)
    from .. import models
    from ..speech.articulation_model import ArticulationModel

    folder = args.model or models.load("articulation").path
    model = ArticulationModel(folder.name, root=folder.parent)
    conditions = {"clean": dev_items(args.corpus), "white 10 dB": dev_items(args.corpus, "white"),
                  "babble 10 dB": dev_items(args.corpus, "babble")}
    prepared = {name: Prepared(items, model) for name, items in conditions.items()}
    n = len(conditions["clean"])
    print(f"Decoding of {folder} on {n} development utterances (training split, never trained on); "
          "lip sync on the head: bilabial, open, silence")
    for name, prep in prepared.items():
        print(f"  noise estimate, {name}: median {np.median(np.concatenate(prep.snr)):.1f} dB")
    header = "  ".join(f"{c:^22}" for c in conditions) + "  objective"
    print(f"{'PBM':>4} {'OPEN':>5} {'switch':>6}  {header}")
    tables = {name: sweep(prep) for name, prep in prepared.items()}
    ranked = []
    for k, row in enumerate(tables["clean"]):
        cells = [tables[c][k] for c in conditions]
        ranked.append((combined(cells), row))
        print(_line(f"{row['PBM']:4g} {row['OPEN']:5g} {row['switch_cost']:6g}", cells, ranked[-1][0]))
    _, best = max(ranked, key=lambda r: r[0])
    print(f"best: PBM x{best['PBM']:g}, OPEN x{best['OPEN']:g}, switch cost {best['switch_cost']:g} nats")
    print(f"\nP/B/M weight in noise (the rest fixed)\n{'noisy PBM':>10} {'band dB':>9}  {header}")
    noise_tables = {name: sweep_noise(prep, best["PBM"], best["OPEN"], best["switch_cost"])
                    for name, prep in prepared.items()}
    ranked_noise = []
    for k, row in enumerate(noise_tables["clean"]):
        cells = [noise_tables[c][k] for c in conditions]
        ranked_noise.append((combined(cells), row["noise"], cells))
        label = "none" if row["noise"] is None else f"{row['noise'][0]:g}"
        band = "" if row["noise"] is None else f"{row['noise'][1][0]:g}-{row['noise'][1][1]:g}"
        print(_line(f"{label:>10} {band:>9}", cells, ranked_noise[-1][0]))
    _, noise, cells = max(ranked_noise, key=lambda r: r[0])
    print("best noise rule: " + ("none" if noise is None else f"P/B/M x{noise[0]:g} below {noise[1][0]:g} dB, "
                                 f"x{best['PBM']:g} above {noise[1][1]:g} dB"))
    if args.write:
        card_path = folder / "model.json"
        card = json.loads(card_path.read_text(encoding="utf-8"))
        card["decoding"] = {
            "class_bias": {"PBM": best["PBM"], "OPEN": best["OPEN"]}, "switch_cost_nats": best["switch_cost"],
            **({"noise": {"PBM": noise[0], "snr_db": list(noise[1])}} if noise else {}),
            "chosen_on": f"{n} development utterances of the training split (seen languages and voices, "
                         "utterances never trained on), clean and with 10 dB white or babble noise, by "
                         "visemo.train.articulation_decoding; lip sync on the head (bilabial/open/silence): "
                         + ", ".join(f"{c} {x['bilabial']:.3f}/{x['open']:.3f}/{x['silence']:.3f}"
                                     for c, x in zip(conditions, cells))}
        card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {card_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
