"""How far the geometry alone can move fer: the best emotion read generator v1 can reach on each portrait.

For each portrait (scikit-image's astronaut, matplotlib's Grace Hopper) and
emotion, a (1+1) evolution strategy searches the face's geometry — the
ARKit channels of that emotion's family of FACS action units, left and
right moved together, within bounds a face reaches — for the frame whose
fer probabilities favour the emotion most (its probability minus the best
other class), starting from the emotion's prototype.  It prints the best
probability found, fer's top class there, and the channels.

This is a diagnostic, not a way to make frames: it asks whether any natural
configuration of the warp's geometry reads as the emotion to fer, i.e.
whether a failed read in ``bench_portrait.py --sections emotion`` is the
prototype's fault or the generator's (a warp moves the photo's pixels; it
cannot take a smile's cheeks out of the skin or add the shading of a frown).

    .venv/bin/python benchmarks/bench_portrait_fer_reach.py [--steps 300] [--emotions sad,angry,surprised]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_portrait import FER_NAME, portraits  # noqa: E402

from visemo import arkit  # noqa: E402
from visemo.emotion.facs import emotion_vector  # noqa: E402
from visemo.emotion.photo_fer import fer_probabilities  # noqa: E402
from visemo.render2d import fit_portrait  # noqa: E402
from visemo.render2d.metrics import track_frames  # noqa: E402
from visemo.render2d.portrait import PortraitRenderer  # noqa: E402

FAMILIES: dict[str, dict[str, float]] = {
    # channel group → upper bound; FACS: sadness AU1+4+15(+17, 43, 64)
    "sad": {"browInnerUp": 1, "browDown": 1, "mouthFrown": 1, "mouthShrugLower": 1, "mouthPress": 1,
            "eyeBlink": 0.5, "eyeLookDown": 0.6, "eyeSquint": 1, "mouthRollLower": 1, "mouthStretch": 1,
            "mouthLowerDown": 0.5, "jawOpen": 0.2, "mouthPucker": 0.6},
    # anger AU4+5+7+23(+10, 17, 24)
    "angry": {"browDown": 1, "eyeWide": 1, "eyeSquint": 1, "mouthPress": 1, "mouthRollLower": 1,
              "mouthRollUpper": 1, "mouthUpperUp": 0.6, "noseSneer": 0.6, "mouthShrugLower": 1,
              "mouthFunnel": 0.5, "jawOpen": 0.3},
    # surprise AU1+2+5+26(+27)
    "surprised": {"browInnerUp": 1, "browOuterUp": 1, "eyeWide": 1, "jawOpen": 0.7, "mouthLowerDown": 1,
                  "mouthFunnel": 0.6, "mouthStretch": 0.5},
    # happiness AU6+12(+25)
    "happy": {"mouthSmile": 1, "cheekSquint": 1, "eyeSquint": 1, "mouthLowerDown": 0.5, "mouthUpperUp": 0.5,
              "jawOpen": 0.3, "mouthDimple": 1},
}


def search(renderer: PortraitRenderer, emotion: str, steps: int, seed: int = 0):
    """(best fer probabilities, best channel values by group) for ``emotion`` on one portrait."""
    family = FAMILIES[emotion]
    groups = list(family)
    index = {g: [i for i, n in enumerate(arkit.NAMES) if n in (g, g + "Left", g + "Right")] for g in groups}
    high = np.array([family[g] for g in groups])
    proto = emotion_vector(emotion)

    def weights(x: np.ndarray) -> np.ndarray:
        w = np.zeros(arkit.COUNT, np.float32)
        for g, v in zip(groups, x):
            w[index[g]] = v
        return w

    x = np.minimum(np.array([max(proto[i] for i in index[g]) for g in groups]), high)
    box = track_frames([renderer.frame(weights(x), 1.0)]).boxes[0]
    want = FER_NAME[emotion]

    def score(x):
        p = fer_probabilities(renderer.frame(weights(x), 1.0), box)
        return p[want] - max(v for k, v in p.items() if k != want), p

    best, probs = score(x)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        trial = np.clip(x + rng.normal(0.0, 0.3, len(x)) * (rng.random(len(x)) < 0.3), 0.0, high)
        s, p = score(trial)
        if s > best:
            x, best, probs = trial, s, p
    return probs, dict(zip(groups, x))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--emotions", default="sad,angry,surprised")
    args = ap.parse_args()
    print(f"| portrait | emotion | fer p(emotion) reached | fer top class there | channels (family, {args.steps} steps) |")
    print("|---|---|---|---|---|")
    for name, photo in portraits().items():
        renderer = PortraitRenderer(fit_portrait(photo, 512))
        for emotion in args.emotions.split(","):
            probs, x = search(renderer, emotion, args.steps)
            top = max(probs, key=probs.get)
            chans = " ".join(f"{g} {v:.2f}" for g, v in x.items() if v > 0.05)
            print(f"| {name} | {emotion} | {probs[FER_NAME[emotion]]:.2f} | {top} {probs[top]:.2f} | {chans} |",
                  flush=True)


if __name__ == "__main__":
    main()
