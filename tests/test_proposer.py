"""The proposer's parsing and deduplication, and its real LLM path (structure, not wisdom)."""

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from clipflows.agents.llm import LLM, create_llm
from clipflows.agents.proposer import (
    ProposalRequest,
    ProposerConfig,
    ask_proposal,
    deduplicate,
    kind_messages,
    normalise_phrase,
    proposal_messages,
    propose,
    uneven_words,
)
from clipflows.components.set_difference.ranking import Hypothesis


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('"Red Circles."', "red circles"),
        ("more  blue squares", "blue squares"),
        ("Group 1 has dogs playing in snow", "dogs playing in snow"),
        ("- a photo of a cat!", "a cat"),
        ("'''", ""),
    ],
)
def test_phrases_are_normalised(raw, clean):
    assert normalise_phrase(raw) == clean


def test_exact_and_near_duplicates_are_removed_within_a_direction():
    vectors = {
        "red circles": [1.0, 0.0],
        "red circle": [0.999, 0.045],
        "blue squares": [0.0, 1.0],
    }

    def embed(texts):
        rows = np.array([vectors[t] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    found = [
        Hypothesis(text="red circles", direction="A"),
        Hypothesis(text="red circles", direction="A"),
        Hypothesis(text="red circle", direction="A"),
        Hypothesis(text="red circle", direction="B"),
        Hypothesis(text="blue squares", direction="B"),
    ]
    kept = deduplicate(found, embed, threshold=0.95)
    assert [(h.text, h.direction) for h in kept] == [
        ("red circles", "A"),
        ("red circle", "B"),
        ("blue squares", "B"),
    ]


def test_embedded_llm_proposes_well_formed_unique_phrases_in_both_directions(settings):
    llm = create_llm(settings)
    captions_a = [f"a {s} red circle on a white background" for s in ("small", "large")] * 5
    captions_b = [f"a {s} blue square on a black background" for s in ("small", "large")] * 5
    # the lists alone: the kind's second call is the fake-LLM tests' below
    config = ProposerConfig(rounds=1, sample_size=6, kinds=False)
    hypotheses = propose(llm, captions_a, captions_b, config)
    assert llm.calls == 1  # one call per round, both directions at once
    assert {h.direction for h in hypotheses} == {"A", "B"}
    assert len({(h.text, h.direction) for h in hypotheses}) == len(hypotheses)
    for h in hypotheses:
        assert h.text == normalise_phrase(h.text) and 0 < len(h.text) <= 60
    again = propose(llm, captions_a, captions_b, config)
    assert again == hypotheses and llm.calls == 1  # served by the LLM call cache


def test_uneven_words_are_counted_per_set_and_shared_words_left_out():
    captions_a = [
        f"two objects: a {s} red circle on a white background" for s in ("small", "large")
    ]
    captions_b = ["one object: a small red circle on a black background"] * 3
    words = {w.text: (w.in_a, w.in_b) for w in uneven_words(captions_a, captions_b, top=40)}
    assert words["two"] == words["objects"] == words["white"] == (2, 0)
    assert words["one"] == words["object"] == words["black"] == (0, 3)
    assert words["large"] == (1, 0) and words["small"] == (1, 3)  # half of A against none, all
    assert not {"red", "circle", "background", "on", "a"} & set(words)  # alike, or one letter
    first = [w.text for w in uneven_words(captions_a, captions_b, top=6)]
    assert first == ["black", "object", "objects", "one", "two", "white"]  # the whole-set ones
    assert uneven_words(["a b", "c"], ["d"], top=5) == []  # no word of two letters


def test_the_prompt_counts_uneven_words_in_the_example_and_the_sets():
    captions_a, captions_b = ["two dogs on grass", "two dogs"], ["one cat on grass", "one cat"]
    [(_, system), (_, user)] = proposal_messages(captions_a, captions_b, n=3, words=8)
    example, sets = user.split("Now these sets.")
    assert "- dog: A 3 of 3, B 0 of 3" in example  # the worked example's own counts
    counted = sets.split("Captions using")[-1]
    assert "- dogs: A 2 of 2, B 0 of 2" in counted and "grass" not in counted
    [(_, _), (_, plain)] = proposal_messages(captions_a, captions_b, n=3, words=0)
    assert "Captions using" not in plain


def _fake(*answers: str) -> LLM:
    return LLM(chat_model=FakeListChatModel(responses=list(answers)), identity="fake", sampling={})


LISTS = '{"set_a": ["horse", "squirrel"], "set_b": ["oil painting"]}'


def test_each_round_also_names_the_kind_of_thing_each_set_shows():
    llm = _fake(LISTS, '{"kind_a": "animals", "kind_b": "paintings"}')
    request = ProposalRequest(
        round=0, captions_a=["a horse"], captions_b=["an oil painting"], kinds=True
    )
    found = [(h.text, h.direction) for h in ask_proposal(llm, request)]
    assert found == [
        ("horse", "A"),
        ("squirrel", "A"),
        ("oil painting", "B"),
        ("animals", "A"),
        ("paintings", "B"),
    ]
    assert llm.calls == 2
    assert "kind_a" in kind_messages(["a horse"], ["an oil painting"])[1][1]


def test_a_kind_answer_that_never_validates_leaves_the_lists():
    llm = _fake(LISTS, "no", "still no", "never")
    request = ProposalRequest(
        round=0, captions_a=["a horse"], captions_b=["an oil painting"], kinds=True
    )
    assert [h.text for h in ask_proposal(llm, request)] == ["horse", "squirrel", "oil painting"]
    assert llm.calls == 4  # the lists, then the kind and its two retries


def test_a_smaller_gap_lists_the_words_of_partly_pure_sets():
    captions_a = ["a red circle"] * 7 + ["a blue circle"] * 3  # 70 % red
    captions_b = ["a blue circle"] * 7 + ["a red circle"] * 3
    assert uneven_words(captions_a, captions_b, top=5) == []  # the hint's gap: half or more
    listed = {w.text: (w.in_a, w.in_b) for w in uneven_words(captions_a, captions_b, 5, 0.0)}
    assert listed == {"red": (7, 3), "blue": (3, 7)}  # "circle", in every caption, never
