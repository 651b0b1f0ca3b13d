"""The LLM judge: the model names the properties and the side of the truth a proposal says, and
the score follows by the strict judge's rule."""

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import ValidationError

from clipflows.agents.judge import Rubric, judge, literal_side, score_rubric
from clipflows.agents.llm import LLM
from clipflows.components.set_difference.evaluation import split_truth

TRUTH = ("red objects", "blue objects")


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
    ("properties", "side", "direction", "score"),
    [
        (["crimson"], "red objects", "A", 1.0),
        (["small", "red", "circle"], "red objects", "A", 0.5),  # a copied caption
        (["red"], "red objects", "B", 0.0),  # the opposite direction
        (["navy"], "blue objects", "B", 1.0),
        (["dogs", "snow"], "neither", "A", 0.0),
        ([], "neither", "B", 0.0),
        (["red", "shapes"], "red objects", "A", 1.0),  # a plain noun is no second property
        (["navy", "large"], "blue objects", "B", 0.5),  # a synonym and another property
    ],
)
def test_the_score_follows_the_strict_rule(properties, side, direction, score):
    assert score_rubric(properties, side, direction, TRUTH).score == score


@pytest.mark.parametrize(
    ("properties", "side", "score"),
    [
        (["gray", "background"], "gray background", 1.0),  # both words are the truth's
        (["square"], "squares", 1.0),
        (["small", "square", "white background"], "squares", 0.5),
        (["light", "background"], "white background", 1.0),  # a synonym and the side's kind
        (["light", "background", "large"], "white background", 0.5),
        (["background"], "white background", 0.0),  # the kind alone says no side
        (["shapes"], "red objects", 0.0),  # a plain noun alone says nothing
    ],
)
def test_properties_are_matched_to_the_truths_words(properties, side, score):
    assert score_rubric(properties, side, "A", (side, "other")).score == score


@pytest.mark.parametrize(
    ("shows_a", "shows_b", "side"),
    [(True, False, "red objects"), (False, True, "blue objects"), (True, True, "neither")],
)
def test_the_side_is_the_one_the_description_says(shows_a, shows_b, side):
    assert Rubric(properties=[], shows_a=shows_a, shows_b=shows_b).side(TRUTH) == side
    assert Rubric(properties=[], shows_a=False, shows_b=False).side(TRUTH) == "neither"


def test_the_answer_is_bounded():
    with pytest.raises(ValidationError):
        Rubric(properties=[str(i) for i in range(9)], shows_a=True, shows_b=False)


def test_judge_asks_with_the_truths_phrases_and_scores_the_answer():
    answer = json.dumps({"properties": ["crimson"], "shows_a": True, "shows_b": False})
    llm = LLM(chat_model=FakeListChatModel(responses=[answer]), identity="fake:rubric", sampling={})
    assert judge(llm, "crimson things", "A", "red objects vs blue objects").score == 1.0
    assert judge(llm, "crimson things", "B", "red objects vs blue objects").score == 0.0


@pytest.mark.parametrize(
    ("hypothesis", "truth", "side"),
    [
        ("one shape", ("two objects", "one object"), "one object"),
        ("one small red circle on a white background", ("two objects", "one object"), "one object"),
        ("a black background", ("a white background", "black background"), "black background"),
        ("Dogs", ("Animal species: Dogs", "Animal species: Cats"), "Animal species: Dogs"),
        ("navy shapes", ("red objects", "blue objects"), None),  # other words: the model says
        ("red and blue shapes", ("red objects", "blue objects"), None),  # both sides' words
        ("a shape on a background", ("white background", "black background"), None),  # kinds
        ("dogs not in snow", ("dogs in snow", "not dogs in snow"), None),  # shared words only
    ],
)
def test_a_hypothesis_in_one_sides_own_words_says_that_side(hypothesis, truth, side):
    assert literal_side(hypothesis, truth) == side


def test_the_truths_own_words_overrule_the_models_side():
    answer = json.dumps({"properties": ["one"], "shows_a": True, "shows_b": False})  # a slip
    llm = LLM(chat_model=FakeListChatModel(responses=[answer]), identity="fake:rubric", sampling={})
    assert judge(llm, "one shape", "B", "two objects vs one object").score == 1.0
