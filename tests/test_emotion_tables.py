"""The emotion text tables in data/emotion_lexicon: one loader, a lossless round trip, held-out kept out."""

import json
from pathlib import Path

import pytest

from visemo.train import emotion_dataset as D
from visemo.train import emotion_tables as T

ROOT = Path(__file__).resolve().parents[1]


def test_tables_load_with_their_contents():
    t = T.load()
    keys = [c.key for c in t.concepts]
    assert len(keys) == len(set(keys)) and {"happy", "sad", "angry", "fearful", "neutral"} <= set(keys)
    assert t.by_key["furious"].label == "angry" and t.by_key["furious"].aus
    assert all(isinstance(k, int) or k[0] in "LR" for c in t.concepts for k in c.aus)  # "4" → 4, "L12" kept
    assert set(t.situations) <= set(keys) and set(t.large) <= set(keys)
    assert t.neutral_sentences and all(lang in T.LANGS for _, lang in t.neutral_sentences)
    assert {label for _, _, label in t.emotional_lines} == set(D.EMOTIONAL_LABELS)
    assert {h["set"] for h in t.heldout} == set(T.HELDOUT_SETS)
    assert {"words", "paraphrases", "situations", "languages"} <= {h["set"] for h in t.dev}


def test_development_prompts_stay_out_of_training(monkeypatch):
    """A development situation that a linguist adds to the lexicon never reaches the training prompts (nor
    do its template variants), and
    the generator's check names one that does."""
    from dataclasses import replace

    t = T.load()
    h = next(h for h in t.dev if h["set"] == "situations")
    key = next(c.key for c in t.concepts if c.label == h["label"])
    added = replace(t, situations={**t.situations, key: t.situations.get(key, ()) + (h["text"],)})
    monkeypatch.setattr(T, "load", lambda folder=T.DATA: added)
    train = D.build(large=False)
    texts = {r["text"] for r in train}
    assert h["text"] not in texts and f"when {h['text']}" not in texts   # nor its template variants
    assert any(h["text"] in p for p in D.check_heldout(train + [{"text": h["text"]}], D.dev_records()))


def test_round_trip_is_lossless(tmp_path):
    t = T.load()
    T.save(t, tmp_path)
    again = T.load(tmp_path)
    assert again == t
    for f in sorted(T.DATA.glob("*.jsonl")):  # the shipped files are in the loader's own format
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


