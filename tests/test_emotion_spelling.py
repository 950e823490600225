"""Prompts as people type them: held letters ("yaaaay") and slips ("anrgy") read as the word meant."""

import subprocess
import sys

import numpy as np
import pytest

from visemo.emotion import nearest_basic, resolve_prompt, spelling
from visemo.emotion.prompts import vocabulary
from visemo.emotion.word_filter import WordFilter, word_filter
from visemo.errors import PromptError


# ---------------------------------------------------------------- held letters
def test_shortenings_try_two_then_one_then_three_letters():
    assert list(spelling.shortenings("yaaaay")) == ["yaay", "yay", "yaaay"]
    # two runs: every combination, the first run's length varying slowest
    assert list(spelling.shortenings("sooo saaad"))[:3] == ["soo saad", "soo sad", "soo saaad"]


def test_double_letters_and_many_runs_are_left_alone():
    assert list(spelling.shortenings("happy")) == []
    assert list(spelling.shortenings("terrified")) == []
    assert list(spelling.shortenings("aaab" * (spelling.MAX_RUNS + 1))) == []


def _vocab(words, modifiers=(), real=()):
    return spelling.Vocabulary({w: w for w in words}, modifiers=modifiers, is_word=set(real).__contains__)


def test_respell_takes_the_first_known_shortening():
    v = _vocab({"yay", "ewww", "sad", "so"})
    assert spelling.respell("yaaaay", v) == "yay"
    assert spelling.respell("ewwwwww", v) == "ewww"      # neither eww nor ew is known
    assert spelling.respell("saaaad", v) == "sad"
    assert spelling.respell("blaaaah", v) == "blaaaah"   # nothing known: as typed
    assert spelling.respell("sooo saaad", v) == "so sad"


def test_modifiers_count_only_before_another_word():
    v = _vocab({"no", "not", "happy", "so"}, modifiers={"no", "not", "so"})
    assert spelling.respell("noooot happy", v) == "not happy"
    assert spelling.respell("nooooo", v) == "nooooo"
    assert spelling.respell("sooo", v) == "sooo"


# ---------------------------------------------------------------- slips
@pytest.mark.parametrize("a, b, d", [("angry", "angry", 0), ("anrgy", "angry", 1), ("angy", "angry", 1),
                                     ("angrry", "angry", 1), ("angri", "angry", 1), ("greatful", "grateful", 2),
                                     ("", "sad", 3), ("abc", "xyz", 3)])
def test_edit_distance(a, b, d):
    assert spelling.edit_distance(a, b) == d
    assert spelling.edit_distance(b, a) == d


def test_a_slip_becomes_the_one_known_word_meant():
    v = _vocab({"angry", "furious", "disappointed", "sad"})
    assert v.nearest("anrgy") == "angry"                    # two letters swapped
    assert v.nearest("furios") == "furious"                 # one left out
    assert v.nearest("dissapointed") == "disappointed"      # two edits in a long word
    assert v.nearest("dissapointd") is None                 # three edits: too far
    assert v.nearest("sda") is None                         # too short to guess
    assert _vocab({"angry" * 5}).nearest("angry" * 5 + "x") is None   # too long to search
    assert spelling.respell("very anrgy", v) == "very angry"


def test_no_guess_between_words_that_mean_different_things():
    v = spelling.Vocabulary({"mope": "sad", "dope": "happy"})
    assert v.nearest("xope") is None                        # one edit from both
    assert v.nearest("mopr") == "mope"
    same = spelling.Vocabulary({"mope": "sad", "moped": "sad"})
    assert same.nearest("mopd") == "mope"                   # both one edit away, and both mean sad


def test_real_words_sentences_and_held_letters_are_not_slips():
    v = _vocab({"frown", "fable", "aaah"}, real={"brown", "table"})
    assert spelling.respell("brown", v) == "brown"          # a word of the language: never corrected
    assert spelling.respell("fabel", v) == "fable"
    long = "the cat sat on the fabel"                      # a sentence: its words are not corrected
    assert spelling.respell(long, v) == long
    assert spelling.respell("aaaa", v) == "aaaa"            # held letters are not a slip
    assert _vocab({"amused"}).nearest("unamused") is None    # a prefix is not a slip
    assert _vocab({"amused"}).nearest("amusde") == "amused"
    assert _vocab({"stuck-up"}).nearest("stuck-out") is None  # compounds are not guessed at
    assert spelling.respell("fabel", v, slips=False) == "fabel"


