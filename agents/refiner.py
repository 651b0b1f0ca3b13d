"""The refining proposer: it sees how the ranker scored earlier hypotheses and proposes better ones.

Each round shows the LLM, for one direction, the best and worst hypotheses so far with their
AUROC and p-values, and captions of the images the best hypothesis misses; it answers with new
phrases under the proposer's bounded schema. The flow stops when the best AUROC stops improving.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from clipflows.components.set_difference.ranking import Hypothesis, HypothesisScore, p_text

from .llm import LLM
from .proposer import ProposedDifferences, normalise_phrase

SYSTEM = (
    "You improve descriptions of how one group of images differs from another. A scorer "
    "measured each description by AUROC (1.0: it separates the groups perfectly; 0.5: not at "
    "all). Answer in JSON."
)


class RefinerConfig(BaseModel):
    rounds: int = Field(default=2, ge=0, le=10)
    shown: int = Field(default=3, ge=1, le=10)  # best and worst hypotheses shown per direction
    missed_captions: int = Field(default=8, ge=0, le=30)
    min_gain: float = Field(default=0.005, ge=0)  # stop when the best AUROC gains less


def _lines(scores: Sequence[HypothesisScore]) -> str:
    return "\n".join(f"- {s.text}: AUROC {s.auroc:.2f}, p = {p_text(s.p_value)}" for s in scores)


def refine_messages(
    ranking: Sequence[HypothesisScore], direction: str, missed: Sequence[str], config: RefinerConfig
) -> list[tuple[str, str]]:
    """The prompt for one direction: best and worst so far, and what the best one misses."""
    mine = [s for s in ranking if s.direction == direction]
    best, worst = mine[: config.shown], mine[-config.shown :][::-1]
    missed_text = "\n".join(f"- {c}" for c in missed) or "- (none)"
    user = (
        f"Descriptions of what is more true of Group 1 than Group 2, best so far:\n{_lines(best)}\n"
        f"Weakest so far:\n{_lines(worst)}\n"
        f"Captions of Group 1 images that the best description does not fit:\n{missed_text}\n\n"
        "Propose up to 5 new short noun phrases (2 to 6 words) that would separate the groups "
        "better, e.g. more specific or covering the missed images. Do not repeat the ones above."
    )
    return [("system", SYSTEM), ("human", user)]


def refine(
    llm: LLM,
    ranking: Sequence[HypothesisScore],
    missed_by_direction: dict[str, list[str]],
    config: RefinerConfig,
) -> list[Hypothesis]:
    """New hypotheses for every direction that has scored hypotheses; known phrases dropped."""
    known = {(s.text, s.direction) for s in ranking}
    found: list[Hypothesis] = []
    for direction in sorted({s.direction for s in ranking}):
        messages = refine_messages(
            ranking, direction, missed_by_direction.get(direction, []), config
        )
        answer = llm.ask_structured(messages, ProposedDifferences)
        for text in answer.differences:
            phrase = normalise_phrase(text)
            if phrase and (phrase, direction) not in known:
                known.add((phrase, direction))
                found.append(Hypothesis(text=phrase, direction=direction))
    return found
