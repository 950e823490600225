"""Choose the articulation model's decoding (class weights, switch cost) on development utterances.

The model gives class probabilities per 10 ms frame; the decoder
(:func:`visemo.speech.articulation_model.decode_segments`) weights some
classes (``class_bias`` in the model card's ``decoding``: a short closure
is worth more than its share of frames), pays ``switch_cost`` nats per
change of class and, with a closure rule, keeps each closure found only
where a second path with P/B/M ``timing_cost`` nats lighter closes too
(:func:`visemo.speech.articulation_model.trim_closures`).  This step scores
a grid of those settings the way the benchmarks do — mouth curves from the decoded classes, the bundled head's
lip gap, P/B/M closed within ±1 frame, open vowels open, pauses closed
(:func:`visemo.lipsync.metrics.score_lipsync`) — on the corpus's
*development* utterances only (the training split's held-back 3 %,
:func:`visemo.train.articulation.is_dev`: seen languages and voices,
utterances never trained on), clean and with 10 dB of white or babble
noise.  Held-out languages and voices are never read.

    python -m visemo.train.articulation_decoding CORPUS [--model DIR] [--write]

In three stages: class weights and switch cost (no closure rule); then the
closure rule (P/B/M weight, core frames, P/B/M weight of the timing path)
with the rest fixed; then the noise rule.  Last, apart: the P/B/M weight for transcript
alignment (:mod:`visemo.speech.class_align`, each utterance's text through
G2P), stored as ``alignment_class_bias``.

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
CLOSURE_PBM = (8.0, 16.0, 24.0, 32.0)
CORE_FRAMES = (2, 3, 4)
TIMING_WEIGHTS = (1.0, 2.0, 4.0)
"""P/B/M's weight on the timing path (timing cost = log(P/B/M weight / this))."""


@dataclass
class DevItem:
    """A development utterance: 16 kHz samples, its true class segments (as representative phones)."""

    name: str
    samples: np.ndarray
    truth: list[PhonemeSegment]
    text: str = ""
    language: str = ""


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
        out.append(DevItem(u.id, x, path_segments(u.labels, len(x) / 16000), u.text, u.language))
    return out


class Prepared:
    """What every setting reuses for a set of items: unweighted class probabilities, per-row noise
    estimates (as the run time makes them), loudness and the true-timing lip gaps."""

    def __init__(self, items: list[DevItem], model=None) -> None:
        from ..face.model import load_face_model
        from ..speech.articulation_model import load_articulation_model

        model = model or load_articulation_model()
        self.items, self.face = items, load_face_model()
        self._words: dict[str, list] = {}   # text → its words of classes (G2P once)
        self.probs, self.snr = zip(*(model.unweighted_posteriors(it.samples) for it in items))
        self.rest = self._references()

    def _references(self) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """Per item (duration s, loudness [frames], lip gaps mm of the mouth driven by the true timing)."""
        out = []
        for it in self.items:
            audio = Audio(it.samples)
            loud = loudness_envelope(audio, FPS, frame_count(audio.duration, FPS))
            ref = articulate(it.truth, audio.duration, FPS, loudness=loud).animation
            out.append((audio.duration, loud, 1000.0 * np.asarray(self.face.lip_gap_of_weights(ref.weights))))
        return out

    def score(self, b_pbm: float, b_open: float, cost: float, noise: tuple | None = None,
              closure: tuple[int, float] | None = None, join_gap: int | None = None) -> dict:
        """Pooled scores of one setting (``noise``: (P/B/M weight in noise, (low, high) dB) or None;
        ``closure``: (core frames, timing cost in nats) or None; ``join_gap``: the closure layer's
        :data:`~visemo.lipsync.closure.JOIN_GAP_FRAMES` for this score, truth included)."""
        if join_gap is not None:
            from ..lipsync import closure as layer

            kept, layer.JOIN_GAP_FRAMES = layer.JOIN_GAP_FRAMES, join_gap
            rest, self.rest = self.rest, None
            try:
                self.rest = self._references()  # the truth's mouth follows the layer too
                return self.score(b_pbm, b_open, cost, noise, closure)
            finally:
                layer.JOIN_GAP_FRAMES, self.rest = kept, rest
        from ..speech.articulation_model import decode_segments, weigh_classes

        bias = np.ones(len(CLASSES), np.float32)
        bias[CLASSES.index("PBM")], bias[CLASSES.index("OPEN")] = b_pbm, b_open
        scores = []
        for it, p, snr, (duration, loud, ref_gaps) in zip(self.items, self.probs, self.snr, self.rest):
            q = weigh_classes(p, bias, snr, noise)
            anim = articulate(decode_segments(q, duration, cost, closure), duration, FPS, loudness=loud).animation
            gaps = 1000.0 * np.asarray(self.face.lip_gap_of_weights(anim.weights))
            scores.append(score_lipsync(gaps, it.truth, FPS, reference_gaps_mm=ref_gaps))
        return pool_scores(scores)


    def score_alignment(self, b_pbm: float) -> dict:
        """Pooled scores of transcript alignment (:func:`visemo.speech.class_align.align_classes` of the
        utterance's text through espeak-ng G2P, as the run time does) on the model's probabilities with
        P/B/M weighted by ``b_pbm``."""
        from ..speech.articulation_model import weigh_classes
        from ..speech.class_align import align_classes, transcript_classes

        bias = np.ones(len(CLASSES), np.float32)
        bias[CLASSES.index("PBM")] = b_pbm
        scores = []
        for it, p, (duration, loud, ref_gaps) in zip(self.items, self.probs, self.rest):
            if it.text not in self._words:
                self._words[it.text] = transcript_classes(it.text, it.language)
            segs = align_classes(weigh_classes(p, bias), self._words[it.text], duration)
            anim = articulate(segs, duration, FPS, loudness=loud).animation
            gaps = 1000.0 * np.asarray(self.face.lip_gap_of_weights(anim.weights))
            scores.append(score_lipsync(gaps, it.truth, FPS, reference_gaps_mm=ref_gaps))
        return pool_scores(scores)


