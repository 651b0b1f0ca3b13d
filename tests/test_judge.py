"""The judge: the LLM splits a hypothesis into its thing and details; the rule reads them
against the truth's own words and, for other words, their similarity."""

import json

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import ValidationError

from clipflows.agents.judge import (
    JudgeRule,
    Parse,
    judge,
    own_phrases,
    said_parts,
    score_parse,
    whole_parse,
)
from clipflows.agents.llm import LLM
from clipflows.components.cache import JsonCache
from clipflows.components.set_difference.evaluation import split_truth

# A toy sentence embedding: words of one meaning share an axis, so "crimson" is "red" and
# "retriever" is "dog"; everything else is its own axis.
MEANINGS = {"crimson": "red", "retriever": "dog", "puppy": "dog", "skyscraper": "tower"}


def toy_embed(texts: list[str]) -> np.ndarray:
    words = [[w.rstrip("s") for w in t.lower().replace(",", " ").split()] for t in texts]
    axes = sorted({MEANINGS.get(w, w) for ws in words for w in ws} | {"_"})
    rows = np.zeros((len(texts), len(axes)), dtype=np.float32)
    for row, ws in zip(rows, words, strict=True):
        for w in ws:
            if w not in {"a", "an", "the", "in", "on", "of", "with", "at"}:
                row[axes.index(MEANINGS.get(w, w))] += 1
        row[axes.index("_")] += 1e-3  # no zero rows
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


DOGS = "Dogs playing in a park vs Cats playing in a park"


def verdict(thing, details, hypothesis=None, direction="A", truth=DOGS):
    hypothesis = hypothesis or " ".join([thing, *details])
    parse = Parse(thing=thing, details=details)
    return score_parse(parse, hypothesis, direction, truth, toy_embed).score


@pytest.mark.parametrize(
    ("truth", "sides"),
    [
        ("red objects vs blue objects", ("red objects", "blue objects")),
        ("Animal species (Dogs vs Cats)", ("Animal species: Dogs", "Animal species: Cats")),
        ("(Wood vs Plastic)", ("Wood", "Plastic")),
        ("dogs in snow", ("dogs in snow", "not dogs in snow")),
    ],
)
def test_the_truth_splits_into_what_each_set_has(truth, sides):
    assert split_truth(truth) == sides


@pytest.mark.parametrize(
    ("sides", "own"),
    [
        (("Dogs playing in a park", "Cats playing in a park"), ("Dogs", "Cats")),
        (("red objects", "blue objects"), ("red", "blue")),
        (
            ("Snow-covered mountains", "Desert sand dunes"),
            ("Snow-covered mountains", "Desert sand dunes"),
        ),
        (("Towers in a city", "Houses in a suburb"), ("Towers in a city", "Houses in a suburb")),
        (("dogs", "dogs"), ("dogs", "dogs")),  # nothing of its own: kept whole
    ],
)
def test_each_sides_own_words_are_what_the_other_lacks(sides, own):
    assert own_phrases(sides) == own


def test_details_the_hypothesis_never_says_are_dropped():
    parse = Parse(thing="the burj khalifa", details=["a landmark", "in dubai", "tall"])
    assert said_parts(parse, "the burj khalifa") == ["the burj khalifa"]
    assert said_parts(parse, "the burj khalifa in dubai") == ["the burj khalifa", "in dubai"]
    invented = Parse(thing="red shapes", details=[])
    assert said_parts(invented, "dogs playing in snow") == ["dogs playing in snow"]


@pytest.mark.parametrize(
    ("thing", "details", "score"),
    [
        ("dog", ["in a park"], 1.0),  # the side, and its own context
        ("dogs", ["three", "playing"], 1.0),  # a number is no detail people count
        ("puppy", [], 1.0),  # the side in other words
        ("dog", ["at sunset"], 0.5),  # a detail the side does not say
        ("golden dogs", [], 0.5),  # narrower: a word of its own beside the side's
        ("cats", ["in a park"], 0.0),  # the other side
        ("dogs and cats", [], 0.0),  # both sides say no difference
        ("a spoon", [], 0.0),  # no side at all
        ("park", [], 0.0),  # only what both sides share
    ],
)
def test_a_hypothesis_gets_full_credit_for_the_side_alone(thing, details, score):
    assert verdict(thing, details) == score


def test_the_direction_chooses_the_side():
    assert verdict("cats", [], direction="B") == 1.0
    assert verdict("dogs", [], direction="B") == 0.0


@pytest.mark.parametrize(
    ("hypothesis", "thing", "details", "direction", "truth", "score"),
    [
        ("red shapes", "shapes", ["red"], "A", "red objects vs blue objects", 1.0),
        ("crimson things", "things", ["crimson"], "A", "red objects vs blue objects", 1.0),
        ("blue shapes", "shapes", ["blue"], "A", "red objects vs blue objects", 0.0),
        (
            "one small red circle on a white background",
            "red circle",
            ["one", "small", "on a white background"],
            "A",
            "red objects vs blue objects",
            0.5,
        ),
        ("two shapes", "shapes", ["two"], "A", "two objects vs one object", 1.0),
        ("one shape", "shape", ["one"], "B", "two objects vs one object", 1.0),
        ("one shape", "shape", ["one"], "A", "two objects vs one object", 0.0),
    ],
)
def test_world_truths_read_the_same_way(hypothesis, thing, details, direction, truth, score):
    assert verdict(thing, details, hypothesis, direction, truth) == score


def test_a_stricter_similarity_no_longer_hears_other_words():
    parse = Parse(thing="puppy pet", details=[])  # half the meaning of "Dogs": cosine 0.71
    strict = JudgeRule(names_similarity=0.8)
    assert score_parse(parse, "puppy pet", "A", DOGS, toy_embed).score == 1.0
    assert score_parse(parse, "puppy pet", "A", DOGS, toy_embed, strict).score == 0.0


def test_the_llm_reads_only_the_hypothesis_and_the_rule_scores_its_parse(tmp_path):
    answer = json.dumps({"thing": "puppy", "details": ["at sunset"]})
    fake = FakeListChatModel(responses=[answer])
    llm = LLM(chat_model=fake, identity="fake:parse", sampling={}, cache=JsonCache(tmp_path))
    result = judge(llm, "a puppy at sunset", "A", DOGS, toy_embed)
    assert result.score == 0.5 and "'at sunset'" in result.reason
    # one answer serves every truth: the prompt names the hypothesis, not the sets
    again = judge(llm, "a puppy at sunset", "B", "Cats vs Dogs", toy_embed)
    assert again.score == 0.5 and llm.calls == 1


def test_the_whole_hypothesis_is_the_no_llm_reading():
    parse = whole_parse("a dog playing with a ball in a big city park, at noon")
    assert parse.thing.startswith("a dog") and parse.details == []
    assert score_parse(parse, parse.thing, "A", DOGS, toy_embed).score == 0.5


def test_the_answer_is_bounded():
    with pytest.raises(ValidationError):
        Parse(thing="dog", details=[str(i) for i in range(7)])
    with pytest.raises(ValidationError):
        Parse(thing="d" * 41, details=[])