# ---------------------------------------------------------------- word filter
def test_word_filter_holds_its_words_and_few_others(tmp_path):
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = {"".join(rng.choice(letters, 8)) for _ in range(5000)}
    f = WordFilter.build(words, 0.02)
    f.save(tmp_path / "w.npz")
    g = WordFilter.load(tmp_path / "w.npz")
    assert all(w in g for w in words)
    others = {"".join(rng.choice(letters, 9)) for _ in range(5000)}
    assert sum(w in g for w in others) / len(others) < 0.04


def test_shipped_word_filter_knows_words_of_each_language():
    f = word_filter()
    assert f is not None
    for w in ("table", "brown", "running", "with", "your", "tisch", "mesa", "maison", "tavolo",
              "cadeira", "avec", "porque"):
        assert w in f, w
    assert sum(w in f for w in ("anrgy", "suprised", "frustated", "dissapointed", "jeaolus")) <= 1


def test_word_filter_build(tmp_path):
    r = subprocess.run([sys.executable, "-m", "visemo.train.word_filter", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    import json

    card = json.loads((tmp_path / "model.json").read_text())
    assert set(card["entries"]["by_language"]) == {"en", "de", "es", "fr", "it", "pt"}
    assert card["entries"]["words"] > 1_000_000
    built = WordFilter.load(tmp_path / "words.npz")
    shipped = word_filter()
    assert built.size == shipped.size and np.array_equal(built.bits, shipped.bits)   # the shipped one is current


# ---------------------------------------------------------------- the whole path
@pytest.mark.parametrize("typed, word", [("yaaaay", "yay"), ("saaaad", "sad"), ("furiouuuus", "furious"),
                                        ("triiiiste", "triste"), ("anrgy", "angry"), ("suprised", "surprised"),
                                        ("terified", "terrified"), ("dissapointed", "disappointed"),
                                        ("tristte", "triste")])
def test_typed_forms_read_as_the_word(typed, word):
    e, plain = resolve_prompt(typed), resolve_prompt(word)
    assert nearest_basic(e.weights) == nearest_basic(plain.weights)
    assert e.weights == pytest.approx(plain.weights, abs=1e-6)


def test_the_reading_names_the_word():
    assert resolve_prompt("saaaad").reading == "sad"        # a basic word, exact
    assert resolve_prompt("yaaaay").reading == "yay"        # through the model
    assert resolve_prompt("anrgy").reading == "angry"
    assert resolve_prompt("not hapy").reading == "not happy"
    assert resolve_prompt("sad").reading == ""


def test_held_intensity_and_negation_words():
    sad = resolve_prompt("sad").weights
    assert resolve_prompt("sooo sad").weights == pytest.approx(resolve_prompt("so sad").weights, abs=1e-6)
    assert resolve_prompt("sooo sad").weights.max() > sad.max()          # "so" still intensifies
    assert nearest_basic(resolve_prompt("noooot happy").weights) != "happy"


def test_a_slip_never_makes_an_emotion_out_of_none():
    for text in ("table", "aaaa", "the table is brown"):
        with pytest.raises(PromptError) as e:
            resolve_prompt(text)
        assert "did you mean" not in str(e.value)


def test_a_refused_slip_suggests_the_word():
    typed = "jeaolus"
    assert vocabulary().nearest(typed) == "jealous"
    try:
        e = resolve_prompt(typed)
    except PromptError as err:
        assert "did you mean 'jealous'?" in str(err)
    else:   # read as typed by a model that takes it for an emotion: then corrected
        assert e.reading == "jealous"


def test_a_known_word_with_held_letters_stays_as_typed():
    v = vocabulary()
    word = next(w for w in ("grrr", "brrr", "zzz", "ewww", "aaah") if v.known(w))
    assert spelling.respell(word, v) == word