def sweep(prepared: Prepared, pbm=PBM_BIASES, open_=OPEN_BIASES, switch=SWITCH_COSTS) -> list[dict]:
    """Pooled lip-sync scores of every (PBM bias, OPEN bias, switch cost), no noise rule."""
    return [{"PBM": b_pbm, "OPEN": b_open, "switch_cost": cost, **prepared.score(b_pbm, b_open, cost)}
            for b_pbm, b_open, cost in itertools.product(pbm, open_, switch)]


def sweep_closure(prepared: Prepared, b_open: float, cost: float, pbm=CLOSURE_PBM, cores=CORE_FRAMES,
                  timing=TIMING_WEIGHTS) -> list[dict]:
    """Scores of the closure rule's settings (P/B/M weight, core frames, timing path's P/B/M weight)."""
    return [{"PBM": b, "core": k, "timing_cost": float(np.log(b / h)),
             **prepared.score(b, b_open, cost, closure=(k, float(np.log(b / h))))}
            for b, k, h in itertools.product(pbm, cores, timing) if h < b]


JOIN_GAPS = (0, 1)
"""Closure-layer joins compared at the end (frames between two closures that still join them)."""
ALIGN_PBM = (1.0, 2.0, 4.0, 8.0)
"""P/B/M weights tried for transcript alignment (which needs no help to find closures: the text names them)."""
NOISY_PBM = (0.5, 0.75, 1.0, 1.5)
"""P/B/M weights in noise, as fractions of the clean one."""
SNR_BANDS = ((12.0, 25.0), (15.0, 30.0), (20.0, 40.0), (25.0, 50.0))


def sweep_noise(prepared: Prepared, b_pbm: float, b_open: float, cost: float,
                closure: tuple[int, float] | None = None) -> list[dict]:
    """Scores of the noise rule's settings (and of none) with the rest of the decoding fixed."""
    rows = [{"noise": None, **prepared.score(b_pbm, b_open, cost, closure=closure)}]
    for f, band in itertools.product(NOISY_PBM, SNR_BANDS):
        if f != 1.0:
            noise = (f * b_pbm, band)
            rows.append({"noise": noise, **prepared.score(b_pbm, b_open, cost, noise, closure)})
    return rows


def objective(row: dict, noisy: bool = False) -> float:
    """What the choice maximises: the worst of the three rates (each must hold), then their sum.  In noise
    the worst of bilabial and open only: pauses under babble hold other voices, which no decoding can
    tell from speech (the issue's targets in noise are for closures alone)."""
    rates = (row["bilabial"], row["open"], row["silence"])
    return min(rates[:2] if noisy else rates) + 0.1 * sum(rates)


def _line(label: str, cells: list[dict], score: float) -> str:
    return label + "  " + "  ".join(f"{x['bilabial']:.3f} {x['open']:.3f} {x['silence']:.3f}    " for x in cells) \
        + f"  {score:.4f}"


