"""The proposer's parsing and deduplication, and its real LLM path (structure, not wisdom)."""

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from clipflows.agents.llm import LLM, create_llm
from clipflows.agents.proposer import (
    ProposalRequest,
    ProposerConfig,
    ask_proposal,
    caption_kind_messages,
    deduplicate,
    kind_messages,
    normalise_phrase,
    proposal_messages,
    propose,
    uneven_kinds,
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


SET_KINDS = '{"kind_a": "animals", "kind_b": "art"}'


CAPTION_KINDS = [
    '{"kind": "animals"}',
    '{"kind": "Animal"}',
    '{"kind": "paintings"}',
    '{"kind": "animals"}',
]
HORSE_DOG_PAINTING_CAT = {
    "captions_a": ["a horse", "a dog"], "captions_b": ["an oil painting", "a cat"]
}  # fmt: skip


def test_a_round_whose_caption_kinds_differ_proposes_the_counted_kinds():
    llm = _fake(*CAPTION_KINDS)
    request = ProposalRequest(round=0, kinds=True, **HORSE_DOG_PAINTING_CAT)
    found = [(h.text, h.direction) for h in ask_proposal(llm, request).hypotheses()]
    # counted: animals in all of A and half of B; paintings in half of B and none of A
    assert found == [("animals", "A"), ("paintings", "B")]
    assert llm.calls == 4  # one call a caption; the lists and the sets' kinds are not asked
    assert '"a dog"' in caption_kind_messages("a dog")[1][1]


def test_with_lists_with_kinds_a_round_also_asks_the_lists_and_each_sets_kind():
    llm = _fake(*CAPTION_KINDS, LISTS, SET_KINDS)
    request = ProposalRequest(round=0, kinds=True, lists_with_kinds=True, **HORSE_DOG_PAINTING_CAT)
    found = [(h.text, h.direction) for h in ask_proposal(llm, request).hypotheses()]
    assert found == [
        ("horse", "A"),
        ("squirrel", "A"),
        ("oil painting", "B"),
        ("animals", "A"),
        ("art", "B"),
        ("animals", "A"),
        ("paintings", "B"),
    ]
    assert llm.calls == 6  # one call a caption, the lists, the sets' kinds
    assert "kind_a" in kind_messages(["a horse"], ["an oil painting"])[1][1]


def test_a_round_whose_captions_are_all_one_kind_asks_the_lists_and_each_sets_kind():
    llm = _fake(*['{"kind": "shape"}'] * 4, LISTS, SET_KINDS)
    request = ProposalRequest(round=0, kinds=True, **HORSE_DOG_PAINTING_CAT)
    found = [(h.text, h.direction) for h in ask_proposal(llm, request).hypotheses()]
    assert found == [
        ("horse", "A"), ("squirrel", "A"), ("oil painting", "B"), ("animals", "A"), ("art", "B")
    ]  # fmt: skip
    assert llm.calls == 6


def test_kind_answers_that_never_validate_leave_the_rest():
    horse = ["no", "still no", "never"]  # 3 tries
    llm = _fake(*horse, '{"kind": "paintings"}', LISTS, "no", "no", "no")
    request = ProposalRequest(
        round=0,
        captions_a=["a horse"],
        captions_b=["an oil painting"],
        kinds=True,
        lists_with_kinds=True,
    )
    found = [(h.text, h.direction) for h in ask_proposal(llm, request).hypotheses()]
    assert found == [("horse", "A"), ("squirrel", "A"), ("oil painting", "B"), ("paintings", "B")]
    assert llm.calls == 8  # the horse's kind, 3 tries; the painting's; the lists; the sets' kinds


def test_uneven_kinds_names_what_one_set_has_and_the_other_lacks():
    kinds_a = ["vehicles", "vehicle", "car", "object"]
    kinds_b = ["food", "drink", "food", "object"]
    found = [(h.text, h.direction) for h in uneven_kinds(kinds_a, kinds_b, 4, 4)]
    # "object" is as common in both; a kind is one whatever its plural
    assert found == [("vehicles", "A"), ("car", "A"), ("food", "B"), ("drink", "B")]
    assert uneven_kinds(kinds_a, kinds_b, 4, 4, min_gap=0.5) == [
        Hypothesis(text="vehicles", direction="A"),
        Hypothesis(text="food", direction="B"),
    ]
    assert uneven_kinds(["shape"] * 3, ["shape"] * 3, 3, 3) == []
    # a kind that names no kind in particular is never a difference, however uneven
    found = uneven_kinds(["shape", "shapes", "circle"], ["square", "square", "object"], 3, 3)
    assert [(h.text, h.direction) for h in found] == [("circle", "A"), ("square", "B")]


def test_a_smaller_gap_lists_the_words_of_partly_pure_sets():
    captions_a = ["a red circle"] * 7 + ["a blue circle"] * 3  # 70 % red
    captions_b = ["a blue circle"] * 7 + ["a red circle"] * 3
    assert uneven_words(captions_a, captions_b, top=5) == []  # the hint's gap: half or more
    listed = {w.text: (w.in_a, w.in_b) for w in uneven_words(captions_a, captions_b, 5, 0.0)}
    assert listed == {"red": (7, 3), "blue": (3, 7)}  # "circle", in every caption, never


def test_a_phrase_one_answer_gives_for_both_sets_is_dropped_from_that_answer_only():
    both = '{"set_a": ["red", "circle"], "set_b": ["red", "square"]}'
    sided = '{"set_a": ["red"], "set_b": ["blue"]}'
    llm = _fake(both, sided)
    config = ProposerConfig(rounds=2, sample_size=2, kinds=False, one_sided=True)
    found = propose(
        llm, ["a red circle", "a red square"], ["a blue circle", "a red square"], config
    )
    # round 1 could not tell red's side; round 2, on other captions, could
    assert [(h.text, h.direction) for h in found] == [
        ("circle", "A"),
        ("square", "B"),
        ("red", "A"),
        ("blue", "B"),
    ]
    by_default = propose(
        _fake(both, sided),
        ["a red circle"],
        ["a blue circle"],
        config.model_copy(update={"one_sided": False}),
    )
    assert ("red", "B") in [(h.text, h.direction) for h in by_default]  # CLIP ranks both ways


def test_each_answer_of_a_round_is_one_sided_on_its_own():
    lists = '{"set_a": ["circle", "square"], "set_b": ["circle", "square"]}'
    llm = _fake(*['{"kind": "shape"}'] * 2, lists, '{"kind_a": "circle", "kind_b": "square"}')
    request = ProposalRequest(round=0, captions_a=["a circle"], captions_b=["a square"], kinds=True)
    answer = ask_proposal(llm, request)
    assert len(answer.hypotheses()) == 6  # what the model said, scored as its own answer
    # the lists could not tell the sets apart; the kinds' answer could
    assert [(h.text, h.direction) for h in answer.one_sided()] == [("circle", "A"), ("square", "B")]


def test_kinds_the_request_already_holds_are_not_asked_again():
    held = {"a horse": "animal", "a dog": "animal", "an oil painting": "painting"}
    request = ProposalRequest(
        round=0,
        captions_a=["a horse", "a dog"],
        captions_b=["an oil painting"],
        kinds=True,
        caption_kinds=held,
    )
    llm = _fake()
    found = [(h.text, h.direction) for h in ask_proposal(llm, request).hypotheses()]
    assert found == [("animal", "A"), ("painting", "B")] and llm.calls == 0
    llm = _fake(LISTS, SET_KINDS)
    every = ask_proposal(llm, request.model_copy(update={"lists_with_kinds": True}))
    assert every.answers[-1] == ask_proposal(_fake(), request).answers[0] and llm.calls == 2