def test_bad_rows_name_file_and_line(tmp_path):
    T.save(T.load(), tmp_path)
    with open(tmp_path / "situations.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"concept": "flabbergasted-ish", "text": "x", "source": "base"}) + "\n")
    with pytest.raises(ValueError, match=r"situations\.jsonl:\d+: unknown concept"):
        T.load(tmp_path)
    T.save(T.load(), tmp_path)
    with open(tmp_path / "situations.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"concept": "sad", "text": "x", "source": "diary"}) + "\n")
    with pytest.raises(ValueError, match=r"situations\.jsonl:\d+: source 'diary' is not one of base, large, events"):
        T.load(tmp_path)
    T.save(T.load(), tmp_path)
    lines = (tmp_path / "concepts.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[1])
    row["label"] = "hangry"
    lines[1] = json.dumps(row)
    (tmp_path / "concepts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"concepts\.jsonl:2: label 'hangry'"):
        T.load(tmp_path)


def test_generated_heldout_file_matches_its_source():
    """data/emotion_prompts/heldout.jsonl (what the benchmark reads) holds exactly the hand-written held-out
    prompts of data/emotion_lexicon/heldout.jsonl."""
    generated = [json.loads(line) for line in open(ROOT / "data/emotion_prompts/heldout.jsonl", encoding="utf-8")]
    assert [(g["set"], g["text"]) for g in generated] == [(h["set"], h["text"]) for h in T.load().heldout]


def test_leak_check_catches_a_heldout_word_in_training():
    held = D.heldout_records()
    word = next(h for h in held if h["set"] == "words" and " " not in h["text"])
    sentence = next(h for h in held if h["set"] == "paraphrases")
    train = [{"text": "feeling calm"}, {"text": f"she looks {word['text']}"}, {"text": sentence["text"].upper()}]
    problems = D.check_heldout(train, held)
    assert any(word["text"] in p and "occurs in a training prompt" in p for p in problems)
    assert any(sentence["text"] in p and "is in the training data" in p for p in problems)
    assert D.check_heldout([{"text": "feeling calm"}], held) == []


def test_large_lexicon_filter_drops_an_added_heldout_word(tmp_path, monkeypatch):
    """A held-out word written into lexicon_large.jsonl by mistake is dropped before training."""
    t = T.load()
    T.save(t, tmp_path)
    word = next(h["text"] for h in t.heldout if h["set"] == "words" and " " not in h["text"])
    rows = [json.loads(line) for line in (tmp_path / "lexicon_large.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[0]["words"]["en"].append(word)
    T.write_jsonl(tmp_path / "lexicon_large.jsonl", rows)
    real = T.load
    monkeypatch.setattr(T, "load", lambda folder=None: real(tmp_path))
    words, _, dropped = D.large_entries(D.heldout_records(), D.build(large=False))
    assert word not in {w for langs in words.values() for forms in langs.values() for w in forms}
    assert any(entry == word and "held-out" in reason for entry, reason in dropped)


def test_topic_prompts_keep_the_words_emotion():
    """"<word> <preposition> <topic>" prompts exist in every language, carry their word's concept and
    weights, and name nothing emotional after the word (the topics are emotion-free)."""
    train = D.build()
    topics = [r for r in train if r["kind"] == "topic"]
    assert {r["lang"] for r in topics} == set(T.LANGS)
    t = T.load()
    by_text = {}
    for r in train:
        if r["kind"] in ("word", "language"):
            by_text.setdefault(r["text"], r)
    matched = 0
    for r in topics:
        assert r["label"] != "neutral" and r["is_emotion"]
        word = r["text"].split()[0]
        if word in by_text and by_text[word]["concept"] == r["concept"]:
            assert by_text[word]["weights"] == r["weights"]
            matched += 1
    assert matched > len(topics) // 2
    lexicon = {w.lower() for c in t.concepts for w in c.adjectives if " " not in w}
    for lang_topics in [D.TOPICS, *(tp for _, tp in D.LANG_TOPICS.values())]:
        assert not any(w.lower() in lexicon for tp in lang_topics for w in tp.split())


def test_events_train_the_expression_not_the_emotion_head():
    """Situations of source events become situation prompts marked "gate": false (the training step leaves them
    out of the emotion/no-emotion head's loss); the other situations are not marked; an event that is a held-out
    situation is dropped with its template variants."""
    t = T.load()
    assert sum(map(len, t.situations_events.values())) >= 500
    train = D.build()
    events = {s for v in t.situations_events.values() for s in v}
    marked = [r for r in train if r.get("gate") is False]
    assert marked and all(r["kind"] == "situation" and r["is_emotion"] for r in marked)
    assert {r["text"] for r in marked if not r["text"].startswith(("when ", "the face of"))} <= events
    assert any(r["text"].startswith("when ") for r in marked)
    plain = [r for r in train if r["kind"] == "situation" and "gate" not in r]
    assert plain and not events & {r["text"] for r in plain}


def test_an_event_that_is_a_heldout_situation_is_dropped(monkeypatch):
    from dataclasses import replace

    t = T.load()
    h = next(h for h in t.heldout if h["set"] == "situations")
    key = next(c.key for c in t.concepts if c.label == h["label"])
    added = replace(t, situations_events={**t.situations_events,
                                          key: t.situations_events.get(key, ()) + (h["text"],)})
    monkeypatch.setattr(T, "load", lambda folder=T.DATA: added)
    texts = {r["text"] for r in D.build()}
    assert h["text"] not in texts and f"when {h['text']}" not in texts