def combined(cells: list[dict]) -> float:
    """Clean counts fully, each noisy condition half."""
    return objective(cells[0]) + 0.5 * sum(objective(x, noisy=True) for x in cells[1:])


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
    b_open, cost = best["OPEN"], best["switch_cost"]

    print(f"\nClosure rule (OPEN x{b_open:g}, switch {cost:g} fixed; first row: none)\n"
          f"{'PBM':>4} {'core':>6} {'cost':>5}  {header}")
    closure_tables = {name: sweep_closure(prep, b_open, cost) for name, prep in prepared.items()}
    best_cells = [tables[c][tables["clean"].index(best)] for c in conditions]
    ranked_closure = [(combined(best_cells), best["PBM"], None)]
    print(_line(f"{best['PBM']:4g} {'-':>6} {'-':>5}", best_cells, ranked_closure[0][0]))
    for k, row in enumerate(closure_tables["clean"]):
        cells = [closure_tables[c][k] for c in conditions]
        ranked_closure.append((combined(cells), row["PBM"], (row["core"], row["timing_cost"])))
        print(_line(f"{row['PBM']:4g} {row['core']:6d} {row['timing_cost']:5.2f}", cells, ranked_closure[-1][0]))
    _, b_pbm, closure = max(ranked_closure, key=lambda r: r[0])
    print("best closure rule: " + (f"P/B/M x{b_pbm:g}, timed {closure[1]:.2f} nats lighter, at least "
                                   f"{closure[0]} frames" if closure else "none"))

    print(f"\nP/B/M weight in noise (the rest fixed)\n{'noisy PBM':>10} {'band dB':>9}  {header}")
    noise_tables = {name: sweep_noise(prep, b_pbm, b_open, cost, closure) for name, prep in prepared.items()}
    ranked_noise = []
    for k, row in enumerate(noise_tables["clean"]):
        cells = [noise_tables[c][k] for c in conditions]
        ranked_noise.append((combined(cells), row["noise"], cells))
        label = "none" if row["noise"] is None else f"{row['noise'][0]:g}"
        band = "" if row["noise"] is None else f"{row['noise'][1][0]:g}-{row['noise'][1][1]:g}"
        print(_line(f"{label:>10} {band:>9}", cells, ranked_noise[-1][0]))
    _, noise, chosen = max(ranked_noise, key=lambda r: r[0])
    print("best noise rule: " + ("none" if noise is None else f"P/B/M x{noise[0]:g} below {noise[1][0]:g} dB, "
                                 f"x{b_pbm:g} above {noise[1][1]:g} dB"))
    print(f"\nTranscript alignment (each utterance's text through G2P): P/B/M weight\n{'PBM':>4}  {header}")
    ranked_align = []
    for b in ALIGN_PBM:
        aligned = [prep.score_alignment(b) for prep in prepared.values()]
        ranked_align.append((combined(aligned), b))
        print(_line(f"{b:4g}", aligned, ranked_align[-1][0]))
    _, align_pbm = max(ranked_align)
    print(f"best alignment weight: P/B/M x{align_pbm:g}")
    print(f"\nThe closure layer with this decoding: closures joined with up to N frames between them\n"
          f"{'N':>4}  {header}")
    for gap in JOIN_GAPS:
        joined = [prep.score(b_pbm, b_open, cost, noise, closure, join_gap=gap) for prep in prepared.values()]
        print(_line(f"{gap:4d}", joined, combined(joined)))
    if args.write:
        card_path = folder / "model.json"
        card = json.loads(card_path.read_text(encoding="utf-8"))
        card["decoding"] = {
            "class_bias": {"PBM": b_pbm, "OPEN": b_open}, "switch_cost_nats": cost,
            **({"closure": {"core_frames": closure[0], "timing_cost_nats": round(closure[1], 4)}} if closure else {}),
            **({"noise": {"PBM": noise[0], "snr_db": list(noise[1])}} if noise else {}),
            "alignment_class_bias": {"PBM": align_pbm},
            "chosen_on": f"{n} development utterances of the training split (seen languages and voices, "
                         "utterances never trained on), clean and with 10 dB white or babble noise, by "
                         "visemo.train.articulation_decoding; lip sync on the head (bilabial/open/silence): "
                         + ", ".join(f"{c} {x['bilabial']:.3f}/{x['open']:.3f}/{x['silence']:.3f}"
                                     for c, x in zip(conditions, chosen))}
        card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {card_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
