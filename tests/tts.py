"""Speech with exact phoneme timings from Debian ``flite``: ground truth for lip sync.

``flite -voice slt -psdur -t TEXT -o out.wav`` writes the wave and prints
``phone:end_time`` pairs (seconds, lower-case ARPAbet with ``pau`` for pauses).
:func:`synthesize` turns that into :class:`Utterance` with
:class:`visemo.speech.phonemes.PhonemeSegment` ground truth tiling the file.

Used by tests (through fixtures in ``conftest.py``) and by ``benchmarks/``
(``sys.path.insert(0, "tests"); import tts``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from visemo.speech.phonemes import PhonemeSegment, normalize_phone, tile

VOICES = ("slt", "kal16", "awb", "rms")
"""flite voices at 16 kHz: slt (US female), kal16 (US male, diphone),
awb (Scottish male), rms (US male).  ``kal`` is the same as kal16 at 8 kHz."""

SENTENCES: tuple[str, ...] = (
    "Bob met me, a papa with five vivid movies.",
    "Peter Piper picked a peck of pickled peppers.",
    "My mom baked a big apple pie, and we ate it all.",
    "Five fat farmers found a very fine violin.",
    "The map by the pub was barely visible.",
    "Father bought a pair of brown boots, but they were far too big.",
    "Maybe Pam will visit Bombay in May.",
    "I saw a cow walk by the barn at dawn.",
    "Please pass the bread, the butter, and the jam.",
    "Bright purple balloons floated above the palm trees.",
    "My brother moved a hundred boxes from the van.",
    "Fifty brave men marched past the big bridge.",
    "Vivian's father loves hot coffee in the morning.",
    "Hop on the bus, Bobby, before the driver leaves.",
    "Marble pillars stood by the open palace gate.",
    "Victor forgave Ben, but he never forgot the favor.",
    "A bumblebee bumped into my pink umbrella.",
    "Bubbles popped above the warm bath water.",
    "Wow, I am really proud of you, mom.",
    "Put the paper map back in the box, please.",
    "Bill made a mistake, and Bob paid for it.",
    "The boy from Boston bought five fine violins.",
    "On a hot July afternoon, the father took a nap.",
    "Mama, may I have more mashed potatoes?",
    "Half of the pie vanished before the party began.",
    "Bobby's puppy barked at the big brown bear.",
    "I bought three maps, two books, and a pen.",
    "Every moment of my life I remember the ocean.",
    "Stop! Big waves broke upon the rocky beach.",
    "Oh boy, our cat ate the whole fish for lunch.",
)
"""30 sentences rich in P/B/M, F/V, open vowels and comma pauses."""


@dataclass(frozen=True)
class Utterance:
    """A synthesized sentence: ``path`` (16-bit WAV), ground-truth ``segments``."""

    text: str
    voice: str
    path: Path
    segments: tuple[PhonemeSegment, ...]
    duration: float
    sample_rate: int


def have_flite() -> bool:
    """Whether the ``flite`` command is installed."""
    return shutil.which("flite") is not None


def parse_psdur(text: str, duration: float | None = None) -> list[PhonemeSegment]:
    """Parse flite's ``phone:end`` listing into segments (seconds) tiling [0, duration].

    Each phone starts where the previous one ends; phones are mapped to visemo's
    inventory (``pau`` -> SIL, ``ax`` -> AH ...).  ``duration`` (the wave's
    length) clips the last pause; without it the last end time is used.
    """
    pairs = re.findall(r"([A-Za-z#+_]+[0-9]?):([0-9]*\.?[0-9]+)", text)
    if not pairs:
        raise ValueError("no phone:end pairs in flite output")
    segs, start = [], 0.0
    for phone, end in pairs:
        end = float(end)
        if end > start:
            segs.append(PhonemeSegment(normalize_phone(phone), start, end))
            start = end
    return tile(segs, duration if duration is not None else start)


def synthesize(text: str, voice: str = "slt", out_dir: str | os.PathLike | None = None) -> Utterance:
    """Speak ``text`` with flite ``voice`` into ``out_dir`` (cached by content).

    The wave and its timing listing are kept as ``<hash>.wav`` / ``<hash>.txt``;
    a second call with the same text and voice reads them back.
    """
    out = Path(out_dir) if out_dir is not None else Path(tempfile.gettempdir()) / "visemo-tts"
    out.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"{voice}\0{text}".encode()).hexdigest()[:16]
    wav, txt = out / f"{voice}-{key}.wav", out / f"{voice}-{key}.txt"
    if not (wav.exists() and txt.exists()):
        if not have_flite():
            raise RuntimeError("flite is not installed (apt-get install flite)")
        tmp = wav.with_suffix(f".{os.getpid()}.tmp.wav")
        res = subprocess.run(["flite", "-voice", voice, "-psdur", "-t", text, "-o", str(tmp)],
                             capture_output=True, text=True, timeout=60, check=True)
        txt.write_text(res.stdout)
        os.replace(tmp, wav)
    info = sf.info(str(wav))
    segs = parse_psdur(txt.read_text(), info.duration)
    return Utterance(text, voice, wav, tuple(segs), info.duration, int(info.samplerate))


def corpus(n: int = 24, voices: tuple[str, ...] = ("slt", "kal16", "awb", "rms"),
           out_dir: str | os.PathLike | None = None) -> list[Utterance]:
    """``n`` utterances: SENTENCES in order, voices round-robin."""
    return [synthesize(SENTENCES[i % len(SENTENCES)], voices[i % len(voices)], out_dir)
            for i in range(n)]
