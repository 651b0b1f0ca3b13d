"""The judge: does a proposed difference say the same as the ground truth? (0, 0.5 or 1).

People (VisDiff's labels, ``shared/data/judge_labels``) give full credit to a hypothesis that
names what the truth's side has and the other side lacks, in any words, and says nothing that
side does not; partial credit when it narrows it (a breed, a named tower) or adds a detail (a
toy, a sunset); none otherwise. Qwen2.5-Coder-1.5B asked those questions outright (yes or no,
or a choice of sides) said yes to nearly every hypothesis: 0.23 and 0.17 agreement on 30 dev
rows. It splits a description into its main thing and its details well, so the LLM parses the
hypothesis and :func:`score_parse` reads each part against the truth: its own words first,
sentence-embedding similarity for other words. The thresholds were chosen on the dev pairs'
labels (``tests/bench/eval_judge_people.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, StringConstraints

from clipflows.components.set_difference.evaluation import split_truth

from .function_words import FUNCTION_WORDS, GENERIC_KINDS
from .llm import LLM

# texts -> L2-normalised rows (components.sentence.SentenceEncoder.encode_texts)
Embed = Callable[[list[str]], np.ndarray]
Part = Annotated[str, StringConstraints(max_length=40)]

SYSTEM = "You compare short descriptions of images. Answer in JSON."
# The fixed instructions come first and the hypothesis last, so llama.cpp reuses the evaluated
# prefix from one call to the next and evaluates only the hypothesis' few tokens: ~15 prompt
# tokens a call instead of ~115 (issue 26; tests/bench/bench_llm_throughput.py).
PROMPT = (
    "thing: the main thing a description of some images shows, in its own words, without its "
    "details.\n"
    "details: each other thing it says, in its own words: a colour, a number, a place or "
    "background, the weather or time of day, another object, an action. [] when there are none.\n"
    'For example, "two brown dogs playing with a ball in a park" gives thing "dogs" and details '
    '["two", "brown", "playing with a ball", "in a park"].\n\n'
    'Description: "{hypothesis}"'
)
# Words that neither name a side nor add a detail people count: plain nouns for the things and
# the picture, and how many there are (people gave "three cows grazing in a grassy field" full
# credit for "cows grazing in a field"). A side's own word is still its own ("two objects").
PLAIN_WORDS = GENERIC_KINDS | frozenset({
    "image", "picture", "photo", "scene", "view", "shot", "close", "up", "one", "two", "three",
    "four", "group", "herd", "multiple", "several", "many", "pair", "couple", "variety", "number",
    "few", "lot", "bunch", "flock", "crowd", "other", "another",
})  # fmt: skip


# The LLM's answer: the hypothesis' main thing and its other details, in its own words. (No
# docstring: it would enter the JSON schema, and with it every cached answer's key.)
class Parse(BaseModel):
    thing: Part
    details: Annotated[list[Part], Field(max_length=6)]


class Judgement(BaseModel):
    """The verdict: 1 when the hypothesis names the favoured set's side of the truth and adds
    nothing, 0.5 when it narrows it or adds a detail, 0 otherwise."""

    score: Literal[0.0, 0.5, 1.0]
    reason: Annotated[str, StringConstraints(max_length=240)]


class JudgeRule(BaseModel):
    """How a parse is read against the truth; both thresholds chosen on the dev pairs' labels
    (a grid in steps of 0.05: tests/bench/eval_judge_people.py --fit)."""

    names_similarity: float = Field(
        default=0.65,
        ge=0,
        le=1,
        description="A part at least this similar to a side's own "
        "words (and more similar than to the other's) names that side.",
    )
    context_similarity: float = Field(
        default=0.35,
        ge=0,
        le=1,
        description="A part at least this similar to the whole side "
        "says what the side says, not a detail of its own.",
    )


def own_phrases(sides: tuple[str, str]) -> tuple[str, str]:
    """What each side says that the other does not: the words left when the words both share
    at the start and the end are cut ("Dogs" and "Cats" of "Dogs playing in a park" and "Cats
    playing in a park"); a side is kept whole when nothing would be left."""
    words = [side.split() for side in sides]
    shortest = min(len(w) for w in words)
    start = 0
    while start < shortest - 1 and words[0][start].lower() == words[1][start].lower():
        start += 1
    end = 0
    while end < shortest - start - 1 and words[0][-1 - end].lower() == words[1][-1 - end].lower():
        end += 1
    kept = [" ".join(w[start : len(w) - end]) for w in words]
    return kept[0] or sides[0], kept[1] or sides[1]


def said_parts(parse: Parse, hypothesis: str) -> list[str]:
    """The thing, then the details, that the hypothesis says: a part whose words are mostly not
    the hypothesis' is the model's own (it listed "a landmark" for "the burj khalifa"); a thing
    of its own gives way to the whole hypothesis."""
    said = set(_words(hypothesis))

    def grounded(part: str) -> bool:
        words = set(_words(part)) - FUNCTION_WORDS
        return bool(words) and 2 * len(words & said) >= len(words)

    thing = parse.thing if grounded(parse.thing) else hypothesis
    return [thing, *(detail for detail in parse.details if grounded(detail))]


def score_parse(
    parse: Parse,
    hypothesis: str,
    direction: str,
    truth: str,
    embed: Embed,
    rule: JudgeRule | None = None,
) -> Judgement:
    """The verdict on ``hypothesis``, said to be more true of set ``direction`` ('A' or 'B'),
    from the LLM's parse of it."""
    rule = rule or JudgeRule()
    sides = split_truth(truth)
    if direction == "B":
        sides = (sides[1], sides[0])
    words = [set(_words(side)) - FUNCTION_WORDS for side in sides]
    own = [words[0] - words[1], words[1] - words[0]]
    parts = [p for p in said_parts(parse, hypothesis) if set(_words(p)) - FUNCTION_WORDS]
    if not parts:
        return Judgement(score=0.0, reason="names nothing")
    keys = own_phrases(sides)
    vectors = embed([*parts, keys[0], keys[1], sides[0]])
    to_own = vectors[: len(parts)] @ vectors[len(parts) : len(parts) + 2].T
    to_side = vectors[: len(parts)] @ vectors[-1]
    # A side's own words name it wherever they stand (the parse may drop one: "one shape" was
    # read as "shape"); other words name a side by similarity, unless the other side's own
    # words are there (colour words are all alike to the embedding: "white" is near "blue").
    said = set(_words(hypothesis))
    literal_sides = [bool(said & own[0]), bool(said & own[1])]
    names = list(literal_sides)
    added = []
    for i, part in enumerate(parts):
        part_words = set(_words(part)) - FUNCTION_WORDS
        similar = [
            not literal_sides[1 - s]
            and to_own[i, s] >= rule.names_similarity
            and to_own[i, s] > to_own[i, 1 - s]
            for s in (0, 1)
        ]
        for s in (0, 1):
            names[s] = names[s] or similar[s]
        if part_words & own[0]:
            # a literal naming with words of its own ("grand piano", "twin towers") narrows
            narrows = bool(part_words - words[0] - PLAIN_WORDS)
        else:  # a part that names nothing adds a detail unless the side says it, in any words
            narrows = (
                not similar[0]
                and bool(part_words - PLAIN_WORDS)
                and not part_words & words[0]
                and to_side[i] < rule.context_similarity
            )
        if narrows:
            added.append(part)
    side_said = f"{keys[0]!r} (set {direction})"
    if names[1] or not names[0]:
        what = f"names {keys[1]!r}" if names[1] else f"does not name {side_said}"
        return Judgement(score=0.0, reason=_reason(what, parts))
    how = "names" if literal_sides[0] else "names in other words"
    extra = f"; adds {', '.join(repr(a) for a in added)}" if added else ""
    return Judgement(score=0.5 if added else 1.0, reason=_reason(f"{how} {side_said}{extra}", []))


def judge(
    llm: LLM,
    hypothesis: str,
    direction: str,
    truth: str,
    embed: Embed,
    rule: JudgeRule | None = None,
) -> Judgement:
    """Score one hypothesis, said to be more true of set ``direction`` ('A' or 'B'), against the
    ground truth ('what A has vs what B has')."""
    return score_parse(parse_hypothesis(llm, hypothesis), hypothesis, direction, truth, embed, rule)


def parse_hypothesis(llm: LLM, hypothesis: str) -> Parse:
    """The LLM's split of a hypothesis into its thing and details (independent of the truth,
    so one answer serves every truth it is judged against)."""
    prompt = PROMPT.format(hypothesis=hypothesis)
    return llm.ask_structured([("system", SYSTEM), ("human", prompt)], Parse)


def whole_parse(hypothesis: str) -> Parse:
    """The no-LLM reading: the whole hypothesis as its thing, no details."""
    return Parse.model_construct(thing=hypothesis, details=[])  # no length limit: not the LLM's


def _reason(what: str, parts: list[str]) -> str:
    parsed = f" (read as {', '.join(repr(p) for p in parts)})" if parts else ""
    return (what + parsed)[:240]


def _words(text: str) -> list[str]:
    """Lower-case words, a plural's final s dropped ('squares' and 'square' are one word)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]
