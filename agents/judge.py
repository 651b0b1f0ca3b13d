"""The judge: does a proposed difference say the same as the ground truth? (0, 0.5 or 1).

A small model asked for the score directly answers 0.5 to nearly everything (a 1.5B model: 33 %
agreement with the strict keyword judge over 66 world cases). So the LLM answers what it can:
the properties the proposal names, and yes or no for each side of the truth; the score follows
from those by the strict judge's rule (89 % agreement; tests/bench/eval_world_judge.py). A
proposal that uses one side's own words says that side, whatever the model answered.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from clipflows.components.set_difference.evaluation import split_truth

from .llm import LLM

NEITHER = "neither"
SYSTEM = "You read short descriptions of images. Answer in JSON."
PROMPT = (
    'Description of some images: "{hypothesis}"\n\n'
    "1. properties: the properties the description names, each in its own words (a colour, a "
    "kind of thing, a size, a place or background, a number). Plain nouns such as shapes, "
    'objects, things or images are not properties. For example, "two fluffy kittens on a sofa" '
    'names ["two", "fluffy", "kittens", "sofa"].\n'
    '2. shows_a: by the description, do the images show "{side_a}"?\n'
    '3. shows_b: by the description, do the images show "{side_b}"?\n'
    "The words need not match: a description says a choice when it names the same colour, kind, "
    "size, background or number in any words, and plain nouns do not matter (red shapes and "
    "crimson things show red objects, round shapes show circles, a pair shows two things)."
)
# Nouns (singular) that name no property: a description may use any for the truth's own.
PLAIN_NOUNS = frozenset({"shape", "object", "thing", "item", "image", "picture"})
# Nouns that name the kind of a truth's side rather than its value.
KIND_NOUNS = PLAIN_NOUNS | {"background"}
# Words that say nothing about a side when one side has them and the other not.
FUNCTION_WORDS = frozenset({"a", "an", "the", "of", "in", "on", "at", "and", "or", "with", "not"})
Property = Annotated[str, StringConstraints(max_length=40)]


class Judgement(BaseModel):
    """The verdict: 1 when the description says the favoured set's side of the truth and names
    nothing else, 0.5 when it says it among other properties, 0 otherwise."""

    score: Literal[0.0, 0.5, 1.0]
    reason: Annotated[str, StringConstraints(max_length=240)]


class Rubric(BaseModel):
    """The answer: the properties named, and whether the description says each side."""

    properties: Annotated[list[Property], Field(max_length=8)]
    shows_a: bool
    shows_b: bool

    def side(self, truth: tuple[str, str]) -> str:
        """The one side of ``truth`` the description says, or neither (none, or both)."""
        if self.shows_a != self.shows_b:
            return truth[0] if self.shows_a else truth[1]
        return NEITHER


def score_rubric(
    properties: list[str], side: str, direction: str, truth: tuple[str, str]
) -> Judgement:
    """The strict judge's rule on the LLM's answer for a hypothesis said of set ``direction``:
    the side must be the favoured set's, something must be named, and every property named must
    be a word of that side, except one synonym when none is (plain nouns are not counted)."""
    said = {truth[0]: "A", truth[1]: "B"}.get(side, NEITHER)
    side_words = set(_words(side))
    # The side's kind ("background" of "white background") is said by either side; naming it
    # alone neither says the side nor adds a property, so only the value words match.
    kind = side_words & KIND_NOUNS
    values = side_words - kind or side_words
    named = [p for p in properties if set(_words(p)) - PLAIN_NOUNS - kind]
    unmatched = [p for p in named if not set(_words(p)) & values]
    extra = len(unmatched) > (0 if len(unmatched) < len(named) else 1)
    score = 0.0 if said != direction or not named else 0.5 if extra else 1.0
    reason = f"says {side!r} (set {said}); names {', '.join(properties) or 'nothing'}"
    return Judgement(score=score, reason=reason[:240])


def literal_side(hypothesis: str, truth: tuple[str, str]) -> str | None:
    """The side of ``truth`` whose own words the hypothesis uses, when it uses only one side's
    (the words the sides share, and their kind nouns, do not count); None otherwise.

    The model's yes or no is needed for other words ("navy" for blue). Where the words are the
    truth's own, a small model still slipped: Qwen2.5-Coder-1.5B read "one shape" as showing
    "two objects"."""
    said = set(_words(hypothesis))
    sides = [set(_words(side)) - KIND_NOUNS - FUNCTION_WORDS for side in truth]
    own = [sides[0] - sides[1], sides[1] - sides[0]]
    hits = [bool(words & said) for words in own]
    return truth[hits.index(True)] if sum(hits) == 1 else None


def _words(text: str) -> list[str]:
    """Lower-case words, a plural's final s dropped ('squares' and 'square' are one word)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def judge(llm: LLM, hypothesis: str, direction: str, truth: str) -> Judgement:
    """Score one hypothesis, said to be more true of set ``direction`` ('A' or 'B'), against the
    ground truth ('what A has vs what B has')."""
    sides = split_truth(truth)
    prompt = PROMPT.format(hypothesis=hypothesis, side_a=sides[0], side_b=sides[1])
    answer = llm.ask_structured([("system", SYSTEM), ("human", prompt)], Rubric)
    side = literal_side(hypothesis, sides) or answer.side(sides)
    return score_rubric(answer.properties, side, direction, sides)
