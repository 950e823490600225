"""Letters held for effect ("yaaaay", "sooo sad") are read as the word they stretch."""

import pytest

from visemo.emotion import elongation, nearest_basic, resolve_prompt
from visemo.emotion.prompts import known_word


def test_shortenings_try_two_then_one_then_three_letters():
    assert list(elongation.shortenings("yaaaay")) == ["yaay", "yay", "yaaay"]
    # two runs: every combination, the first run's length varying slowest
    assert list(elongation.shortenings("sooo saaad"))[:3] == ["soo saad", "soo sad", "soo saaad"]


def test_double_letters_and_long_words_are_left_alone():
    assert list(elongation.shortenings("happy")) == []
    assert list(elongation.shortenings("terrified")) == []
    many = "aaab" * (elongation.MAX_RUNS + 1)
    assert list(elongation.shortenings(many)) == []


def test_respell_takes_the_first_known_shortening():
    known = {"yay", "ewww", "sad", "so"}.__contains__
    assert elongation.respell("yaaaay", known) == "yay"
    assert elongation.respell("ewwwwww", known) == "ewww"      # neither eww nor ew is known
    assert elongation.respell("saaaad", known) == "sad"
    assert elongation.respell("blaaaah", known) == "blaaaah"   # nothing known: as typed
    assert elongation.respell("sooo saaad", known) == "so sad"


def test_modifiers_count_only_before_another_word():
    known = {"no", "not", "happy", "so"}.__contains__
    modifiers = frozenset({"no", "not", "so"})
    assert elongation.respell("noooot happy", known, modifiers) == "not happy"
    assert elongation.respell("nooooo", known, modifiers) == "nooooo"
    assert elongation.respell("sooo", known, modifiers) == "sooo"


def test_a_known_word_with_held_letters_stays_as_typed():
    word = next(w for w in ("grrr", "brrr", "zzz", "ewww", "aaah") if known_word(w))
    assert elongation.respell(word, known_word) == word


@pytest.mark.parametrize("typed, word", [("yaaaay", "yay"), ("saaaad", "sad"), ("furiouuuus", "furious"),
                                        ("terrifiiiied", "terrified"), ("triiiiste", "triste")])
def test_held_letters_read_as_the_word(typed, word):
    e, plain = resolve_prompt(typed), resolve_prompt(word)
    assert nearest_basic(e.weights) == nearest_basic(plain.weights)
    assert e.weights == pytest.approx(plain.weights, abs=1e-6)


def test_the_reading_names_the_word():
    assert resolve_prompt("saaaad").reading == "sad"        # a basic word, exact
    assert resolve_prompt("yaaaay").reading == "yay"        # through the model
    assert resolve_prompt("sad").reading == ""


def test_held_intensity_and_negation_words():
    sad = resolve_prompt("sad").weights
    assert resolve_prompt("sooo sad").weights == pytest.approx(resolve_prompt("so sad").weights, abs=1e-6)
    assert resolve_prompt("sooo sad").weights.max() > sad.max()          # "so" still intensifies
    assert resolve_prompt("noooot happy").reading == "not happy"
    assert nearest_basic(resolve_prompt("noooot happy").weights) != "happy"
