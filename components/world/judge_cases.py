"""Hypothesis-truth cases for checking an LLM judge against the strict keyword judge.

Each world pair gives six cases: its true phrase, the other side's attribute in a lexicon word,
a copied caption that names several attributes, a wrong attribute, the true phrase favouring the
wrong set, and an off-topic phrase. Every label comes from ``world_judge`` (never typed by hand),
so the cases measure how often an LLM judge agrees with the deterministic one.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from clipflows.components.world.lexicon import plural, words_for
from clipflows.components.world.scenes import BACKGROUNDS, COUNT_WORDS, SHAPES, WorldConfig
from clipflows.components.world.set_pairs import (
    WORLD_SET_PAIRS,
    WorldSetPair,
    naming_words,
    world_judge,
)

# Phrases naming one attribute value; a pair's wrong-attribute case is the first that names
# nothing true of either of its sets.
WRONG_ATTRIBUTES = (
    "small shapes",
    "a black background",
    "triangles",
    "yellow shapes",
    "large shapes",
    "squares",
    "green shapes",
    "a gray background",
)
# Phrases from no world at all, the first one the proposer prompt's own example.
OFF_TOPIC = (
    "dogs playing in snow",
    "a bowl of soup on a table",
    "people riding bicycles in a city",
    "a sailboat on a calm lake",
    "children reading books",
    "a cat sleeping on a sofa",
)


class JudgeCase(BaseModel):
    """One hypothesis to judge against a pair's truth, with the strict judge's label."""

    pair: str
    kind: str  # true, paraphrase, caption, wrong-attribute, opposite-direction, off-topic
    hypothesis: str
    direction: str  # the set the hypothesis says it is more true of
    truth: str
    expected: float  # the strict keyword judge's score
    expected_reason: str


def _phrase(value: str, word: str) -> str:
    """A short phrase naming ``value`` with ``word`` (one of its naming words)."""
    if value in SHAPES:
        return plural(word)
    if value in BACKGROUNDS:
        return f"a {word} background"
    if value == "one":
        return f"a {word} shape"
    if value == "two":
        return f"{plural(word) if word == 'pair' else word} of shapes"
    return f"{word} shapes"


def _caption(config: WorldConfig) -> str:
    """A caption of one scene of ``config`` that names its size, colour, shape and background."""
    size, colour, shape = config.sizes[0], config.colours[0], config.shapes[0]
    background = config.backgrounds[0]
    if config.min_objects == config.max_objects and config.min_objects > 1:
        objects = f"{COUNT_WORDS[config.min_objects]} {size} {colour} {plural(shape)}"
    elif config.min_objects == config.max_objects:
        objects = f"one {size} {colour} {shape}"
    else:
        objects = f"a {size} {colour} {shape}"
    return f"{objects} on a {background} background"


def _pair_cases(pair: WorldSetPair, index: int) -> list[tuple[str, str, str]]:
    """(kind, hypothesis, direction) for one pair; sides and wordings rotate with ``index``."""
    side, other = ("A", "B") if index % 2 == 0 else ("B", "A")
    phrase = {"A": pair.phrase_a, "B": pair.phrase_b}
    value = (pair.values_a if other == "A" else pair.values_b)[0]
    words = words_for(value) if value in SHAPES else naming_words(value)  # singular shapes
    synonyms = [w for w in words if w != value] or [value]
    paraphrase = _phrase(value, synonyms[index % len(synonyms)])
    judge = world_judge(pair)
    wrong = next(
        text
        for text in WRONG_ATTRIBUTES[index % len(WRONG_ATTRIBUTES) :] + WRONG_ATTRIBUTES
        if judge(text, "A")[0] == 0 and judge(text, "B")[0] == 0
    )
    return [
        ("true", phrase[side], side),
        ("paraphrase", paraphrase, other),
        ("caption", _caption(pair.a if side == "A" else pair.b), side),
        ("wrong-attribute", wrong, side),
        ("opposite-direction", phrase[other], side),
        ("off-topic", OFF_TOPIC[index % len(OFF_TOPIC)], other),
    ]


def judge_cases(pairs: Sequence[WorldSetPair] = WORLD_SET_PAIRS) -> list[JudgeCase]:
    """Six cases per world pair (66 for the eleven pairs), labelled by the strict keyword judge;
    the same pairs always give the same cases."""
    cases = []
    for index, pair in enumerate(pairs):
        judge = world_judge(pair)
        for kind, hypothesis, direction in _pair_cases(pair, index):
            score, reason = judge(hypothesis, direction)
            cases.append(
                JudgeCase(
                    pair=pair.name,
                    kind=kind,
                    hypothesis=hypothesis,
                    direction=direction,
                    truth=pair.truth,
                    expected=score,
                    expected_reason=reason,
                )
            )
    return cases
