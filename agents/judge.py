"""The judge: does a proposed difference say the same as the ground truth? (0, 0.5 or 1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from .llm import LLM

SYSTEM = "You grade descriptions of how one set of images differs from another. Answer in JSON."
PROMPT = (
    "Set A: {set_a}\nSet B: {set_b}\nTrue difference (A vs B): {truth}\n"
    "Proposed description of what is more true of {favoured}: {hypothesis}\n\n"
    "Give score 1 if the proposal names the true difference, 0.5 if it is partly right or too "
    "vague, 0 if it is wrong or names something else. Give a short reason."
)


class Judgement(BaseModel):
    """The judge's schema; small and bounded."""

    score: Literal[0.0, 0.5, 1.0]
    reason: Annotated[str, StringConstraints(max_length=160)]


def judge(
    llm: LLM, hypothesis: str, direction: str, truth: str, set_a: str = "A", set_b: str = "B"
) -> Judgement:
    """Score one hypothesis against the ground-truth difference."""
    favoured = "set A" if direction == "A" else "set B"
    prompt = PROMPT.format(
        set_a=set_a, set_b=set_b, truth=truth, favoured=favoured, hypothesis=hypothesis
    )
    return llm.ask_structured([("system", SYSTEM), ("human", prompt)], Judgement)
