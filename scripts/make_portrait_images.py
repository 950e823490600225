"""README pictures of the talking portrait: a contact sheet and a short animated preview.

    .venv/bin/python scripts/make_portrait_images.py   # → docs/images/portrait_sheet.png, docs/images/portrait.webp

Both public-domain portraits that ship in packages (scikit-image's
astronaut, matplotlib's Grace Hopper) speak the bundled LibriVox line
(with its transcript).  The sheet shows, per portrait: the photo, frames
of the line spoken neutral, happy, sad, angry and surprised with the mouth
open and closed, and a blink — every frame straight from
:class:`visemo.render2d.portrait.PortraitRenderer`.  The preview is the
first seconds of the line, both portraits side by side, as an animated
WebP (GitHub shows it in the README).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
TILE = 224


def portraits() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    hopper = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    return {"astronaut": data.astronaut(), "Grace Hopper": np.asarray(hopper)}


def label(tile: np.ndarray, text: str) -> np.ndarray:
    """``tile`` with ``text`` written on a dark band at the bottom."""
    import cv2

    out = tile.copy()
    h = out.shape[0]
    out[h - 22:] = (0.35 * out[h - 22:]).astype(np.uint8)
    cv2.putText(out, text, (6, h - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def small(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(frame, (TILE, TILE), interpolation=cv2.INTER_AREA)


def pick(anim, open_frames: bool) -> int:
    """The frame of ``anim`` with the widest (or a fully closed) mouth and no blink, in the speech."""
    jaw = anim.channel("jawOpen") - anim.channel("mouthClose")
    blink = anim.channel("eyeBlinkLeft")
    ok = blink < 0.05
    ok[: int(0.3 * anim.fps)] = False
    score = np.where(ok, jaw if open_frames else -np.abs(jaw - 0.02), -np.inf)
    return int(np.argmax(score))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="length of the animated preview")
    args = ap.parse_args()
    from PIL import Image

    from visemo.paths import sample_speech
    from visemo.pipeline import perform
    from visemo.render2d import fit_portrait, replacement
    from visemo.render2d.portrait import PortraitRenderer

    speech = sample_speech()
    transcript = speech.with_suffix(".txt").read_text().strip()
    rows, previews = [], []
    for name, photo in portraits().items():
        rig = fit_portrait(photo, 512)
        renderer = PortraitRenderer(rig)
        tiles = [label(small(rig.image), f"{name}: photo")]
        for emotion in ("neutral", "happy", "sad", "angry", "surprised"):
            perf = perform(speech, None if emotion == "neutral" else emotion, transcript=transcript, seed=2)
            anim = perf.animation
            replace = replacement(anim, perf.emotion)
            for open_frames in ((False, True) if emotion in ("neutral", "happy") else (True,)):
                i = pick(anim, open_frames)
                text = f"{emotion}, mouth {'open' if open_frames else 'closed'}"
                tiles.append(label(small(renderer.frame(anim.weights[i], float(replace[i]))), text))
            if emotion == "neutral":
                blink = anim.channel("eyeBlinkLeft")
                i = int(np.argmax(blink))
                tiles.append(label(small(renderer.frame(anim.weights[i])), f"blink ({blink[i]:.2f})"))
                frames = int(args.seconds * anim.fps)
                previews.append([small(renderer.frame(w)) for w in anim.weights[:frames]])
        rows.append(np.concatenate(tiles, axis=1))
    OUT.mkdir(parents=True, exist_ok=True)
    sheet = OUT / "portrait_sheet.png"
    Image.fromarray(np.concatenate(rows, axis=0)).save(sheet, optimize=True)
    frames = [Image.fromarray(np.concatenate(pair, axis=1)) for pair in zip(*previews)]
    webp = OUT / "portrait.webp"
    frames[0].save(webp, save_all=True, append_images=frames[1:], duration=int(1000 / 30), loop=0,
                   quality=80, method=4)
    print(f"wrote {sheet} ({sheet.stat().st_size / 1024:.0f} KiB) and {webp} "
          f"({len(frames)} frames, {webp.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
