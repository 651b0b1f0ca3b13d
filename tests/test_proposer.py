"""The proposer's parsing and deduplication, and its real LLM path (structure, not wisdom)."""

import numpy as np
import pytest

from clipflows.agents.llm import create_llm
from clipflows.agents.proposer import ProposerConfig, deduplicate, normalise_phrase, propose
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
    config = ProposerConfig(rounds=1, sample_size=6)
    hypotheses = propose(llm, captions_a, captions_b, config)
    assert llm.calls == 1  # one call per round, both directions at once
    assert {h.direction for h in hypotheses} == {"A", "B"}
    assert len({(h.text, h.direction) for h in hypotheses}) == len(hypotheses)
    for h in hypotheses:
        assert h.text == normalise_phrase(h.text) and 0 < len(h.text) <= 60
    again = propose(llm, captions_a, captions_b, config)
    assert again == hypotheses and llm.calls == 1  # served by the LLM call cache
