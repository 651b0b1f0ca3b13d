"""The proposer: an LLM reads captions of two image sets and names how they differ.

Both directions are asked (what is more true of A, and of B), over several rounds of sampled
captions; phrases are normalised and deduplicated, exactly and by text-embedding similarity.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, StringConstraints

from clipflows.components.ranking import Hypothesis

from .llm import LLM

Direction = Literal["A", "B"]
MAX_PER_ROUND = 10

SYSTEM = (
    "You compare two groups of images, seen through their captions, and name concepts that "
    "are characteristic of the first group. Answer in JSON."
)
INSTRUCTIONS = (
    "List up to {n} concepts that are more true of Group 1 than of Group 2. Write each as a "
    "short noun phrase that a photo could show, 2 to 6 words, for example 'dogs playing in "
    "snow' or 'people wearing hats' (not 'more dogs' and not 'Group 1 has dogs')."
)
_PREFIXES = re.compile(
    r"^(group (1|2|a|b|one|two) (has|have|shows?|contains?|is|are)\s+|more\s+|images? of\s+"
    r"|photos? of\s+|a photo of\s+|pictures? of\s+)",
)


class ProposedDifferences(BaseModel):
    """The proposer's schema: a bounded list of short phrases."""

    differences: list[Annotated[str, StringConstraints(min_length=2, max_length=60)]] = Field(
        min_length=1, max_length=MAX_PER_ROUND
    )


class ProposerConfig(BaseModel):
    rounds: int = Field(default=3, ge=1, le=20)
    sample_size: int = Field(default=20, ge=1, le=200)
    per_round: int = Field(default=MAX_PER_ROUND, ge=1, le=MAX_PER_ROUND)
    directions: tuple[Direction, ...] = ("A", "B")
    near_duplicate: float = Field(default=0.92, gt=0, le=1)
    seed: int = 0


def normalise_phrase(text: str) -> str:
    """Lower case, no quotes, no 'more'/'group 1 has' prefixes, no trailing punctuation."""
    phrase = " ".join(text.lower().split()).strip(" .,;:!\"'`-*•")
    previous = None
    while previous != phrase:
        previous, phrase = phrase, _PREFIXES.sub("", phrase).strip()
    return phrase.strip(" .,;:!\"'`-*•")


def deduplicate(
    hypotheses: Sequence[Hypothesis],
    embed: Callable[[list[str]], np.ndarray] | None,
    threshold: float,
) -> list[Hypothesis]:
    """Drop exact repeats, then phrases whose embedding is within ``threshold`` cosine of a
    kept phrase of the same direction; the first phrase seen wins."""
    unique = list({(h.text, h.direction): h for h in reversed(hypotheses)}.values())[::-1]
    if embed is None or len(unique) < 2:
        return unique
    vectors = embed([h.text for h in unique])
    kept: list[int] = []
    for i, hypothesis in enumerate(unique):
        same = [k for k in kept if unique[k].direction == hypothesis.direction]
        if not same or float((vectors[same] @ vectors[i]).max()) < threshold:
            kept.append(i)
    return [unique[i] for i in kept]


def _bullets(captions: Sequence[str]) -> str:
    return "\n".join(f"- {c}" for c in captions)


def _messages(first: Sequence[str], second: Sequence[str], n: int) -> list[tuple[str, str]]:
    user = (
        f"Group 1 captions:\n{_bullets(first)}\n\nGroup 2 captions:\n{_bullets(second)}\n\n"
        + INSTRUCTIONS.format(n=n)
    )
    return [("system", SYSTEM), ("human", user)]


class ProposalRequest(BaseModel):
    """One proposer call: the captions of one round, the favoured group first."""

    round: int
    direction: Direction
    first: list[str]
    second: list[str]
    per_round: int = Field(default=MAX_PER_ROUND, ge=1, le=MAX_PER_ROUND)


def proposal_requests(
    captions_a: Sequence[str], captions_b: Sequence[str], config: ProposerConfig
) -> list[ProposalRequest]:
    """Every call of a proposal run, in a fixed order; each can be asked on its own worker."""
    if not captions_a or not captions_b:
        raise ValueError("The proposer needs at least one caption from each set.")
    requests = []
    for round_index in range(config.rounds):
        rng = random.Random(config.seed * 1009 + round_index)
        sample_a = rng.sample(list(captions_a), min(config.sample_size, len(captions_a)))
        sample_b = rng.sample(list(captions_b), min(config.sample_size, len(captions_b)))
        for direction in config.directions:
            first, second = (sample_a, sample_b) if direction == "A" else (sample_b, sample_a)
            requests.append(
                ProposalRequest(
                    round=round_index,
                    direction=direction,
                    first=first,
                    second=second,
                    per_round=config.per_round,
                )
            )
    return requests


def ask_proposal(llm: LLM, request: ProposalRequest) -> list[Hypothesis]:
    """One call's hypotheses, normalised (empty phrases dropped), in the model's order."""
    answer = llm.ask_structured(
        _messages(request.first, request.second, request.per_round), ProposedDifferences
    )
    phrases = (normalise_phrase(text) for text in answer.differences[: request.per_round])
    return [Hypothesis(text=phrase, direction=request.direction) for phrase in phrases if phrase]


def propose(
    llm: LLM,
    captions_a: Sequence[str],
    captions_b: Sequence[str],
    config: ProposerConfig | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> list[Hypothesis]:
    """Hypotheses in both directions from ``config.rounds`` rounds of sampled captions.

    The calls run one after another here; the set-difference flow spreads the same
    :func:`proposal_requests` over its task runner and deduplicates the same way."""
    config = config or ProposerConfig()
    found = [
        h for r in proposal_requests(captions_a, captions_b, config) for h in ask_proposal(llm, r)
    ]
    return deduplicate(found, embed, config.near_duplicate)
