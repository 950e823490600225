"""Phoneme timing quality and speed: forced alignment vs Whisper+alignment vs allphone.

    .venv/bin/python benchmarks/bench_alignment.py [--n 40] [--voices slt,kal16,awb,rms]
    .venv/bin/python benchmarks/bench_alignment.py --tune     # grid over allphone lw/pip/beam

Data: flite TTS (exact phone timings from ``-psdur``; see tests/tts.py) and the
five LibriVox clips of Debian ``pocketsphinx-testdata`` (human speech; their
transcripts are known but phone timings are not, so there the *reference* is
forced alignment with the true transcript and method (a) is not scored).

Metrics per method (``±1 frame`` = 1/30 s):
  bilabial recall    ref P/B/M segments whose centre lies in a hyp P/B/M segment ±1 frame
  bilabial precision hyp P/B/M segments whose centre lies in a ref P/B/M segment ±1 frame
  open-vowel recall  same as bilabial recall for AA AE AH AO AW AY
  boundary MAE ms    mean |start/end difference| over phones matched by edit-distance alignment
  bias ms            mean signed start difference (hyp - ref) of matched phones
  PBM centre ms      mean |centre difference| of matched P/B/M phones
  speed x            seconds of audio per wall-clock second (model loading excluded)
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import tts  # noqa: E402

from visemo.audio import load_audio  # noqa: E402
from visemo.speech import BILABIALS, OPEN_VOWELS, SIL, align, recognize_phonemes  # noqa: E402

FRAME = 1 / 30
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


# ---------------------------------------------------------------------- metrics
def _hits(ref, hyp, group, tol=FRAME):
    """(hits, total): ref segments of ``group`` whose centre falls in a hyp one ±tol."""
    spans = [(s.start - tol, s.end + tol) for s in hyp if s.phone in group]
    targets = [s for s in ref if s.phone in group]
    hits = sum(any(a <= s.center <= b for a, b in spans) for s in targets)
    return hits, len(targets)


def _match(ref, hyp):
    """Edit-distance alignment of the phone strings -> matched (ref, hyp) pairs."""
    r = [s for s in ref if s.phone != SIL]
    h = [s for s in hyp if s.phone != SIL]
    n, m = len(r), len(h)
    d = np.zeros((n + 1, m + 1), np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1,
                          d[i - 1, j - 1] + (r[i - 1].phone != h[j - 1].phone))
    pairs, i, j = [], n, m
    while i > 0 and j > 0:
        if d[i, j] == d[i - 1, j - 1] + (r[i - 1].phone != h[j - 1].phone):
            if r[i - 1].phone == h[j - 1].phone:
                pairs.append((r[i - 1], h[j - 1]))
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return pairs[::-1], len(r)


class Score:
    def __init__(self):
        self.b = [0, 0]
        self.bp = [0, 0]
        self.v = [0, 0]
        self.f = [0, 0]
        self.err, self.bias, self.bcentre = [], [], []
        self.matched = [0, 0]
        self.audio = 0.0
        self.wall = 0.0

    def add(self, ref, hyp, audio_s, wall_s):
        for acc, (h, t) in ((self.b, _hits(ref, hyp, BILABIALS)),
                            (self.bp, _hits(hyp, ref, BILABIALS)),
                            (self.v, _hits(ref, hyp, OPEN_VOWELS)),
                            (self.f, _hits(ref, hyp, {"F", "V"}))):
            acc[0] += h
            acc[1] += t
        pairs, n = _match(ref, hyp)
        self.matched[0] += len(pairs)
        self.matched[1] += n
        for a, b in pairs:
            self.err += [abs(a.start - b.start), abs(a.end - b.end)]
            self.bias.append(b.start - a.start)
            if a.phone in BILABIALS:
                self.bcentre.append(abs(a.center - b.center))
        self.audio += audio_s
        self.wall += wall_s

    def row(self):
        pct = lambda a: f"{100 * a[0] / max(a[1], 1):5.1f}%"  # noqa: E731
        ms = lambda x: f"{1000 * float(np.mean(x)):6.1f}" if x else "   n/a"  # noqa: E731
        return (f"{pct(self.b)} {pct(self.bp)} {pct(self.v)} {pct(self.f)} {pct(self.matched)} "
                f"{ms(self.err)} {ms(self.bias)} {ms(self.bcentre)} "
                f"{self.audio / max(self.wall, 1e-9):7.1f}x")


HEADER = ("method                        PBM-rec PBM-prec openV  F/V-rec matched "
          "MAE-ms bias-ms PBMc-ms   speed")


# ---------------------------------------------------------------------- data
def flite_set(n, voices, cache):
    return tts.corpus(n, voices, cache)


def librivox_set():
    out = []
    trans = LIBRIVOX / "transcription"
    if not trans.exists():
        return out
    for line in trans.read_text().splitlines():
        m = re.match(r"<s> (.*) </s> \((.*)\)", line.strip())
        if m:
            out.append((LIBRIVOX / f"{m.group(2)}.wav", m.group(1)))
    return out


# ---------------------------------------------------------------------- methods
def run_methods(items, methods):
    """items: (audio, text, ref) -> {method: Score}."""
    from visemo.speech.transcribe import transcribe, whisper_available

    scores = {m: Score() for m in methods}
    if "whisper" in methods and whisper_available():
        transcribe(items[0][0])  # load the model outside the timing
    for audio, text, ref in items:
        for m in methods:
            t = time.perf_counter()
            if m == "align":
                hyp = align(audio, text).phones
            elif m == "whisper":
                if not whisper_available():
                    continue
                hyp = align(audio, transcribe(audio).text).phones
            else:
                hyp = recognize_phonemes(audio)
            scores[m].add(ref, hyp, audio.duration, time.perf_counter() - t)
    return scores


def _add_noise(audio, snr_db, seed):
    """``audio`` plus white noise ``snr_db`` below its speech RMS."""
    from visemo.audio import Audio

    x = audio.samples.astype(np.float64)
    speech_rms = np.sqrt(np.mean(x[np.abs(x) > 1e-4] ** 2))
    noise = np.random.default_rng(seed).standard_normal(len(x)) * speech_rms * 10 ** (-snr_db / 20)
    return Audio((x + noise).astype(np.float32))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=40, help="flite utterances (default 40)")
    p.add_argument("--voices", default="slt,kal16,awb,rms")
    p.add_argument("--tune", action="store_true", help="grid-search allphone lw/pip/beam")
    args = p.parse_args(argv)
    logging.getLogger("visemo.speech").setLevel(logging.ERROR)  # unknown-word notes
    cache = Path(tempfile.gettempdir()) / f"visemo-bench-tts-{os.getuid()}"
    voices = tuple(args.voices.split(","))
    utts = flite_set(args.n, voices, cache)
    flite = [(load_audio(u.path), u.text, list(u.segments)) for u in utts]
    libri = []
    for path, text in librivox_set():
        a = load_audio(path)
        libri.append((a, text, align(a, text).phones))
    if args.tune:
        return tune(flite, libri)
    print(f"flite: {len(flite)} utterances ({', '.join(voices)}), "
          f"{sum(a.duration for a, _, _ in flite):.0f} s; librivox: {len(libri)} clips, "
          f"{sum(a.duration for a, _, _ in libri):.0f} s; cores: {os.cpu_count()}")
    print(HEADER)
    for name, items, methods in (("flite", flite, ("align", "whisper", "allphone")),
                                 ("librivox*", libri, ("whisper", "allphone"))):
        if not items:
            continue
        scores = run_methods(items, methods)
        for m, s in scores.items():
            label = {"align": "(a) align true text", "whisper": "(b) whisper + align",
                     "allphone": "(c) allphone"}[m]
            print(f"{name + ' ' + label:29s} {s.row()}")
        if name == "flite":
            noisy = [(_add_noise(a, 15.0, seed), t, r) for seed, (a, t, r) in enumerate(items)]
            for m, s in run_methods(noisy, methods).items():
                print(f"{'  SNR 15 dB ' + m:29s} {s.row()}")
            for v in voices:
                sub = [it for it, u in zip(items, utts) if u.voice == v]
                s = run_methods(sub, ("align",))["align"]
                print(f"{'  flite/' + v + ' (a)':29s} {s.row()}")
    print("* librivox reference = forced alignment with the true transcript (no human labels)")


def tune(flite, libri):
    grid = [(lw, wip, 1e-20, True) for lw in (1.0, 1.5, 2.0, 3.0) for wip in (0.05, 0.2, 0.65, 2.0)]
    grid += [(lw, wip, beam, False) for lw, wip in ((2.0, 0.65), (3.0, 0.2), (1.5, 0.65))
             for beam in (1e-20,)]
    grid += [(2.0, 0.65, 1e-40, True), (2.0, 0.65, 1e-10, True)]
    print("lw   wip   beam  ci  | flite: " + HEADER[30:] + " | librivox PBM-rec PBM-prec openV")
    for lw, wip, beam, ci in grid:
        kw = dict(lw=lw, wip=wip, beam=beam, context_independent=ci)
        sf_, sl = Score(), Score()
        for audio, _, ref in flite:
            t = time.perf_counter()
            sf_.add(ref, recognize_phonemes(audio, **kw), audio.duration, time.perf_counter() - t)
        for audio, _, ref in libri:
            t = time.perf_counter()
            sl.add(ref, recognize_phonemes(audio, **kw), audio.duration, time.perf_counter() - t)
        print(f"{lw:4.1f} {wip:5.2f} {beam:6.0e} {ci:d} | {sf_.row()} | {sl.row()[:20]}", flush=True)


if __name__ == "__main__":
    main()
